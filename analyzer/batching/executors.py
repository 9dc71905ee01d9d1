"""Where batch jobs run: one small interface, :class:`BatchExecutor` (``submit`` and
``as_completed``, and ``map`` built on them, yielding results as they complete), with three
implementations: :class:`SerialExecutor` (this process, ``--jobs 1``), :class:`LocalExecutor`
(a process pool on this machine, the default) and :class:`DaskExecutor` (an existing Dask
distributed cluster, ``--scheduler tcp://HOST:PORT``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

from analyzer.batching.workers import worker_setup
from analyzer.errors import UsageError


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
            max_workers=self.jobs, mp_context=ctx, initializer=worker_setup,
            initargs=(os.getpid(),),
        )  # fmt: skip

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
        self,
        address: str,
        *,
        timeout_s: float | None = None,
        run_timeout_s: float | None = None,
    ) -> None:
        try:
            import distributed
        except ImportError:
            raise UsageError(
                "--scheduler needs the optional 'distributed' package: "
                "pip install 'mixanalyzer[dask]'"
            ) from None
        check_scheduler_address(address)
        self._distributed = distributed
        self.address = address
        # None: wait as long as the jobs take; a number bounds the whole run (tests).
        self.run_timeout_s = run_timeout_s
        self.name = f"Dask cluster at {address}"
        self._client = _bounded_setup(address, scheduler_timeout_s(timeout_s))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        # pure=False: a file may change between runs; never reuse a result the cluster holds.
        return self._client.submit(fn, *args, pure=False)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        # as_completed looks up "the current client"; ours is not the process-wide default.
        with self._client.as_current():
            yield from self._distributed.as_completed(list(futures), timeout=self.run_timeout_s)

    def close(self) -> None:
        self._client.close()


#: How long connecting to a scheduler and waiting for its first worker may take, seconds
#: (``MIXANALYZER_SCHEDULER_TIMEOUT_S`` overrides it); the batch itself is not bounded.
SCHEDULER_TIMEOUT_S = 30.0
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx|inproc)://)?[A-Za-z0-9._\-\[\]:%]+$")


def scheduler_timeout_s(given: float | None = None) -> float:
    """``given``, else ``$MIXANALYZER_SCHEDULER_TIMEOUT_S``, else 30 s."""
    if given is not None:
        return given
    env = os.environ.get("MIXANALYZER_SCHEDULER_TIMEOUT_S", "")
    try:
        value = float(env)
    except ValueError:
        return SCHEDULER_TIMEOUT_S
    return value if 0 < value < 1e6 else SCHEDULER_TIMEOUT_S


def check_scheduler_address(address: str) -> None:
    """Refuse at once (exit 2) what cannot be a scheduler address (``tcp://HOST:PORT``, or
    another of Dask's protocols): Dask itself would try it for 40 s."""
    if not _ADDRESS.match(address):
        raise UsageError(
            f"--scheduler {address!r}: not a scheduler address (expected tcp://HOST:PORT)"
        )


def _bounded_setup(address: str, timeout_s: float) -> Any:
    """Connect to the scheduler, wait for its first worker and set the workers up, all within
    ``timeout_s``. Done in a daemon thread: a server that accepts and never answers (or answers
    garbage) keeps Dask's own handshake waiting past its connect timeout, so the wait is
    bounded here, and the stuck thread dies with the process."""
    import threading

    box: dict[str, Any] = {}

    def setup() -> None:
        import distributed

        from analyzer.batching.workers import TuneWorker

        try:
            client = distributed.Client(address, timeout=timeout_s, set_as_default=False)
            box["client"] = client
            client.wait_for_workers(1, timeout=timeout_s)
            # The CLI's allocator tuning on every worker (see TuneWorker for why).
            client.register_plugin(TuneWorker(), name="mixanalyzer-tune")
            box["ready"] = True
        except BaseException as exc:  # a hostile server can make Dask raise anything
            box["error"] = exc
            _defuse_half_made_client(exc, distributed.Client)

    thread = threading.Thread(target=setup, name="mixanalyzer-scheduler", daemon=True)
    thread.start()
    thread.join(timeout_s + 1.0)
    if box.get("ready"):
        return box["client"]
    error = box.get("error")
    if error is None:
        why = f"no answer within {timeout_s:g} s"
    elif isinstance(error, TimeoutError | asyncio.TimeoutError) and "client" in box:
        why = f"no worker joined within {timeout_s:g} s"
    elif isinstance(error, MemoryError | ValueError | TypeError):  # a length field of garbage
        why = "the server does not speak Dask's protocol"
    else:
        why = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    if "client" in box and not thread.is_alive():
        with contextlib.suppress(Exception):
            box["client"].close(timeout=1)
    what = (
        "cannot use the Dask scheduler" if "client" in box else "cannot connect to a Dask scheduler"
    )
    raise UsageError(f"--scheduler {address}: {what}: {why}")


def _defuse_half_made_client(exc: BaseException, client_type: type) -> None:
    """A Client whose constructor raised (a server answering garbage) is still alive, held by
    Dask's own loop; at exit its ``__del__`` tries to close it on that stuck loop and prints a
    traceback after our one line ("Exception ignored in: Client.__del__"). Found in the
    traceback's frames, it is told it has no loop (``__del__`` then does nothing, as for a
    constructor that failed early); the daemon thread that runs the loop dies with the
    process."""
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, client_type):
            with contextlib.suppress(Exception):
                candidate._Client__loop = None  # type: ignore[attr-defined]
        tb = tb.tb_next


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset``
    narrow), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def jobs_note(jobs: int | None) -> str | None:
    """The note when ``--jobs`` asks for more processes than there are cores (lowered to them:
    more processes than cores only add interpreters that compete for the same cores)."""
    cores = usable_cores()
    if jobs is not None and jobs > cores:
        return f"--jobs {jobs} lowered to {cores}, the number of cores"
    return None


def make_executor(
    jobs: int | None = None, scheduler: str | None = None, files: int | None = None
) -> BatchExecutor:
    """The executor for ``--jobs`` / ``--scheduler``: at most one process per core and per
    file to analyse (``files``)."""
    if scheduler:
        return DaskExecutor(scheduler)
    n = max(1, min(int(jobs or usable_cores()), usable_cores(), files or usable_cores()))
    return SerialExecutor() if n == 1 else LocalExecutor(n)
