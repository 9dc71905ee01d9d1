"""K-weighting of ITU-R BS.1770-4 (Annex 1, Figures 1-4) at any sample rate.

Stage 1 is the high shelf that models the acoustic effect of the head, stage 2 the RLB high-pass.
BS.1770 tabulates the coefficients for 48 kHz only; these are derived from the analogue prototypes
(shelf: f0 = 1681.97 Hz, G = +4.00 dB, Q = 0.7072; high-pass: f0 = 38.135 Hz, Q = 0.5003) with the
bilinear transform, as libebur128 and pyloudnorm do, and reproduce the 48 kHz table to 1e-8.

The filter is applied by FFT overlap-save with the exact IIR frequency response sampled on the FFT
grid. The impulse response is truncated where it has decayed below 1e-13 of its start (about
-260 dB), so the result equals the recursive filter to within float64 rounding while running at
FFT speed and needing only numpy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analyzer.dsp.fft import next_fast_len

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


def impulse_response_length(sample_rate_hz: float, tail: float = 1e-13) -> int:
    """Samples after which the K-weighting impulse response has decayed below ``tail``.

    Bounded by the slowest pole (the 38 Hz high-pass): ``|p| ** n < tail`` with a polynomial
    margin for the double pole.
    """
    _, a = kweighting_coefficients(sample_rate_hz)
    radius = max(float(np.max(np.abs(np.roots(a[s])))) for s in range(2))
    n = math.log(tail) / math.log(radius)
    return math.ceil(1.5 * n) + 16


@dataclass
class KWeightingFilter:
    """Streaming K-weighting by overlap-save; ``process`` carries state between calls.

    ``process(x)`` takes ``(channels, frames)`` float64 and returns the K-weighted signal of the
    same shape, exactly as a recursive filter started from rest at the first sample would.
    """

    sample_rate_hz: float
    channels: int

    def __post_init__(self) -> None:
        self._overlap = impulse_response_length(self.sample_rate_hz)
        self._history = np.zeros((self.channels, self._overlap))
        self._spectra: dict[int, np.ndarray] = {}

    def _spectrum(self, nfft: int) -> np.ndarray:
        spec = self._spectra.get(nfft)
        if spec is None:
            freqs = np.fft.rfftfreq(nfft, d=1.0 / self.sample_rate_hz)
            spec = kweighting_response(self.sample_rate_hz, freqs)
            self._spectra[nfft] = spec
        return spec

    def process(self, x: np.ndarray) -> np.ndarray:
        frames = x.shape[1]
        if frames == 0:
            return np.zeros_like(x)
        nfft = next_fast_len(frames + self._overlap)
        buf = np.zeros((self.channels, nfft))
        buf[:, : self._overlap] = self._history
        buf[:, self._overlap : self._overlap + frames] = x
        y = np.fft.irfft(np.fft.rfft(buf, axis=1) * self._spectrum(nfft), n=nfft, axis=1)
        out = y[:, self._overlap : self._overlap + frames]
        if frames >= self._overlap:
            self._history = x[:, frames - self._overlap :].copy()
        else:
            self._history = np.concatenate([self._history[:, frames:], x], axis=1)
        return out


def kweight(x: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """K-weight a whole ``(channels, frames)`` array (filter at rest before the first sample)."""
    return KWeightingFilter(sample_rate_hz, x.shape[0]).process(np.asarray(x, dtype=np.float64))
