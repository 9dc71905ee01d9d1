"""Cheap loudness trials for the limiter's input gain: the loudness the limited output would
read, from the limiter's recorded detection and the K-weighted power per frame alone.

The limited output's K-weighted power is the input's times ``exp(-2 gr)`` (the K-filter and the
slowly varying gain commute), so the 100 ms segment sums that BS.1770-4's gating needs (clause
2.5-2.6) are the unlimited sums (computed once per recording) minus
``sum(power * (1 - exp(-2 gr)))`` over the frames the limiter reduces. A trial runs the gain
computer only on the chunks that need reduction (:meth:`TruePeakLimiter.replayed_reductions`)
and touches no other frame: a master that limits a few per cent of the time costs a few per
cent of a pass per trial.
"""

from __future__ import annotations

import numpy as np

from analyzer.dsp.units import db_to_amplitude
from analyzer.mastering.limiter import TruePeakLimiter

#: Trials end a release below this reduction (nepers): the loudness it leaves out is under
#: 2e-6 of the power (1e-5 dB), far inside the search's tolerance, and the limiter's state
#: then returns to zero within ~1.5 s of the last peak, so the quiet chunks cost nothing.
TRIAL_TINY = 1e-6


def segment_sums(k_power: np.ndarray, hop: int) -> np.ndarray:
    """Sums of the K-weighted power over each complete segment of ``hop`` frames (float64)."""
    n = k_power.size // hop
    return k_power[: n * hop].reshape(n, hop).sum(axis=1, dtype=np.float64)


def limited_segment_sums(
    peaks: list[np.ndarray], k_power: np.ndarray, unlimited: np.ndarray, hop: int,
    fs: int, gain_db: float, ceiling_dbtp: float,
) -> np.ndarray:  # fmt: skip
    """The segment sums of the limited output's K-weighted power at input gain ``gain_db``:
    ``unlimited`` (:func:`segment_sums` of ``k_power``, the power at unity gain) times the
    gain's square, minus what the limiter takes where it works."""
    lim = TruePeakLimiter(fs, 1, ceiling_dbtp=ceiling_dbtp, input_gain_db=gain_db,
                          replay_peaks=peaks)  # fmt: skip
    g2 = db_to_amplitude(gain_db) ** 2
    seg = unlimited * g2
    end = unlimited.size * hop  # complete segments only
    for first, gr in lim.replayed_reductions(TRIAL_TINY):
        lo, hi = max(first, 0), min(first + gr.size, end)
        if hi <= lo:
            continue
        taken = k_power[lo:hi] * -np.expm1(-2.0 * gr[lo - first : hi - first])
        s0 = lo // hop
        idx = np.arange(lo, hi) // hop - s0
        seg[s0 : s0 + idx[-1] + 1] -= np.bincount(idx, weights=taken) * g2
    return seg
