"""One stream of blocks, read once, fed to several workers running side by side in threads
(the codec check's three encoders: :mod:`analyzer.playback.codecs`).

Threads, not processes, because the work is in C: soundfile calls libsndfile through cffi,
which releases the GIL for the duration of every foreign call (cffi's documentation, "Working
with pointers, structures and arrays": "the GIL is released during the call"), and each worker
has its own libsndfile handle (libsndfile keeps its state per ``SNDFILE*``; only
``sf_error(NULL)``'s last-open error is global, and workers never read it). The caller's
thread reads the blocks and pushes each into one bounded queue per worker, so memory stays
flat (``depth`` blocks per worker at most) however long the stream, and the slowest worker
sets the pace.

Cancelling: any exception in the caller's thread (``KeyboardInterrupt`` included) sets the
shared cancel flag, unblocks every worker, and waits for all of them before re-raising, so
no thread outlives the call and the caller's temporary files can be removed. A worker checks
the flag at every block it takes and whenever it calls :meth:`Feed.check`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")
_END = object()
#: How often (seconds) the caller's thread wakes to report progress while it waits.
POLL_S = 0.1


class Cancelled(Exception):
    """Raised inside a worker when the caller has given up (exception or Ctrl-C)."""


class Feed:
    """The blocks for one worker: iterate it once (it ends at the end of the stream), and call
    :meth:`check` during work that takes no blocks."""

    def __init__(self, depth: int, cancel: threading.Event) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._cancel = cancel
        self.ended = False

    def check(self) -> None:
        """Raise :class:`Cancelled` when the caller has given up."""
        if self._cancel.is_set():
            raise Cancelled

    def __iter__(self) -> Iterator[np.ndarray]:
        while not self.ended:
            item = self._queue.get()
            if item is _END:
                self.ended = True
            self.check()
            if not self.ended:
                yield item  # type: ignore[misc]

    # -- the caller's side ---------------------------------------------------------------
    def put(self, block: np.ndarray) -> None:
        """Wait for room, but never past a cancel (set from another thread, the worker stops
        taking blocks and the queue would stay full)."""
        while True:
            try:
                self._queue.put(block, timeout=POLL_S)
                return
            except queue.Full:
                self.check()

    def close(self) -> None:
        self._queue.put(_END)

    def abandon(self) -> None:
        """Empty the queue and end it (only the caller puts, so there is room)."""
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._queue.put_nowait(_END)

    # -- the worker's side, after it stopped taking blocks early ------------------------
    def drain(self) -> None:
        """Take and drop the rest of the stream, so the caller is never blocked by a worker
        that failed part-way."""
        while not self.ended and not self._cancel.is_set():
            if self._queue.get() is _END:
                self.ended = True


class _Lane(Generic[T]):
    def __init__(self, work: Callable[[Feed], T], feed: Feed) -> None:
        self.work = work
        self.feed = feed
        self.result: T | None = None
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="mixanalyzer-lane", daemon=True)

    def _run(self) -> None:
        try:
            self.result = self.work(self.feed)
        except BaseException as exc:  # handed to the caller's thread, re-raised there
            self.failure = exc
        finally:
            self.feed.drain()


def fan_out(
    blocks: Iterable[np.ndarray],
    workers: Sequence[Callable[[Feed], T]],
    *,
    on_block: Callable[[np.ndarray], None] | None = None,
    on_tick: Callable[[], None] | None = None,
    depth: int = 4,
    cancel: threading.Event | None = None,
) -> list[T]:
    """Run each of ``workers`` in its own thread on the same ``blocks`` and return their
    results in the order of ``workers``.

    ``on_block(block)`` runs in the calling thread for every block, before the workers get it;
    ``on_tick()`` runs in the calling thread after every block and every :data:`POLL_S`
    seconds while waiting for the workers (so a progress callback is only ever called from the
    caller's thread). A worker's exception is re-raised here once every worker has stopped.
    Setting ``cancel`` from another thread stops everything the same way, with
    :class:`Cancelled` raised here.
    """
    cancel = cancel or threading.Event()

    def tick() -> None:
        if cancel.is_set():
            raise Cancelled
        if on_tick is not None:
            on_tick()

    lanes = [_Lane(work, Feed(depth, cancel)) for work in workers]
    for lane in lanes:
        lane.thread.start()
    try:
        for block in blocks:
            if on_block is not None:
                on_block(block)
            for lane in lanes:
                lane.feed.put(block)
            tick()
        for lane in lanes:
            lane.feed.close()
        for lane in lanes:
            while lane.thread.is_alive():
                lane.thread.join(POLL_S)
                tick()
    except BaseException:
        cancel.set()
        for lane in lanes:
            lane.feed.abandon()
        raise
    finally:
        for lane in lanes:
            lane.thread.join()
    for lane in lanes:
        if lane.failure is not None:
            raise lane.failure
    return [lane.result for lane in lanes]  # type: ignore[misc]
