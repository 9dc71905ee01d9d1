"""Polyphase interpolation for true-peak measurement (ITU-R BS.1770-4 Annex 2).

Annex 2 asks for oversampling by at least 4 at 48 kHz and a low-pass interpolation filter; its
example filter has 12 taps per phase and under-reads by up to ~0.15 dB on music (as libebur128,
which uses it, does). This module designs a longer Kaiser-windowed sinc so that every phase is flat
to 0.002 dB up to 18 kHz at 44.1 kHz (see tests/dsp/test_oversample.py), and evaluates only the
fractional phases: phase 0 of a windowed sinc is the input sample itself.
"""

from __future__ import annotations

import math

import numpy as np

#: Taps on each side of the interpolation point and the Kaiser window's beta.
HALF_TAPS = 16
KAISER_BETA = 7.0
#: The oversampled rate should reach at least this (4x at 44.1 kHz, 2x at 96 kHz, ...).
MIN_OVERSAMPLED_RATE_HZ = 176_400


def oversampling_factor(sample_rate_hz: float) -> int:
    """Factor used at ``sample_rate_hz``: >= 4 below 96 kHz (BS.1770-4 Annex 2), never below 2."""
    return max(2, math.ceil(MIN_OVERSAMPLED_RATE_HZ / float(sample_rate_hz) - 1e-9))


def interpolation_matrix(
    factor: int, half_taps: int = HALF_TAPS, beta: float = KAISER_BETA
) -> np.ndarray:
    """Fractional-delay filters, shape ``(2 * half_taps, factor - 1)``.

    Column ``p - 1`` applied to the window ``x[n - half_taps + 1 : n + half_taps + 1]`` gives the
    band-limited signal at time ``n + p / factor``. Each column has unit gain at DC.
    """
    k = np.arange(2 * half_taps, dtype=float)
    cols = []
    for p in range(1, factor):
        t = k - half_taps + 1 - p / factor
        window = np.i0(beta * np.sqrt(np.clip(1.0 - (t / half_taps) ** 2, 0.0, None))) / np.i0(beta)
        h = np.sinc(t) * window
        cols.append(h / h.sum())
    return np.array(cols).T.copy()
