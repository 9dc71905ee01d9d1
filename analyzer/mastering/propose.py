"""Proposals for corrective mastering: a DC offset taken out, a few explainable EQ moves, an
optional fine match curve, a mid/side width move and the limiter settings that reach a loudness
target.

The parts live in modules named for what they do: the tonal target and the prediction of band
levels (:mod:`analyzer.mastering.tone_target`), the tone fit
(:mod:`analyzer.mastering.tone_fit`), the width proposal
(:mod:`analyzer.mastering.width_proposal`) and the loudness plan
(:mod:`analyzer.mastering.loudness_plan`). This module holds their sum, :class:`Proposal`, and
re-exports the parts' public names for the callers that take them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analyzer.mastering.dc import DcRemoval
from analyzer.mastering.loudness_plan import HEAVY_LIMITING_DB, LoudnessPlan, plan_loudness
from analyzer.mastering.tone_fit import (
    DEFAULT_MAX_GAIN_DB,
    DEFAULT_MAX_MOVES,
    DEFAULT_SMOOTHING_OCTAVES,
    FineCurve,
    ToneProposal,
    eq_loudness_change_db,
    explain,
    fit_tone,
)
from analyzer.mastering.tone_target import (
    ToneTarget,
    band_gain_db,
    distance_to_range,
    k_power,
    predicted_levels,
    tonal_error_db,
    tone_target,
)
from analyzer.mastering.width_proposal import WidthProposal, propose_width


@dataclass(frozen=True)
class Proposal:
    """Everything a master would do, with the amounts applied; ``dc``: the DC offset taken out
    first (:mod:`analyzer.mastering.dc`), when the mix carries one."""

    tone: ToneProposal
    width: WidthProposal
    loudness: LoudnessPlan
    amounts: Mapping[str, float]
    dc: DcRemoval | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        return (*self.tone.notes, *self.loudness.warnings)


__all__ = [
    "DEFAULT_MAX_GAIN_DB",
    "DEFAULT_MAX_MOVES",
    "DEFAULT_SMOOTHING_OCTAVES",
    "HEAVY_LIMITING_DB",
    "DcRemoval",
    "FineCurve",
    "LoudnessPlan",
    "Proposal",
    "ToneProposal",
    "ToneTarget",
    "WidthProposal",
    "band_gain_db",
    "distance_to_range",
    "eq_loudness_change_db",
    "explain",
    "fit_tone",
    "k_power",
    "plan_loudness",
    "predicted_levels",
    "propose_width",
    "tonal_error_db",
    "tone_target",
]
