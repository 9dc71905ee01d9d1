"""Where batch jobs run: one small interface, :class:`BatchExecutor` (``submit`` and
``as_completed``, and ``map`` built on them, yielding results as they complete), with three
implementations: :class:`SerialExecutor` (this process, ``--jobs 1``), :class:`LocalExecutor`
(a process pool on this machine, the default) and :class:`DaskExecutor` (an existing Dask
distributed cluster, ``--scheduler tcp://HOST:PORT``)."""

from __future__ import annotations

import os
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
            max_workers=self.jobs, mp_context=ctx, initializer=worker_setup
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
            from analyzer.batching.workers import TuneWorker

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
