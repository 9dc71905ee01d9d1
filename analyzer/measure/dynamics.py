"""Dynamics in the sample domain, streaming: crest factor, the TT "DR" value, DC offset and
clipped runs; and the figures that combine them with the loudness and true-peak meters (PLR, PSR).

Definitions (all levels re full scale, a full-scale sample is 1.0):

* **Crest factor** (dB): ``20 log10(sample peak) - 10 log10(mean square)``, the peak over all
  channels and the mean square over all channels and samples (a sine reads 3.01 dB, a full-scale
  square 0 dB; silence ``None``).
* **DR** (the "TT Dynamic Range" value of the Pleasurize Music Foundation). The algorithm as the
  Foundation published it in "Measuring DR ENv3" (dynamicrange.de, 2009; archived at
  web.archive.org/web/20131206121248/http://www.dynamicrange.de/sites/default/files/
  Measuring%20DR%20ENv3.pdf), eqs. 1-4, per channel ``j``:

  1. split the channel into blocks of 3 s: ``n = 132480`` samples at 44.1 kHz (the figure the
     document gives, 3 x 44160), ``3 * fs`` at every other rate;
  2. per block, ``RMS = sqrt(2 * sum(smp^2) / n)`` (eq. 1; the factor 2 makes a sine's RMS equal
     its peak) and ``Peak = max |smp|`` (eq. 2);
  3. ``DR_j = -20 log10( sqrt(sum_{n=1..N} RMS_n^2 / N) / Pk_2nd )`` (eq. 4), where the sum runs
     over the ``N = 0.2 * blknum`` blocks of largest RMS and ``Pk_2nd`` is the second largest
     block peak;
  4. ``DR = round(mean_j DR_j)``.

  Details the document leaves open follow the open-source implementations that reproduce the
  official meter: ``N = max(1, floor(0.2 * blknum))`` and the second-largest *block* peak (simon-r
  ``dr14_t.meter``, ``dr14tmeter/compute_dr14.py``, whose author reports results identical to the
  official offline meter; dakeryas ``deadbeef-dr-meter``, ``dr_meter/src/dr_meter.c``). **The last,
  partial block** counts as a block of its own when it holds at least one sample, its RMS taken
  over the samples it has (as both do; dr14_t.meter also drops that block's final sample and, when
  the length is an exact multiple of the block, counts an empty block - artefacts not copied here).
  A file of one block uses that block's peak as ``Pk_2nd`` (what dr14_t.meter's indexing gives).
  **Block peaks are not capped at full scale**: a decoded lossy master overshoots 0 dBFS, and
  its block peaks count as they are, as dr14_t.meter (``compute_dr14``) and deadbeef-dr-meter
  read decoded float samples. The document's histogram spans -100 dB to 0 dB, but that top is a
  binning detail of the official meter's integer input; capping it made DR read up to 2 below
  those meters on decoded Ogg Vorbis masters (a deliberate departure from a capped reading). The
  histogram's 0.01 dB quantisation is not applied either (it moves DR_j by at most 0.005 dB).
  ``DR`` rounds half up. A silent channel, or one whose second-largest block peak is 0, has no
  DR_j (``None``) and is left out of the mean (dr14_t.meter counts it as 0). With only a few
  blocks DR can read negative (a loud block and a quiet one: ``Pk_2nd`` is the quiet block's
  peak), as the official meter does on very short tracks (dr14_t.meter issue #13).
* **DC offset**: the mean sample value of each channel.
* **Clipped runs**: runs of at least 3 consecutive samples of one channel whose ``|x|`` lies
  within 0.01 dB of the file's sample peak (over all channels), counted only when that peak is at
  least -0.1 dBFS. Count, and start times of the runs in time order.

Streaming the clipping detector: the file's peak is known only at the end, but it only ever rises,
so the threshold ``max(running peak, 10^(-0.1/20)) * 10^(-0.01/20)`` only rises and a sample
below it now can never qualify later. The meter keeps the runs (of 3 or more, plus the one still
open at the end of the stream) of samples above the running threshold, stored run-length encoded
as ``(start, length, |value|)`` segments of equal magnitude (a hard-clipped run is one segment);
when the running peak rises they are re-cut at the new threshold. Memory is proportional to the
number of distinct near-peak segments, not to the duration; the result keeps the exact count and
the first 10,000 start times.

PLR and PSR: PLR = true peak (dBTP) - integrated loudness (LUFS), the "peak-to-loudness ratio"
of EBU Tech 3343 and AES TD1004. PSR (peak-to-short-term-loudness ratio, the figure of Ian
Shepherd's Dynameter) = the true peak of each 3 s window minus its short-term loudness (EBU Tech
3341), on the short-term series' 10 Hz grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.dsp.units import amplitude_to_db, power_to_db
from analyzer.types import DynamicsStats, Series

DR_BLOCK_S = 3
DR_LOUD_FRACTION = 0.2
CLIP_TOLERANCE_DB = 0.01
CLIP_MIN_PEAK_DBFS = -0.1
CLIP_MIN_RUN = 3
MAX_STORED_POSITIONS = 10_000
REPORTED_POSITIONS = 100
PSR_GATE_LUFS = -70.0

_CLIP_RATIO = 10.0 ** (-CLIP_TOLERANCE_DB / 20.0)
_CLIP_MIN_PEAK = 10.0 ** (CLIP_MIN_PEAK_DBFS / 20.0)
#: No sample below this can be part of a clipped run, whatever the file's final peak.
_CLIP_FLOOR = _CLIP_MIN_PEAK * _CLIP_RATIO


#: A file whose DC offset is at least this share of its sample peak is mostly offset, not music.
DC_SHARE_OF_PEAK = 0.5


#: A DC offset carrying at least this share of the signal's power is worth removing.
DC_POWER_SHARE = 0.01


def dc_power_share(
    dc_offset: Sequence[float], crest_factor_db: float | None, sample_peak_dbfs: float | None
) -> float | None:
    """DC power (the mean over channels of the offset squared) over the signal's mean square,
    recovered from the crest factor (``20 log10(sample peak) - 10 log10(mean square)``) and the
    sample peak; ``None`` when either is undefined. The analysis' ``dc_offset`` finding and the
    master's DC removal both use it with :data:`DC_POWER_SHARE`."""
    if not len(dc_offset) or crest_factor_db is None or sample_peak_dbfs is None:
        return None
    if not (math.isfinite(crest_factor_db) and math.isfinite(sample_peak_dbfs)):
        return None
    mean_square = 10.0 ** ((sample_peak_dbfs - crest_factor_db) / 10.0)
    dc_power = sum(v * v for v in dc_offset) / len(dc_offset)
    return min(dc_power / mean_square, 1.0) if mean_square > 0.0 else None


def mostly_dc(dc_offset: Sequence[float], sample_peak_dbfs: float | None) -> bool:
    """True when the largest per-channel DC offset (mean sample value) is at least
    :data:`DC_SHARE_OF_PEAK` of the sample peak over all channels: the signal is mostly a
    constant offset (a stuck offset, a DC-only test file), so its loudness is only the click of
    its onset and a limiter would spend the ceiling on the offset. The one definition of "mostly
    DC": the analysis warns with it and ``master`` refuses with it. Silence is not mostly DC."""
    if sample_peak_dbfs is None or not math.isfinite(sample_peak_dbfs) or not len(dc_offset):
        return False
    peak = 10.0 ** (sample_peak_dbfs / 20.0)
    return max(abs(v) for v in dc_offset) >= DC_SHARE_OF_PEAK * peak


def dr_block_frames(sample_rate_hz: int) -> int:
    """Length of a DR block in samples: 132480 at 44.1 kHz ("Measuring DR ENv3" eq. 1, also
    dr14_t.meter), 3 s at any other rate."""
    if sample_rate_hz == 44100:
        return DR_BLOCK_S * (44100 + 60)
    return DR_BLOCK_S * int(sample_rate_hz)


@dataclass(frozen=True)
class SampleDynamics:
    """Sample-domain dynamics of a whole file (see the module docstring for the definitions).

    ``dr_per_channel`` holds the unrounded DR_j (dB); ``clipped_run_positions_s`` the start of
    the first ``MAX_STORED_POSITIONS`` clipped runs in time order (``clipped_runs`` is exact).
    """

    sample_rate_hz: int
    channels: int
    frames: int
    sample_peak: float  # linear, over all channels
    mean_square: float  # over all channels and samples (linear)
    crest_factor_db: float | None
    dr: int | None
    dr_per_channel: tuple[float | None, ...]
    dr_blocks: int
    dc_offset: tuple[float, ...]
    clipped_runs: int
    clipped_run_positions_s: tuple[float, ...]


# --- clipped runs: run-length encoded segments (start, length, |value|) ---------------------

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0)


def _run_starts(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Indices of the segments that begin a run (a segment not adjacent to the one before)."""
    if start.size == 0:
        return _EMPTY_I
    new = np.ones(start.size, dtype=bool)
    new[1:] = start[1:] != start[:-1] + length[:-1]
    return np.flatnonzero(new)


class _Segments:
    """Sorted, non-overlapping segments of one channel: ``start`` (global sample index),
    ``length`` and the common ``|value|`` of their samples."""

    __slots__ = ("length", "start", "value")

    def __init__(
        self,
        start: np.ndarray = _EMPTY_I,
        length: np.ndarray = _EMPTY_I,
        value: np.ndarray = _EMPTY_F,
    ) -> None:
        self.start, self.length, self.value = start, length, value

    def __len__(self) -> int:
        return int(self.start.size)

    def take(self, mask: np.ndarray) -> _Segments:
        return _Segments(self.start[mask], self.length[mask], self.value[mask])

    @staticmethod
    def concat(parts: list[_Segments]) -> _Segments:
        parts = [p for p in parts if len(p)]
        if not parts:
            return _Segments()
        if len(parts) == 1:
            return parts[0]
        return _Segments(
            np.concatenate([p.start for p in parts]),
            np.concatenate([p.length for p in parts]),
            np.concatenate([p.value for p in parts]),
        )

    def split(self, stream_end: int) -> tuple[_Segments, _Segments]:
        """``(closed runs of at least CLIP_MIN_RUN samples, the run open at stream_end)``."""
        if not len(self):
            return _Segments(), _Segments()
        first = _run_starts(self.start, self.length)
        run_len = np.add.reduceat(self.length, first)
        run_of = np.repeat(np.arange(first.size), np.diff(np.append(first, len(self))))
        last_end = int(self.start[-1] + self.length[-1])
        open_run = first.size - 1 if last_end == stream_end else -1
        keep_run = run_len >= CLIP_MIN_RUN
        if open_run >= 0:
            keep_run[open_run] = False
        closed = self.take(keep_run[run_of])
        still_open = self.take(run_of == open_run) if open_run >= 0 else _Segments()
        return closed, still_open


def _encode(index: np.ndarray, value: np.ndarray, offset: int) -> _Segments:
    """Run-length encode sorted sample indices with their |values| into segments."""
    if index.size == 0:
        return _Segments()
    brk = np.ones(index.size, dtype=bool)
    brk[1:] = (np.diff(index) != 1) | (value[1:] != value[:-1])
    starts = np.flatnonzero(brk)
    lengths = np.diff(np.append(starts, index.size))
    return _Segments(index[starts] + offset, lengths.astype(np.int64), value[starts])


class _ClipTracker:
    """Candidate clipped runs of every channel against the running threshold."""

    def __init__(self, channels: int) -> None:
        self.channels = channels
        self.peak = 0.0
        self.threshold = _CLIP_FLOOR
        self.closed: list[list[_Segments]] = [[] for _ in range(channels)]
        self.open: list[_Segments] = [_Segments() for _ in range(channels)]

    def feed(self, block: np.ndarray, channel_peaks: np.ndarray, offset: int) -> None:
        """``block`` starts at global sample ``offset``; ``channel_peaks`` is its max |x|."""
        frames = block.shape[1]
        block_peak = float(channel_peaks.max())
        if block_peak > self.peak:
            self.peak = block_peak
            threshold = max(self.peak * _CLIP_RATIO, _CLIP_FLOOR)
            if threshold > self.threshold:
                self.threshold = threshold
                self._recut(offset)
        end = offset + frames
        for c in range(self.channels):
            if channel_peaks[c] >= self.threshold:
                mag = np.abs(block[c])
                index = np.flatnonzero(mag >= self.threshold)
                new = _encode(index, mag[index], offset)
                segs = _Segments.concat([self.open[c], new])
            elif len(self.open[c]):
                segs = self.open[c]
            else:
                continue
            closed, self.open[c] = segs.split(end)
            if len(closed):
                self.closed[c].append(closed)

    def _recut(self, stream_end: int) -> None:
        """Drop the samples below the (raised) threshold and the runs that became too short."""
        for c in range(self.channels):
            old = _Segments.concat([*self.closed[c], self.open[c]])
            kept = old.take(old.value >= self.threshold)
            closed, self.open[c] = kept.split(stream_end)
            self.closed[c] = [closed] if len(closed) else []

    def runs(self) -> tuple[int, np.ndarray]:
        """``(number of runs, sorted start indices of the first MAX_STORED_POSITIONS)`` for the
        file's final peak (the open runs closed at the end of the stream)."""
        if self.peak < _CLIP_MIN_PEAK:
            return 0, _EMPTY_I
        count = 0
        starts: list[np.ndarray] = []
        for c in range(self.channels):
            segs = _Segments.concat([*self.closed[c], self.open[c]])
            if not len(segs):
                continue
            first = _run_starts(segs.start, segs.length)
            run_len = np.add.reduceat(segs.length, first)
            long = first[run_len >= CLIP_MIN_RUN]
            count += long.size
            starts.append(segs.start[long[:MAX_STORED_POSITIONS]])
        if not starts:
            return 0, _EMPTY_I
        return count, np.sort(np.concatenate(starts))[:MAX_STORED_POSITIONS]


# --- the meter ---------------------------------------------------------------------------------


class DynamicsMeter:
    """Streaming sample-domain dynamics: ``feed((channels, frames) float64)``, then ``result()``.

    Per block it takes, for each channel, the sum, the sum of squares and the peak of each piece
    between two DR block boundaries (numpy reductions, no per-sample Python), and scans for clipped
    runs only the channels whose block peak reaches the running clipping threshold.
    """

    #: CPU s per 4-minute stereo 44.1 kHz file (Xeon): for engine.meter_groups.
    relative_cost = 0.035

    def __init__(self, sample_rate_hz: int, channels: int) -> None:
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.block_frames = dr_block_frames(self.sample_rate_hz)
        self.frames = 0
        self._sum = np.zeros(self.channels)
        self._peak = np.zeros(self.channels)
        # The DR block being filled, and the finished ones (one row per block).
        self._fill = 0
        self._block_sq = np.zeros(self.channels)
        self._block_peak = np.zeros(self.channels)
        self._done_sq: list[np.ndarray] = []
        self._done_peak: list[np.ndarray] = []
        self._done_frames: list[int] = []
        self._clip = _ClipTracker(self.channels)

    def feed(self, block: np.ndarray) -> None:
        frames = block.shape[1]
        if frames == 0:
            return
        pos = 0
        block_peak = np.zeros(self.channels)
        while pos < frames:
            take = min(frames - pos, self.block_frames - self._fill)
            piece = block[:, pos : pos + take]
            peak = np.maximum(piece.max(axis=1), -piece.min(axis=1))
            np.maximum(block_peak, peak, out=block_peak)
            np.maximum(self._block_peak, peak, out=self._block_peak)
            # einsum, not BLAS dot: OpenBLAS would spread a 64k-sample dot over every core
            # and spend more CPU time than it saves.
            self._block_sq += np.einsum("ij,ij->i", piece, piece)
            self._sum += piece.sum(axis=1)
            self._fill += take
            pos += take
            if self._fill == self.block_frames:
                self._close_block()
        np.maximum(self._peak, block_peak, out=self._peak)
        self._clip.feed(block, block_peak, self.frames)
        self.frames += frames

    def _close_block(self) -> None:
        self._done_sq.append(self._block_sq.copy())
        self._done_peak.append(self._block_peak.copy())
        self._done_frames.append(self._fill)
        self._block_sq[:] = 0.0
        self._block_peak[:] = 0.0
        self._fill = 0

    def _blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sum of squares and peak of every DR block, ``(blocks, channels)``, and their lengths
        (the partial last block included)."""
        sq, peak, n = list(self._done_sq), list(self._done_peak), list(self._done_frames)
        if self._fill:
            sq.append(self._block_sq.copy())
            peak.append(self._block_peak.copy())
            n.append(self._fill)
        if not n:
            empty = np.zeros((0, self.channels))
            return empty, empty, np.zeros(0)
        return np.array(sq), np.array(peak), np.array(n, dtype=float)

    def result(self) -> SampleDynamics:
        sq, block_peak, n = self._blocks()
        total_sq = sq.sum(axis=0) if n.size else np.zeros(self.channels)
        peak = float(self._peak.max()) if self.channels else 0.0
        mean_square = float(total_sq.sum()) / (self.frames * self.channels) if self.frames else 0.0
        crest = None
        if peak > 0.0 and mean_square > 0.0:
            crest = amplitude_to_db(peak, floor_db=-math.inf) - power_to_db(
                mean_square, floor_db=-math.inf
            )
        dr_ch = _dr_per_channel(sq, block_peak, n)
        known = [v for v in dr_ch if v is not None]
        dr = math.floor(sum(known) / len(known) + 0.5) if known else None
        count, starts = self._clip.runs()
        dc = self._sum / self.frames if self.frames else np.zeros(self.channels)
        return SampleDynamics(
            sample_rate_hz=self.sample_rate_hz,
            channels=self.channels,
            frames=self.frames,
            sample_peak=peak,
            mean_square=mean_square,
            crest_factor_db=crest,
            dr=dr,
            dr_per_channel=dr_ch,
            dr_blocks=int(n.size),
            dc_offset=tuple(float(v) for v in dc),
            clipped_runs=count,
            clipped_run_positions_s=tuple(float(s) / self.sample_rate_hz for s in starts),
        )


def _dr_per_channel(
    sq: np.ndarray, block_peak: np.ndarray, n: np.ndarray
) -> tuple[float | None, ...]:
    """DR_j of every channel ("Measuring DR ENv3" eqs. 1-4) from per-block sums of squares and
    peaks shaped ``(blocks, channels)`` and block lengths ``n``."""
    blocks, channels = sq.shape
    if blocks == 0:
        return (None,) * channels
    rms = np.sqrt(2.0 * sq / n[:, None])  # eq. 1
    # eq. 2, uncapped: a decoded lossy master's block peak above full scale counts as it is, as
    # the meters people compare with (dr14_t.meter, deadbeef-dr-meter on float input) read it.
    peaks = np.sort(block_peak, axis=0)
    second = peaks[-2] if blocks >= 2 else peaks[-1]
    loud = max(1, math.floor(DR_LOUD_FRACTION * blocks))
    top = np.sort(rms, axis=0)[-loud:]
    rms_top = np.sqrt(np.mean(top**2, axis=0))
    out: list[float | None] = []
    for c in range(channels):
        if rms_top[c] > 0.0 and second[c] > 0.0:
            out.append(float(20.0 * math.log10(second[c] / rms_top[c])))  # eq. 4
        else:
            out.append(None)
    return tuple(out)


def measure_sample_dynamics(x: np.ndarray, sample_rate_hz: int) -> SampleDynamics:
    """Whole-array sample dynamics of ``x`` shaped ``(channels, frames)`` (same as the meter)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    meter = DynamicsMeter(sample_rate_hz, x.shape[0])
    meter.feed(x)
    return meter.result()


# --- combined with the loudness and true-peak meters ------------------------------------------


def psr_series(short_term: Series, window_true_peak: Series) -> Series:
    """PSR of every 3 s window: window true peak (dBTP) minus short-term loudness (LUFS).

    Both series are on the same 10 Hz grid (value ``i`` belongs to the window ending at
    ``start_s + i / rate_hz``); windows whose short-term loudness is -inf or below -70 LUFS (the
    BS.1770 absolute gate), or whose peak is undefined, hold NaN (``null`` in JSON).
    """
    if not math.isclose(short_term.rate_hz, window_true_peak.rate_hz):
        raise ValueError("PSR needs the short-term and window true-peak series at the same rate")
    shift = round((window_true_peak.start_s - short_term.start_s) * short_term.rate_hz)
    st = np.array(short_term.values, dtype=float)
    tp = np.full(st.size, np.nan)
    peaks = np.array(window_true_peak.values, dtype=float)
    lo, hi = max(shift, 0), min(st.size, shift + peaks.size)
    if hi > lo:
        tp[lo:hi] = peaks[lo - shift : hi - shift]
    valid = np.isfinite(st) & (st >= PSR_GATE_LUFS) & np.isfinite(tp)
    psr = np.where(valid, tp - np.where(valid, st, 0.0), np.nan)
    return Series(short_term.rate_hz, short_term.start_s, tuple(float(v) for v in psr))


def build_dynamics_stats(
    sample: SampleDynamics,
    *,
    true_peak_dbtp: float | None,
    integrated_lufs: float | None,
    short_term: Series | None,
    window_true_peak: Series | None,
    intersample_overs: int,
) -> DynamicsStats:
    """Combine the sample dynamics with the loudness and true-peak results.

    PLR = ``true_peak_dbtp - integrated_lufs`` (``None`` when either is undefined or -inf). The PSR
    series is :func:`psr_series`; ``psr_max_db`` and ``psr_median_db`` are over its defined
    windows (``None`` when there are none).
    """
    plr = None
    if (
        true_peak_dbtp is not None
        and integrated_lufs is not None
        and math.isfinite(true_peak_dbtp)
        and math.isfinite(integrated_lufs)
    ):
        plr = float(true_peak_dbtp) - float(integrated_lufs)
    psr = None
    psr_max = psr_median = None
    if short_term is not None and window_true_peak is not None:
        psr = psr_series(short_term, window_true_peak)
        values = np.array(psr.values, dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            psr_max = float(values.max())
            psr_median = float(np.median(values))
    return DynamicsStats(
        crest_factor_db=sample.crest_factor_db,
        plr_db=plr,
        psr_max_db=psr_max,
        psr_median_db=psr_median,
        dr=sample.dr,
        dr_per_channel=sample.dr_per_channel,
        dc_offset=sample.dc_offset,
        clipped_runs=sample.clipped_runs,
        clipped_run_positions_s=sample.clipped_run_positions_s[:REPORTED_POSITIONS],
        intersample_overs=int(intersample_overs),
        psr=psr,
    )
