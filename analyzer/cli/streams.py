"""Standard output as a Unix tool treats it: a reader that went away (``| head -1``, a closed
stdout) ends the program quietly with exit 141, as a shell reports a process ended by SIGPIPE;
any other failure to write it (``> /dev/full``) is one line and exit 4, never a traceback."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

from analyzer.errors import OutputError

#: Exit status when the reader of standard output went away (128 + SIGPIPE).
EXIT_PIPE_CLOSED = 141


class PipeClosed(BaseException):
    """Standard output's reader is gone. A BaseException so that nothing on the way (click
    turns a broken pipe into exit 1) mistakes it for an error to report."""


def _failed(exc: OSError) -> BaseException:
    if isinstance(exc, BrokenPipeError) or exc.errno == 9:  # EPIPE; EBADF: stdout was closed
        return PipeClosed()
    return OutputError(f"standard output: cannot write: {exc.strerror}", slug="unwritable")


class _Buffer:
    """The binary side of :class:`GuardedStdout` (``sys.stdout.buffer``)."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def write(self, data: bytes) -> int:
        try:
            return self._raw.write(data)
        except OSError as exc:
            raise _failed(exc) from None

    def flush(self) -> None:
        try:
            self._raw.flush()
        except OSError as exc:
            raise _failed(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class GuardedStdout:
    """``sys.stdout`` with its write errors turned into :class:`PipeClosed` or an
    :class:`~analyzer.errors.OutputError`; everything else is the real stream's."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self.buffer = _Buffer(getattr(raw, "buffer", None) or _Closed())

    def write(self, text: str) -> int:
        if self._raw is None:
            raise PipeClosed
        try:
            return self._raw.write(text)
        except OSError as exc:
            raise _failed(exc) from None

    def flush(self) -> None:
        if self._raw is None:
            return
        try:
            self._raw.flush()
        except OSError as exc:
            raise _failed(exc) from None

    def isatty(self) -> bool:
        return self._raw is not None and self._raw.isatty()

    def __getattr__(self, name: str) -> Any:
        if self._raw is None:
            raise AttributeError(name)
        return getattr(self._raw, name)


class _Closed:
    def write(self, data: bytes) -> int:
        raise BrokenPipeError(32, "standard output is closed")

    def flush(self) -> None:
        return


def guard_stdout() -> Any:
    """Put :class:`GuardedStdout` in place of ``sys.stdout`` (None when the process was started
    with its standard output closed); returns what was there, to put back."""
    old = sys.stdout
    if not isinstance(old, GuardedStdout):
        sys.stdout = GuardedStdout(old)  # type: ignore[assignment]
    return old


def quiet_exit_on_closed_pipe() -> None:
    """After :class:`PipeClosed`: nothing more may reach the dead pipe (the interpreter flushes
    at exit), so standard output now points at ``/dev/null``."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
