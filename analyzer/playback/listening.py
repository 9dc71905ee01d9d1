"""The report's player (issue 18, "Listening in the HTML report"): the clips it plays and the
Web Audio graph of every playback device, as plain data the HTML report embeds.

**Clips.** The loudest 30 s of each track (the window :func:`~analyzer.measure.engine.
loudest_section_s` finds for ``compare --section loudest``; a shorter track whole), encoded once
as Ogg Opus at 48 kHz (:func:`~analyzer.io.encode_opus`; other rates converted with soxr), then
decoded back and measured with the project's BS.1770-4 meter: the player's loudness match uses
the loudness of the *decoded* clip, the audio the browser plays. Mono clips are measured as one
channel (BS.1770-4 eq. 2 with one G = 1), the rule the meters use; the browser plays them on
both speakers.

**Device graphs.** Taken from the renderer itself (:class:`~analyzer.playback.render.
DeviceRenderer`, built at the clip rate with the playback mapping's offset at 0 dB, so every
level figure is in dB SPL and the page shifts it by its own mapping): the device's minimum-phase
FIR for the mid and the side (``ConvolverNode``, ``normalize = false``), the channel handling
(mono fold, side width), balance and the right channel's delay, the limiter's linear-phase band
splits and its per-band settings (run in the page by an ``AudioWorklet`` that is a port of the
renderer's limiter), and the road-noise FIR (fed by seeded Gaussian noise in the page). What the
page does differently from the renderer is said per device in ``approximation``.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analyzer.playback.device_models import Device

#: The clip length: the loudest 30 s, as ``compare --section loudest`` compares.
CLIP_S = 30.0
#: At most this many references get a clip (mix + four references = five clips).
MAX_REFERENCE_CLIPS = 4


@dataclass(frozen=True)
class ListenClip:
    """One embedded clip: ``name`` (display), ``role`` ("mix", "reference", "master"), where it
    starts in the file and how long it is, the file's own rate, the Ogg Opus bytes (48 kHz) and
    the integrated loudness of the decoded clip as the page plays it (a mono clip on both
    speakers: :func:`~analyzer.measure.loudness.as_played_lufs`; ``None`` when silent)."""

    name: str
    role: str
    start_s: float
    duration_s: float
    source_rate_hz: int
    channels: int
    opus: bytes
    integrated_lufs: float | None


@dataclass(frozen=True)
class ListenSet:
    """What the player needs: the clips, the device graphs at ``rate_hz`` and the notes the
    page shows (resampling, sections, the matching rule)."""

    clips: tuple[ListenClip, ...]
    rate_hz: int
    devices: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]

    def matched_gains_db(self) -> list[float]:
        """The loudness-matched gains: every clip brought to the quietest clip's integrated
        loudness (so no gain is above 0 dB); a silent clip gets 0 dB."""
        levels = [c.integrated_lufs for c in self.clips if c.integrated_lufs is not None]
        target = min(levels) if levels else 0.0
        return [0.0 if c.integrated_lufs is None else target - c.integrated_lufs
                for c in self.clips]  # fmt: skip


def f32_base64(x: np.ndarray) -> str:
    """Little-endian float32 samples as base64 (decoded in the page into a Float32Array)."""
    return base64.b64encode(np.asarray(x, dtype="<f4").tobytes()).decode("ascii")


def _own_side(taps: np.ndarray) -> bool:
    return taps.shape[0] > 1 and not np.array_equal(taps[0], taps[1])


def _approximation(device: Device, latency_ms: float) -> str:
    parts = []
    if device.filters:
        parts.append("linear response: the renderer's minimum-phase FIR in a ConvolverNode "
                     "(exact to float32 rounding)")  # fmt: skip
    else:
        parts.append("flat: the clips as they are")
    if device.channels_mode == "mono":
        parts.append("folded to mono (L+R)/2 by a channel matrix")
    elif device.channels_mode == "narrow":
        parts.append(f"side scaled by {device.width:g} by a channel matrix")
    if device.mono_below_hz is not None:
        parts.append(f"low end mono below {device.mono_below_hz:g} Hz (side high-pass FIR)")
    if device.level is not None:
        parts.append(
            "level-dependent limiter: the renderer's algorithm (power envelope per 1 ms, "
            "attack/release, ratio) ported to an AudioWorklet, bands split by the same "
            f"linear-phase FIRs; it delays the sound by {latency_ms:.0f} ms, every clip alike"
        )
    if device.balance_db or device.right_delay_ms:
        parts.append(f"left {device.balance_db:+g} dB, right {device.right_delay_ms:g} ms later "
                     "(gains and a DelayNode)")  # fmt: skip
    if device.noise == "car_road":
        parts.append("road noise: seeded Gaussian noise looped every 4 s (the renderer's is "
                     "endless) through the same road-noise FIR, at the level the playback "
                     "mapping implies")  # fmt: skip
    return "; ".join(parts)


def device_graph(device: Device, rate_hz: int, *, speed_kmh: float = 100.0) -> dict[str, Any]:
    """The Web Audio graph of ``device`` at ``rate_hz`` as JSON-ready data (FIRs as base64
    float32). Level figures (limiter thresholds, noise FIR) are for a playback offset of 0 dB:
    the page adds ``integrated_lufs - level_db_spl`` of what it plays (``SPL = dBFS -
    integrated_LUFS + level``, the renderer's mapping)."""
    from analyzer.playback.render import DeviceRenderer

    level = device.nominal_level_db_spl
    r = DeviceRenderer(device, rate_hz, 2, integrated_lufs=level, speed_kmh=speed_kmh)
    taps = r.fir.taps
    assert taps is not None
    graph: dict[str, Any] = {
        "name": device.name,
        "label": device.label,
        "level_db_spl": level,
        "mono": bool(r.mono),
        "side_gain": float(r.side_gain),
        "ir_mid": f32_base64(taps[0]) if device.filters else None,
        # A side FIR of its own only where it differs (club: the low end folded to mono).
        "ir_side": f32_base64(taps[1]) if _own_side(taps) else None,
        "gain_left": float(r.channel_gain[0, 0]),
        "gain_right": float(r.channel_gain[1, 0]),
        "right_delay_frames": int(r.right_delay.buf.size) if r.right_delay is not None else 0,
        "limiter": None,
        "noise_ir": None,
        "linear": device.level is None and device.noise is None,
    }
    if r.limiter is not None:
        lim = r.limiter
        split = lim.split.taps if lim.split is not None else None
        graph["limiter"] = {
            "bands": [] if split is None else [f32_base64(split[lim.rows * k])
                                               for k in range(len(lim.limiters))],
            "latency_frames": int(lim.delay),
            "thresholds_db": [None if math.isinf(b.threshold_db) else float(b.threshold_db)
                              for b in lim.limiters],
            "slope": float(lim.limiters[0].slope),
            "chunk": int(lim.limiters[0].chunk),
            "a_att": float(lim.limiters[0].a_att),
            "a_rel": float(lim.limiters[0].a_rel),
        }  # fmt: skip
    if r.noise is not None and r.noise.taps is not None:
        graph["noise_ir"] = f32_base64(r.noise.taps[0])
    latency_ms = 1e3 * (r.limiter.delay if r.limiter else 0) / rate_hz
    graph["approximation"] = _approximation(device, latency_ms)
    return graph


def _clip(
    path: str, role: str, start_s: float | None, clip_s: float
) -> tuple[ListenClip, str | None]:
    from analyzer.io import decode_opus, display_path, encode_opus, open_audio
    from analyzer.measure.loudness import as_played_lufs, measure_loudness

    with open_audio(path) as src:
        rate, channels, frames = src.info.sample_rate_hz, src.info.channels, src.info.frames
        start = 0 if start_s is None else max(0, round(start_s * rate))
        stop = min(frames, start + round(clip_s * rate))
        x = np.concatenate(list(src.blocks(start_frame=start, stop_frame=stop)), axis=1)
    x = x[:2]  # the player is stereo: channels beyond the second are not played
    opus = encode_opus(x, rate)
    decoded, out_rate = decode_opus(opus)
    # The page plays a mono clip on both speakers: its level is that of dual mono.
    lufs = as_played_lufs(measure_loudness(decoded, out_rate).integrated_lufs, decoded.shape[0])
    name = display_path(path)
    clip = ListenClip(name=name, role=role, start_s=start / rate, duration_s=x.shape[1] / rate,
                      source_rate_hz=rate, channels=min(channels, 2), opus=opus,
                      integrated_lufs=lufs if math.isfinite(lufs) else None)  # fmt: skip
    note = None if rate == out_rate else f"{name}: resampled {rate} -> {out_rate} Hz (soxr VHQ)"
    return clip, note


def listen_set(
    items: Sequence[tuple[str, str, float | None]],
    devices: Sequence[Device],
    *,
    speed_kmh: float = 100.0,
    clip_s: float = CLIP_S,
) -> ListenSet:
    """Clips of ``items`` (path, role, start in s or ``None`` for the beginning), each at most
    ``clip_s`` long, and the graphs of ``devices`` at the Opus rate."""
    from concurrent.futures import ThreadPoolExecutor

    from analyzer.io import OPUS_RATE_HZ

    # The Opus encoder is the costly step (about half real time); libsndfile runs without the
    # GIL (cffi releases it), so the clips are encoded on every core.
    with ThreadPoolExecutor(max_workers=max(1, min(len(items), os.cpu_count() or 1))) as pool:
        done = list(pool.map(lambda item: _clip(*item, clip_s), items))
    clips = [clip for clip, _ in done]
    notes = [note for _, note in done if note]
    graphs = tuple(device_graph(d, OPUS_RATE_HZ, speed_kmh=speed_kmh) for d in devices)
    return ListenSet(clips=tuple(clips), rate_hz=OPUS_RATE_HZ, devices=graphs, notes=tuple(notes))
