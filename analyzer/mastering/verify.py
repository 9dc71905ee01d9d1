"""The proof of a master: before / after / reference for loudness, true peak, loudness range,
PLR and the tonal error, and the checks. It re-reads nothing: it compares the analysis made
while the master was written with the mix and the references.

Loudness and PLR are the file's own BS.1770 reading, the reading the target is in and the one
``analyze`` prints. The comparison holds every track as played (a mono file as dual mono,
:mod:`analyzer.comparison.metrics`), so for a mono mix the references' column is taken to the
mix's reading: their loudness less the 3 LU a mono file gains on two speakers, their PLR plus
it (what :func:`~analyzer.mastering.proposal.reference_loudness` does to the target)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.comparison.metrics import Comparison, track_metrics
from analyzer.comparison.metrics import compare as run_compare
from analyzer.mastering.loudness_plan import LoudnessPlan
from analyzer.mastering.tone_target import distance_to_range, tonal_error_db, tone_target
from analyzer.measure.loudness import played_rise_lu
from analyzer.types import TrackAnalysis

#: The loudness check's tolerance (LU) and how much worse the tonal error may get (dB RMS).
LOUDNESS_CHECK_LU = 0.3
TONAL_WORSE_DB = 0.1


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
    tone_applied: bool = True,
) -> Verification:
    """The proof: the master measured against the mix and the references. Only what was
    applied is checked: the loudness when the plan has a target and its full amount, the
    tonal error when ``tone_applied``; the ceiling and the sample rate always."""
    after_comp = None
    if comparison is not None:
        if profile_stats is not None:
            after_comp = run_compare(master, profile_stats=profile_stats)
        else:
            after_comp = run_compare(master, references)
    mb, ma = _own_reading(mix), _own_reading(master)
    rise = played_rise_lu(mix.loudness.integrated_lufs, mix.file.channels)

    def ref(key: str, shift: float = 0.0) -> float | None:
        if comparison is None:
            return None
        m = comparison.metrics.get(key)
        return None if m is None or m.median is None else m.median + shift

    rows = [
        VerificationRow("integrated", "LUFS", mb["integrated_lufs"], ma["integrated_lufs"],
                        ref("integrated_lufs", -rise)),
        VerificationRow("true peak", "dBTP", mb["true_peak_dbtp"], ma["true_peak_dbtp"],
                        ref("true_peak_dbtp")),
        VerificationRow("loudness range", "LU", mb["lra_lu"], ma["lra_lu"], ref("lra_lu")),
        VerificationRow("PLR", "dB", mb["plr_db"], ma["plr_db"], ref("plr_db", rise)),
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
            else bool(abs(lufs - plan.target_lufs) <= LOUDNESS_CHECK_LU)
        ),
        "sample_rate_kept": master.file.sample_rate_hz == mix.file.sample_rate_hz,
        "tonal_error_not_worse": (
            None
            if err_before is None or err_after is None or not tone_applied
            else bool(err_after <= err_before + TONAL_WORSE_DB)
        ),
    }
    return Verification(tuple(rows), err_before, err_after, plan.target_lufs, plan.ceiling_dbtp,
                        checks, after_levels)  # fmt: skip


def _own_reading(track: TrackAnalysis) -> dict[str, float | None]:
    """``track_metrics`` with the integrated loudness and PLR back in the file's own reading."""
    out = track_metrics(track)
    rise = played_rise_lu(track.loudness.integrated_lufs, track.file.channels)
    if out["integrated_lufs"] is not None:
        out["integrated_lufs"] -= rise
    if out["plr_db"] is not None:
        out["plr_db"] += rise
    return out


def failures(v: Verification, mix: TrackAnalysis, master: TrackAnalysis) -> list[str]:
    """One line per failed check, with the numbers: what ``master`` prints before exit 5."""
    out = []
    checks = v.checks
    if checks.get("true_peak_within_ceiling") is False:
        out.append(
            f"true peak {master.peaks.true_peak_dbtp:+.1f} dBTP above the "
            f"{v.ceiling_dbtp:.1f} dBTP ceiling"
        )
    lufs = master.loudness.integrated_lufs
    if checks.get("loudness_on_target") is False and lufs is not None:
        out.append(
            f"integrated loudness {lufs:.1f} LUFS, not within {LOUDNESS_CHECK_LU:g} LU of the "
            f"{v.target_lufs:.1f} LUFS target"
        )
    if checks.get("sample_rate_kept") is False:
        out.append(
            f"sample rate {master.file.sample_rate_hz} Hz, not the mix's "
            f"{mix.file.sample_rate_hz} Hz"
        )
    if checks.get("tonal_error_not_worse") is False:
        out.append(
            f"tonal error {v.tonal_error_after_db:.2f} dB RMS, worse than the mix's "
            f"{v.tonal_error_before_db:.2f} dB"
        )
    return out
