"""The ``batch`` use case: many files measured in parallel through the result cache, each
optionally compared with references or a profile, and an album's consistency checked."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from analyzer.app.measuring import load_profile, profile_label
from analyzer.app.results import BatchRun
from analyzer.app.settings import BatchSettings
from analyzer.errors import AudioLoadError, ReferencesFailedError
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    from analyzer.batching.runner import BatchProgress, BatchResult


@one_blas_thread
def batch(
    paths: Sequence[str | os.PathLike[str]],
    settings: BatchSettings | None = None,
    *,
    progress: BatchProgress | None = None,
    on_measured: Callable[[BatchResult], None] | None = None,
) -> BatchRun:
    """Measure the audio files in ``paths`` (files, and folders searched recursively) on
    ``jobs`` processes or a Dask cluster; a bad file becomes an error of the result and the
    others go on. ``progress(done, total, name, error)`` reports each file as it finishes;
    ``on_measured`` sees the measured files before the references are measured.

    Then, unless interrupted: compare each file with the references' ranges or the profile's,
    check the album, and preview the platforms. Raises :class:`AudioLoadError` when ``paths``
    hold no audio file, and :class:`ReferencesFailedError` when a reference fails.
    """
    from analyzer.batching.runner import compare_each, reference_stats, run_batch
    from analyzer.io import display_path
    from analyzer.playback.platforms import preview
    from analyzer.playback.user_targets import load_targets

    settings = settings or BatchSettings()
    profile = load_profile(settings.profile)  # a bad profile is refused before any analysis
    runner = dict(jobs=settings.jobs, scheduler=settings.scheduler, use_cache=settings.use_cache)
    result = run_batch(paths, keep_series=settings.series, progress=progress, **runner)  # type: ignore[arg-type]
    if result.interrupted:
        return BatchRun(result, None, None, None, ())
    if not result.files and not result.errors:
        shown = ", ".join(display_path(p) for p in paths)
        raise AudioLoadError(f"{shown}: no audio files found", slug="missing")
    if on_measured is not None:
        on_measured(result)
    comparisons = names = None
    if profile is not None:
        names = [profile_label(profile)]
        comparisons = compare_each(result.files, profile.metrics, names)
    elif settings.references:
        refs = run_batch(settings.references, **runner)  # type: ignore[arg-type]
        if refs.errors:
            raise ReferencesFailedError(
                refs.errors[-1].message, earlier=tuple(e.message for e in refs.errors[:-1])
            )
        names = [r.file.path for r in refs.files]
        comparisons = compare_each(result.files, reference_stats(refs.files), names)
    album = None
    if settings.album:
        from analyzer.comparison.album import album_report

        album = album_report(result.files, spread_lu=settings.album_spread_lu,
                             ceiling_dbtp=settings.ceiling_dbtp)  # fmt: skip
    table = load_targets(None)
    platforms = tuple(
        tuple(preview(r.loudness.integrated_lufs, r.peaks.true_peak_dbtp, table))
        for r in result.files
    )
    return BatchRun(
        result=result, comparisons=tuple(comparisons) if comparisons is not None else None,
        reference_names=tuple(names) if names is not None else None, album=album,
        platforms=platforms,
    )  # fmt: skip
