"""The single streaming pass: read a file once in blocks, feed every meter, report progress.

Meters are independent, so they run in threads (one per core, each feeding its share of the
meters) while the main thread decodes (numpy's FFT and matrix products, the built kernels and
libsndfile release the GIL): both cores of a laptop work, and memory stays flat whatever the
duration.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from analyzer.io import DEFAULT_BLOCK_FRAMES, open_audio
from analyzer.measure.dynamics import DynamicsMeter, build_dynamics_stats, mostly_dc
from analyzer.measure.loudness import LoudnessMeter
from analyzer.measure.spectrum import SpectrumMeter
from analyzer.measure.stereo import StereoMeter
from analyzer.measure.truepeak import TruePeakMeter
from analyzer.runtime import one_blas_thread
from analyzer.types import AudioInfo, LoudnessStats, PeakStats, Series, StereoStats, TrackAnalysis

QUEUE_BLOCKS = 4

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(frames_done, frames_total)`` after every block."""


class Meter(Protocol):
    def feed(self, block: np.ndarray) -> None: ...

    def result(self) -> object: ...


def run_meters(
    blocks: Iterable[np.ndarray],
    meters: Sequence[Meter],
    *,
    threads: int | None = None,
    on_block: Callable[[np.ndarray], None] | None = None,
) -> None:
    """Feed every block of ``blocks`` to every meter, in order.

    With more than one core, the meters run in one thread per core (at most), each thread
    feeding its share of the meters (:func:`meter_groups`), and take blocks from a short queue,
    so a slow block in one thread does not stall the others or the decoder (no barrier per
    block); at most ``QUEUE_BLOCKS`` blocks are in flight, so memory stays flat.
    """
    workers = threads if threads is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(meters) <= 1:
        for block in blocks:
            for m in meters:
                m.feed(block)
            if on_block:
                on_block(block)
        return
    meters = meter_groups(meters, workers)

    stop = object()
    queues: list[queue.Queue] = [queue.Queue(maxsize=QUEUE_BLOCKS) for _ in meters]
    failures: list[BaseException] = []

    def work(m: Meter, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is stop:
                return
            if failures:
                continue  # drain after a failure elsewhere
            try:
                m.feed(item)
            except BaseException as exc:
                failures.append(exc)

    pool = [
        threading.Thread(target=work, args=(m, q), name=f"meter-{i}", daemon=True)
        for i, (m, q) in enumerate(zip(meters, queues, strict=True))
    ]
    for t in pool:
        t.start()
    try:
        for block in blocks:
            if failures:
                break
            for q in queues:
                q.put(block)
            if on_block:
                on_block(block)
    finally:
        for q in queues:
            q.put(stop)
        for t in pool:
            t.join()
    if failures:
        raise failures[0]


class _Group:
    """Several meters fed in turn by one thread."""

    def __init__(self, meters: Sequence[Meter]) -> None:
        self.meters = list(meters)

    def feed(self, block: np.ndarray) -> None:
        for m in self.meters:
            m.feed(block)

    def result(self) -> object:  # pragma: no cover - the meters are read, not the group
        return None


def meter_groups(meters: Sequence[Meter], threads: int) -> list[Meter]:
    """``meters`` shared out among at most ``threads`` threads, the costliest first to the
    least loaded (longest processing time first, R. L. Graham, "Bounds on multiprocessing
    timing anomalies", SIAM J. Appl. Math. 17(2), 1969), by each meter's ``relative_cost``
    (1 if it has none). One thread per meter put six threads on two cores in ``analyze`` and
    ``master`` (the decoder's and five meters'), whose hand-overs of the interpreter cost time:
    with one per core, ``analyze`` of a 4-minute file took 0.59 s instead of 0.68 and the master
    of two different 4-minute tracks 2.84 s instead of 3.09 (means of 6 alternated runs on this
    project's 2-core machine), with less CPU time (0.86 against 0.96 s; 4.36 against 4.62)."""
    if threads >= len(meters):
        return list(meters)
    loads = [0.0] * max(threads, 1)
    groups: list[list[Meter]] = [[] for _ in loads]
    order = sorted(
        range(len(meters)), key=lambda i: -float(getattr(meters[i], "relative_cost", 1.0))
    )
    for i in order:
        k = loads.index(min(loads))
        groups[k].append(meters[i])
        loads[k] += float(getattr(meters[i], "relative_cost", 1.0))
    return [g[0] if len(g) == 1 else _Group(g) for g in groups if g]


def _warnings(
    info: AudioInfo,
    loudness: LoudnessStats,
    peaks: PeakStats,
    dc_offset: Sequence[float] = (),
    mean_square: float = 0.0,
) -> tuple[str, ...]:
    out = []
    if peaks.sample_peak_dbfs == -np.inf:
        out.append(f"{info.path}: silent: every sample is zero; loudness and peaks are null")
    elif info.duration_s < 0.4:
        out.append(
            f"{info.path}: shorter than 400 ms ({info.duration_s * 1000:.0f} ms): "
            "integrated loudness is undefined"
        )
    elif loudness.integrated_lufs == -np.inf:
        out.append(f"{info.path}: silent: no 400 ms block above -70 LUFS")
    elif info.duration_s < 3.0:
        out.append(
            f"{info.path}: shorter than 3 s ({info.duration_s:.2f} s): "
            "short-term loudness and loudness range are undefined"
        )
    if mostly_dc(dc_offset, peaks.sample_peak_dbfs):
        dc_power = float(np.mean(np.square(dc_offset)))
        share = min(dc_power / mean_square, 1.0) if mean_square > 0.0 else 1.0
        worst = max(range(len(dc_offset)), key=lambda i: abs(dc_offset[i]))
        out.append(
            f"{info.path}: DC offset {dc_offset[worst]:+.3f} on channel {worst + 1} carries "
            f"{100 * share:.0f} % of the power: the loudness is only "
            "the click of its onset; remove it with a high-pass filter"
        )
    return tuple(out)


class TrackMeters:
    """Every meter of a track analysis, built from the file's format, fed in one pass, and
    combined into a :class:`TrackAnalysis` (the cross-meter figures: PLR, PSR, mono loss)."""

    def __init__(
        self, sample_rate_hz: int, channels: int, *, layout: Sequence[str] | None = None
    ) -> None:
        self.loudness = LoudnessMeter(sample_rate_hz, channels, layout=layout, keep_series=True)
        self.peaks = TruePeakMeter(sample_rate_hz, channels, track_windows=True)
        self.spectrum = SpectrumMeter(sample_rate_hz, channels)
        self.stereo = StereoMeter(sample_rate_hz, channels)
        self.dynamics = DynamicsMeter(sample_rate_hz, channels)

    @property
    def all(self) -> list[Meter]:
        return [self.loudness, self.peaks, self.spectrum, self.stereo, self.dynamics]

    def result(self, info: AudioInfo, *, keep_series: bool = False) -> TrackAnalysis:
        loudness, peaks = self.loudness.result(), self.peaks.result()
        width, mono_bands = self.spectrum.stereo_bands()
        mono_loss = _mono_loss(loudness)
        stereo = self.stereo.result(
            width_per_band_db=width, mono_loss_per_band_lu=mono_bands, mono_loss_lu=mono_loss
        )
        # Only the gated BS.1770 figure is reported (null when undefined: shorter than 400 ms,
        # silent, or not a stereo file), never the meter's ungated fallback.
        stereo = replace(stereo, mono_loss_lu=mono_loss)
        loudness, peaks, stereo = _with_locations(loudness, peaks, stereo, self.peaks)
        raw = self.dynamics.result()
        dynamics = build_dynamics_stats(
            raw,
            true_peak_dbtp=peaks.true_peak_dbtp,
            integrated_lufs=loudness.integrated_lufs,
            short_term=loudness.short_term,
            window_true_peak=self.peaks.window_true_peak(),
            intersample_overs=self.peaks.intersample_overs,
        )
        track = TrackAnalysis(
            file=info,
            loudness=loudness,
            peaks=peaks,
            spectrum=self.spectrum.result(),
            stereo=stereo,
            dynamics=dynamics,
            warnings=_warnings(info, loudness, peaks, dynamics.dc_offset, raw.mean_square),
        )
        return track if keep_series else without_series(track)


def _series_at_s(series: Series | None, width_s: float, *, lowest: bool = False) -> float | None:
    """Start (s) of the window of the largest (``lowest``: smallest) defined value of a series
    whose value ``i`` belongs to the ``width_s`` window ending at ``start_s + i / rate_hz``."""
    if series is None or not series.values:
        return None
    v = np.array(series.values, dtype=float)
    v[~np.isfinite(v)] = np.nan
    if np.all(np.isnan(v)):
        return None
    i = int(np.nanargmin(v) if lowest else np.nanargmax(v))
    return max(0.0, series.start_s + i / series.rate_hz - width_s)


def _with_locations(
    loudness: LoudnessStats, peaks: PeakStats, stereo: StereoStats, meter: TruePeakMeter
) -> tuple[LoudnessStats, PeakStats, StereoStats]:
    """Where the findings happen: the loudest short-term window, the largest true peak, the
    lowest block correlation (from the series the meters keep anyway: 10 values a second)."""
    loudness = replace(loudness, short_term_max_at_s=_series_at_s(loudness.short_term, 3.0))
    peaks = replace(peaks, true_peak_at_s=meter.peak_time_s())
    at = _series_at_s(stereo.correlation_series, 0.4, lowest=True)
    return loudness, peaks, replace(stereo, correlation_min_at_s=at)


def _mono_loss(loudness: LoudnessStats) -> float | None:
    """Loudness of the mono fold-down minus the stereo loudness (LU); -inf when the channels
    cancel, None when undefined (mono, silent or too short)."""
    fold, stereo = loudness.fold_down_integrated_lufs, loudness.integrated_lufs
    if fold is None or stereo is None or not np.isfinite(stereo):
        return None
    return fold - stereo


@one_blas_thread
def analyze_file(
    path: str | os.PathLike[str],
    *,
    keep_series: bool = False,
    layout: Sequence[str] | None = None,
    block_frames: int = DEFAULT_BLOCK_FRAMES,
    progress: ProgressCallback | None = None,
    threads: int | None = None,
    section_s: tuple[float, float] | None = None,
    resample_to_hz: int | None = None,
) -> TrackAnalysis:
    """Measure one file in a single streaming pass.

    ``section_s = (start, duration)`` measures that section only; ``resample_to_hz`` converts
    the audio with soxr first (for comparisons across sample rates; never done otherwise).
    """
    with open_audio(path) as src:
        info = src.info
        rate = resample_to_hz or info.sample_rate_hz
        span: dict[str, int | None] = {}
        total = info.frames
        if section_s is not None:
            start = max(0, round(section_s[0] * info.sample_rate_hz))
            stop = min(info.frames, start + round(section_s[1] * info.sample_rate_hz))
            span = {"start_frame": start, "stop_frame": stop}
            total = stop - start
        if rate != info.sample_rate_hz:
            blocks = src.resampled_blocks(rate, block_frames, **span)
            total = round(total * rate / info.sample_rate_hz)
        else:
            blocks = src.blocks(block_frames, **span)  # type: ignore[arg-type]
        meters = TrackMeters(rate, info.channels, layout=layout)
        done = 0

        def on_block(block: np.ndarray) -> None:
            nonlocal done
            done += block.shape[1]
            if progress:
                progress(done, total)

        run_meters(blocks, meters.all, threads=threads, on_block=on_block)
    info = replace(info, frames=done, sample_rate_hz=rate)
    return meters.result(info, keep_series=keep_series)


def loudest_section_s(track: TrackAnalysis, duration_s: float = 30.0) -> float | None:
    """Start (s) of the ``duration_s`` window with the highest mean short-term power, from a
    whole-track analysis made with ``keep_series``; ``None`` when the track is not longer."""
    st = track.loudness.short_term
    if st is None or track.file.duration_s <= duration_s or not st.values:
        return None
    power = 10.0 ** ((np.array(st.values, dtype=float) + 0.691) / 10.0)
    power[~np.isfinite(power)] = 0.0
    # Non-overlapping 3 s windows tile the 30 s span: window i + 30k for k = 0..9.
    step = round(3.0 * st.rate_hz)
    count = round(duration_s / 3.0)
    span = step * (count - 1)
    if power.size <= span:
        return None
    idx = np.arange(power.size - span)
    mean = np.mean([power[idx + k * step] for k in range(count)], axis=0)
    best = int(np.argmax(mean))
    return max(0.0, st.start_s + best / st.rate_hz - 3.0)


def without_series(track: TrackAnalysis) -> TrackAnalysis:
    """``track`` without its 10 Hz series (what an analysis made without them holds)."""
    lo, dy, st = track.loudness, track.dynamics, track.stereo
    return replace(
        track,
        loudness=replace(lo, momentary=None, short_term=None, momentary_hold=None,
                         short_term_hold=None),
        dynamics=None if dy is None else replace(dy, psr=None),
        stereo=None if st is None else replace(st, correlation_series=None),
    )  # fmt: skip


@one_blas_thread
def analyze_array(
    x: np.ndarray,
    sample_rate_hz: int,
    *,
    path: str = "<array>",
    keep_series: bool = False,
    layout: Sequence[str] | None = None,
) -> TrackAnalysis:
    """Measure a ``(channels, frames)`` array (the whole-array twin of :func:`analyze_file`)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    meters = TrackMeters(sample_rate_hz, x.shape[0], layout=layout)
    for m in meters.all:
        m.feed(x)
    info = AudioInfo(path, int(sample_rate_hz), x.shape[0], x.shape[1], "array", "FLOAT64")
    return meters.result(info, keep_series=keep_series)
