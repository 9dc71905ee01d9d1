"""One overlap-save grid shared by every device of a render pass (issue 15, "Safe renders": all
devices in a few times the time of an analysis).

Every device filters the same two rows, the input's mid ``(L + R) / 2`` and side ``(L - R) / 2``
(:meth:`~analyzer.playback.render.DeviceRenderer.fir_input`). So the input is transformed once
per segment (overlap-save, A. V. Oppenheim & R. W. Schafer, "Discrete-Time Signal Processing",
3rd ed., section 8.7.3, as :mod:`analyzer.dsp.convolve`) with an overlap that covers the longest
filter, and each device only multiplies that spectrum by its own and transforms back. A filter
shorter than the overlap is the same filter zero-padded, so each output is the linear
convolution of :class:`~analyzer.dsp.convolve.StreamingConvolver`, to float rounding.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from analyzer.dsp.fft import next_fast_len

#: Transforms at least this many times the overlap (as the streaming convolver).
FFT_PER_OVERLAP = 4
#: Shortest transform (points).
MIN_FFT = 32768
#: Per-thread scratch buffers of :meth:`BankFilter.apply`.
_THREAD = threading.local()


@dataclass(frozen=True)
class Segments:
    """One block's input spectra: ``spectra[i]`` is the rfft (``nfft`` points) of segment
    ``i``'s rows, whose last ``lengths[i]`` outputs start at ``starts[i]`` in the block."""

    nfft: int
    overlap: int
    starts: tuple[int, ...]
    lengths: tuple[int, ...]
    spectra: tuple[np.ndarray, ...]
    frames: int


class BankFilter:
    """One device's FIR rows (``(rows, taps)``: row ``r`` filters input row ``r``); applies them
    to a block's :class:`Segments`."""

    def __init__(self, taps: np.ndarray) -> None:
        self.taps = np.atleast_2d(np.asarray(taps, dtype=np.float64))
        self.identity = self.taps.shape[1] == 1 and bool(np.all(self.taps == 1.0))
        self._spectra: dict[int, np.ndarray] = {}

    @property
    def overlap(self) -> int:
        """The filter's own ring-out (taps - 1 frames)."""
        return self.taps.shape[1] - 1

    def _spectrum(self, nfft: int) -> np.ndarray:
        got = self._spectra.get(nfft)
        if got is None:
            self._spectra.clear()  # block sizes seldom change: one grid at a time
            got = self._spectra[nfft] = np.fft.rfft(self.taps, n=nfft, axis=-1)
        return got

    def apply(self, seg: Segments, rows: np.ndarray | None = None) -> np.ndarray:
        """The block's rows through the FIR, ``(rows, frames)``; ``rows`` the input rows (for
        an identity filter, which needs no transform back)."""
        n = self.taps.shape[0]
        if rows is not None and self.identity:
            return rows[:n]
        h = self._spectrum(seg.nfft)
        out = np.empty((n, seg.frames))
        ov = seg.overlap
        prod, back = self._buffers(n, seg.nfft)
        for start, length, x in zip(seg.starts, seg.lengths, seg.spectra, strict=True):
            y = np.fft.irfft(np.multiply(x[:n], h, out=prod), n=seg.nfft, axis=1, out=back)
            out[:, start : start + length] = y[:, ov : ov + length]
        return out

    @staticmethod
    def _buffers(rows: int, nfft: int) -> tuple[np.ndarray, np.ndarray]:
        """Product and inverse-transform buffers reused by every filter of a thread (a fresh
        megabyte-sized temporary per segment costs page faults; one set per thread, not per
        device, keeps the memory flat)."""
        bufs = getattr(_THREAD, "bufs", None)
        if bufs is None or bufs[1].shape[1] != nfft or bufs[1].shape[0] < rows:
            bufs = _THREAD.bufs = (np.empty((2, nfft // 2 + 1), dtype=np.complex128),
                                   np.empty((2, nfft)))  # fmt: skip
        return bufs[0][:rows], bufs[1][:rows]


class SharedInput:
    """The streaming input side of the bank: ``(2, frames)`` mid/side blocks in, their segment
    spectra out, with an overlap that covers every filter given."""

    def __init__(self, filters: list[BankFilter]) -> None:
        self.overlap = max((f.overlap for f in filters), default=0)
        self.max_hop = next_fast_len(max(FFT_PER_OVERLAP * self.overlap, MIN_FFT)) - self.overlap
        self._history = np.zeros((2, self.overlap))

    def process(self, rows: np.ndarray) -> Segments:
        """The spectra of the next block of mid/side ``rows`` (carried history before it)."""
        frames = rows.shape[1]
        ov = self.overlap
        joined = np.concatenate([self._history, rows], axis=1)
        count = max(1, -(-frames // self.max_hop))
        hop = max(1, -(-frames // count))
        nfft = next_fast_len(hop + ov)
        starts, lengths, spectra = [], [], []
        for start in range(0, frames, hop):
            length = min(hop, frames - start)
            starts.append(start)
            lengths.append(length)
            spectra.append(np.fft.rfft(joined[:, start : start + ov + length], n=nfft, axis=1))
        self._history = joined[:, joined.shape[1] - ov :].copy()
        return Segments(nfft, ov, tuple(starts), tuple(lengths), tuple(spectra), frames)

    def flush(self) -> Segments:
        """The ring-out: ``overlap`` frames of zeros after the last block."""
        return self.process(np.zeros((2, self.overlap)))


__all__ = ["BankFilter", "Segments", "SharedInput"]
