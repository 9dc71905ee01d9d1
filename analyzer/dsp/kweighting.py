"""K-weighting of ITU-R BS.1770-4 (Annex 1, Figures 1-4) at any sample rate.

Stage 1 is the high shelf that models the acoustic effect of the head, stage 2 the RLB high-pass.
BS.1770 tabulates the coefficients for 48 kHz only; these are derived from the analogue prototypes
(shelf: f0 = 1681.97 Hz, G = +4.00 dB, Q = 0.7072; high-pass: f0 = 38.135 Hz, Q = 0.5003) with the
bilinear transform, as libebur128 and pyloudnorm do, and reproduce the 48 kHz table to 1e-8.

The filter runs as the recursion itself, compiled: numba's code for
:mod:`analyzer.dsp.compiled`, built ahead of time by the install step (:mod:`analyzer.dsp.native`,
no numba load), or numba's cached kernel in the processes that load numba anyway. Where neither
is there (no C compiler at install, ``MIXANALYZER_NO_JIT=1``) it runs by blocks of matrix
products that give the recursion's output without a per-sample loop
(:mod:`analyzer.dsp.block_iir`; ~7x the compiled recursion's CPU time, 2.7x faster than the
FFT overlap-save it replaced, and no scipy import at start-up). Both agree with
``scipy.signal.sosfilt`` far below the resolution of 24-bit audio (tests hold them to 1e-9).
:func:`impulse_response_length` is where the impulse response has decayed below 1e-10 of its
start, the truncation of FIR K-weightings (the device bank's).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analyzer.dsp import jit
from analyzer.dsp.block_iir import BlockBiquads

SHELF_F0_HZ = 1681.974450955533
SHELF_GAIN_DB = 3.999843853973347
SHELF_Q = 0.7071752369554196
HIGHPASS_F0_HZ = 38.13547087602444
HIGHPASS_Q = 0.5003270373238773


def kweighting_coefficients(sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Biquad coefficients of both stages, shape ``(2, 3)`` each: ``(b, a)`` with ``a[:, 0] == 1``.

    Row 0 is the BS.1770 pre-filter (high shelf), row 1 the RLB high-pass.
    """
    fs = float(sample_rate_hz)
    k = math.tan(math.pi * SHELF_F0_HZ / fs)
    vh = 10.0 ** (SHELF_GAIN_DB / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / SHELF_Q + k * k
    b_shelf = [
        (vh + vb * k / SHELF_Q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / SHELF_Q + k * k) / a0,
    ]
    a_shelf = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / SHELF_Q + k * k) / a0]

    k = math.tan(math.pi * HIGHPASS_F0_HZ / fs)
    a0 = 1.0 + k / HIGHPASS_Q + k * k
    b_hp = [1.0, -2.0, 1.0]
    a_hp = [1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / HIGHPASS_Q + k * k) / a0]
    return np.array([b_shelf, b_hp]), np.array([a_shelf, a_hp])


def kweighting_response(sample_rate_hz: float, frequencies_hz: np.ndarray) -> np.ndarray:
    """Complex frequency response of the K-weighting filter at ``frequencies_hz``."""
    b, a = kweighting_coefficients(sample_rate_hz)
    z1 = np.exp(-2j * np.pi * np.asarray(frequencies_hz, dtype=float) / sample_rate_hz)
    z2 = z1 * z1
    h = np.ones_like(z1)
    for stage in range(2):
        h = h * (b[stage, 0] + b[stage, 1] * z1 + b[stage, 2] * z2)
        h = h / (a[stage, 0] + a[stage, 1] * z1 + a[stage, 2] * z2)
    return h


def impulse_response_length(sample_rate_hz: float, tail: float = 1e-10) -> int:
    """Samples after which the K-weighting impulse response stays below ``tail`` (relative).

    Bounded by the slowest poles (the 38 Hz high-pass, a double pole near ``r``): the response
    decays like ``(n + 1) * r ** n``.
    """
    _, a = kweighting_coefficients(sample_rate_hz)
    radius = max(float(np.max(np.abs(np.roots(a[s])))) for s in range(2))
    n = 1
    while (n + 1) * radius**n >= tail:
        n *= 2
    lo, hi = n // 2, n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if (mid + 1) * radius**mid >= tail else (lo, mid)
    return hi + 16


@dataclass
class KWeightingFilter:
    """Streaming K-weighting; ``process`` carries state between calls.

    ``process(x)`` takes ``(channels, frames)`` float64 and returns the K-weighted signal of the
    same shape, as the recursive filter started from rest at the first sample gives it: run by
    the compiled recursion where it is built or loaded, else by blocks of matrix products
    (:mod:`analyzer.dsp.block_iir`), equal to ~1e-11 of the peak.
    """

    sample_rate_hz: float
    channels: int

    def __post_init__(self) -> None:
        self._compiled = jit.Choice(native=True)
        self._coefficients = kweighting_coefficients(self.sample_rate_hz)
        self._state = np.zeros((self.channels, 2, 2))  # the recursion's delays per channel
        self._blocks: BlockBiquads | None = None

    def _recursive(self, x: np.ndarray, sink: Callable[[int, int, np.ndarray], None]) -> None:
        k = self._compiled()
        b, a = self._coefficients
        for c in range(self.channels):
            y = np.empty(x.shape[1])
            k.kweight_channel(np.ascontiguousarray(x[c], dtype=np.float64), b, a,
                              self._state[c], y)  # fmt: skip
            sink(c, 0, y)

    def _run(self, x: np.ndarray, sink: Callable[[int, int, np.ndarray], None]) -> None:
        if self._compiled() is not None:
            self._recursive(x, sink)
            return
        if self._blocks is None:
            self._blocks = BlockBiquads(*self._coefficients, self.channels)
        y = self._blocks.process(np.ascontiguousarray(x, dtype=np.float64))
        for c in range(self.channels):
            sink(c, 0, y[c])

    def process(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape)

        def store(c: int, start: int, y: np.ndarray) -> None:
            out[c, start : start + y.size] = y

        if x.shape[1]:
            self._run(x, store)
        return out

    def weighted_energy(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``sum_c weights[c] * y_c[n] ** 2`` of the K-weighted signal ``y`` (BS.1770-4 eq. 2's
        inner sum per sample), without keeping ``y`` for every channel."""
        z = np.zeros(x.shape[1])

        def accumulate(c: int, start: int, y: np.ndarray) -> None:
            y *= y
            if weights[c] != 1.0:
                y *= weights[c]
            z[start : start + y.size] += y

        if x.shape[1]:
            self._run(x, accumulate)
        return z

    def stereo_energies(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For two channels: ``(y_L^2 + y_R^2, (y_L + y_R)^2 / 2)`` per sample, the stereo
        energy and that of the mono fold-down ``(L + R) / 2`` played on both speakers."""
        z = np.zeros(x.shape[1])
        fold = np.zeros(x.shape[1])
        k = self._compiled() if self.channels == 2 else None
        if k is not None:
            b, a = self._coefficients
            block = np.ascontiguousarray(x, dtype=np.float64)
            k.kweight_stereo_energies(block, b, a, self._state, z, fold)
            return z, fold
        left: list[np.ndarray] = []

        def accumulate(c: int, start: int, y: np.ndarray) -> None:
            if c == 0:
                left.append(y)
                return
            y0 = left.pop()
            both = y0 + y
            fold[start : start + y.size] = 0.5 * both * both
            z[start : start + y.size] = y0 * y0 + y * y

        if x.shape[1]:
            self._run(x, accumulate)
        return z, fold


def kweight(x: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """K-weight a whole ``(channels, frames)`` array (filter at rest before the first sample)."""
    return KWeightingFilter(sample_rate_hz, x.shape[0]).process(np.asarray(x, dtype=np.float64))
