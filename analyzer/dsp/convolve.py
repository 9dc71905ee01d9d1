"""Streaming FFT convolution by overlap-save, the one convolver of the EQ, the FIRs and the
device renderer.

Overlap-save (A. V. Oppenheim & R. W. Schafer, "Discrete-Time Signal Processing", 3rd ed.,
section 8.7.3): each segment of ``hop`` new samples is transformed together with the ``overlap``
samples before it (carried between calls, zeros before the first sample), multiplied by the
filter's spectrum on an ``nfft >= hop + overlap`` grid and transformed back; the first
``overlap`` outputs (circularly wrapped) are discarded. For an FIR of ``overlap + 1`` taps the
result is the linear convolution started at rest, for any block sizes, to float rounding.

The filter is given either as taps (one FIR for every channel, or one per channel) or as a
function ``spectrum(nfft)`` that samples a frequency response on the rfft grid of ``nfft``
points (the EQ samples its exact IIR response there, so ``overlap`` is where its impulse response
has decayed). A block is cut into equal hops of at most ``max_hop`` frames, and ``nfft`` is the
next fast FFT length of ``hop + overlap``: so the transforms stay near ``fft_per_overlap`` times
the overlap, and never below ``min_fft`` points.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from analyzer.dsp.fft import next_fast_len

#: Spectra kept per convolver (one per FFT length; block sizes seldom vary more).
SPECTRUM_CACHE = 8


class StreamingConvolver:
    """Streaming linear convolution of ``(channels, frames)`` float64 blocks.

    ``process(block)`` returns as many frames as it is given (output sample ``n`` is the
    convolution at input sample ``n``); ``flush()`` returns the ``overlap`` frames of ring-out
    after the last block (an FIR's tail) and leaves the convolver at rest again.
    Build it with :meth:`from_taps` for an FIR or directly with a ``spectrum`` function.
    """

    def __init__(
        self,
        channels: int,
        overlap: int,
        spectrum: Callable[[int], np.ndarray],
        *,
        min_fft: int = 32768,
        fft_per_overlap: int = 4,
    ) -> None:
        if channels < 1 or overlap < 0:
            raise ValueError("channels must be >= 1 and overlap >= 0")
        self.channels = int(channels)
        self.overlap = int(overlap)
        self.taps: np.ndarray | None = None
        self._spectrum_of = spectrum
        self._spectra: dict[int, np.ndarray] = {}
        self.max_hop = next_fast_len(max(fft_per_overlap * self.overlap, min_fft)) - self.overlap
        self._history = np.zeros((self.channels, self.overlap))

    @classmethod
    def from_taps(
        cls, taps: np.ndarray, channels: int, *, min_fft: int = 32768, fft_per_overlap: int = 4
    ) -> StreamingConvolver:
        """Convolver of the FIR ``taps``: shape ``(n,)`` (every channel) or ``(channels, n)``."""
        h = np.asarray(taps, dtype=np.float64)
        if h.ndim not in (1, 2) or h.shape[-1] < 1 or (h.ndim == 2 and h.shape[0] != channels):
            raise ValueError(f"taps must be (n,) or ({channels}, n), got shape {h.shape}")

        def spectrum(nfft: int) -> np.ndarray:
            return np.fft.rfft(h, n=nfft, axis=-1)

        conv = cls(
            channels, h.shape[-1] - 1, spectrum, min_fft=min_fft, fft_per_overlap=fft_per_overlap
        )
        conv.taps = h
        return conv

    def _spectrum(self, nfft: int) -> np.ndarray:
        spec = self._spectra.get(nfft)
        if spec is None:
            if len(self._spectra) >= SPECTRUM_CACHE:
                del self._spectra[next(iter(self._spectra))]
            spec = self._spectra[nfft] = self._spectrum_of(nfft)
        return spec

    def process(self, block: np.ndarray) -> np.ndarray:
        """Convolve the next ``(channels, frames)`` block; returns ``(channels, frames)``."""
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, frames), got shape {x.shape}")
        frames = x.shape[1]
        if frames == 0:
            return np.zeros((self.channels, 0))
        if self.overlap == 0 and self.taps is not None:  # a single tap: a gain per channel
            return x * (self.taps if self.taps.ndim == 2 else self.taps[None, :])
        ov = self.overlap
        joined = np.concatenate([self._history, x], axis=1)
        out = np.empty(x.shape)
        count = -(-frames // self.max_hop)
        hop = -(-frames // count)
        nfft = next_fast_len(hop + ov)
        spec = self._spectrum(nfft)
        for start in range(0, frames, hop):
            length = min(hop, frames - start)
            seg = joined[:, start : start + ov + length]
            y = np.fft.irfft(np.fft.rfft(seg, n=nfft, axis=1) * spec, n=nfft, axis=1)
            out[:, start : start + length] = y[:, ov : ov + length]
        self._history = joined[:, joined.shape[1] - ov :].copy()
        return out

    def flush(self) -> np.ndarray:
        """The ``overlap`` frames of ring-out after the last block (zeros fed in)."""
        return self.process(np.zeros((self.channels, self.overlap)))


class FanOutConvolver:
    """Several FIRs on the same rows: ``(rows, frames)`` blocks in, ``(filters * rows, frames)``
    out (row ``f * rows + r`` is filter ``f`` on input row ``r``), the output of a
    :class:`StreamingConvolver` of ``taps`` repeated per row on the input tiled ``filters``
    times, with the same segments, but each input segment transformed once instead of once per
    filter (a crossover's band split: 3 bands, 2 forward transforms of 6 saved)."""

    def __init__(self, taps: np.ndarray, rows: int, *, min_fft: int = 32768,
                 fft_per_overlap: int = 4) -> None:  # fmt: skip
        self.filters = np.atleast_2d(np.asarray(taps, dtype=np.float64))
        self.rows = int(rows)
        #: The FIR of each output row, as :attr:`StreamingConvolver.taps`.
        self.taps = np.repeat(self.filters, self.rows, axis=0)
        self.overlap = self.filters.shape[1] - 1
        self.max_hop = next_fast_len(max(fft_per_overlap * self.overlap, min_fft)) - self.overlap
        self._history = np.zeros((self.rows, self.overlap))
        self._spectra: dict[int, np.ndarray] = {}

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter the next ``(rows, frames)`` block; returns ``(filters * rows, frames)``."""
        x = np.asarray(block, dtype=np.float64)
        frames, ov, n_f = x.shape[1], self.overlap, self.filters.shape[0]
        out = np.empty((n_f, self.rows, frames))
        if frames == 0:
            return out.reshape(n_f * self.rows, 0)
        joined = np.concatenate([self._history, x], axis=1)
        count = -(-frames // self.max_hop)
        hop = -(-frames // count)
        nfft = next_fast_len(hop + ov)
        spec = self._spectra.get(nfft)
        if spec is None:
            self._spectra = {nfft: np.fft.rfft(self.filters, n=nfft, axis=-1)[:, None, :]}
            spec = self._spectra[nfft]
        for start in range(0, frames, hop):
            length = min(hop, frames - start)
            seg = np.fft.rfft(joined[:, start : start + ov + length], n=nfft, axis=1)
            y = np.fft.irfft(seg[None] * spec, n=nfft, axis=-1)
            out[:, :, start : start + length] = y[..., ov : ov + length]
        self._history = joined[:, joined.shape[1] - ov :].copy()
        return out.reshape(n_f * self.rows, frames)

    def flush(self) -> np.ndarray:
        """The ``overlap`` frames of ring-out after the last block (zeros fed in)."""
        return self.process(np.zeros((self.rows, self.overlap)))


__all__ = ["FanOutConvolver", "StreamingConvolver"]
