"""Rendering and measuring a group of devices in one pass over the input (issue 15, "Prediction
equals render" and "Safe renders").

One read of the file feeds every device's :class:`~analyzer.playback.render.DeviceRenderer`
block by block. Two uses:

* :func:`device_effects`: what each device itself does to the mix (no road noise, no output
  gain): the BS.1770 integrated loudness of the device's output against the mix's, and the
  output's 1/3-octave band levels (the spectrum meter of the analysis). The translation takes
  its ``loudness_change_lu`` and tonal curve from here for devices with a level-dependent
  limiter, whose effect a long-term spectrum cannot predict, so the prediction and the render
  share one code path.
* with a :class:`RenderRequest`, in the same pass, the files. Each device's output (with road
  noise for the car) goes to a float32 scratch file while its true peak is measured; then a
  gain brings it to the mix's integrated loudness (or ``render_lufs``), lowered where needed
  so that the true peak stays at or below :data:`MAX_TRUE_PEAK_DBTP` (a plain gain: no
  limiter the device does not have), and the scratch is written as 24-bit PCM (WAV or FLAC).
  The render's loudness before the gain is the mix's plus the measured ``loudness_change_lu``
  plus, for the car, the road noise's own loudness (power sum, ungated), so rendered loudness
  = mix + change + gain for every device but the car. Mono devices are written as mono
  files, meant for both speakers (dual mono): their loudness is that of the device's two
  speakers. So is a mono *mix*: "the mix's loudness" is then 3.01 LU over its one-channel
  reading, and a mono mix and its dual-mono copy get the same changes and renders.

Speed (issue 15: all devices in a few times an analysis's time; measured and profiled in
``benchmarks/bench_commands.py --part render``):

* the input's mid and side are transformed once per segment for every device
  (:mod:`analyzer.playback.device_bank`); each device only multiplies by its FIR's spectrum and
  transforms back; its loudness K-weights its output with the recursive filter built at
  install (a quarter of the cost of one more inverse transform per row);
* a mono device is carried as one signal through its limiter and meters (not as two equal
  channels);
* a device that plays the input unchanged (the studio) is not rendered when the input's own
  analysis is given: its effect is none, its spectrum and true peak are the analysis's, and its
  file is the input with the gain;
* the devices of a block, and then the files, run on one thread per core (numpy's transforms
  and libsndfile release the GIL).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from analyzer.dsp.kweighting import KWeightingFilter, kweighting_response
from analyzer.dsp.units import db_to_amplitude
from analyzer.io import AtomicWavWriter, ScratchAudio, display_path, open_audio
from analyzer.io.pcm24 import Pcm24WavWriter
from analyzer.measure.loudness import LoudnessMeter, as_played_lufs
from analyzer.measure.spectrum import SpectrumMeter
from analyzer.measure.truepeak import TruePeakMeter
from analyzer.playback.device_bank import BankFilter, Segments, SharedInput
from analyzer.playback.device_models import Device
from analyzer.playback.render import DeviceRenderer
from analyzer.types import AudioInfo, TrackAnalysis

#: The highest true peak a render may reach (dBTP): EBU R128's distribution maximum.
MAX_TRUE_PEAK_DBTP = -1.0
#: The range ``render_lufs`` may take (LUFS).
RENDER_LUFS_RANGE = (-60.0, 0.0)
#: Input block of the pass (frames): every device holds a few blocks' worth of temporaries,
#: so this sets the pass's memory (65536: ≈ 1 MB per stereo float64 block).
BLOCK_FRAMES = 65536
#: Containers of the rendered files (24-bit PCM in both).
RENDER_FORMATS = {"wav": "WAV", "flac": "FLAC"}

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class DeviceEffect:
    """What ``name`` itself does to the mix: ``loudness_change_lu`` (integrated loudness of the
    device's output minus the mix's; None without a finite loudness) and ``third_octave_db``
    (the output's per-channel 1/3-octave band levels, as the analysis's spectrum)."""

    name: str
    loudness_change_lu: float | None
    third_octave_db: tuple[float | None, ...]


@dataclass(frozen=True)
class RenderedDevice:
    """One rendered file: its path, channels, the gain applied (dB), the file's integrated
    loudness after it (LUFS, as played: dual mono for a mono file; from the prediction, see
    the module docstring) and its true peak after it (dBTP, measured)."""

    name: str
    path: Path
    channels: int
    gain_db: float
    loudness_lufs: float | None
    true_peak_dbtp: float | None


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def mono_file(device: Device, renderer: DeviceRenderer) -> bool:
    """A device whose two speakers play the same signal is written as a mono file."""
    return renderer.mono and renderer.noise is None and not device.balance_db and (
        renderer.right_delay is None)  # fmt: skip


@dataclass(frozen=True)
class RenderRequest:
    """Where and how to write the renders (``render_lufs`` None: the mix's loudness)."""

    out_dir: Path
    render_lufs: float | None = None
    render_format: str = "wav"
    force: bool = False


def noise_loudness_lufs(renderer: DeviceRenderer) -> float | None:
    """BS.1770 loudness (LUFS, both channels, ungated) of the renderer's road noise: unit white
    noise through the noise FIR, K-weighted (Parseval on the FIR's spectrum); None without."""
    if renderer.noise is None or renderer.noise.taps is None:
        return None
    h = renderer.noise.taps[0]
    nfft = 2 * h.size
    f = np.fft.rfftfreq(nfft, 1.0 / renderer.sample_rate_hz)
    p = np.abs(np.fft.rfft(h, nfft) * kweighting_response(renderer.sample_rate_hz, f)) ** 2
    ms = (2.0 * p.sum() - p[0] - p[-1]) / nfft  # both halves of the full spectrum
    return -0.691 + 10.0 * math.log10(2.0 * ms)


def output_gain_db(
    loudness_lufs: float | None, true_peak_dbtp: float | None, target_lufs: float | None
) -> float:
    """The gain that brings a render at ``loudness_lufs`` to ``target_lufs``, lowered so that
    its true peak stays at or below :data:`MAX_TRUE_PEAK_DBTP` (0 dB without a loudness)."""
    gain = 0.0
    if loudness_lufs is not None and target_lufs is not None:
        gain = target_lufs - loudness_lufs
    if true_peak_dbtp is not None:
        gain = min(gain, MAX_TRUE_PEAK_DBTP - true_peak_dbtp)
    return gain


class _Lane:
    """One device in the pass: its renderer, the meters of its own effect and, when rendering,
    its scratch file and true-peak meter. Its FIR runs on the pass's shared input spectra
    (:mod:`analyzer.playback.device_bank`); its loudness meter K-weights what the device plays
    (the output, before any road noise) with the recursive filter of the analysis."""

    def __init__(
        self, renderer: DeviceRenderer, fs: int, out: Path | None, device: Device,
        analysis: TrackAnalysis | None = None,
    ) -> None:  # fmt: skip
        self.renderer = renderer
        #: The input's own analysis when this device plays the input unchanged: no pass needed.
        self.source = analysis if analysis is not None and _plays_input(renderer) else None
        renderer.split_noise = True
        self.rows = renderer.out_rows
        assert renderer.fir.taps is not None
        self.filter = BankFilter(renderer.fir.taps)
        self.loud = LoudnessMeter(fs, 2)
        # The recursive K-weighting (built at install: ~0.05 s of CPU a 4-minute stereo output)
        # costs a quarter of the one more inverse transform per row that K(h * x) = (K h) * x
        # on the shared spectra took (measured: the ten devices' pass 9.5 -> 8.0 s of CPU).
        self.kweight = KWeightingFilter(fs, self.rows)
        self.spec = SpectrumMeter(fs, self.rows)
        self.width = self.rows
        self.scratch = None
        if out is not None and self.source is None:
            self.scratch = ScratchAudio(self.width, out)
        # BS.1770's grid, as the analysis: cheaper than a 2x one (3 dB of candidates to refine).
        self.peaks = TruePeakMeter(fs, self.width) if out is not None else None

    def effect(self, name: str, mix: float | None) -> DeviceEffect:
        """What the device did to the mix (its loudness change against ``mix``)."""
        if self.source is not None:  # the input itself: no change, the input's spectrum
            spectrum = self.source.spectrum
            assert spectrum is not None
            return DeviceEffect(name, None if mix is None else 0.0, spectrum.third_octave_db)
        got = _finite(self.loud.result().integrated_lufs)
        change = got - mix if got is not None and mix is not None else None
        return DeviceEffect(name, change, tuple(self.spec.result().third_octave_db))

    def true_peak(self) -> float | None:
        """The true peak of what is written before its gain (dBTP)."""
        if self.source is not None:
            return _finite(self.source.peaks.true_peak_dbtp)
        return _finite(self.peaks.result().true_peak_dbtp) if self.peaks else None

    def blocks(self, src: Path) -> Iterator[np.ndarray]:
        """What is written, before its gain, as ``(frames, channels)`` blocks."""
        if self.source is None:
            assert self.scratch is not None
            yield from self.scratch.frames_blocks()
            return
        with open_audio(src) as a:
            for block in a.blocks(BLOCK_FRAMES):
                yield np.asarray(block, dtype=np.float64)[: self.width].T

    @property
    def cost(self) -> float:
        """Rough relative cost of a block: transforms back per row, the limiter's band split,
        the road noise, and the meters per output row."""
        r = self.renderer
        rows = self.filter.taps.shape[0]
        extra = 0.0 if r.limiter is None else 3.0 * len(r.limiter.limiters)
        return rows + extra + (2.0 if r.noise is not None else 0.0) + 2.0 * self.rows

    def step(self, seg: Segments, rows: np.ndarray, flushing: bool = False) -> None:
        """Render, measure and keep the block whose shared spectra are ``seg`` (``rows``: its
        mid/side input rows; with ``flushing``, the ring-out after the last block)."""
        filtered = self.filter.apply(seg, rows)
        r = self.renderer
        if flushing:
            y = r.flush_filtered(filtered[: 1 if r.mono else 2, : self.filter.overlap])
        else:
            y = r.render_filtered(filtered[: 1 if r.mono else 2])
        if y.shape[1]:
            self._loudness_of(y)
            self.feed(y)

    def _loudness_of(self, y: np.ndarray) -> None:
        """The loudness meter fed with the K-weighted output."""
        if self.rows == 2:
            self.loud.feed_energies(*self.kweight.stereo_energies(y))
            return
        yk = self.kweight.process(y)[0]
        z = 2.0 * yk * yk  # the same signal on both speakers: y^2 + y^2, and ((y + y)^2) / 2
        self.loud.feed_energies(z, z)

    def feed(self, y: np.ndarray) -> None:
        self.spec.feed(y)
        noise = self.renderer.take_noise()
        if self.scratch is None or self.peaks is None:
            return
        heard = y if noise is None else y + noise
        self.peaks.feed(heard)
        self.scratch.write(heard)


def _targets(src: Path, devices: Sequence[Device], req: RenderRequest) -> list[Path]:
    from analyzer.errors import OutputError
    from analyzer.playback.render import render_paths

    targets = render_paths(src, devices, req.out_dir, req.render_format)
    if not req.force:
        for t in targets:
            if t.exists():
                raise OutputError(f"{display_path(t)}: exists (use --force to overwrite)",
                                  slug="exists")  # fmt: skip
    try:
        req.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{display_path(req.out_dir)}: cannot write: {exc.strerror}",
                          slug="unwritable") from None  # fmt: skip
    return targets


def run_devices(
    path: str | os.PathLike[str],
    devices: Sequence[Device],
    *,
    integrated_lufs: float | None,
    level_db_spl: float | None = None,
    speed_kmh: float = 100.0,
    render: RenderRequest | None = None,
    progress: ProgressCallback | None = None,
    analysis: TrackAnalysis | None = None,
) -> tuple[dict[str, DeviceEffect], list[RenderedDevice]]:
    """One pass of ``path`` (integrated loudness ``integrated_lufs`` as measured; a mono file
    as played, module docstring) through every device:
    each device's own effect (no road noise, no gain) and, with ``render``, the files
    ``out_dir/<stem>.<device>.<wav|flac>`` (module docstring). Existing files are refused
    unless ``render.force`` (OutputError, exit code 4), before anything is rendered.
    ``analysis``: the file's own whole analysis at its own rate, if made; a device that plays
    the input unchanged (the studio) then takes its effect and true peak from it instead of
    measuring the same samples again, and its file is written from the input."""
    src = Path(path)
    targets = _targets(src, devices, render) if render is not None else []
    with open_audio(src) as a:
        info = a.info
    fs, frames = info.sample_rate_hz, info.frames
    out = render.out_dir if render is not None else None
    if not devices:
        return {}, []
    own = analysis if analysis is not None and _same_file(analysis, info) else None
    integrated_lufs = as_played_lufs(integrated_lufs, info.channels)
    lanes = [_Lane(DeviceRenderer(d, fs, info.channels, integrated_lufs=integrated_lufs,
                                  level_db_spl=level_db_spl, speed_kmh=speed_kmh,
                                  noise=render is not None), fs, out, d, own)
             for d in devices]  # fmt: skip
    try:
        with ThreadPoolExecutor(max_workers=_workers(len(lanes))) as pool:
            _pass(src, [lane for lane in lanes if lane.source is None], pool, progress,
                  frames * (2 if render is not None else 1))  # fmt: skip
            mix = _finite(integrated_lufs)
            effects = {
                d.name: lane.effect(d.name, mix) for d, lane in zip(devices, lanes, strict=True)
            }
            written = []
            if render is not None:
                written = _write(devices, lanes, targets, effects, mix, render, (src, fs),
                                 (pool, progress), frames)  # fmt: skip
    finally:
        for lane in lanes:
            if lane.scratch is not None:
                lane.scratch.close()
    return effects, written


def _same_file(analysis: TrackAnalysis, info: AudioInfo) -> bool:
    """The analysis measured this file whole, at its own rate, with at most two channels."""
    a = analysis.file
    return (a.sample_rate_hz, a.frames, a.channels) == (info.sample_rate_hz, info.frames,
            info.channels) and info.channels <= 2 and analysis.spectrum is not None  # fmt: skip


def _plays_input(r: DeviceRenderer) -> bool:
    """The renderer's output is its input's first two channels (or its one channel), to float
    rounding: a unit FIR and nothing else in the chain."""
    taps = r.fir.taps
    return bool(
        taps is not None and taps.shape[1] == 1 and np.all(taps == 1.0) and r.limiter is None
        and r.noise is None and not r.device.balance_db and r.right_delay is None
        and r.side_gain == 1.0 and (r.channels == 1 or not r.mono)
    )  # fmt: skip


def _workers(lanes: int) -> int:
    """Threads for the devices: one per core (numpy's transforms and libsndfile release the
    GIL; the BLAS is kept to one thread by :mod:`analyzer.runtime`), at most one per device."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(lanes, cores or 1))


def _pass(
    src: Path, lanes: Sequence[_Lane], pool: ThreadPoolExecutor,
    progress: ProgressCallback | None, total: int,
) -> None:  # fmt: skip
    """One read of ``src``: each block's mid/side spectra once, then every device on them (in
    parallel), then the ring-out."""
    if not lanes:
        return
    shared = SharedInput([lane.filter for lane in lanes])
    # Costliest first: the two workers take the next device as they finish one, so the
    # slowest devices do not end up together at the end of a block.
    lanes = sorted(lanes, key=lambda lane: -lane.cost)
    done = 0
    running: list = []
    with open_audio(src) as a:
        for block in a.blocks(BLOCK_FRAMES):
            # The next block is read and transformed while the devices work on this one.
            x = np.asarray(block, dtype=np.float64)
            rows = _mid_side(x)
            seg = shared.process(rows)
            for job in running:
                job.result()
            running = [pool.submit(lane.step, seg, rows) for lane in lanes]
            done += x.shape[1]
            if progress:
                progress(done, total)
        for job in running:
            job.result()
    seg = shared.flush()
    zeros = np.zeros((2, seg.frames))
    list(pool.map(_Lane.step, lanes, repeat(seg), repeat(zeros), repeat(True)))


def _mid_side(x: np.ndarray) -> np.ndarray:
    """``(L + R) / 2`` and ``(L - R) / 2`` of a block (a mono input feeds both sides), as
    :meth:`~analyzer.playback.render.DeviceRenderer.fir_input`."""
    left = x[0]
    right = x[1] if x.shape[0] > 1 else x[0]
    return np.stack([0.5 * (left + right), 0.5 * (left - right)])


def _write(
    devices: Sequence[Device], lanes: Sequence[_Lane], targets: Sequence[Path],
    effects: dict[str, DeviceEffect], mix: float | None, req: RenderRequest,
    src_fs: tuple[Path, int], pool_progress: tuple[ThreadPoolExecutor, ProgressCallback | None],
    frames: int,
) -> list[RenderedDevice]:  # fmt: skip
    """Gain each scratch to its target and write it as 24-bit PCM (the files in parallel)."""
    (pool, progress), (src, fs) = pool_progress, src_fs
    target = _finite(mix if req.render_lufs is None else req.render_lufs)

    def one(job: tuple[Device, _Lane, Path]) -> RenderedDevice:
        d, lane, t = job
        change = effects[d.name].loudness_change_lu
        got = None
        if mix is not None and change is not None:
            got = mix + change
            noise = noise_loudness_lufs(lane.renderer)
            if noise is not None:
                got = 10.0 * math.log10(10.0 ** (got / 10.0) + 10.0 ** (noise / 10.0))
        tp = lane.true_peak()
        gain = output_gain_db(got, tp, target)
        g = db_to_amplitude(gain)
        container = RENDER_FORMATS[req.render_format]  # WAV by numpy, FLAC by libsndfile
        with Pcm24WavWriter(t, fs, lane.width, force=req.force) if container == "WAV" else (
                AtomicWavWriter(t, fs, lane.width, subtype="PCM_24", container=container,
                                force=req.force)) as w:  # fmt: skip
            for block in lane.blocks(src):
                if cancel.is_set():
                    raise _Cancelled  # the writer deletes its temporary
                w.write_gained(block, g)  # the clip is a no-op but for float rounding
            if cancel.is_set():
                raise _Cancelled
        return RenderedDevice(d.name, t, lane.width, gain, None if got is None else got + gain,
                              None if tp is None else tp + gain)  # fmt: skip

    cancel = threading.Event()
    futures = [pool.submit(one, job) for job in zip(devices, lanes, targets, strict=True)]
    written = []
    try:
        for i, future in enumerate(futures):
            written.append(future.result())
            if progress:
                progress(frames + frames * (i + 1) // len(devices), 2 * frames)
    except BaseException:  # a signal (Interrupted) or a failed device: the renders are one output
        cancel.set()
        for future in futures:
            future.cancel()
        wait(futures)
        for future in futures:  # what finished before the writers saw the cancel
            if not future.cancelled() and future.exception() is None:
                with contextlib.suppress(OSError):
                    os.unlink(future.result().path)
        raise
    return written


class _Cancelled(Exception):
    """A render stopped because another one failed or the command was interrupted."""


def device_effects(
    path: str | os.PathLike[str], devices: Sequence[Device], *, integrated_lufs: float | None,
    level_db_spl: float | None = None, progress: ProgressCallback | None = None,
) -> dict[str, DeviceEffect]:  # fmt: skip
    """Each device's own effect on the file at ``path`` (:func:`run_devices` without files)."""
    if not devices:
        return {}
    return run_devices(path, devices, integrated_lufs=integrated_lufs,
                       level_db_spl=level_db_spl, progress=progress)[0]  # fmt: skip


__all__ = [
    "MAX_TRUE_PEAK_DBTP",
    "RENDER_FORMATS",
    "RENDER_LUFS_RANGE",
    "DeviceEffect",
    "RenderRequest",
    "RenderedDevice",
    "device_effects",
    "noise_loudness_lufs",
    "output_gain_db",
    "run_devices",
]
