"""What runs on a batch worker: the job (:func:`analyze_job`), the set-up of a local pool
worker (:func:`worker_setup`) and of a Dask worker (:class:`TuneWorker`).

A Dask worker calls ``analyzer.batching.workers.analyze_job`` by name, so this module keeps
that name. The job takes a path and returns plain data (:class:`JobOutcome`): the analysis as
JSON text (:func:`analyzer.batching.cache.analysis_to_json`) or the error's message and exit
code. Plain data crosses a process or network boundary cheaply and never depends on pickling
an exception. ``distributed`` (the optional ``[dask]`` extra) is imported only when
:class:`TuneWorker` is first used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analyzer.errors import AnalyzerError


@dataclass(frozen=True)
class JobOutcome:
    """One job's result: ``ok`` with the analysis as lossless JSON in ``payload`` (exit code
    0), or not ``ok`` with the error's one-line message in ``payload`` and its exit code."""

    ok: bool
    payload: str
    exit_code: int = 0
    #: SHA-256 of the bytes the job decoded (when asked), None when it cannot vouch for them.
    digest: str | None = None


def analyze_job(
    path: str, keep_series: bool = False, threads: int | None = 1, digest: bool = False
) -> JobOutcome:
    """Analyse one file (in a worker): the analysis as lossless JSON, or the error as data.

    ``threads=1`` by default: each job uses one core, and ``--jobs`` says how many cores work;
    the figures are the same for any thread count. With ``digest`` the outcome carries the
    SHA-256 of the bytes decoded, for the cache: the file is hashed after the analysis, and only
    when its identity (device, inode, size, change and modification times in ns) is the same
    before the decoder opened it (taken once the last change has settled,
    :func:`_settled_identity`) and after the hash, i.e. the same bytes were there throughout; a
    file replaced or rewritten meanwhile gets None and its result is not cached.
    """
    from analyzer.batching.cache import analysis_to_json
    from analyzer.measure.engine import analyze_file

    before = _settled_identity(path) if digest else None
    try:
        analysis = analyze_file(path, keep_series=keep_series, threads=threads)
    except AnalyzerError as exc:
        return JobOutcome(False, exc.message, exc.exit_code)
    decoded = _decoded_digest(path, before) if digest else None
    return JobOutcome(True, analysis_to_json(analysis), 0, decoded)


def _identity(path: str) -> tuple[int, ...] | None:
    import os

    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


#: How long after a file's last change its identity is trusted (ns): file times come from a
#: coarse clock (one tick, 1-10 ms, on kernels without multigrain timestamps), so a change in
#: the same tick as the one before leaves them equal ("racy git": git's index has the same rule).
RACY_NS = 20_000_000


def _settled_identity(path: str) -> tuple[int, ...] | None:
    """:func:`_identity`, taken once the file's last change is more than :data:`RACY_NS` old,
    so that any later change gets another change time (a file written a moment ago waits at
    most that long)."""
    import time

    ident = _identity(path)
    if ident is None:
        return None
    age_ns = time.time_ns() - ident[-1]
    if 0 <= age_ns < RACY_NS:
        time.sleep((RACY_NS - age_ns) / 1e9)
        ident = _identity(path)
    return ident


def _decoded_digest(path: str, before: tuple[int, ...] | None) -> str | None:
    """The file's SHA-256 if it is provably the file decoded (same identity before and after)."""
    from analyzer.io.files import sha256_file

    try:
        digest = sha256_file(path)
    except OSError:
        return None
    after = _identity(path)
    return digest if before is not None and after == before else None


def worker_setup(parent: int | None = None) -> None:
    """A pool worker: the CLI's tuning, and Ctrl-C left to the parent (a terminal sends SIGINT
    to the whole process group): the parent stops the batch and lets the running jobs end,
    instead of every worker dying with a traceback of its own. ``parent`` is the pid of the
    process that made the pool (``initargs``): the worker dies with it, even when it died
    while the worker was starting (:func:`analyzer.runtime.die_with_parent`)."""
    import signal

    from analyzer.runtime import die_with_parent, tune_process

    tune_process()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)  # a parent killed outright (SIGKILL) leaves no worker running


def __getattr__(name: str) -> Any:
    # TuneWorker subclasses distributed.WorkerPlugin: built on first use so that importing this
    # module (every local batch) does not need the optional ``distributed`` package.
    if name == "TuneWorker":
        cls = _tune_worker_class()
        globals()["TuneWorker"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _tune_worker_class() -> type:
    from distributed import WorkerPlugin

    class TuneWorker(WorkerPlugin):
        """:func:`analyzer.runtime.tune_process` on each worker at start-up, also on workers
        that join later. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``, so every
        block-sized temporary is handed back to the kernel and faulted in again: measured here,
        the analysis ran about 2x slower on a LocalCluster without this."""

        def setup(self, worker: Any) -> None:
            from analyzer.runtime import tune_process

            tune_process()

    TuneWorker.__module__ = __name__
    TuneWorker.__qualname__ = "TuneWorker"
    return TuneWorker
