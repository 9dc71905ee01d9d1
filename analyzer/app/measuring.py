"""The measuring steps the use cases share, each defined once: a file analysed whole or by its
loudest section, a reference measured at the mix's rate, several files on both cores, the
platform preview, a profile loaded, and an output refused before any work."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.app.results import Progress

if TYPE_CHECKING:
    from analyzer.comparison.profiles import ReferenceProfile
    from analyzer.playback.platforms import PlatformPreview
    from analyzer.types import TrackAnalysis

#: ``compare --section loudest`` compares this much of each track (chorus against chorus).
LOUDEST_SECTION_S = 30.0


def step_progress(progress: Progress | None, label: str) -> Callable[[int, int], None] | None:
    """A ``(done, total)`` callback that reports to ``progress`` under ``label``."""
    if progress is None:
        return None
    return lambda done, total: progress(label, done, total)


def refuse_existing_output(path: str | os.PathLike[str] | None, force: bool) -> None:
    """Refuse an existing output without ``force`` before any work (exit 4), and one that is
    not a regular file even with it; ``None`` and ``-`` (standard output) pass."""
    if not path:
        return
    from analyzer.io.write import check_output

    check_output(path, force)


def load_profile(profile: str | None) -> ReferenceProfile | None:
    """The genre profile named or found at ``profile`` (None: none), refused before any
    analysis when it is missing or malformed."""
    if not profile:
        return None
    from analyzer.comparison.profiles import load_profile as load

    return load(profile)


def profile_label(profile: ReferenceProfile) -> str:
    """How a profile is named among the references of a comparison."""
    return f"profile {profile.name} ({profile.n_tracks} tracks)"


def platform_preview(
    track: TrackAnalysis, targets: str | os.PathLike[str] | None = None
) -> tuple[PlatformPreview, ...]:
    """What each streaming platform's normalisation does to ``track`` (targets: the built-in
    table plus a JSON/TOML file; None: the user's file if present)."""
    from analyzer.playback.platforms import preview
    from analyzer.playback.user_targets import load_targets

    table = load_targets(targets)
    return tuple(preview(track.loudness.integrated_lufs, track.peaks.true_peak_dbtp, table))


def analyze_path(
    path: str,
    *,
    series: bool = False,
    progress: Progress | None = None,
    section_s: tuple[float, float] | None = None,
    resample_to_hz: int | None = None,
) -> TrackAnalysis:
    """One streaming analysis of ``path``, reported to ``progress`` under the file's name."""
    from analyzer.measure.engine import analyze_file

    report = step_progress(progress, Path(path).name)
    return analyze_file(path, keep_series=series, section_s=section_s,
                        resample_to_hz=resample_to_hz, progress=report)  # fmt: skip


def measure_track(
    path: str,
    *,
    section: str = "whole",
    rate_hz: int | None = None,
    notes: list[str],
    series: bool = False,
    progress: Progress | None = None,
) -> TrackAnalysis:
    """Analyse a track for a comparison: optionally at another rate (soxr), optionally only its
    loudest :data:`LOUDEST_SECTION_S` (found from the whole track's short-term loudness, then
    measured again on its own); what was done is added to ``notes``."""
    from analyzer.io import display_path
    from analyzer.measure.engine import loudest_section_s

    whole = analyze_path(path, series=series or section == "loudest", progress=progress,
                         resample_to_hz=rate_hz)  # fmt: skip
    if section != "loudest":
        return whole
    name = display_path(path)
    start = loudest_section_s(whole, LOUDEST_SECTION_S)
    if start is None:
        notes.append(f"{name}: not longer than {LOUDEST_SECTION_S:.0f} s, compared whole")
        return whole
    notes.append(f"{name}: loudest {LOUDEST_SECTION_S:.0f} s from {start:.1f} s")
    return analyze_path(path, series=series, progress=progress,
                        section_s=(start, LOUDEST_SECTION_S), resample_to_hz=rate_hz)  # fmt: skip


def rate_for_reference(path: str, mix_rate_hz: int, notes: list[str]) -> int | None:
    """The rate to measure a reference at so that it compares with the mix: None when it has
    the mix's rate already, else the mix's rate (soxr VHQ; never done otherwise), with a note.
    Opening the file here validates it and names it in any error."""
    from analyzer.io import display_path, open_audio

    with open_audio(path) as src:
        rate = src.info.sample_rate_hz
    if rate == mix_rate_hz:
        return None
    notes.append(f"{display_path(path)}: resampled {rate} -> {mix_rate_hz} Hz (soxr VHQ)")
    return mix_rate_hz


def measure_references(
    paths: Sequence[str],
    mix_rate_hz: int,
    *,
    notes: list[str],
    section: str = "whole",
    progress: Progress | None = None,
    series: bool = False,
) -> list[TrackAnalysis]:
    """Each reference measured at the mix's rate (see :func:`rate_for_reference`), one after
    the other, whole or by its loudest section (with its 10 Hz series when ``series``)."""
    measured = []
    for path in paths:
        rate = rate_for_reference(path, mix_rate_hz, notes)
        measured.append(measure_track(path, section=section, rate_hz=rate, notes=notes,
                                      progress=progress, series=series))  # fmt: skip
    return measured


def analyze_in_parallel(
    jobs: Sequence[tuple[str, int | None]], *, progress: Progress | None = None
) -> list[TrackAnalysis]:
    """Analyse ``(path, resample_to_hz or None)`` jobs with their series on both cores (one
    thread each; every meter inside runs threaded too), each reported as ``analysing NAME``."""
    from analyzer.measure.engine import analyze_file

    def run(job: tuple[str, int | None]) -> TrackAnalysis:
        path, rate = job
        report = step_progress(progress, f"analysing {Path(path).name}")
        return analyze_file(path, keep_series=True, resample_to_hz=rate, progress=report)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, jobs))
