"""From analyses to a proposal: the tone fit, the width move and the loudness plan combined with
the per-dimension amounts (the fits themselves are in :mod:`analyzer.mastering.tone_fit`,
:mod:`analyzer.mastering.width_proposal` and :mod:`analyzer.mastering.loudness_plan`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from analyzer.comparison.metrics import Comparison
from analyzer.dsp.units import db_to_power
from analyzer.mastering.dc import peak_without_dc_dbtp, propose_dc_removal
from analyzer.mastering.eq import EqMove
from analyzer.mastering.loudness_plan import plan_loudness
from analyzer.mastering.propose import Proposal
from analyzer.mastering.tone_fit import (
    DEFAULT_MAX_GAIN_DB,
    DEFAULT_MAX_MOVES,
    DEFAULT_SMOOTHING_OCTAVES,
    ToneProposal,
    eq_loudness_change_db,
    fit_tone,
)
from analyzer.mastering.tone_target import (
    distance_to_range,
    k_power,
    predicted_levels,
    tonal_error_db,
    tone_target,
)
from analyzer.mastering.width_proposal import WidthProposal, propose_width
from analyzer.measure.loudness import played_rise_lu
from analyzer.types import DEFAULT_CEILING_DBTP, TrackAnalysis


def build_proposal(
    mix: TrackAnalysis,
    comparison: Comparison | None,
    *,
    target_lufs: float | None,
    target_source: str,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    amounts: Mapping[str, float] | None = None,
    fine: bool = False,
    smoothing_octaves: float = DEFAULT_SMOOTHING_OCTAVES,
    max_moves: int = DEFAULT_MAX_MOVES,
    max_gain_db: float = DEFAULT_MAX_GAIN_DB,
    limiter_shift_db: np.ndarray | None = None,
    surgical: bool = False,
    start_moves: Sequence[EqMove] = (),
) -> Proposal:
    """Tone, width and loudness for ``mix`` against ``comparison`` (None: loudness only).

    ``limiter_shift_db`` (per 1/3-octave band) is what a first master's limiter did to the
    tonal balance beyond the EQ's prediction; the moves are refitted to cancel it too, from
    ``start_moves`` (that first master's moves, at full amount) when given: the refit keeps
    their structure (:func:`analyzer.mastering.tone_fit.fit_tone`'s ``start``).
    """
    amounts = dict(amounts or {"tone": 1.0, "width": 1.0, "loudness": 1.0})
    fs = mix.file.sample_rate_hz
    eq_change = 0.0
    if comparison is not None:
        width = propose_width(comparison, channels=mix.file.channels, max_gain_db=max_gain_db,
                              amount=amounts["width"])  # fmt: skip
    else:
        width = WidthProposal(None, None, ())
    if comparison is not None and amounts["tone"] > 0:
        target = tone_target(comparison)
        shift = np.nan_to_num(limiter_shift_db) if limiter_shift_db is not None else 0.0
        if width.active:
            # The width move changes the band levels too (side energy): fit the EQ to the mix
            # as it will be after it, level-matched.
            moved = width_shift_db(mix, width, target.band_hz)
            shift = (
                shift
                + predicted_levels(target.mix_db, moved, k_power(target.band_hz, fs))
                - target.mix_db
            )
        if limiter_shift_db is not None or width.active:
            target = replace(target, mix_db=target.mix_db + np.nan_to_num(shift))
        tone = fit_tone(
            target, fs, max_moves=max_moves, max_gain_db=max_gain_db, fine=fine,
            smoothing_octaves=smoothing_octaves, amount=amounts["tone"], surgical=surgical,
            start=start_moves,
        )  # fmt: skip
        eq_change = eq_loudness_change_db(tone, target, fs)
        if limiter_shift_db is not None or width.active:  # "before" is the mix as it is
            plain = tone_target(comparison)
            before = distance_to_range(plain.mix_db, plain)
            tone = replace(
                tone, before_db=tuple(float(v) if np.isfinite(v) else None for v in before),
                error_before_db=tonal_error_db(before, plain.band_hz),
            )  # fmt: skip
    elif comparison is not None:
        target = tone_target(comparison)
        before = distance_to_range(target.mix_db, target)
        err = tonal_error_db(before, target.band_hz)
        opt = tuple(float(v) if np.isfinite(v) else None for v in before)
        tone = ToneProposal((), None, tuple(target.band_hz), opt, opt, err, err, 0.0)
    else:
        tone = ToneProposal((), None, (), (), (), None, None, amounts["tone"])
    gain = target_lufs is not None and amounts["loudness"] > 0  # the removal serves the gain
    dc = propose_dc_removal(mix) if gain else None
    loud = plan_loudness(
        mix.loudness.integrated_lufs, peak_without_dc_dbtp(mix, dc),
        target_lufs=target_lufs, target_source=target_source, ceiling_dbtp=ceiling_dbtp,
        eq_loudness_change_db=eq_change, amount=amounts["loudness"],
    )  # fmt: skip
    return Proposal(tone=tone, width=width, loudness=loud, amounts=amounts, dc=dc)


def default_proposal(
    mix: TrackAnalysis, comparison: Comparison, *, limiter_shift_db: np.ndarray | None = None
) -> Proposal:
    """The proposal ``compare`` and ``translate`` show: full amounts, to the references'
    median loudness and a -1 dBTP ceiling (what ``master`` does with no options)."""
    return build_proposal(
        mix, comparison, target_lufs=reference_loudness(comparison, mix),
        target_source="the references' median loudness", limiter_shift_db=limiter_shift_db,
    )  # fmt: skip


def width_shift_db(mix: TrackAnalysis, width: WidthProposal, band_hz: np.ndarray) -> np.ndarray:
    """What the width move does to the mix's 1/3-octave levels (dB, before level matching):
    the band power is mid + side power (mean of L and R), and the move scales the side by the
    side gain and the mono-below high-pass (LR4, ``|H|^2 = 1 / (1 + (fc/f)^8)``)."""
    sp = mix.spectrum
    out = np.zeros(len(band_hz))
    if sp is None or sp.third_octave_mid_db is None or sp.third_octave_side_db is None:
        return out
    g2 = db_to_power(width.side_gain_db or 0.0)
    levels = {
        round(float(h), 3): (m, s)
        for h, m, s in zip(sp.third_octave_hz, sp.third_octave_mid_db, sp.third_octave_side_db,
                           strict=True)
    }  # fmt: skip
    for i, hz in enumerate(band_hz):
        m, s = levels.get(round(float(hz), 3), (None, None))
        if m is None or s is None:
            continue
        pm, ps = db_to_power(m), db_to_power(s)
        hp2 = 1.0 if width.mono_below_hz is None else 1.0 / (1.0 + (width.mono_below_hz / hz) ** 8)
        out[i] = 10.0 * np.log10((pm + ps * g2 * hp2) / (pm + ps)) if pm + ps > 0 else 0.0
    return out


def reference_loudness(comparison: Comparison, mix: TrackAnalysis) -> float | None:
    """The references' median integrated loudness (LUFS) as ``mix`` measures: the comparison
    holds every track as played (:mod:`analyzer.comparison.metrics`), so for a mono mix, which
    plays 3 LU over its one-channel reading, the target is that much lower."""
    m = comparison.metrics.get("integrated_lufs")
    if m is None or m.median is None:
        return None
    return m.median - played_rise_lu(mix.loudness.integrated_lufs, mix.file.channels)
