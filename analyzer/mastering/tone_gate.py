"""The "too far to match" gate: when the references' tonal balance is so far from the mix's that
even the moves the rules allow leave much of the difference, matching them would not make a
better master but a different record, and ``master`` leaves the tone alone (``--force-match``
overrides).

The statistic is what the constrained moves cannot explain: the RMS over 40 Hz-16 kHz of each
band's distance, after the moves at full amount, to the references' 10-90 % range widened by
the comparison's tolerance (:func:`analyzer.mastering.tone_rules.third_octave_tolerance_db`).
A detuned copy of the same track is explained by the moves (the rest lies inside the
tolerance); two different arrangements are not.
"""

from __future__ import annotations

import numpy as np

from analyzer.mastering.tone_rules import third_octave_tolerance_db
from analyzer.mastering.tone_target import ToneTarget, distance_to_range, tonal_error_db

#: The gate (dB RMS beyond the widened range after the moves), calibrated on whole corpus
#: tracks: the 16 tracks against themselves detuned (the detune of
#: tests/mastering/test_master_corpus.py) give 0.00 dB, every one; the 90 ordered pairs of
#: tracks from different shipped profiles (their "provenance" sources) give 0.86-9.41 dB
#: (10 % 1.36, median 3.73, 90 % 8.30). 0.5 dB trips all 90 and none of the 16, with a third
#: of the tolerance to spare above the detuned pairs and 0.36 dB below the closest cross pair
#: (at 1.0 dB 87 of 90 would trip, at 1.5 dB 77, at 2.0 dB 67).
FAR_GATE_DB = 0.5


def far_statistic_db(levels_after_db: np.ndarray, target: ToneTarget) -> float | None:
    """RMS (dB, 40 Hz-16 kHz) of the predicted band levels' distance to the widened range."""
    tol = third_octave_tolerance_db()
    lo = np.fmin(target.p10_db, target.p90_db) - tol
    hi = np.fmax(target.p10_db, target.p90_db) + tol
    wide = ToneTarget(target.band_hz, target.mix_db, target.median_db, lo, hi)
    return tonal_error_db(distance_to_range(levels_after_db, wide), target.band_hz)


def far_notes(far_db: float | None, error_before_db: float | None) -> tuple[tuple[str, ...], bool]:
    """The proposal's note when the gate trips, and whether it does."""
    if far_db is None or far_db <= FAR_GATE_DB:
        return (), False
    return (
        f"the references are too far from this mix to match: after the moves "
        f"{far_db:.1f} dB RMS would remain beyond their range (gate {FAR_GATE_DB:g} dB; "
        f"difference before {error_before_db or 0:.1f} dB RMS); choose references closer to "
        "the mix, or --force-match",
    ), True
