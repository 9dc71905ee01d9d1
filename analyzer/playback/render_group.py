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
* :func:`render_devices`: the files. Each device's output (with road noise for the car) goes
  to a float32 scratch file while its true peak is measured; then a gain brings it to the
  mix's integrated loudness (or ``render_lufs``), lowered where needed so that the true peak
  stays at or below :data:`MAX_TRUE_PEAK_DBTP` (a plain gain: no limiter the device does not
  have), and the scratch is written as 24-bit PCM (WAV or FLAC). The render's loudness before
  the gain is the mix's plus the translation's ``loudness_change_lu`` (which equals the
  render's within 0.1 LU, tests/playback/test_prediction_equals_render.py), plus, for the car,
  the road noise's own loudness (power sum): no loudness meter runs on the renders. Mono
  devices are written as mono files, meant for both speakers (dual mono): their loudness is
  that of the device's two speakers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyzer.dsp.kweighting import kweighting_response
from analyzer.dsp.units import db_to_amplitude
from analyzer.io import AtomicWavWriter, ScratchAudio, display_path, open_audio
from analyzer.measure.loudness import LoudnessMeter
from analyzer.measure.spectrum import SpectrumMeter
from analyzer.measure.truepeak import TruePeakMeter
from analyzer.playback.device_models import Device
from analyzer.playback.render import DeviceRenderer

#: The highest true peak a render may reach (dBTP): EBU R128's distribution maximum.
MAX_TRUE_PEAK_DBTP = -1.0
#: The range ``render_lufs`` may take (LUFS).
RENDER_LUFS_RANGE = (-60.0, 0.0)
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


def _one_pass(
    path: str | os.PathLike[str],
    renderers: Sequence[DeviceRenderer],
    sinks: Sequence[Callable[[np.ndarray], None]],
    progress: ProgressCallback | None,
    total: int,
) -> None:
    """Feed every renderer from one read of ``path``; each output block (and the tails) goes
    to the renderer's sink."""
    done = 0
    with open_audio(path) as src:
        for block in src.blocks():
            for r, sink in zip(renderers, sinks, strict=True):
                y = r.process(block)
                if y.shape[1]:
                    sink(y)
            done += block.shape[1]
            if progress:
                progress(done, total)
    for r, sink in zip(renderers, sinks, strict=True):
        sink(r.flush())


def device_effects(
    path: str | os.PathLike[str],
    devices: Sequence[Device],
    *,
    integrated_lufs: float | None,
    level_db_spl: float | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, DeviceEffect]:
    """Each device's own effect on the file at ``path`` (integrated loudness ``integrated_lufs``),
    measured on its render without road noise and without output gain."""
    if not devices:
        return {}
    with open_audio(path) as src:
        fs, ch, frames = src.info.sample_rate_hz, src.info.channels, src.info.frames
    renderers = [
        DeviceRenderer(d, fs, ch, integrated_lufs=integrated_lufs, level_db_spl=level_db_spl,
                       noise=False)
        for d in devices
    ]  # fmt: skip
    loud = [LoudnessMeter(fs, 2) for _ in devices]
    spec = [SpectrumMeter(fs, 2) for _ in devices]

    def sink(i: int) -> Callable[[np.ndarray], None]:
        def feed(y: np.ndarray) -> None:
            loud[i].feed(y)
            spec[i].feed(y)

        return feed

    _one_pass(path, renderers, [sink(i) for i in range(len(devices))], progress, frames)
    out = {}
    for d, lm, sm in zip(devices, loud, spec, strict=True):
        got = _finite(lm.result().integrated_lufs)
        change = got - integrated_lufs if got is not None and _finite(integrated_lufs) else None
        out[d.name] = DeviceEffect(d.name, change, tuple(sm.result().third_octave_db))
    return out


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


def _render_loudness(
    mix_lufs: float | None, change_lu: float | None, noise_lufs: float | None
) -> float | None:
    if mix_lufs is None or change_lu is None:
        return None
    music = mix_lufs + change_lu
    if noise_lufs is None:
        return music
    return 10.0 * math.log10(10.0 ** (music / 10.0) + 10.0 ** (noise_lufs / 10.0))


def render_devices(
    path: str | os.PathLike[str],
    devices: Sequence[Device],
    out_dir: str | os.PathLike[str],
    *,
    integrated_lufs: float | None,
    loudness_change_lu: Mapping[str, float | None],
    level_db_spl: float | None = None,
    speed_kmh: float = 100.0,
    render_lufs: float | None = None,
    render_format: str = "wav",
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> list[RenderedDevice]:
    """Render ``path`` through every device in one pass into
    ``out_dir/<stem>.<device>.<wav|flac>`` (24-bit PCM), each at the mix's integrated loudness
    ``integrated_lufs`` (or ``render_lufs``) unless its true peak would pass −1 dBTP (module
    docstring); ``loudness_change_lu``: each device's predicted change, by name. Existing
    outputs are refused unless ``force`` (OutputError, exit code 4), checked for every device
    before anything is rendered."""
    from analyzer.errors import OutputError

    container = RENDER_FORMATS[render_format]
    src_path, out = Path(path), Path(out_dir)
    targets = [out / f"{src_path.stem}.{d.name}.{render_format}" for d in devices]
    if not force:
        for t in targets:
            if t.exists():
                raise OutputError(f"{display_path(t)}: exists (use --force to overwrite)",
                                  slug="exists")  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{display_path(out)}: cannot write: {exc.strerror}",
                          slug="unwritable") from None  # fmt: skip
    with open_audio(src_path) as src:
        fs, ch, frames = src.info.sample_rate_hz, src.info.channels, src.info.frames
    renderers = [DeviceRenderer(d, fs, ch, integrated_lufs=integrated_lufs,
                                level_db_spl=level_db_spl, speed_kmh=speed_kmh)
                 for d in devices]  # fmt: skip
    widths = [1 if mono_file(d, r) else 2 for d, r in zip(devices, renderers, strict=True)]
    scratch = [ScratchAudio(w, out) for w in widths]
    peaks = [TruePeakMeter(fs, w) for w in widths]
    total = 2 * max(frames, 1)

    def sink(i: int) -> Callable[[np.ndarray], None]:
        def feed(y: np.ndarray) -> None:
            kept = y[:1] if widths[i] == 1 else y
            peaks[i].feed(kept)
            scratch[i].write(kept)

        return feed

    target = _finite(integrated_lufs if render_lufs is None else render_lufs)
    try:
        _one_pass(src_path, renderers, [sink(i) for i in range(len(devices))], progress, total)
        written = []
        for i, (d, r, t) in enumerate(zip(devices, renderers, targets, strict=True)):
            got = _render_loudness(_finite(integrated_lufs), loudness_change_lu.get(d.name),
                                   noise_loudness_lufs(r))  # fmt: skip
            tp = _finite(peaks[i].result().true_peak_dbtp)
            gain = output_gain_db(got, tp, target)
            g = db_to_amplitude(gain)
            with AtomicWavWriter(t, fs, widths[i], subtype="PCM_24", container=container,
                                 force=force) as w:  # fmt: skip
                for block in scratch[i].blocks():
                    w.write(np.clip(block * g, -1.0, 1.0))  # a no-op but for float rounding
            if progress:
                progress(frames + frames * (i + 1) // len(devices), total)
            written.append(RenderedDevice(
                d.name, t, widths[i], gain, None if got is None else got + gain,
                None if tp is None else tp + gain))  # fmt: skip
    finally:
        for s in scratch:
            s.close()
    return written


__all__ = [
    "MAX_TRUE_PEAK_DBTP",
    "RENDER_FORMATS",
    "RENDER_LUFS_RANGE",
    "DeviceEffect",
    "RenderedDevice",
    "device_effects",
    "noise_loudness_lufs",
    "output_gain_db",
    "render_devices",
]
