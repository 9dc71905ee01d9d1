"""Process-level tuning for the command line (never applied on import of the library), and
the one setting every use case applies for the length of its call (:func:`one_blas_thread`)."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: prctl(2) option: the signal this process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def tune_process() -> None:
    """Make the streaming pass cheap on this process's allocator and BLAS.

    * glibc serves every allocation above 128 KiB with a fresh ``mmap``, so each block-sized
      temporary (a few hundred KiB) costs page faults on first touch; measured here that made the
      true-peak meter 1.7x slower. Raising the mmap threshold to 64 MiB lets freed blocks be
      reused; the trim threshold keeps them from being handed back and faulted in again.
      Memory stays flat: the same few blocks are reused for the whole file.
    * Each meter has its own thread; OpenBLAS threads on top of them only contend for the cores
      (the true-peak matrices are small). Must be set before numpy is imported.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):  # not glibc (musl), or no libc found: keep defaults
        # The process's own symbols (dlopen(NULL)), libc's among them: ctypes.util's
        # find_library cost 17 ms of every start (its import and an ldconfig run).
        libc = ctypes.CDLL(None)
        if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version"):
            libc.mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024)
            libc.mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024)


def one_blas_thread(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with numpy's BLAS held to one thread, as :func:`tune_process` holds the
    command line's (through ``OPENBLAS_NUM_THREADS``, which only works before numpy is
    imported): a program using the Python API has numpy loaded long before. The meters run in
    threads of their own, and OpenBLAS's threads on top of them only spin for the cores: a
    ``master`` through the API took 4.24-4.44 s and 7.1-7.4 s of CPU with OpenBLAS's default
    against 3.67-3.74 s and 5.4-5.5 s with one thread (two runs each, alternated, on this
    project's 2-core machine). The caller's setting is restored afterwards (threadpoolctl,
    scikit-learn's library for exactly this; without it, nothing changes)."""

    @functools.wraps(fn)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with blas_on_one_thread():
            return fn(*args, **kwargs)

    return limited


@contextlib.contextmanager
def blas_on_one_thread() -> Iterator[None]:
    """Every BLAS library loaded so far held to one thread inside the block, the caller's
    settings restored after it. A library loaded inside the block (scipy's own OpenBLAS, by
    a module that imports scipy for the first time) is not held: code that loads one takes
    its own block."""
    # The use cases import numpy lazily: loaded here, its BLAS is there to be held.
    import numpy  # noqa: F401

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (raised in the main thread by the CLI's handler). Not a
    KeyboardInterrupt, which typer turns into a silent exit; every ``with`` and ``finally`` on
    the way out runs, so no temporary ``.part`` file is left behind."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.signum


#: The last signal the handlers saw: native code that checks signals (watchfiles' Rust loop)
#: swallows the handler's exception and raises a bare KeyboardInterrupt instead.
_LAST_SIGNAL: int | None = None


def swallowed_interrupt() -> Interrupted:
    """The :class:`Interrupted` a KeyboardInterrupt stands for: the signal the handlers last
    saw (SIGTERM stays 143), SIGINT when they saw none."""
    import signal

    return Interrupted(_LAST_SIGNAL or int(signal.SIGINT))


def install_signal_handlers() -> dict[int, object]:
    """SIGINT and SIGTERM raise :class:`Interrupted` (a signal this process was started with
    ignored, as ``nohup`` or a background job does, stays ignored). Returns the handlers
    replaced, for :func:`restore_signal_handlers`."""
    import signal
    import threading

    def interrupted(signum: int, _frame: object) -> None:
        global _LAST_SIGNAL
        _LAST_SIGNAL = signum
        raise Interrupted(signum)

    old: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return old  # only the main thread may set handlers (an embedding program's thread)
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if handler is not signal.SIG_IGN:
            old[sig] = handler
            signal.signal(sig, interrupted)
    return old


def restore_signal_handlers(old: dict[int, object]) -> None:
    """Put back what :func:`install_signal_handlers` replaced (``main`` called in-process)."""
    import signal

    for sig, handler in old.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]


def die_with_parent(parent: int | None = None) -> None:
    """Linux: this process gets SIGKILL when the process that started it dies (a pool worker
    or helper never outlives the command, even one killed with SIGKILL). ``prctl(2)``
    PR_SET_PDEATHSIG; a no-op elsewhere. ``parent`` is the pid of the process that started
    this one, passed down by it: a parent that died before this request (while the worker was
    still importing) leaves it to init, whose pid is then what ``getppid`` says, so only a pid
    known beforehand tells that it is gone (this worker then leaves at once)."""
    if not sys.platform.startswith("linux"):
        return
    import signal

    if parent is None:
        parent = os.getppid()
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request: go now
        os._exit(1)
