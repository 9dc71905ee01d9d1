"""Batch analysis: find audio files, analyse them in parallel (through the result cache), and
collect the results in a :class:`BatchResult`.

The jobs (:func:`analyzer.batching.workers.analyze_job`) run on a
:class:`~analyzer.batching.executors.BatchExecutor`: this process, a local process pool or a
Dask cluster; :func:`run_batch` is the same code whichever runs them. The cache is read and
written by the calling process only: a Dask worker on another machine has no access to this
machine's cache file, and one writer per run keeps the path the same for every executor (the
database itself is safe for several processes at once; see :mod:`analyzer.batching.cache`).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from analyzer.batching.cache import (
    ResultCache,
    analysis_from_json,
    cache_key,
)
from analyzer.batching.executors import BatchExecutor, jobs_note, make_executor
from analyzer.batching.workers import JobOutcome, analyze_job
from analyzer.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, CacheError
from analyzer.io import display_path
from analyzer.io.files import find_audio_files, sha256_file
from analyzer.io.source import probe_info
from analyzer.measure.stats import metric_ranges
from analyzer.runtime import Interrupted
from analyzer.types import TrackAnalysis

BatchProgress = Callable[[int, int, str, "str | None"], None]
"""Called as ``progress(files_done, files_total, file_name, error_message_or_None)`` after each
file (a cache hit, an analysis or a failure)."""


@dataclass(frozen=True)
class FileError:
    """A file that could not be measured: its path, the one-line message and the exit code."""

    path: str
    message: str
    exit_code: int = EXIT_BAD_INPUT


@dataclass(frozen=True)
class BatchResult:
    """Every measured file, in the order found, and every failure.

    ``from_cache[i]`` says whether ``files[i]`` was read from the cache; ``cache_hits`` +
    ``cache_misses`` is the number of files looked up (0 and 0 without a cache).
    """

    files: tuple[TrackAnalysis, ...]
    errors: tuple[FileError, ...]
    from_cache: tuple[bool, ...]
    cache_hits: int = 0
    cache_misses: int = 0
    elapsed_s: float = 0.0
    executor: str = ""
    notes: tuple[str, ...] = field(default=())
    #: Ctrl-C stopped the batch: ``files`` are those finished (and cached) before it.
    interrupted: bool = False
    #: The exit status the interruption calls for: 130 (Ctrl-C, SIGINT) or 143 (SIGTERM).
    interrupted_exit_code: int = 130
    total_files: int = 0


def find_batch_files(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[str], list[FileError]]:
    """The paths to analyse (:func:`analyzer.io.files.find_audio_files`: folders searched
    recursively, files given explicitly taken as given, in a stable order) and a
    :class:`FileError` for each path that does not exist or cannot be searched."""
    found = find_audio_files(paths)
    errors = [FileError(display_path(m.path), m.message) for m in found.missing]
    return [f.path for f in found.files], errors


class _BatchRun:
    """The state of one :func:`run_batch`: results by index, failures, the cache, progress."""

    def __init__(
        self, found: list[str], total: int, keep_series: bool, progress: BatchProgress | None
    ) -> None:
        self.found = found
        self.total = total
        self.keep_series = keep_series
        self.progress = progress
        self.results: list[TrackAnalysis | None] = [None] * len(found)
        self.from_cache = [False] * len(found)
        self.failures: dict[int, FileError] = {}
        self.notes: list[str] = []
        self.keys: dict[int, tuple[str, str]] = {}
        self.cache: ResultCache | None = None
        self.hits = self.misses = self.done = 0

    def report(self, name: str, error: str | None) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, name, error)

    def open_cache(self, cache_path: str | os.PathLike[str] | None) -> None:
        try:
            self.cache = ResultCache(cache_path)
        except CacheError as exc:
            self.notes.append(f"{exc}; going on without it")

    def drop_cache(self, exc: CacheError, note: str) -> None:
        self.notes.append(f"{exc}; {note}")
        if self.cache is not None:
            self.cache.close()
        self.cache = None

    def look_up(self) -> list[int]:
        """Serve what the cache holds; the indices still to analyse."""
        todo: list[int] = []
        for i, path in enumerate(self.found):
            if self.cache is None:
                todo.append(i)
                continue
            try:
                digest = sha256_file(path)
            except OSError:
                todo.append(i)  # the job reports why the file cannot be read
                continue
            key = cache_key(digest, keep_series=self.keep_series)
            self.keys[i] = (key, digest)
            name = display_path(path)
            try:
                hit = self.cache.get(key, path=name)
            except CacheError as exc:
                self.drop_cache(exc, "going on without it")
                hit = None
            if hit is not None:
                self.results[i], self.from_cache[i] = hit, True
                self.hits += 1
                self.report(name, None)
                continue
            self.misses += 1
            todo.append(i)
        return todo

    def take(self, i: int, outcome: JobOutcome | BaseException) -> None:
        """One job's outcome: a failure, or an analysis (stored in the cache)."""
        name = display_path(self.found[i])
        if isinstance(outcome, BaseException):
            msg = f"{name}: internal error: {type(outcome).__name__}: {outcome}"
            self.failures[i] = FileError(name, msg, EXIT_INTERNAL)
            self.report(name, msg)
            return
        if not outcome.ok:
            self.failures[i] = FileError(name, outcome.payload, outcome.exit_code)
            self.report(name, outcome.payload)
            return
        analysis = analysis_from_json(outcome.payload)
        self.results[i] = analysis
        if self.cache is not None and i in self.keys:
            from analyzer.measure import ANALYSIS_SETTINGS_VERSION

            key, digest = self.keys[i]
            if outcome.digest != digest:  # the file changed between the hash and the decode
                self.notes.append(f"{name}: changed while it was measured: result not cached")
                self.report(name, None)
                return
            try:
                self.cache.put_json(key, digest, analysis.file.path, outcome.payload,
                                    settings_version=ANALYSIS_SETTINGS_VERSION)  # fmt: skip
            except CacheError as exc:
                self.drop_cache(exc, "results not stored")
        self.report(name, None)


def run_batch(
    paths: Sequence[str | os.PathLike[str]],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    executor: BatchExecutor | None = None,
    keep_series: bool = False,
    use_cache: bool = True,
    cache_path: str | os.PathLike[str] | None = None,
    progress: BatchProgress | None = None,
) -> BatchResult:
    """Find the audio files in ``paths`` and measure each one, from the cache when it holds the
    same content measured the same way, else by a job on the executor.

    A bad file never stops the batch: it becomes a :class:`FileError`. ``executor`` overrides
    ``jobs``/``scheduler`` (and is not closed here). A cache that cannot be opened is skipped
    with a note in :attr:`BatchResult.notes`.
    """
    started = time.perf_counter()
    found, errors_found = find_batch_files(paths)
    run = _BatchRun(found, len(found) + len(errors_found), keep_series, progress)
    for err in errors_found:
        run.report(err.path, err.message)
    if use_cache:
        run.open_cache(cache_path)
    interrupted = False
    signum = int(signal.SIGINT)
    name_used = "cache only"
    try:
        todo = run.look_up()
        # Largest files first: the longest jobs start early, so no worker sits idle at the end
        # waiting for one long file (longest-processing-time-first scheduling).
        todo.sort(key=lambda i: -_work(found[i]))
        runner, own = executor, False
        if todo and runner is None:
            runner, own = make_executor(jobs, scheduler, files=len(todo)), True
            if scheduler is None and (note := jobs_note(jobs)):
                run.notes.append(note)
        if runner is not None:
            name_used = runner.name
        try:
            if todo and runner is not None:
                interrupted = True  # until the loop runs to its end
                items = [(found[i], keep_series, 1, i in run.keys) for i in todo]
                for k, outcome in runner.map(analyze_job, items):
                    run.take(todo[k], outcome)
            interrupted = False
        except (KeyboardInterrupt, Interrupted) as exc:
            # Stop cleanly: no new jobs (the pool cancels the queued ones and waits for the
            # running ones); what finished is already in the cache and is returned.
            interrupted = True
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        finally:
            if own and runner is not None:
                runner.close()
    finally:
        if run.cache is not None:
            run.cache.close()
    results = run.results
    return BatchResult(
        files=tuple(r for r in results if r is not None),
        errors=tuple(list(errors_found) + [run.failures[i] for i in sorted(run.failures)]),
        from_cache=tuple(c for r, c in zip(results, run.from_cache, strict=True) if r is not None),
        cache_hits=run.hits,
        cache_misses=run.misses,
        elapsed_s=time.perf_counter() - started,
        executor=name_used,
        notes=tuple(run.notes),
        interrupted=interrupted,
        interrupted_exit_code=128 + int(signum),
        total_files=run.total,
    )


def _work(path: str) -> float:
    """How long a file takes to analyse, roughly: its samples (frames x channels) from the
    header. The compressed size alone misorders files of different codecs and bit rates (a
    5-minute Opus file is smaller than a 3-minute Vorbis one), and the longest job must start
    first or one worker idles at the end."""
    try:
        info = probe_info(path)
        return float(info.frames * info.channels)
    except Exception:  # unreadable here: its job reports why; the size will do for the order
        return float(_size(path))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# --------------------------------------------------------------------------------------------
# Comparison of every file with references or a profile


def reference_stats(references: Sequence[TrackAnalysis]) -> dict[str, Any]:
    """Per metric of :func:`analyzer.comparison.track_metrics`, the references' median and
    10th/90th percentiles (what a profile holds), to compare every file of a batch against."""
    from analyzer.comparison.metrics import track_metrics

    return metric_ranges(track_metrics(r) for r in references)


def compare_each(
    files: Sequence[TrackAnalysis], stats: Any, reference_names: Sequence[str]
) -> list[Any]:
    """:func:`analyzer.comparison.compare` of every file against the same reference ranges."""
    from analyzer.comparison.metrics import compare

    return [compare(f, profile_stats=stats, reference_names=reference_names) for f in files]
