"""``--listen``: the clips and device graphs of the report's player (issue 18), for compare,
translate, master and the demo.

Each track's clip is its loudest 30 s (the window ``compare --section loudest`` compares, found
by :func:`~analyzer.measure.engine.loudest_section_s` from a loudness-only pass); a master's
clip starts where its mix's does, so the two play the same bars.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import SimpleNamespace

from analyzer.playback.device_models import STUDIO, Device
from analyzer.playback.listening import CLIP_S, MAX_REFERENCE_CLIPS, ListenSet, listen_set


def loudest_start_s(path: str | os.PathLike[str], clip_s: float = CLIP_S) -> float | None:
    """Start (s) of the loudest ``clip_s`` (a multiple of 3 s) of ``path`` (``None``: not
    longer), from one streaming pass of the BS.1770 meter alone (its short-term series)."""
    from analyzer.io import open_audio
    from analyzer.measure.engine import loudest_section_s
    from analyzer.measure.loudness import LoudnessMeter

    with open_audio(path) as src:
        info = src.info
        if info.frames <= clip_s * info.sample_rate_hz:
            return None
        meter = LoudnessMeter(info.sample_rate_hz, info.channels, keep_series=True)
        for block in src.blocks():
            meter.feed(block)
    # loudest_section_s reads only the short-term series and the duration of an analysis.
    track = SimpleNamespace(
        loudness=meter.result(), file=SimpleNamespace(duration_s=info.frames / info.sample_rate_hz)
    )
    return loudest_section_s(track, clip_s)  # type: ignore[arg-type]


def with_studio(devices: Sequence[Device]) -> list[Device]:
    """``devices`` with the studio (flat) path first: the player starts there."""
    return [STUDIO, *(d for d in devices if d.name != STUDIO.name)]


def listen_clips(
    mix: str | os.PathLike[str],
    references: Sequence[str | os.PathLike[str]] = (),
    *,
    master: str | os.PathLike[str] | None = None,
    devices: Sequence[Device] | None = None,
    speed_kmh: float = 100.0,
    clip_s: float = CLIP_S,
) -> ListenSet:
    """The player's clips: the mix, up to :data:`MAX_REFERENCE_CLIPS` references (each its own
    loudest section), each at most ``clip_s`` long, and the master (the mix's section); the
    device graphs of ``devices``
    (default: every built-in device), the studio first. Notes say what was left out."""
    from analyzer.io import display_path
    from analyzer.playback.device_models import BUILTIN_DEVICES

    mix_start = loudest_start_s(mix, clip_s)
    items: list[tuple[str, str, float | None]] = [(os.fspath(mix), "mix", mix_start)]
    for ref in references[:MAX_REFERENCE_CLIPS]:
        items.append((os.fspath(ref), "reference", loudest_start_s(ref, clip_s)))
    if master is not None:
        items.append((os.fspath(master), "master", mix_start))
    chosen = with_studio(list(BUILTIN_DEVICES.values()) if devices is None else devices)
    ls = listen_set(items, chosen, speed_kmh=speed_kmh, clip_s=clip_s)
    extra = [f"{display_path(r)}: not in the player (at most {MAX_REFERENCE_CLIPS} references)"
             for r in references[MAX_REFERENCE_CLIPS:]]  # fmt: skip
    return ListenSet(clips=ls.clips, rate_hz=ls.rate_hz, devices=ls.devices,
                     notes=(*ls.notes, *extra))  # fmt: skip


def with_master_clip(
    clips: ListenSet, master: str | os.PathLike[str], *, clip_s: float = CLIP_S
) -> ListenSet:
    """``clips`` (from :func:`listen_clips` without a master) with the master's clip added last,
    over the mix's bars: what :func:`listen_clips` gives with ``master`` (the notes of the
    master's clip after the others'), for a caller that makes the other clips while the master
    is being made (the demo)."""
    mix_start_s = clips.clips[0].start_s if clips.clips else None
    extra = listen_set([(os.fspath(master), "master", mix_start_s)], [], clip_s=clip_s)
    return ListenSet(clips=(*clips.clips, *extra.clips), rate_hz=clips.rate_hz,
                     devices=clips.devices, notes=(*clips.notes, *extra.notes))  # fmt: skip
