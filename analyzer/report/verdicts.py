"""The judgements every report format shares (terminal, HTML): what a true peak is worth, how a
device's translation score grades, and which comparison metrics head the table. One rule each,
so the terminal's colours and the HTML's classes never disagree."""

from __future__ import annotations

import math

from analyzer.types import DEFAULT_CEILING_DBTP

#: A true peak above digital full scale clips on any converter (BS.1770-4 Annex 2 true peak).
FULL_SCALE_DBTP = 0.0
#: A translation score at or above this is good, at or above ``SCORE_WARN`` worth a look.
SCORE_GOOD = 75.0
SCORE_WARN = 50.0

#: The comparison's headline metrics, in table order, with their labels.
MAIN_METRICS: tuple[tuple[str, str], ...] = (
    ("integrated_lufs", "Integrated (LUFS)"),
    ("lra_lu", "Loudness range (LU)"),
    ("true_peak_dbtp", "True peak (dBTP)"),
    ("plr_db", "PLR (dB)"),
    ("psr_median_db", "PSR median (dB)"),
    ("crest_factor_db", "Crest factor (dB)"),
    ("tilt_db_per_octave", "Tilt (dB/oct)"),
    ("correlation", "Correlation"),
)


def true_peak_verdict(
    true_peak_dbtp: float | None, ceiling_dbtp: float = DEFAULT_CEILING_DBTP
) -> str | None:
    """``"bad"`` above full scale, ``"warn"`` above the ceiling (the platforms' -1 dBTP
    advice), ``"good"`` below it; ``None`` when undefined or silent."""
    if true_peak_dbtp is None or not math.isfinite(true_peak_dbtp):
        return None
    if true_peak_dbtp > FULL_SCALE_DBTP:
        return "bad"
    return "warn" if true_peak_dbtp > ceiling_dbtp else "good"


def above_ceiling(true_peak_dbtp: float | None, ceiling_dbtp: float = DEFAULT_CEILING_DBTP) -> bool:
    """Whether a true peak (e.g. after a platform's normalisation gain) passes the ceiling."""
    return true_peak_dbtp is not None and true_peak_dbtp > ceiling_dbtp


def score_grade(score: float | None) -> str | None:
    """A device's translation score (0-100) as ``"good"``, ``"warn"`` or ``"bad"``."""
    if score is None:
        return None
    return "good" if score >= SCORE_GOOD else "warn" if score >= SCORE_WARN else "bad"
