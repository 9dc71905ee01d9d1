"""The ``analyze`` use case: measure files (or one array), preview the streaming platforms'
normalisation and, when asked, the lossy-codec round trip."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.app.measuring import analyze_path, step_progress
from analyzer.app.results import AnalyzedTrack, AnalyzeRun, FileFailure, Progress
from analyzer.app.settings import AnalyzeSettings
from analyzer.errors import EXIT_BAD_INPUT, AnalyzerError, UsageError
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    import numpy as np

    from analyzer.playback.codecs import CodecResult
    from analyzer.playback.platforms import Target
    from analyzer.types import TrackAnalysis


@one_blas_thread
def analyze(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | np.ndarray,
    settings: AnalyzeSettings | None = None,
    *,
    sample_rate_hz: int | None = None,
    progress: Progress | None = None,
    on_track: Callable[[AnalyzedTrack | FileFailure], None] | None = None,
) -> AnalyzeRun:
    """Measure loudness, true peak, dynamics, stereo image and tonal balance of each file (or of
    one ``(channels, frames)`` array at ``sample_rate_hz``), with the platform preview.

    A file that is bad input (exit code 3) becomes a :class:`FileFailure` and the others go on;
    any other error is raised. ``on_track`` is called as each file is done (so a caller can
    show results as they come); ``progress(label, done, total)`` reports the work.
    """
    settings = settings or AnalyzeSettings()
    from analyzer.playback.user_targets import load_targets

    table = load_targets(settings.targets)
    if _is_array(source):
        if sample_rate_hz is None:
            raise UsageError("analyze: an array needs its sample rate (sample_rate_hz)")
        track = _array_track(source, int(sample_rate_hz), settings, table)  # type: ignore[arg-type]
        if on_track is not None:
            on_track(track)
        return AnalyzeRun((track,), ())
    paths = [os.fspath(source)] if isinstance(source, str | os.PathLike) else source
    tracks: list[AnalyzedTrack] = []
    failures: list[FileFailure] = []
    for path in map(os.fspath, paths):  # type: ignore[arg-type]
        outcome: AnalyzedTrack | FileFailure
        try:
            outcome = _file_track(path, settings, table, progress)
        except AnalyzerError as exc:
            if exc.exit_code != EXIT_BAD_INPUT:
                raise
            outcome = FileFailure(path, exc.message, exc.exit_code)
        (tracks if isinstance(outcome, AnalyzedTrack) else failures).append(outcome)  # type: ignore[arg-type]
        if on_track is not None:
            on_track(outcome)
    return AnalyzeRun(tuple(tracks), tuple(failures))


def _is_array(source: object) -> bool:
    return hasattr(source, "shape") and hasattr(source, "dtype")


def _levelled(result: TrackAnalysis, settings: AnalyzeSettings) -> TrackAnalysis:
    """With ``level_spectrum``, the band levels re the integrated loudness (dB re LUFS)."""
    if not settings.level_spectrum or result.spectrum is None:
        return result
    from analyzer.measure.spectrum import levelled

    return replace(result, spectrum=levelled(result.spectrum, result.loudness.integrated_lufs))


def _previews(result: TrackAnalysis, table: Sequence[Target]) -> tuple:
    from analyzer.playback.platforms import preview

    return tuple(preview(result.loudness.integrated_lufs, result.peaks.true_peak_dbtp, table))


def _file_track(
    path: str, settings: AnalyzeSettings, table: Sequence[Target], progress: Progress | None
) -> AnalyzedTrack:
    if settings.codec_check:
        analysis, codec = _analysis_with_codecs(path, settings, progress)
    else:
        analysis, codec = analyze_path(path, series=settings.series, progress=progress), None
    result = _levelled(analysis, settings)
    return AnalyzedTrack(path, result, _previews(result, table), codec)


def _analysis_with_codecs(
    path: str, settings: AnalyzeSettings, progress: Progress | None
) -> tuple[TrackAnalysis, tuple[CodecResult, ...]]:
    """The analysis and the codec check at once: the check (its encoders in C, one thread
    each) runs in a thread of its own while this one measures, so neither waits for the
    other's pass over the file. When the analysis fails or is interrupted (Ctrl-C), the check
    is cancelled and waited for (its temporary files go with it) before the error goes on;
    its own failure is raised after the analysis, as when the two ran one after the other.
    ``progress`` is then called from both threads."""
    import threading

    from analyzer.playback.codecs import codec_check_file

    label = f"codec check {Path(path).name}"
    cancel = threading.Event()
    outcome: list[tuple[CodecResult, ...] | BaseException] = []

    def check() -> None:
        try:
            results = codec_check_file(path, progress=step_progress(progress, label), cancel=cancel)
            outcome.append(tuple(results))
        except BaseException as exc:  # handed to this thread below
            outcome.append(exc)

    worker = threading.Thread(target=check, name="mixanalyzer-codec-check", daemon=True)
    worker.start()
    try:
        analysis = analyze_path(path, series=settings.series, progress=progress)
        worker.join()  # Ctrl-C while waiting lands in the handler below too
    except BaseException:
        cancel.set()
        worker.join()
        raise
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return analysis, outcome[0]


def _array_track(
    x: np.ndarray, sample_rate_hz: int, settings: AnalyzeSettings, table: Sequence[Target]
) -> AnalyzedTrack:
    from analyzer.measure.engine import analyze_array

    result = _levelled(analyze_array(x, sample_rate_hz, keep_series=settings.series), settings)
    codec = None
    if settings.codec_check:
        from analyzer.playback.codecs import codec_check

        codec = tuple(codec_check(x, sample_rate_hz))
    return AnalyzedTrack(result.file.path, result, _previews(result, table), codec)
