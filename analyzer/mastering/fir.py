"""Linear-phase FIR equalisation: a magnitude curve turned into a symmetric FIR by frequency
sampling with a window (J. O. Smith, "Spectral Audio Signal Processing", the window method), and
applied by streaming overlap-save FFT convolution with the delay removed.

Linear phase keeps the waveform's phase relations (no pre-ringing-free minimum phase, but no
phase shift either): the choice of match EQs (Ozone's Match EQ, FabFilter's linear-phase mode).
The filter is long enough that its frequency resolution (about ``fs / taps``) is finer than a
1/3 octave at 31.5 Hz; the delay of ``(taps - 1) / 2`` samples is compensated, so the output is
time-aligned with the input and exactly as long.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analyzer.dsp.convolve import StreamingConvolver

#: Taps per Hz of sample rate: 16383 taps at 44.1 kHz (2.7 Hz resolution, 186 ms delay).
TAPS_PER_HZ = 0.3715


def fir_taps(sample_rate_hz: float) -> int:
    """An odd tap count for ``sample_rate_hz`` (about 0.37 s of audio)."""
    n = round(TAPS_PER_HZ * sample_rate_hz)
    return n + 1 - n % 2


def design_linear_phase(
    magnitude: Callable[[np.ndarray], np.ndarray], sample_rate_hz: float, taps: int | None = None
) -> np.ndarray:
    """Symmetric FIR whose magnitude follows ``magnitude(frequencies_hz)`` (linear, >= 0):
    the zero-phase impulse response of the sampled curve, centred and Blackman-windowed."""
    taps = taps or fir_taps(sample_rate_hz)
    if taps % 2 == 0:
        raise ValueError("taps must be odd (a whole-sample delay)")
    n = 4 * (taps - 1)  # dense grid: the window, not the sampling, sets the resolution
    freqs = np.fft.rfftfreq(n, d=1.0 / sample_rate_hz)
    h = np.fft.irfft(np.asarray(magnitude(freqs), dtype=float), n=n)
    half = (taps - 1) // 2
    h = np.concatenate([h[-half:], h[: half + 1]])
    return h * np.blackman(taps)


class LinearPhaseFir:
    """Streaming convolution of ``(channels, frames)`` blocks with a symmetric FIR, delay
    compensated: ``process`` returns what is ready (fewer frames at first), ``flush`` the rest,
    so the output is time-aligned with the input and as long."""

    def __init__(self, h: np.ndarray, channels: int) -> None:
        self.h = np.asarray(h, dtype=float)
        self.channels = int(channels)
        self.delay = (len(self.h) - 1) // 2
        # FFTs of 8x the filter (at least 64k points): few transforms for these long filters.
        self._convolver = StreamingConvolver.from_taps(
            self.h, self.channels, min_fft=65536, fft_per_overlap=8
        )
        self._to_skip = self.delay
        self._in = 0
        self._out = 0

    def process(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, dtype=np.float64)
        self._in += x.shape[1]
        y = self._convolver.process(x) if x.shape[1] else x
        if self._to_skip:
            skip = min(self._to_skip, y.shape[1])
            self._to_skip -= skip
            y = y[:, skip:]
        self._out += y.shape[1]
        return y

    def flush(self) -> np.ndarray:
        rest = self._in - self._out
        y = self.process(np.zeros((self.channels, self.delay)))
        self._in -= self.delay
        return y[:, :rest]
