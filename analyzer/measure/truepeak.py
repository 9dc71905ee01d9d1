"""True peak (ITU-R BS.1770-4 Annex 2) and sample peak, streaming.

The band-limited signal is evaluated between samples with the polyphase filters of
:mod:`analyzer.dsp.oversample`. Interpolating every sample is the costly part of a loudness meter,
and most of it cannot change the answer: an interpolated value is a weighted sum of the samples in
its window, so ``|y| <= max|x in window| * sum|h|``. Windows are taken in chunks, and a chunk whose
bound cannot beat the channel's running true peak is skipped. The bound is exact, so skipping never
changes the result (a property test checks this against interpolating everything).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from types import ModuleType

import numpy as np

from analyzer.dsp import jit
from analyzer.dsp.oversample import (
    band_limited_values,
    gain_bound,
    interpolation_matrix,
    oversampling_factor,
)
from analyzer.dsp.units import amplitude_to_db
from analyzer.types import PeakStats, Series

CHUNK = 16384
GROUP = 16
EXTRA_HISTORY = 4
#: An inter-sample over is a grid value above full scale by more than float32's resolution
#: (1e-6, 8e-6 dB): a run of samples at exactly 1.0 interpolates to 1.0 +- 1e-7 depending on
#: how the grid is summed, which made the count depend on the block size (found by fuzzing).
OVER_THRESHOLD = 1.0 + 2.0**-20
#: Below this sample peak (-600 dBFS) the float32 grid underflows, and which grid points are
#: refined depended on the block size (found by fuzzing with denormals): the true peak of such a
#: channel is its sample peak.
INTERPOLATION_FLOOR = 1e-30
#: Grid values within this fraction of each other are the same peak: the float32 grid is off by
#: ~1e-6 relative, and how far depends on where a value falls in its group of the product, so
#: which of several equal peaks (a run of full-scale samples) read largest depended on the block
#: size (found by fuzzing): the peak's time is the first that close to the largest.
PEAK_TIE = 1e-5


def _abs_max(y: np.ndarray) -> float:
    return float(max(y.max(), -y.min()))


class _Candidate:
    """The neighbourhood of one grid maximum, kept for refinement."""

    __slots__ = ("end", "samples", "start", "value", "where")

    def __init__(self, value: float, start: int, end: int, where: float) -> None:
        self.value = value  # grid value (linear)
        self.start = start  # global index of samples[0]
        self.end = end  # global index one past the last sample the refinement needs
        self.where = where  # global position of the grid maximum (fractional samples)
        self.samples = np.zeros(0)

    def fill(self, x: np.ndarray, offset: int) -> None:
        """Take the samples still missing from ``x`` (whose first sample is global ``offset``)."""
        have = self.start + self.samples.size
        if have < self.end:
            got = x[max(have - offset, 0) : max(self.end - offset, 0)]
            self.samples = np.concatenate([self.samples, got])

    @property
    def complete(self) -> bool:
        return self.start + self.samples.size >= self.end


class TruePeakMeter:
    """Streaming true-peak and sample-peak meter for ``(channels, frames)`` float64 blocks.

    Two steps: the grid (the ``factor``-times oversampled values) finds where the peaks are; then
    the few grid maxima that could be the largest are refined between grid points, so the reading
    is the peak of the continuous band-limited signal instead of under-reading by up to
    ``1 - cos(pi / (2 * factor))`` when a peak falls between grid points.
    """

    #: CPU s per 4-minute stereo 44.1 kHz file (Xeon): for engine.meter_groups.
    relative_cost = 0.16

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int,
        *,
        prune: bool = True,
        track_windows: bool = False,
        grid_factor: int | None = None,
    ) -> None:
        """``track_windows`` also keeps the true peak of every 100 ms (for the PSR series of
        3 s windows) and counts inter-sample overs; it needs every grid value, so it turns
        pruning off. ``grid_factor`` (>= 2) sets a coarser search grid than BS.1770's: with
        pruning the candidates are still refined between grid points (the pruning margin
        follows the factor), so the peak is the same at lower cost (the device renders)."""
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.factor = max(2, int(grid_factor)) if grid_factor else oversampling_factor(
            self.sample_rate_hz)  # fmt: skip
        self.track_windows = track_windows
        self.prune = prune and not track_windows
        self.subblock = max(1, self.sample_rate_hz // 10)  # as the loudness meter's 100 ms
        self._sub_peaks: list[float] = []
        self._overs = 0
        self._frames = 0
        # float32 products: the samples of 16- and 24-bit files are exact in float32 and the
        # interpolated value is off by ~1e-6 relative (1e-5 dB), at twice float64's speed.
        self._h = interpolation_matrix(self.factor).astype(np.float32)
        self._taps = self._h.shape[0]
        self._half = self._taps // 2
        self._gain_bound = gain_bound()
        # GROUP consecutive outputs per matrix row: row g holds samples [g*GROUP, g*GROUP +
        # taps + GROUP - 1) and a banded matrix gives all their phases at once. A wide, short
        # product instead of a (rows x taps) @ (taps x phases) one: 4x faster (less copying,
        # better use of the vector units).
        phases = self.factor - 1
        self._g = np.zeros((self._taps + GROUP - 1, GROUP * phases), dtype=np.float32)
        for b in range(GROUP):
            self._g[b : b + self._taps, b * phases : (b + 1) * phases] = self._h
        self._wbuf = np.empty((CHUNK // GROUP, self._taps + GROUP - 1), dtype=np.float32)
        self._ybuf = np.empty((CHUNK // GROUP, GROUP * phases), dtype=np.float32)
        self._rbuf = np.empty(CHUNK)
        self._abuf = np.empty(CHUNK, dtype=np.int8)
        self._kernels = jit.Choice(native="truepeak_rows")
        # A grid value this far below the running peak can still hide a higher peak between
        # grid points (a full-scale tone at Nyquist, halfway between two grid points).
        self._margin = math.cos(math.pi / (2 * self.factor))
        # Samples kept from the previous block: the filter's span plus a few more, so that a
        # candidate at the start of a block still has all its neighbours.
        self._lead = EXTRA_HISTORY
        self._keep = self._taps - 1 + self._lead
        self._history = np.zeros((self.channels, self._keep))
        self._joined = np.empty((self.channels, 0))
        self._offset = -self._keep  # global index of the first sample of `joined`
        self._true = np.zeros(self.channels)
        self._sample = np.zeros(self.channels)
        # Per channel: global sample index of a grid maximum -> its candidate.
        self._candidates: list[dict[int, _Candidate]] = [{} for _ in range(self.channels)]

    def feed(self, block: np.ndarray) -> None:
        if block.shape[1] == 0:
            return
        # Two reductions instead of one over np.abs(block): no block-sized temporary.
        peak = np.maximum(block.max(axis=1), -block.min(axis=1))
        np.maximum(self._sample, peak, out=self._sample)
        self._frames += block.shape[1]
        n = self._keep + block.shape[1]
        if self._joined.shape[1] < n:  # grown once to the reader's block size, then reused
            self._joined = np.empty((self.channels, n))
        joined = self._joined[:, :n]
        joined[:, : self._keep] = self._history
        joined[:, self._keep :] = block
        self._history = joined[:, n - self._keep :].copy()
        self._scan(joined)

    def _scan(self, joined: np.ndarray) -> None:
        """Interpolate the windows of ``joined`` (history + new samples) that may hold a peak."""
        for c in range(self.channels):
            for cand in self._candidates[c].values():
                if not cand.complete:
                    cand.fill(joined[c], self._offset)
        taps, lead, half = self._taps, self._lead, self._half
        n_windows = joined.shape[1] - lead - taps + 1
        if n_windows <= 0:
            return
        n_chunks = -(-n_windows // CHUNK)
        kernels = self._kernels()
        for c in range(self.channels):
            x64 = joined[c]
            n = x64.size - lead
            x32 = None
            if kernels is None:
                x32 = np.zeros(n + CHUNK + taps, dtype=np.float32)
                x32[:n] = x64[lead:]
            if self.prune:
                padded = np.zeros(n_chunks * CHUNK + CHUNK)
                padded[:n] = np.abs(x64[lead:])
                chunk_max = padded.reshape(-1, CHUNK).max(axis=1)
                # Chunk j's windows touch samples [j*CHUNK, (j+1)*CHUNK + taps - 1) after the
                # lead: a grid value there is at most their largest times the gain bound.
                bound = np.maximum(chunk_max[:-1], chunk_max[1:]) * self._gain_bound
                order = np.argsort(bound)[::-1]
            else:
                order = np.arange(n_chunks)
            best = max(self._true[c], self._sample[c])
            for j in order:
                if self.prune and bound[j] <= best * self._margin:
                    break
                lo = j * CHUNK
                hi = min(lo + CHUNK, n_windows)
                left = lead + half - 1  # row r interpolates after sample left+lo+r
                row_max, phase_of, overs = self._grid(kernels, x64, x32, lo, hi)
                top = float(row_max.max())
                if self.track_windows:
                    self._overs += overs
                    self._record_subblocks(self._offset + left + lo, row_max)
                # Only near the running peak are the grid maxima kept for refinement.
                if top >= best * self._margin:
                    threshold = max(best, top) * self._margin
                    self._add_candidates(c, x64, phase_of, row_max, left + lo, threshold)
                best = max(best, top)
            self._true[c] = best
        self._offset += n_windows

    def _grid(
        self, kernels: ModuleType | None, x64: np.ndarray, x32: np.ndarray | None, lo: int,
        hi: int,
    ) -> tuple[np.ndarray, Callable[[int], int], int]:  # fmt: skip
        """The grid of rows ``lo..hi`` of ``x64`` (history + block; row ``r`` interpolates the
        window that starts ``lead + r`` samples in, after sample ``lead + half - 1 + r``): per
        row the largest of that sample and its interpolated values, a function telling which of
        them it is (0: the sample, else 1 + the phase; as
        :func:`analyzer.dsp.compiled.truepeak_rows`) and the count of overs. ``x32`` is ``x64``
        after the lead in float32, zero-padded (numpy path only); ``kernels``: the meter's
        compiled kernels or None (:class:`~analyzer.dsp.jit.Choice`)."""
        rows, lead = hi - lo, self._lead
        left = lead + self._half - 1
        if kernels is not None:
            row_max, arg = self._rbuf[:rows], self._abuf[:rows]
            overs = kernels.truepeak_rows(x64, lead + lo, left + lo, self._h, OVER_THRESHOLD,
                                          row_max, arg)  # fmt: skip
            return row_max, lambda r: int(arg[r]), int(overs)
        assert x32 is not None
        samples = np.abs(x64[left + lo : left + hi])
        taps, item = self._taps, x32.itemsize
        groups = -(-rows // GROUP)
        view = np.lib.stride_tricks.as_strided(
            x32[lo:], shape=(groups, taps + GROUP - 1), strides=(GROUP * item, item)
        )
        # Reused buffers: a fresh temporary per chunk costs page faults.
        np.copyto(self._wbuf[:groups], view)
        prod = np.matmul(self._wbuf[:groups], self._g, out=self._ybuf[:groups])
        y = prod.reshape(groups * GROUP, -1)[:rows]
        np.abs(y, out=y)
        interp_max = y[:, 0].copy()
        for k in range(1, y.shape[1]):  # faster than y.max(axis=1) on a short axis
            np.maximum(interp_max, y[:, k], out=interp_max)
        row_max = np.maximum(interp_max, samples)

        def phase_of(r: int) -> int:  # only for the few rows kept as candidates
            col = int(np.argmax(y[r]))
            return 0 if samples[r] >= y[r, col] else col + 1

        return row_max, phase_of, int(np.count_nonzero(interp_max > OVER_THRESHOLD))

    def _record_subblocks(self, first: int, row_max: np.ndarray) -> None:
        """Fold the grid maxima of rows starting at global sample ``first`` into the per-100 ms
        peaks (a row belongs to the 100 ms in which its left sample lies)."""
        if first < 0:  # rows before the first sample (the zero history)
            row_max = row_max[-first:]
            first = 0
        if row_max.size == 0:
            return
        sub = self.subblock
        k0 = first // sub
        k1 = (first + row_max.size - 1) // sub
        starts = np.maximum(np.arange(k0, k1 + 1) * sub - first, 0)
        peaks = np.maximum.reduceat(row_max, starts)
        need = k1 + 1 - len(self._sub_peaks)
        if need > 0:
            self._sub_peaks.extend([0.0] * need)
        for i, v in enumerate(peaks):
            if v > self._sub_peaks[k0 + i]:
                self._sub_peaks[k0 + i] = float(v)

    def window_true_peak(self, width_subblocks: int = 30) -> Series | None:
        """True peak (dBTP) of every window of ``width_subblocks`` x 100 ms, hop 100 ms, aligned
        with the loudness meter's series (value i belongs to the window ending at
        ``width / 10 + i / 10`` s). Needs ``track_windows``; grid values (not refined)."""
        if not self.track_windows:
            return None
        complete = self._frames // self.subblock
        peaks = np.zeros(complete)
        known = np.array(self._sub_peaks[:complete])
        peaks[: known.size] = known
        if complete < width_subblocks:
            return Series(rate_hz=10.0, start_s=width_subblocks / 10.0, values=())
        windows = np.lib.stride_tricks.sliding_window_view(peaks, width_subblocks).max(axis=1)
        with np.errstate(divide="ignore"):
            db = 20.0 * np.log10(windows)
        return Series(rate_hz=10.0, start_s=width_subblocks / 10.0, values=tuple(db.tolist()))

    def peak_time_s(self) -> float | None:
        """Start (s) of the first 100 ms holding the largest grid value, to :data:`PEAK_TIE`
        (``track_windows``; None otherwise or when every value is zero): where the worst
        true-peak overs are."""
        if not self.track_windows or not self._sub_peaks:
            return None
        peaks = np.asarray(self._sub_peaks)
        top = float(peaks.max())
        if top <= 0.0:
            return None
        k = int(np.argmax(peaks >= top * (1.0 - PEAK_TIE)))
        return k * self.subblock / self.sample_rate_hz

    @property
    def intersample_overs(self) -> int:
        """Inter-sample intervals whose interpolated value exceeds 0 dBFS (``track_windows``)."""
        return self._overs

    def _add_candidates(
        self,
        c: int,
        x: np.ndarray,
        phase_of: Callable[[int], int],
        row_max: np.ndarray,
        first: int,
        threshold: float,
    ) -> None:
        """Keep the chunk's largest separate grid maxima (row ``r`` starts at sample
        ``first + r`` of ``x``) for refinement."""
        rows = np.flatnonzero(row_max >= threshold)
        rows = rows[np.argsort(row_max[rows])[::-1]][:64]
        chosen: list[int] = []
        near: set[int] = set()  # rows within 2 of a chosen one: |r - q| <= 2
        for r in rows.tolist():
            if r not in near:
                chosen.append(r)
                near.update(range(r - 2, r + 3))
            if len(chosen) == 8:
                break
        cands = self._candidates[c]
        for r in chosen:
            frac = phase_of(r) / self.factor  # 0: the sample itself is the maximum
            centre = self._offset + first + r  # global index of the sample left of the peak
            value = float(row_max[r])
            old = cands.get(centre)
            if old is not None and old.value >= value:
                continue
            cand = _Candidate(
                value, centre - self._half - 2, centre + self._half + 3, centre + frac
            )
            cand.fill(x, self._offset)
            cands[centre] = cand
        if len(cands) > 64:
            for key in sorted(cands, key=lambda k: cands[k].value)[: len(cands) - 32]:
                del cands[key]

    def _refined(self, c: int, floor: float) -> float:
        """The largest band-limited value near the kept grid maxima: a 33-point search within
        one grid step either side, then three 8x finer searches around the best point."""
        best = floor
        step = 1.0 / self.factor
        for cand in self._candidates[c].values():
            if cand.value < best * self._margin:
                continue
            times = cand.where - cand.start + np.linspace(-step, step, 33)
            width = step / 16
            for _ in range(4):
                vals = np.abs(band_limited_values(cand.samples, times))
                k = int(np.argmax(vals))
                best = max(best, float(vals[k]))
                times = times[k] + np.linspace(-width, width, 9)
                width /= 8
        return best

    def result(self) -> PeakStats:
        # Flush with silence: the interpolated values after the last sample, and the missing
        # neighbours of candidates near the end (band_limited_values counts absent taps as 0).
        tail = np.concatenate([self._history, np.zeros((self.channels, self._taps - 1))], axis=1)
        saved = (
            self._true.copy(),
            self._offset,
            self._candidates,
            self._overs,
            list(self._sub_peaks),
        )
        self._candidates = [{k: copy.copy(v) for k, v in cs.items()} for cs in self._candidates]
        self._scan(tail)
        grid = np.maximum(self._true, self._sample)
        true = [
            self._refined(c, float(grid[c])) if self._sample[c] >= INTERPOLATION_FLOOR
            else float(self._sample[c])
            for c in range(self.channels)
        ]  # fmt: skip
        self._true, self._offset, self._candidates, self._overs, self._sub_peaks = saved
        per_tp = tuple(amplitude_to_db(float(v), floor_db=-math.inf) for v in true)
        per_sp = tuple(amplitude_to_db(float(v), floor_db=-math.inf) for v in self._sample)
        return PeakStats(
            true_peak_dbtp=max(per_tp) if per_tp else -math.inf,
            true_peak_per_channel_dbtp=per_tp,
            sample_peak_dbfs=max(per_sp) if per_sp else -math.inf,
            sample_peak_per_channel_dbfs=per_sp,
            oversampling_factor=self.factor,
        )


def measure_peaks(x: np.ndarray, sample_rate_hz: int, *, prune: bool = True) -> PeakStats:
    """Whole-array true peak and sample peak of ``x`` shaped ``(channels, frames)``."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    meter = TruePeakMeter(sample_rate_hz, x.shape[0], prune=prune)
    meter.feed(x)
    return meter.result()
