"""From analyses to a proposal, and from a written master to the before/after/reference proof.

:func:`build_proposal` combines the tone fit, the width move and the loudness plan with the
per-dimension amounts; :func:`verify` re-reads nothing: it compares the analysis made while the
master was written with the mix and the references.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from analyzer.comparison.metrics import Comparison, track_metrics
from analyzer.comparison.metrics import compare as run_compare
from analyzer.errors import UsageError
from analyzer.mastering.chain import MasterResult, OutputFormat, StageProgress, master_native
from analyzer.mastering.propose import (
    DEFAULT_MAX_GAIN_DB,
    DEFAULT_MAX_MOVES,
    DEFAULT_SMOOTHING_OCTAVES,
    LoudnessPlan,
    Proposal,
    ToneProposal,
    WidthProposal,
    _k_power,
    distance_to_range,
    eq_loudness_change_db,
    fit_tone,
    plan_loudness,
    predicted_levels,
    propose_width,
    tonal_error_db,
    tone_target,
)
from analyzer.types import TrackAnalysis

DIMENSIONS = ("tone", "width", "loudness")
DEFAULT_CEILING_DBTP = -1.0


def amounts_from(
    *, amount: float | None = None, tone: float | None = None, width: float | None = None,
    loudness: float | None = None, only: str | None = None,
) -> dict[str, float]:  # fmt: skip
    """Per-dimension amounts (0-1) from percentages: ``amount`` sets all, the named ones
    override it, ``only`` zeroes the others."""
    base = 100.0 if amount is None else amount
    out = {}
    for name, value in (("tone", tone), ("width", width), ("loudness", loudness)):
        pct = base if value is None else value
        if not 0.0 <= pct <= 100.0 or not math.isfinite(pct):
            raise UsageError(f"--amount for {name}: {pct:g} is not between 0 and 100 (%)")
        out[name] = pct / 100.0
    if only is not None:
        if only not in DIMENSIONS:
            raise UsageError(f"--only {only!r}: expected one of {', '.join(DIMENSIONS)}")
        out = {k: (v if k == only else 0.0) for k, v in out.items()}
    return out


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
) -> Proposal:
    """Tone, width and loudness for ``mix`` against ``comparison`` (None: loudness only).

    ``limiter_shift_db`` (per 1/3-octave band) is what a first master's limiter did to the
    tonal balance beyond the EQ's prediction; the moves are refitted to cancel it too.
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
                + predicted_levels(target.mix_db, moved, _k_power(target.band_hz, fs))
                - target.mix_db
            )
        if limiter_shift_db is not None or width.active:
            target = replace(target, mix_db=target.mix_db + np.nan_to_num(shift))
        tone = fit_tone(
            target, fs, max_moves=max_moves, max_gain_db=max_gain_db, fine=fine,
            smoothing_octaves=smoothing_octaves, amount=amounts["tone"],
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
    loud = plan_loudness(
        mix.loudness.integrated_lufs, mix.peaks.true_peak_dbtp,
        target_lufs=target_lufs, target_source=target_source, ceiling_dbtp=ceiling_dbtp,
        eq_loudness_change_db=eq_change, amount=amounts["loudness"],
    )  # fmt: skip
    return Proposal(tone=tone, width=width, loudness=loud, amounts=amounts)


def default_proposal(
    mix: TrackAnalysis, comparison: Comparison, *, limiter_shift_db: np.ndarray | None = None
) -> Proposal:
    """The proposal ``compare`` and ``translate`` show: full amounts, to the references'
    median loudness and a -1 dBTP ceiling (what ``master`` does with no options)."""
    return build_proposal(
        mix, comparison, target_lufs=reference_loudness(comparison),
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
    g2 = 10.0 ** ((width.side_gain_db or 0.0) / 10.0)
    levels = {
        round(float(h), 3): (m, s)
        for h, m, s in zip(sp.third_octave_hz, sp.third_octave_mid_db, sp.third_octave_side_db,
                           strict=True)
    }  # fmt: skip
    for i, hz in enumerate(band_hz):
        m, s = levels.get(round(float(hz), 3), (None, None))
        if m is None or s is None:
            continue
        pm, ps = 10.0 ** (m / 10.0), 10.0 ** (s / 10.0)
        hp2 = 1.0 if width.mono_below_hz is None else 1.0 / (1.0 + (width.mono_below_hz / hz) ** 8)
        out[i] = 10.0 * np.log10((pm + ps * g2 * hp2) / (pm + ps)) if pm + ps > 0 else 0.0
    return out


def reference_loudness(comparison: Comparison) -> float | None:
    """The references' median integrated loudness (LUFS)."""
    m = comparison.metrics.get("integrated_lufs")
    return None if m is None else m.median


@dataclass(frozen=True)
class VerificationRow:
    metric: str
    unit: str
    before: float | None
    after: float | None
    reference: float | None


@dataclass(frozen=True)
class Verification:
    """Before / after / reference, and whether the master meets its targets."""

    rows: tuple[VerificationRow, ...]
    tonal_error_before_db: float | None
    tonal_error_after_db: float | None
    target_lufs: float | None
    ceiling_dbtp: float
    checks: Mapping[str, bool | None]
    #: The master's 1/3-octave levels (dB re its integrated loudness), for the correction.
    after_levels_db: tuple[float | None, ...] = ()


def verify(
    mix: TrackAnalysis,
    master: TrackAnalysis,
    *,
    comparison: Comparison | None,
    references: Sequence[TrackAnalysis] = (),
    profile_stats: Mapping | None = None,
    plan: LoudnessPlan,
) -> Verification:
    """The proof: the master measured against the mix and the references."""
    after_comp = None
    if comparison is not None:
        if profile_stats is not None:
            after_comp = run_compare(master, profile_stats=profile_stats)
        else:
            after_comp = run_compare(master, references)
    mb, ma = track_metrics(mix), track_metrics(master)

    def ref(key: str) -> float | None:
        if comparison is None:
            return None
        m = comparison.metrics.get(key)
        return None if m is None else m.median

    rows = [
        VerificationRow("integrated", "LUFS", mb["integrated_lufs"], ma["integrated_lufs"],
                        ref("integrated_lufs")),
        VerificationRow("true peak", "dBTP", mb["true_peak_dbtp"], ma["true_peak_dbtp"],
                        ref("true_peak_dbtp")),
        VerificationRow("loudness range", "LU", mb["lra_lu"], ma["lra_lu"], ref("lra_lu")),
        VerificationRow("PLR", "dB", mb["plr_db"], ma["plr_db"], ref("plr_db")),
    ]  # fmt: skip
    err_before = err_after = None
    after_levels: tuple[float | None, ...] = ()
    if comparison is not None and after_comp is not None:
        t0, t1 = tone_target(comparison), tone_target(after_comp)
        after_levels = tuple(float(v) if np.isfinite(v) else None for v in t1.mix_db)
        err_before = tonal_error_db(distance_to_range(t0.mix_db, t0), t0.band_hz)
        err_after = tonal_error_db(distance_to_range(t1.mix_db, t1), t1.band_hz)
        rows.append(VerificationRow("tonal error", "dB RMS", err_before, err_after, 0.0))
    lufs = master.loudness.integrated_lufs
    tp = master.peaks.true_peak_dbtp
    checks: dict[str, bool | None] = {
        "true_peak_within_ceiling": bool(tp <= plan.ceiling_dbtp + 1e-9),
        "loudness_on_target": (
            None
            if plan.target_lufs is None or plan.amount < 1.0 or lufs is None
            else bool(abs(lufs - plan.target_lufs) <= 0.3)
        ),
        "sample_rate_kept": master.file.sample_rate_hz == mix.file.sample_rate_hz,
        "tonal_error_not_worse": (
            None if err_before is None or err_after is None else bool(err_after <= err_before + 0.1)
        ),
    }
    return Verification(tuple(rows), err_before, err_after, plan.target_lufs, plan.ceiling_dbtp,
                        checks, after_levels)  # fmt: skip


#: A second master is made when the limiter moved the tonal balance this much (dB RMS) beyond
#: the EQ's prediction.
TONAL_CORRECTION_DB = 0.2


def run_master(
    mix_path: str,
    out_path: str,
    mix: TrackAnalysis,
    comparison: Comparison | None,
    proposal: Proposal,
    rebuild: Callable[[np.ndarray], Proposal],
    *,
    references: Sequence[TrackAnalysis] = (),
    profile_stats: Mapping | None = None,
    fmt: OutputFormat,
    linear_phase: bool = False,
    force: bool = False,
    progress: StageProgress | None = None,
) -> tuple[Proposal, MasterResult, Verification]:
    """Master, verify, and when heavy limiting bent the tonal balance away from the prediction,
    refit the EQ to include what the limiter did (``rebuild(shift_db)``), master again and keep
    the better of the two (by the measured tonal error)."""
    res = master_native(mix_path, out_path, proposal, mix, fmt=fmt, linear_phase=linear_phase,
                        force=force, progress=progress)  # fmt: skip
    ver = verify(mix, res.analysis, comparison=comparison, references=references,
                 profile_stats=profile_stats, plan=proposal.loudness)  # fmt: skip
    tone = proposal.tone
    if (
        comparison is None or not (tone.moves or tone.fine) or res.limiter is None
        or ver.tonal_error_after_db is None or tone.error_after_db is None
        or ver.tonal_error_after_db <= tone.error_after_db + TONAL_CORRECTION_DB
        or len(ver.after_levels_db) != len(tone.predicted_db)
    ):  # fmt: skip
        return proposal, res, ver
    measured = np.array([np.nan if v is None else v for v in ver.after_levels_db])
    predicted = np.array([np.nan if v is None else v for v in tone.predicted_db])
    second = rebuild(measured - predicted)
    second = replace(second, tone=replace(
        second.tone, before_db=tone.before_db, error_before_db=tone.error_before_db,
    ))  # fmt: skip
    folder, name = os.path.split(os.path.abspath(out_path))
    retry = os.path.join(folder, f".{name}.second{os.path.splitext(name)[1]}")
    try:
        res2 = master_native(mix_path, retry, second, mix, fmt=fmt, linear_phase=linear_phase,
                             force=True, progress=progress)  # fmt: skip
        ver2 = verify(mix, res2.analysis, comparison=comparison, references=references,
                      profile_stats=profile_stats, plan=second.loudness)  # fmt: skip
        if (ver2.tonal_error_after_db or math.inf) < ver.tonal_error_after_db:
            os.replace(retry, out_path)
            res2 = replace(res2, path=out_path, analysis=replace(
                res2.analysis, file=replace(res2.analysis.file, path=out_path)))  # fmt: skip
            return second, res2, ver2
        return proposal, res, ver
    finally:
        with contextlib.suppress(OSError):
            os.unlink(retry)
