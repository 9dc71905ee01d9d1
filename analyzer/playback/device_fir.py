"""The FIRs of the device renderer: minimum-phase FIRs of a device's magnitude response and of
the car's road noise (real-cepstrum method), and the linear-phase crossover low-passes of the
level limiters.

Minimum phase by the homomorphic method (A. V. Oppenheim & R. W. Schafer, "Discrete-Time Signal
Processing", 3rd ed., section 13.9: the real cepstrum folded onto positive quefrencies); the
crossover low-passes are Blackman-windowed sincs (the window method, J. O. Smith, "Spectral
Audio Signal Processing").
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from analyzer.dsp.bands import THIRD_OCTAVE_EXACT_HZ
from analyzer.playback.device_models import Device
from analyzer.playback.device_response import car_noise_band_levels_db, magnitude_db

#: Longest device FIR (taps).
MAX_TAPS = 16384
#: Shortest device FIR (taps).
MIN_TAPS = 256
#: Floor of the designed magnitude, dB below the response's maximum (keeps the cepstrum finite).
FLOOR_DB = 120.0
#: Oversampling of the cepstrum grid relative to the FIR length (limits cepstral aliasing).
_CEPSTRUM_OVERSAMPLE = 8


def _lowest_corner_hz(device: Device) -> float | None:
    corners = []
    for s in device.filters:
        for attr in ("cutoff_hz", "centre_hz", "corner_hz"):
            v = getattr(s, attr, None)
            if v is not None:
                corners.append(float(v))
        if hasattr(s, "frequencies_hz"):
            corners.append(float(min(s.frequencies_hz)))
    return min(corners) if corners else None


def default_taps(corner_hz: float | None, sample_rate_hz: float) -> int:
    """The next power of two >= 8 fs / ``corner_hz`` taps, within ``MIN_TAPS``-``MAX_TAPS``."""
    if corner_hz is None:
        return MIN_TAPS
    want = max(MIN_TAPS, math.ceil(8.0 * sample_rate_hz / corner_hz))
    return min(MAX_TAPS, 1 << (want - 1).bit_length())


def min_phase_fir(
    log_magnitude: Callable[[np.ndarray], np.ndarray], sample_rate_hz: float, taps: int
) -> np.ndarray:
    """Minimum-phase FIR of ``taps`` taps whose magnitude follows ``log_magnitude(f)`` (dB, f in
    Hz > 0, up to Nyquist), by the real-cepstrum (homomorphic) method: ln|H| → irfft → fold the
    cepstrum onto positive quefrencies → exp(rfft) → irfft, truncated to ``taps`` and tapered
    by a half-Hann window over its last eighth."""
    nfft = max(1 << (taps * _CEPSTRUM_OVERSAMPLE - 1).bit_length(), 1024)
    f = np.arange(nfft // 2 + 1) * (sample_rate_hz / nfft)
    f[0] = f[1] * 0.25  # the analogue responses are defined for f > 0 only
    db = np.asarray(log_magnitude(f), dtype=np.float64)
    db = np.maximum(db, db.max() - FLOOR_DB)
    cep = np.fft.irfft(db * (math.log(10.0) / 20.0), nfft)
    fold = np.zeros(nfft)
    fold[0] = 1.0
    fold[1 : nfft // 2] = 2.0
    fold[nfft // 2] = 1.0
    h = np.fft.irfft(np.exp(np.fft.rfft(cep * fold)), nfft)[:taps]
    tail = max(taps // 8, 1)
    h[taps - tail :] *= 0.5 * (1.0 + np.cos(np.pi * (np.arange(1, tail + 1)) / tail))
    return h


def device_fir(device: Device, sample_rate_hz: float, taps: int | None = None) -> np.ndarray:
    """Minimum-phase FIR of ``device``'s magnitude response at ``sample_rate_hz``.

    ``taps`` defaults to the next power of two ≥ 8·fs / (lowest corner of the device's
    sections), between 256 and 16384 (e.g. phone at 48 kHz: 1024; car: 8192; club: 16384).
    A device without filter sections (the studio) returns the unit impulse ``[1.0]``.
    """
    if not device.filters:
        return np.ones(1)
    if taps is None:
        taps = default_taps(_lowest_corner_hz(device), sample_rate_hz)
    if taps < 1:
        raise ValueError("taps must be >= 1")
    return min_phase_fir(lambda f: magnitude_db(device, f), sample_rate_hz, int(taps))


def fir_response_db(h: np.ndarray, sample_rate_hz: float, frequencies_hz: np.ndarray) -> np.ndarray:
    """|H(f)| in dB of FIR ``h`` at ``frequencies_hz`` (direct DTFT, exact at any frequency)."""
    f = np.asarray(frequencies_hz, dtype=np.float64)
    n = np.arange(h.size)
    z = np.exp(-2j * np.pi * np.outer(f / sample_rate_hz, n))
    return 20.0 * np.log10(np.maximum(np.abs(z @ h), 1e-300))


def linear_phase_lowpass(cutoff_hz: float, sample_rate_hz: float, taps: int) -> np.ndarray:
    """Blackman-windowed sinc low-pass of ``taps`` (odd) taps, unity gain at DC."""
    n = np.arange(taps) - (taps - 1) / 2.0
    fc = cutoff_hz / sample_rate_hz
    h = 2.0 * fc * np.sinc(2.0 * fc * n) * np.blackman(taps)
    return h / h.sum()


_THIRD_BW = 2.0 ** (1.0 / 6.0) - 2.0 ** (-1.0 / 6.0)


def road_noise_fir(
    speed_kmh: float, sample_rate_hz: float, offset_db: float, taps: int = 8192
) -> np.ndarray:
    """FIR that turns unit-variance white noise into road noise at ``speed_kmh`` in signal
    units (``dBFS = SPL - offset_db``): its one-sided density is the 1/3-octave band level
    divided by the band's width, interpolated in log frequency (held beyond 20 Hz / 20 kHz)."""
    centres = np.array(THIRD_OCTAVE_EXACT_HZ)
    band_db = car_noise_band_levels_db(speed_kmh, centres) - offset_db
    # Band levels are full-scale-sine dB: mean square = 10^(dB/10) / 2; per Hz over the band.
    density_db = band_db - 3.0103 - 10.0 * np.log10(_THIRD_BW * centres)

    def gain_db(f: np.ndarray) -> np.ndarray:
        d = np.interp(np.log(np.maximum(f, centres[0])), np.log(centres), density_db)
        # White unit noise has one-sided density 2 / fs: |H|^2 = density * fs / 2.
        return d + 10.0 * math.log10(sample_rate_hz / 2.0)

    return min_phase_fir(gain_db, sample_rate_hz, taps)
