"""Batch analysis: find audio files, analyse them in parallel (through the result cache), and
collect the results in a :class:`BatchResult`.

The work runs through one small interface, :class:`BatchExecutor` (``submit`` and
``as_completed``, and ``map`` built on them, yielding results as they complete), with three
implementations: :class:`SerialExecutor` (this process, ``--jobs 1``), :class:`LocalExecutor`
(a process pool on this machine, the default) and :class:`DaskExecutor` (an existing Dask
distributed cluster, ``--scheduler tcp://HOST:PORT``). :func:`run_batch` is the same code whichever
runs the jobs.

The job (:func:`analyze_job`) takes a path and returns plain data: the analysis as JSON text
(:func:`analyzer.batching.cache.analysis_to_json`) or the
error's message and exit code. Plain data crosses
a process or network boundary cheaply and never depends on pickling an exception. The cache is
read and written by the calling process only: a Dask worker on another machine has no access to
this machine's cache file, and one writer per run keeps the path the same for every executor
(the database itself is safe for several processes at once; see :mod:`analyzer.batching.cache`).
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analyzer.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, AnalyzerError, UsageError
from analyzer.io import display_path
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
    total_files: int = 0


# --------------------------------------------------------------------------------------------
# Finding files


def find_batch_files(paths: Sequence[str | os.PathLike[str]]) -> tuple[list[str], list[FileError]]:
    """Expand files and folders into the paths to analyse, in a stable order, and the errors
    for paths that do not exist.

    A folder is searched recursively for the extensions libsndfile reads
    (:data:`analyzer.comparison.profiles.AUDIO_EXTENSIONS`;
    hidden files and folders skipped), sorted by
    path. A file given explicitly is taken whatever its extension (the analysis says if it is
    not audio), spelled as given. The same file reached twice is taken once.
    """
    from analyzer.comparison.profiles import AUDIO_EXTENSIONS

    out: list[str] = []
    errors: list[FileError] = []
    seen: set[Path] = set()

    def add(path: str) -> None:
        key = Path(path).resolve()
        if key not in seen:
            seen.add(key)
            out.append(path)

    for raw in paths:
        text = os.fspath(raw)
        if os.path.isdir(text):
            found = []
            for root, dirs, files in os.walk(text):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    ext = f.rsplit(".", 1)[-1].lower() if "." in f else ""
                    if not f.startswith(".") and ext in AUDIO_EXTENSIONS:
                        found.append(os.path.join(root, f))
            for f in sorted(found):
                add(f)
        elif os.path.lexists(text):
            add(text)
        else:
            name = display_path(text)
            errors.append(FileError(name, f"{name}: missing: no such file or folder"))
    return out, errors


# --------------------------------------------------------------------------------------------
# The job


JobOutcome = tuple[str, str, int]
"""``("ok", analysis JSON, 0)`` or ``("error", message, exit code)``."""


def analyze_job(path: str, keep_series: bool = False, threads: int | None = 1) -> JobOutcome:
    """Analyse one file (in a worker): the analysis as lossless JSON, or the error as data.

    ``threads=1`` by default: each job uses one core, and ``--jobs`` says how many cores work;
    the figures are the same for any thread count.
    """
    from analyzer.batching.cache import analysis_to_json
    from analyzer.measure.engine import analyze_file

    try:
        analysis = analyze_file(path, keep_series=keep_series, threads=threads)
    except AnalyzerError as exc:
        return ("error", exc.message, exc.exit_code)
    return ("ok", analysis_to_json(analysis), 0)


# --------------------------------------------------------------------------------------------
# Executors


class BatchExecutor(ABC):
    """Runs jobs somewhere and hands back their results as they complete.

    Subclasses implement :meth:`submit` (returns a future with ``result()``) and
    :meth:`as_completed`; :meth:`map` is shared. Use as a context manager.
    """

    name = "executor"

    @abstractmethod
    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Start ``fn(*args)``; returns a future."""

    @abstractmethod
    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        """Yield ``futures`` as they finish."""

    def map(
        self, fn: Callable[..., Any], items: Sequence[tuple[Any, ...]]
    ) -> Iterator[tuple[int, Any]]:
        """``(index, fn(*items[index]))`` in completion order; a job that raised re-raises
        its exception from ``future.result()``, which the caller sees here as
        ``(index, exception)``."""
        futures = {self.submit(fn, *item): i for i, item in enumerate(items)}
        for fut in self.as_completed(list(futures)):
            try:
                yield futures[fut], fut.result()
            except Exception as exc:
                yield futures[fut], exc

    def close(self) -> None:  # noqa: B027 (optional for subclasses)
        """Release workers or connections."""

    def __enter__(self) -> BatchExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Deferred:
    """A future that runs its job when its result is first asked for (in this process)."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._fn, self._args = fn, args
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def result(self) -> Any:
        if not self._done:
            self._done = True
            try:
                self._value = self._fn(*self._args)
            except Exception as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._value


class SerialExecutor(BatchExecutor):
    """Runs each job in this process, one after another (``--jobs 1``). Jobs run when their
    result is taken, so progress is reported file by file."""

    name = "serial (1 job)"

    def submit(self, fn: Callable[..., Any], *args: Any) -> _Deferred:
        return _Deferred(fn, args)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        yield from futures


def _worker_setup() -> None:
    """A pool worker: the CLI's tuning, and Ctrl-C left to the parent (a terminal sends SIGINT
    to the whole process group): the parent stops the batch and lets the running jobs end,
    instead of every worker dying with a traceback of its own."""
    import signal

    from analyzer.runtime import tune_process

    tune_process()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalExecutor(BatchExecutor):
    """A process pool on this machine: ``jobs`` worker processes (default: the cores)."""

    def __init__(self, jobs: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.jobs = max(1, int(jobs or os.cpu_count() or 1))
        self.name = f"local process pool ({self.jobs} jobs)"
        # "spawn": a fresh interpreter per worker, safe whatever threads the caller has running
        # (as in analyzer.comparison.profiles); the workers get the CLI's allocator and BLAS tuning.
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(
            max_workers=self.jobs, mp_context=ctx, initializer=_worker_setup
        )

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._pool.submit(fn, *args)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        from concurrent.futures import as_completed

        yield from as_completed(list(futures))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(BatchExecutor):
    """The jobs on an existing Dask distributed cluster (``tcp://HOST:PORT`` of its scheduler).

    The workers need mixanalyzer installed (the same version) and read access to the files at
    the same paths. ``distributed`` is imported only here (``pip install mixanalyzer[dask]``).
    """

    def __init__(
        self, address: str, *, timeout_s: float = 20.0, run_timeout_s: float | None = None
    ) -> None:
        try:
            import distributed
        except ImportError:
            raise UsageError(
                "--scheduler needs the optional 'distributed' package: "
                "pip install 'mixanalyzer[dask]'"
            ) from None
        self._distributed = distributed
        self.address = address
        # None: wait as long as the jobs take; a number bounds the whole run (tests).
        self.run_timeout_s = run_timeout_s
        self.name = f"Dask cluster at {address}"
        try:
            self._client = distributed.Client(address, timeout=timeout_s, set_as_default=False)
        except Exception as exc:  # OSError, TimeoutError, ValueError for a bad address
            raise UsageError(
                f"--scheduler {address}: cannot connect to a Dask scheduler: "
                f"{type(exc).__name__}: {exc}"
            ) from None

        try:
            from analyzer.batching.dask_worker import TuneWorker

            # The CLI's allocator tuning on every worker (see TuneWorker for why).
            self._client.register_plugin(TuneWorker(), name="mixanalyzer-tune")
        except Exception as exc:
            self._client.close()
            raise UsageError(
                f"--scheduler {address}: cannot set up the workers: {type(exc).__name__}: {exc}"
            ) from None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        # pure=False: a file may change between runs; never reuse a result the cluster holds.
        return self._client.submit(fn, *args, pure=False)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        # as_completed looks up "the current client"; ours is not the process-wide default.
        with self._client.as_current():
            yield from self._distributed.as_completed(list(futures), timeout=self.run_timeout_s)

    def close(self) -> None:
        self._client.close()


def make_executor(jobs: int | None = None, scheduler: str | None = None) -> BatchExecutor:
    """The executor for ``--jobs`` / ``--scheduler``."""
    if scheduler:
        return DaskExecutor(scheduler)
    n = max(1, int(jobs or os.cpu_count() or 1))
    return SerialExecutor() if n == 1 else LocalExecutor(n)


# --------------------------------------------------------------------------------------------
# Running a batch


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
    from analyzer.batching.cache import (
        CacheError,
        ResultCache,
        analysis_from_json,
        cache_key,
        sha256_file,
    )

    started = time.perf_counter()
    found, errors_found = find_batch_files(paths)
    total = len(found) + len(errors_found)
    results: list[TrackAnalysis | None] = [None] * len(found)
    failures: dict[int, FileError] = {}
    from_cache = [False] * len(found)
    notes: list[str] = []
    done = 0

    def report(name: str, error: str | None) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, name, error)

    for err in errors_found:
        report(err.path, err.message)

    cache = None
    if use_cache:
        try:
            cache = ResultCache(cache_path)
        except CacheError as exc:
            notes.append(f"{exc}; going on without it")
    hits = misses = 0
    interrupted = False
    keys: dict[int, tuple[str, str]] = {}
    todo: list[int] = []
    try:
        for i, path in enumerate(found):
            name = display_path(path)
            if cache is not None:
                try:
                    digest = sha256_file(path)
                except OSError:
                    todo.append(i)  # the job reports why the file cannot be read
                    continue
                key = cache_key(digest, keep_series=keep_series)
                keys[i] = (key, digest)
                try:
                    hit = cache.get(key, path=name)
                except CacheError as exc:
                    notes.append(f"{exc}; going on without it")
                    cache.close()
                    cache, hit = None, None
                if hit is not None:
                    results[i], from_cache[i] = hit, True
                    hits += 1
                    report(name, None)
                    continue
                misses += 1
            todo.append(i)

        # Largest files first: the longest jobs start early, so no worker sits idle at the end
        # waiting for one long file (longest-processing-time-first scheduling).
        todo.sort(key=lambda i: -_work(found[i]))
        runner = executor
        own = False
        if todo and runner is None:
            runner, own = make_executor(jobs, scheduler), True
        name_used = runner.name if runner is not None else "cache only"
        try:
            if todo and runner is not None:
                interrupted = True  # until the loop runs to its end
                items = [(found[i], keep_series, 1) for i in todo]
                for k, outcome in runner.map(analyze_job, items):
                    i = todo[k]
                    name = display_path(found[i])
                    if isinstance(outcome, BaseException):
                        msg = f"{name}: internal error: {type(outcome).__name__}: {outcome}"
                        failures[i] = FileError(name, msg, EXIT_INTERNAL)
                        report(name, msg)
                        continue
                    status, payload, code = outcome
                    if status != "ok":
                        failures[i] = FileError(name, payload, code)
                        report(name, payload)
                        continue
                    analysis = analysis_from_json(payload)
                    results[i] = analysis
                    if cache is not None and i in keys:
                        from analyzer.measure import ANALYSIS_SETTINGS_VERSION

                        try:
                            key, digest = keys[i]
                            cache.put_json(key, digest, analysis.file.path, payload,
                                           settings_version=ANALYSIS_SETTINGS_VERSION)  # fmt: skip
                        except CacheError as exc:
                            notes.append(f"{exc}; results not stored")
                            cache.close()
                            cache = None
                    report(name, None)
            interrupted = False
        except KeyboardInterrupt:
            # Stop cleanly: no new jobs (the pool cancels the queued ones and waits for the
            # running ones); what finished is already in the cache and is returned.
            interrupted = True
        finally:
            if own and runner is not None:
                runner.close()
    finally:
        if cache is not None:
            cache.close()

    files = tuple(r for r in results if r is not None)
    cached = tuple(c for r, c in zip(results, from_cache, strict=True) if r is not None)
    errors = list(errors_found) + [failures[i] for i in sorted(failures)]
    return BatchResult(
        files=files,
        errors=tuple(errors),
        from_cache=cached,
        cache_hits=hits,
        cache_misses=misses,
        elapsed_s=time.perf_counter() - started,
        executor=name_used,
        notes=tuple(notes),
        interrupted=interrupted,
        total_files=total,
    )


def _work(path: str) -> float:
    """How long a file takes to analyse, roughly: its samples (frames x channels) from the
    header. The compressed size alone misorders files of different codecs and bit rates (a
    5-minute Opus file is smaller than a 3-minute Vorbis one), and the longest job must start
    first or one worker idles at the end."""
    try:
        import soundfile as sf

        info = sf.info(path)
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
    from analyzer.comparison.metrics import range_stats, track_metrics

    vectors = [track_metrics(r) for r in references]
    keys: dict[str, None] = {}
    for v in vectors:
        keys.update(dict.fromkeys(v))
    return {k: range_stats([v.get(k) for v in vectors]) for k in keys}


def compare_each(
    files: Sequence[TrackAnalysis], stats: Any, reference_names: Sequence[str]
) -> list[Any]:
    """:func:`analyzer.comparison.compare` of every file against the same reference ranges."""
    from analyzer.comparison.metrics import compare

    return [compare(f, profile_stats=stats, reference_names=reference_names) for f in files]
