"""The one progress factory of the command line: transient rich bars on stderr, shown only when
stderr is a terminal and the command is not quiet.

:func:`progress_bar` yields a :class:`ProgressBar` (or None when not shown) whose
:meth:`~ProgressBar.step` is the use cases' ``progress(label, done, total)``: one bar per label
while it runs (files analysed on both cores get one each), gone when done. With ``files=True``
it counts files instead (:meth:`~ProgressBar.file`, for ``batch`` and ``reference build``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from analyzer.cli.console import stderr_console


class ProgressBar:
    """Bars on stderr, started when the first task appears and stopped when the last ends."""

    def __init__(self, *, files: bool, only: Callable[[str], bool] | None = None) -> None:
        self._files = files
        self._only = only
        self._live: Any = None
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _columns(self) -> list[Any]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        if self._files:
            return [TextColumn("analysing"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.description}")]  # fmt: skip
        return [TextColumn("{task.description}"), BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"), TimeRemainingColumn()]  # fmt: skip

    def _task(self, label: str, description: str, total: int | None) -> Any:
        if self._live is None:
            from rich.progress import Progress

            self._live = Progress(*self._columns(), console=stderr_console(), transient=True)
            self._live.start()
        if label not in self._tasks:
            self._tasks[label] = self._live.add_task(description, total=total)
        return self._tasks[label]

    def step(self, label: str, done: int, total: int) -> None:
        """``progress(label, done, total)`` of a use case: the bar of ``label``."""
        if self._only is not None and not self._only(label):
            return
        from rich.markup import escape

        from analyzer.io import display_path

        with self._lock:
            task = self._task(label, escape(display_path(label)), max(total, 1))
            self._live.update(task, completed=done, total=max(total, 1))
            if done >= total:  # finished: its bar goes, and the display with the last one
                self._live.remove_task(task)
                del self._tasks[label]
                if not self._tasks:
                    self.close()

    def file(self, done: int, total: int, name: str) -> None:
        """Files done of ``total``, the last one named."""
        from rich.markup import escape

        with self._lock:
            task = self._task("", "", None)
            self._live.update(task, completed=done, total=total, description=escape(name))

    def print_error(self, message: str) -> None:
        """An error line above the bars (or plainly on stderr when none is shown)."""
        if self._live is None:
            from analyzer.cli.console import print_error

            print_error(message)
            return
        self._live.console.print(f"mixanalyzer: error: {message}", markup=False, highlight=False)

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            self._tasks.clear()


@contextlib.contextmanager
def progress_bar(
    show: bool, *, files: bool = False, only: Callable[[str], bool] | None = None
) -> Iterator[ProgressBar | None]:
    """A :class:`ProgressBar` while the block runs, or None when ``show`` is false. ``only``
    picks the labels that get a bar (e.g. only files long enough to be worth one)."""
    if not show:
        yield None
        return
    bar = ProgressBar(files=files, only=only)
    try:
        yield bar
    finally:
        bar.close()
