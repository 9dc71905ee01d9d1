"""Long-term average spectrum, fractional-octave bands, tonal balance and tilt, streaming.

* Welch's method (P. D. Welch, "The use of fast Fourier transform for the estimation of power
  spectra", IEEE Trans. Audio Electroacoust. 15(2), 1967): periodic Hann window, ``nfft`` the
  smallest power of two >= fs / 3 (16384 at 44.1/48 kHz: 2.7-2.9 Hz bins, enough for noise-like
  signals in the 20-40 Hz third-octave bands; a pure tone there leaks up to 1.2 dB at 20 Hz and
  0.3 dB at 31.5 Hz into its neighbours, 0.1 dB or less from 40 Hz up), 50 % overlap, frames
  carried across block boundaries. The incomplete final frame is dropped; a file shorter than one
  frame is analysed as a single frame with a Hann window of its own length, zero-padded to
  ``nfft``.
* Normalisation: one-sided power per bin, ``p[k] = 2 |X[k]|^2 / (nfft * sum(w^2))`` (DC and
  Nyquist not doubled), averaged over frames, so ``sum(p)`` estimates the mean square. A band's
  level is ``10 log10(2 * band mean-square)``: a full-scale sine reads 0 dB in its band.
* Bands: 1/3 octave on the ISO 266 nominal centres 20 Hz - 20 kHz, with exact base-ten midband
  frequencies and edges of IEC 61260-1:2014 §5 (``G = 10^(3/10)``, ``f_m = 1000 G^(x/3)``, edges
  ``f_m G^(±1/6)``); a 1/6-octave curve (``f_m = 1000 G^(x/6)``, ISO 3 R20 labels) for plots. A
  bin counts in a band by the fraction of its width ``[(k - 1/2) df, (k + 1/2) df]`` inside the
  band. A band whose centre is at or above Nyquist is ``None``; one that straddles Nyquist is
  integrated up to Nyquist.
* Left, right, mid ``(L+R)/2`` and side ``(L-R)/2`` come from the same FFT: per bin the meter sums
  ``|L|^2``, ``|R|^2`` and ``Re(L R*)``; ``|M|^2 = (|L|^2 + |R|^2 + 2 Re(L R*)) / 4`` and
  ``|S|^2 = (|L|^2 + |R|^2 - 2 Re(L R*)) / 4``. Files with more than two channels use the first
  two as L/R for mid/side and stereo bands; the "mix" spectrum is the mean over all channels.
  A bin's mid or side power under ``1e-12`` of its ``|L|^2 + |R|^2`` (-120 dB) is below the
  rounding of that difference and reads as none.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Sequence

import numpy as np

from analyzer.dsp.bands import (
    BROAD_BAND_NAMES,
    BROAD_BANDS_HZ,
    OCTAVE_RATIO,
    SIXTH_OCTAVE_EXACT_HZ,
    SIXTH_OCTAVE_NOMINAL_HZ,
    THIRD_OCTAVE_EXACT_HZ,
    THIRD_OCTAVE_NOMINAL_HZ,
)
from analyzer.dsp.units import ratio_db
from analyzer.types import SpectrumStats

TILT_LOW_HZ = 100.0
TILT_HIGH_HZ = 10000.0
MIN_TILT_BANDS = 3
#: A bin's mid or side power below this fraction of its ``|L|^2 + |R|^2`` (-120 dB) reads as
#: none: it comes from a difference of the two, whose rounding is ~1e-16 of them.
MID_SIDE_RESOLUTION = 1e-12
#: Frames per FFT call: large enough for pocketfft's batched speed, small enough for the cache.
FFT_BATCH = 16


_THREAD = threading.local()


def _frame_buffers(channels: int, nfft: int) -> tuple[np.ndarray, np.ndarray]:
    """This thread's windowed-frame and spectrum buffers, ``(channels, FFT_BATCH, nfft)`` and
    its rfft: one set per thread, not per meter (8 MB a stereo meter at 44.1 kHz: a render
    pass with a meter per device held one set per device)."""
    bufs = getattr(_THREAD, "frames", None)
    if bufs is None or bufs[0].shape[0] < channels or bufs[0].shape[2] != nfft:
        bufs = _THREAD.frames = (
            np.empty((channels, FFT_BATCH, nfft)),
            np.empty((channels, FFT_BATCH, nfft // 2 + 1), dtype=np.complex128),
        )
    return bufs[0][:channels], bufs[1][:channels]


def frame_size(sample_rate_hz: int) -> int:
    """Smallest power of two >= fs / 3 (16384 at 44.1 and 48 kHz)."""
    need = max(1, math.ceil(sample_rate_hz / 3))
    return 1 << (need - 1).bit_length()


def hann(n: int) -> np.ndarray:
    """Periodic (DFT-even) Hann window of length ``n``, the usual choice for Welch averaging."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def band_level_db(ms: float) -> float | None:
    """Band level re a full-scale sine: ``10 log10(2 * mean square)``; ``None`` for no power."""
    return 10.0 * math.log10(2.0 * ms) if ms > 0 else None


def band_powers(
    p: np.ndarray, edges_hz: Sequence[tuple[float, float]], df_hz: float, nyquist_hz: float
) -> np.ndarray:
    """Integrate per-bin powers ``p`` (last axis: bins 0 ... nfft/2) over bands ``(lo, hi)``.

    Bin ``k`` covers ``[(k - 1/2) df, (k + 1/2) df]`` clipped to ``[0, Nyquist]`` and counts in a
    band by the fraction of that width inside the band. Returns shape ``p.shape[:-1] + (bands,)``.
    """
    n_bins = p.shape[-1]
    out = np.zeros((*p.shape[:-1], len(edges_hz)))
    for i, (lo, hi) in enumerate(edges_hz):
        hi = min(hi, nyquist_hz)
        if hi <= lo:
            continue
        k0 = max(math.floor(lo / df_hz - 0.5), 0)
        k1 = min(math.ceil(hi / df_hz + 0.5), n_bins - 1)
        k = np.arange(k0, k1 + 1)
        b_lo = np.maximum((k - 0.5) * df_hz, 0.0)
        b_hi = np.minimum((k + 0.5) * df_hz, nyquist_hz)
        width = b_hi - b_lo
        overlap = np.clip(np.minimum(hi, b_hi) - np.maximum(lo, b_lo), 0.0, None)
        w = np.divide(overlap, width, out=np.zeros_like(overlap), where=width > 0)
        out[..., i] = p[..., k0 : k1 + 1] @ w
    return out


def _edges(centres: Sequence[float], fraction: int) -> list[tuple[float, float]]:
    half = OCTAVE_RATIO ** (1.0 / (2 * fraction))
    return [(f / half, f * half) for f in centres]


def _levels(ms: np.ndarray, valid: np.ndarray) -> tuple[float | None, ...]:
    return tuple(band_level_db(float(v)) if ok else None for v, ok in zip(ms, valid, strict=True))


class SpectrumMeter:
    """Streaming Welch long-term average spectrum: ``feed((channels, frames) float64)``, then
    ``result()`` (and ``stereo_bands()``); neither read-out changes the state."""

    #: CPU s per 4-minute stereo 44.1 kHz file (Xeon): for engine.meter_groups.
    relative_cost = 0.24

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.nfft = frame_size(self.sample_rate_hz)
        self.hop = self.nfft // 2
        self.bins = self.nfft // 2 + 1
        self.df_hz = self.sample_rate_hz / self.nfft
        self.nyquist_hz = self.sample_rate_hz / 2
        self.stereo = self.channels >= 2
        self._window = hann(self.nfft)
        # Sums over frames of |X|^2 per channel and of Re(L R*), as interleaved (re, im) pairs:
        # folded into bins only when read out.
        self._power = np.zeros((self.channels, 2 * self.bins))
        self._cross = np.zeros(2 * self.bins)
        self._tail = np.zeros((self.channels, 0))  # samples from the next frame's start on
        self.frames_averaged = 0
        self.samples = 0

    def feed(self, block: np.ndarray) -> None:
        n = block.shape[1]
        if n == 0:
            return
        self.samples += n
        nfft, hop = self.nfft, self.hop
        t = self._tail.shape[1]
        total = t + n
        n_frames = (total - nfft) // hop + 1 if total >= nfft else 0
        # Frames that start in the carried tail are cut from a short joined head; the others are
        # strided views of the block itself (no copy of the block).
        head = np.concatenate([self._tail, block[:, :nfft]], axis=1)
        in_head = min(n_frames, (head.shape[1] - nfft) // hop + 1) if head.shape[1] >= nfft else 0
        sources = []
        if in_head:
            view = np.lib.stride_tricks.sliding_window_view(head, nfft, axis=1)
            sources.append(view[:, : (in_head - 1) * hop + 1 : hop])
        if n_frames > in_head:
            first = in_head * hop - t  # offset in the block of the first frame not in the head
            count = n_frames - in_head
            view = np.lib.stride_tricks.sliding_window_view(
                block[:, first : first + (count - 1) * hop + nfft], nfft, axis=1
            )
            sources.append(view[:, ::hop])
        for src in sources:
            for s in range(0, src.shape[1], FFT_BATCH):
                self._accumulate(src[:, s : s + FFT_BATCH])
        self.frames_averaged += n_frames
        start = n_frames * hop  # index in tail ++ block of the next frame's first sample
        if start >= t:
            self._tail = block[:, start - t :].copy()
        else:
            self._tail = np.concatenate([self._tail[:, start:], block], axis=1)

    def _accumulate(self, frames: np.ndarray) -> None:
        """Window, FFT and add the powers of ``frames`` shaped ``(channels, m, nfft)``."""
        m = frames.shape[1]
        wbuf, xbuf = _frame_buffers(self.channels, self.nfft)
        w = wbuf[:, :m]
        np.multiply(frames, self._window, out=w)
        x = xbuf[:, :m]
        np.fft.rfft(w, axis=-1, out=x)
        xv = x.view(np.float64)  # (channels, m, 2 * bins): re, im interleaved
        for c in range(self.channels):
            self._power[c] += np.einsum("fk,fk->k", xv[c], xv[c])
        if self.stereo:
            self._cross += np.einsum("fk,fk->k", xv[0], xv[1])

    # ------------------------------------------------------------------ read-out

    def _bin_powers(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-channel mean powers per bin ``(channels, bins)`` and ``Re(L R*)`` (or None)."""
        if self.frames_averaged:
            power, cross = self._power, self._cross
            frames, sum_w2 = self.frames_averaged, float(np.sum(self._window**2))
        elif self._tail.shape[1]:
            # Shorter than one frame: one frame with a Hann window of the file's own length.
            n = self._tail.shape[1]
            w = hann(n)
            sum_w2, frames = float(np.sum(w**2)), 1
            xv = np.fft.rfft(self._tail * w, n=self.nfft, axis=-1).view(np.float64)
            power = xv * xv
            cross = xv[0] * xv[1] if self.stereo else self._cross
        else:
            sum_w2, frames = 0.0, 0
            power, cross = self._power, self._cross
        if sum_w2 <= 0.0:
            return np.zeros((self.channels, self.bins)), np.zeros(
                self.bins
            ) if self.stereo else None
        scale = np.full(self.bins, 2.0 / (self.nfft * sum_w2 * frames))
        scale[0] /= 2.0
        if self.nfft % 2 == 0:
            scale[-1] /= 2.0
        p = (power[:, 0::2] + power[:, 1::2]) * scale
        c = (cross[0::2] + cross[1::2]) * scale if self.stereo else None
        return p, c

    def psd(self) -> tuple[np.ndarray, np.ndarray]:
        """``(frequencies_hz (bins,), psd (channels, bins))``: the one-sided Welch power spectral
        density in mean-square per Hz (full scale = 1), which integrates to the mean square."""
        p, _ = self._bin_powers()
        return np.arange(self.bins) * self.df_hz, p / self.df_hz

    @staticmethod
    def _mid_side(p: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-bin mid and side powers from the L/R powers and ``Re(L R*)``."""
        lr = p[0] + p[1]
        mid = (lr + 2.0 * c) / 4.0
        side = (lr - 2.0 * c) / 4.0
        # Each is a difference of sums as large as |L|^2 + |R|^2, good to ~1e-16 of it and summed
        # in an order that follows the block size: less than MID_SIDE_RESOLUTION of it is that
        # rounding (a side 175 dB down read -195 dB or none by block size: found by fuzzing).
        floor = MID_SIDE_RESOLUTION * lr
        mid[mid <= floor] = 0.0
        side[side <= floor] = 0.0
        return mid, side

    def result(self) -> SpectrumStats:
        p, c = self._bin_powers()
        third_edges = _edges(THIRD_OCTAVE_EXACT_HZ, 3)
        sixth_edges = _edges(SIXTH_OCTAVE_EXACT_HZ, 6)
        third_ok = np.array(THIRD_OCTAVE_EXACT_HZ) < self.nyquist_hz
        sixth_ok = np.array(SIXTH_OCTAVE_EXACT_HZ) < self.nyquist_hz
        mix = p.mean(axis=0)
        bands = lambda q: band_powers(q, third_edges, self.df_hz, self.nyquist_hz)  # noqa: E731
        third_mix = bands(mix)
        third_ch = bands(p)
        mid_db = side_db = None
        if c is not None:
            mid, side = (bands(q) for q in self._mid_side(p, c))
            mid_db, side_db = _levels(mid, third_ok), _levels(side, third_ok)
        sixth = band_powers(mix, sixth_edges, self.df_hz, self.nyquist_hz)
        return SpectrumStats(
            third_octave_hz=THIRD_OCTAVE_NOMINAL_HZ,
            third_octave_db=_levels(third_mix, third_ok),
            third_octave_db_per_channel=tuple(_levels(row, third_ok) for row in third_ch),
            third_octave_mid_db=mid_db,
            third_octave_side_db=side_db,
            sixth_octave_hz=SIXTH_OCTAVE_NOMINAL_HZ,
            sixth_octave_db=_levels(sixth, sixth_ok),
            tonal_balance_db=self._tonal_balance(mix),
            tilt_db_per_octave=self._tilt(third_mix),
            frame_size=self.nfft,
            frames_averaged=self.frames_averaged or (1 if self._tail.shape[1] > 1 else 0),
        )

    def _broad(self, p: np.ndarray) -> np.ndarray:
        return band_powers(p, list(BROAD_BANDS_HZ.values()), self.df_hz, self.nyquist_hz)

    def _tonal_balance(self, mix: np.ndarray) -> dict[str, float | None]:
        """Broad-band powers in dB re the total 20 Hz - 20 kHz power (so level-independent)."""
        powers = self._broad(mix)
        total = float(powers.sum())
        return {
            name: ratio_db(float(v), total) if lo < self.nyquist_hz else None
            for (name, (lo, _)), v in zip(BROAD_BANDS_HZ.items(), powers, strict=True)
        }

    def _tilt(self, third_ms: np.ndarray) -> float | None:
        """Least-squares slope (dB/octave) of the third-octave levels against log2 of the exact
        midband frequency, bands 100 Hz - 10 kHz that lie wholly below Nyquist and hold power.
        Pink noise reads 0, white noise +3.01 (10 log10 2)."""
        f = np.array(THIRD_OCTAVE_EXACT_HZ)
        upper = f * OCTAVE_RATIO ** (1 / 6)
        use = (
            (f >= TILT_LOW_HZ * 0.99)
            & (f <= TILT_HIGH_HZ * 1.01)
            & (upper <= self.nyquist_hz)
            & (third_ms > 0)
        )
        if np.count_nonzero(use) < MIN_TILT_BANDS:
            return None
        x = np.log2(f[use])
        y = 10.0 * np.log10(2.0 * third_ms[use])
        x = x - x.mean()
        return float(np.dot(x, y - y.mean()) / np.dot(x, x))

    def stereo_bands(self) -> tuple[dict[str, float | None], dict[str, float | None]]:
        """``(width_per_band_db, mono_loss_per_band_lu)`` for the broad bands.

        Width: side-to-mid energy ratio ``10 log10(|S|^2 / |M|^2)`` per band (``None`` when the
        band has no side energy, i.e. minus infinity, or no energy at all). Mono loss: the mono
        fold-down ``(L+R)/2`` played on both speakers against the stereo original,
        ``10 log10(|L+R|^2 / 2 / (|L|^2 + |R|^2))`` in LU: 0 for identical channels, -3 for
        independent equal ones, minus infinity (``None``) for exact polarity inversion. The
        spectrum is not K-weighted. Mono files give ``None`` for every band.
        """
        names = BROAD_BAND_NAMES
        p, c = self._bin_powers()
        if c is None:
            return dict.fromkeys(names), dict.fromkeys(names)
        mid, side = (self._broad(q) for q in self._mid_side(p, c))
        width: dict[str, float | None] = {}
        loss: dict[str, float | None] = {}
        for name, m, s in zip(names, mid, side, strict=True):
            m, s = float(m), float(s)
            width[name] = ratio_db(s, m) if m > 0 else None
            # |L+R|^2 / 2 = 2 |M|^2 and |L|^2 + |R|^2 = 2 (|M|^2 + |S|^2).
            loss[name] = ratio_db(m, m + s) if m + s > 0 else None
        return width, loss


def measure_spectrum(x: np.ndarray, sample_rate_hz: int) -> SpectrumStats:
    """Whole-array spectrum of ``x`` shaped ``(channels, frames)`` (same as the streaming meter)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    meter = SpectrumMeter(sample_rate_hz, x.shape[0])
    meter.feed(x)
    return meter.result()


def _shift(levels: Sequence[float | None] | None, by_db: float | None) -> tuple | None:
    if levels is None:
        return None
    return tuple(None if v is None or by_db is None else v - by_db for v in levels)


def levelled(stats: SpectrumStats, integrated_lufs: float | None) -> SpectrumStats:
    """The spectrum with every band level taken relative to the integrated loudness (dB re
    ``integrated_lufs``), so tracks at different levels compare directly. Tonal balance and
    tilt are already level-independent and stay as they are. With no finite loudness (silence,
    shorter than 400 ms) every band level becomes ``None``."""
    by: float | None = None
    if integrated_lufs is not None and math.isfinite(integrated_lufs):
        by = float(integrated_lufs)
    return dataclasses.replace(
        stats,
        third_octave_db=_shift(stats.third_octave_db, by),
        third_octave_db_per_channel=tuple(
            _shift(row, by) for row in stats.third_octave_db_per_channel
        ),
        third_octave_mid_db=_shift(stats.third_octave_mid_db, by),
        third_octave_side_db=_shift(stats.third_octave_side_db, by),
        sixth_octave_db=_shift(stats.sixth_octave_db, by),
        levelled_to_lufs=by,
    )
