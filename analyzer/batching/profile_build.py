"""Building a genre profile: analyse reference tracks in a process pool and reduce them to a
:class:`~analyzer.comparison.profiles.ReferenceProfile` (per metric, the median and 10th/90th
percentiles over the tracks, :func:`analyzer.measure.stats.metric_ranges`), with the per-device
translation scores of :func:`analyzer.playback.translate.translate` among the metrics.

Loading, saving and validating profiles is :mod:`analyzer.comparison.profiles`; building them
is here because it needs the analysis, the playback simulation and worker processes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from typing import Any

from analyzer.batching.executors import usable_cores
from analyzer.comparison.profiles import (
    PROFILE_SCHEMA_VERSION,
    ReferenceProfile,
    TrackProvenance,
    check_profile_name,
)
from analyzer.errors import AudioLoadError, ProfileError
from analyzer.io import display_path
from analyzer.io.files import AudioFile, find_audio_files, sha256_file
from analyzer.measure.stats import metric_ranges
from analyzer.types import TrackAnalysis
from analyzer.version import __version__

ProfileProgress = Callable[[int, int, str], None]
"""Called as ``progress(files_done, files_total, file_name)`` after each file is analysed."""


def profile_metrics(analysis: TrackAnalysis) -> dict[str, float | None]:
    """What a profile records of one track: :func:`analyzer.comparison.track_metrics` plus the
    per-device translation figures (``translation.<device>.<figure>``: the score, its parts'
    points and the figures of :func:`analyzer.playback.translate_refs.figures`), so that
    ``translate --profile`` judges a mix against the genre's range on every playback system."""
    from analyzer.comparison.metrics import track_metrics
    from analyzer.playback.translate import translate
    from analyzer.playback.translate_refs import figures

    metrics = track_metrics(analysis)
    for device in translate(analysis).devices:
        for key, value in figures(device).items():
            metrics[f"translation.{device.name}.{key}"] = value
    return metrics


def analyze_profile_track(path: str, threads: int | None) -> dict[str, Any]:
    """Worker: the metric vector, duration, rate and content hash of one file (plain data only,
    so that little crosses the process boundary)."""
    from analyzer.measure.engine import analyze_file

    # With the short-term series: masking and limiting are judged per 3 s window.
    analysis = analyze_file(path, threads=threads, keep_series=True)
    return {
        "metrics": profile_metrics(analysis),
        "duration_s": float(analysis.file.duration_s),
        "sample_rate_hz": int(analysis.file.sample_rate_hz),
        "sha256": sha256_file(path),
        "warnings": list(analysis.warnings),
    }


def _preflight(path: str) -> None:
    """Open the file's header so that a missing, unsupported or truncated file is reported
    before any work starts, in the order the files were given."""
    from analyzer.io import open_audio

    with open_audio(path):
        pass


def profile_files(paths: Sequence[str | os.PathLike[str]], name: str) -> list[AudioFile]:
    """The audio files to build profile ``name`` from (:func:`analyzer.io.files.find_audio_files`;
    provenance names relative to the folder given). A path that is missing or unreadable
    raises its :class:`AudioLoadError` (exit 3); no audio at all raises :class:`ProfileError`."""
    found = find_audio_files(paths)
    if found.missing:
        first = found.missing[0]
        slug = "missing" if first.reason is None else "unreadable"
        raise AudioLoadError(first.message, slug=slug)
    if not found.files:
        shown = ", ".join(display_path(p) for p in paths) or "(no paths given)"
        raise ProfileError(f"{shown}: no audio files found to build profile {name!r}")
    return list(found.files)


def build_profile(
    paths: Sequence[str | os.PathLike[str]],
    *,
    name: str,
    jobs: int | None = None,
    progress: ProfileProgress | None = None,
    description: str = "",
) -> ReferenceProfile:
    """Analyse the audio files in ``paths`` (files and folders, searched recursively) and
    reduce them to a profile: per metric, the median and 10th/90th percentiles over the tracks.

    Files are analysed in parallel by ``jobs`` processes (default ``os.cpu_count()``; with one
    job, in this process). Each worker returns only the metric vector, duration, sample rate and
    SHA-256 of its file. Each worker analyses with one meter thread when several jobs run, so
    the cores are not oversubscribed; the figures are the same either way.

    Bad files stop the build: a profile that silently left out a track would misdescribe the
    set. Every file's header is checked first, in the order given, so a missing, unsupported or
    truncated file raises its :class:`AnalyzerError` (naming the file, exit code 3) before any
    analysis; a file that fails while decoding cancels the remaining work and raises its own
    error. A bad ``name`` or no audio files raise :class:`ProfileError`.
    """
    from analyzer.measure import ANALYSIS_SETTINGS_VERSION

    check_profile_name(name)
    files = profile_files(paths, name)
    for f in files:
        _preflight(f.path)
    cores = usable_cores()  # never more processes than cores: they would only compete
    n_jobs = max(1, min(int(jobs or cores), cores, len(files)))
    results: list[dict[str, Any] | None] = [None] * len(files)
    if n_jobs == 1:
        for i, f in enumerate(files):
            results[i] = analyze_profile_track(f.path, None)
            if progress:
                progress(i + 1, len(files), f.name)
    else:
        _run_pool(files, n_jobs, results, progress)
    done = [r for r in results if r is not None]
    provenance = tuple(
        TrackProvenance(
            file=f.name,
            sha256=r["sha256"],
            duration_s=r["duration_s"],
            sample_rate_hz=r["sample_rate_hz"],
        )
        for f, r in zip(files, done, strict=True)
    )
    return ReferenceProfile(
        name=name,
        schema_version=PROFILE_SCHEMA_VERSION,
        analysis_settings_version=ANALYSIS_SETTINGS_VERSION,
        tool_version=__version__,
        n_tracks=len(done),
        metrics=metric_ranges(r["metrics"] for r in done),
        provenance=provenance,
        created_utc=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        description=description,
        warnings=tuple(w for r in done for w in r["warnings"]),
    )


def _run_pool(
    files: list[AudioFile],
    n_jobs: int,
    results: list[dict[str, Any] | None],
    progress: ProfileProgress | None,
) -> None:
    """Analyse ``files`` with ``n_jobs`` worker processes, filling ``results`` in input order;
    the first failure cancels what has not started and is raised."""
    import multiprocessing

    from analyzer.batching.workers import worker_setup

    # "spawn": a fresh interpreter per worker, safe whatever threads the caller has running
    # (forking a multi-threaded process can deadlock and is deprecated from Python 3.12). The
    # workers are our own processes, so they get the CLI's allocator and BLAS tuning, leave
    # Ctrl-C to this process and die with it.
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=worker_setup,
                               initargs=(os.getpid(),))  # fmt: skip
    try:
        futures: dict[Future[dict[str, Any]], int] = {
            pool.submit(analyze_profile_track, f.path, 1): i for i, f in enumerate(files)
        }
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            results[i] = fut.result()  # re-raises the worker's AnalyzerError
            if progress:
                progress(done, len(files), files[i].name)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
