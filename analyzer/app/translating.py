"""The ``translate`` use case: how a mix plays on earbuds, phone, laptop, Bluetooth speaker, TV,
car and club, beside references or a genre profile, and what each device would play."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.app.measuring import (
    load_profile,
    measure_with_references,
    platform_preview,
    profile_label,
    step_progress,
)
from analyzer.app.results import Progress, TranslateRun
from analyzer.app.settings import TranslateSettings
from analyzer.errors import UsageError
from analyzer.measure.engine import without_series
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    from analyzer.comparison.profiles import ReferenceProfile
    from analyzer.playback.devices import Device
    from analyzer.playback.render_group import DeviceEffect, RenderedDevice, RenderRequest
    from analyzer.playback.translate import Translation
    from analyzer.types import TrackAnalysis


def choose_devices(settings: TranslateSettings) -> list[Device]:
    """The devices asked for, by name, from the built-in table plus ``device_file``."""
    from analyzer.playback.devices import load_devices

    chosen = list(load_devices(settings.device_file).values())
    if settings.devices is None:
        return chosen
    by_name = {d.name: d for d in chosen}
    unknown = [n for n in settings.devices if n not in by_name]
    if unknown:
        raise UsageError(f"--devices: unknown {', '.join(unknown)} (known: {', '.join(by_name)})")
    return [by_name[n] for n in settings.devices]


def with_profile_scores(translation: Translation, profile: ReferenceProfile) -> Translation:
    """The translation judged against the profile's ranges on each device
    (:func:`analyzer.playback.translate_refs.relative`, ``translation.<device>.<figure>``);
    the reference score is 100 minus the profile's median points of each part but the tonal one
    (the genre's tracks lie inside their own range: their tonal part against it is about 0).
    A profile made before those figures were recorded holds only the scores: then only the
    reference score is set and the findings stay against the mix's own studio playback."""
    from analyzer.playback.translate_refs import figures, relative

    judged, ranked = [], []
    for d in translation.devices:
        prefix = f"translation.{d.name}."
        ranges = {k[len(prefix) :]: v for k, v in profile.metrics.items() if k.startswith(prefix)}
        score = ranges.get("score")
        ref_score = score.median if score else None
        if set(ranges) <= {"score"}:
            judged.append(replace(d, reference_score=ref_score))
            continue
        parts = [k for k in figures(d) if k.startswith("points.") and k != "points.tonal"]
        if all(ranges.get(k) is not None and ranges[k].median is not None for k in parts):
            # Tracks inside their own range: their tonal part against it is about 0.
            ref_score = round(100.0 - sum(ranges[k].median for k in parts), 1)  # type: ignore[misc]
        dt, diffs = relative(d, ranges, ref_score)
        judged.append(dt)
        ranked += diffs
    ranked.sort(key=lambda x: -x.gap_points)
    return replace(translation, devices=tuple(judged), ranked_differences=tuple(
        x.text for x in ranked))  # fmt: skip


@one_blas_thread
def translate(
    mix: str | os.PathLike[str],
    settings: TranslateSettings | None = None,
    *,
    progress: Progress | None = None,
    render_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> TranslateRun:
    """Measure ``mix`` and the references (at the mix's rate), and score the mix on each device
    beside them (or beside a profile's medians). A bad profile, device file or device name is
    refused before any analysis. With ``render_dir`` the pass that measures what each device
    does to the mix also writes what it would play there
    (:mod:`analyzer.playback.render_group`; ``run.renders``)."""
    from analyzer.playback.render_group import RenderRequest

    settings = settings or TranslateSettings()
    mix = os.fspath(mix)
    profile = load_profile(settings.profile)
    devices = choose_devices(settings)
    # The short-term series is always measured: masking and limiting are judged over time.
    notes: list[str] = []
    mix_result, refs = measure_with_references(mix, settings.references, notes=notes,
                                               progress=progress, mix_series=True,
                                               series=True)  # fmt: skip
    notes += playback_notes([mix, *settings.references], [mix_result, *refs])
    request = None
    if render_dir is not None:
        request = RenderRequest(Path(render_dir), settings.render_lufs, settings.render_format,
                                force)  # fmt: skip
    mix_effects, renders = measured_effects(mix, mix_result, devices, settings, progress, request)
    effects = [mix_effects] + [
        measured_effects(p, t, devices, settings, progress)[0]
        for p, t in zip(settings.references, refs, strict=True)
    ]
    run = translation_of(mix_result, refs, settings, devices=devices, profile=profile,
                         notes=notes, effects=effects)  # fmt: skip
    run = replace(run, renders=tuple(renders))
    if settings.series:
        return run
    return replace(run, mix=without_series(run.mix),
                   references=tuple(without_series(r) for r in run.references))  # fmt: skip


def playback_notes(paths: Sequence[str], tracks: Sequence[TrackAnalysis]) -> list[str]:
    """What the devices play of files that are not plain stereo: a mono file on both speakers
    (its loudness there is 3 LU over its own reading), a file of more channels its first two."""
    from analyzer.io import display_path
    from analyzer.measure.loudness import as_played_lufs

    out = []
    for path, track in zip(paths, tracks, strict=True):
        channels, lufs = track.file.channels, track.loudness.integrated_lufs
        if channels == 1 and lufs is not None and math.isfinite(lufs):
            played = as_played_lufs(lufs, channels)
            out.append(f"{display_path(path)}: mono, played on both speakers of every device: "
                       f"{played:.1f} LUFS there ({lufs:.1f} LUFS as one channel)")  # fmt: skip
        elif channels > 2:
            out.append(f"{display_path(path)}: {channels} channels; the devices play the first "
                       "two (no downmix)")  # fmt: skip
    return out


def measured_effects(
    path: str, track: TrackAnalysis, devices: Sequence[Device], settings: TranslateSettings,
    progress: Progress | None = None, render: RenderRequest | None = None,
) -> tuple[dict[str, DeviceEffect], list[RenderedDevice]]:  # fmt: skip
    """What each device does to ``track`` (the analysis of the file at ``path``: its
    ``file.path`` is only the name to show), measured on its render (no road noise, no output
    gain), all devices in one pass that also writes the renders when ``render`` asks: the
    prediction and the render share one code path. The band model alone misses by up to
    0.4 LU and 2.7 dB per band: limiters act on the music's dynamics and steep slopes on the
    spectrum inside a band, which the long-term 1/3-octave spectrum does not hold
    (tests/playback/test_prediction_equals_render.py)."""
    from analyzer.playback.render_group import run_devices

    label = ("rendering " if render else "devices ") + Path(track.file.path).name
    return run_devices(path, devices, integrated_lufs=track.loudness.integrated_lufs,
                       level_db_spl=settings.level_db_spl, speed_kmh=settings.speed_kmh,
                       render=render, progress=step_progress(progress, label),
                       analysis=track)  # fmt: skip


def translation_of(
    mix: TrackAnalysis,
    references: Sequence[TrackAnalysis],
    settings: TranslateSettings,
    *,
    devices: Sequence[Device] | None = None,
    profile: ReferenceProfile | None = None,
    notes: Sequence[str] = (),
    with_proposal: bool = True,
    effects: Sequence[Mapping[str, DeviceEffect]] = (),
) -> TranslateRun:
    """The translation of analyses already made (``devices`` None: every built-in device but
    the studio baseline), with the default proposal when there are references or a profile
    (unless ``with_proposal`` is False: the fit is the costly part, and the demo proposes once).
    ``effects``: the measured device effects of the mix, then of each reference
    (:func:`measured_effects`); without them the band model predicts every device."""
    from analyzer.comparison.metrics import compare as compare_analyses
    from analyzer.mastering.proposal import default_proposal
    from analyzer.playback.translate import translate as translate_analysis

    if devices is None:
        from analyzer.playback.devices import BUILTIN_DEVICES

        devices = [d for d in BUILTIN_DEVICES.values() if d.kind != "reference"]
    kw = dict(level_db_spl=settings.level_db_spl, speed_kmh=settings.speed_kmh)
    fx = list(effects) + [{}] * (1 + len(references) - len(effects))
    tr = translate_analysis(mix, devices, references=references, effects=fx[0],
                            reference_effects=fx[1:], **kw)  # type: ignore[arg-type]  # fmt: skip
    if profile is not None:
        tr = with_profile_scores(tr, profile)
    names = [r.file.path for r in references] + ([profile_label(profile)] if profile else [])
    comparison = proposal = None
    if references or profile is not None:
        comparison = (
            compare_analyses(mix, references) if references
            else compare_analyses(mix, profile_stats=profile.metrics)  # type: ignore[union-attr]
        )  # fmt: skip
        proposal = default_proposal(mix, comparison) if with_proposal else None
    return TranslateRun(
        mix=mix, references=tuple(references), reference_names=tuple(names), devices=tuple(devices),
        translation=tr, reference_translations=tuple(
            translate_analysis(r, devices, effects=e)
            for r, e in zip(references, fx[1:], strict=True)),
        platforms=platform_preview(mix), comparison=comparison, proposal=proposal,
        notes=tuple(notes),
    )  # fmt: skip


def render_targets(
    mix: str | os.PathLike[str], settings: TranslateSettings, out_dir: str | os.PathLike[str]
) -> list[str]:
    """The files ``--render`` would write (checked up front against the inputs)."""
    from analyzer.playback.render import render_paths

    return [os.fspath(p) for p in render_paths(mix, choose_devices(settings), out_dir,
                                                settings.render_format)]  # fmt: skip
