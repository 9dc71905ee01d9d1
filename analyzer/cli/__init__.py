"""The ``mixanalyzer`` command: a thin typer layer over :mod:`analyzer.app`.

:func:`main` is the only place that turns an :class:`~analyzer.errors.AnalyzerError` into a
one-line message and an exit code. ``mixanalyzer --version`` answers before typer, rich or
numpy are imported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from analyzer.errors import EXIT_INTERNAL, EXIT_OUTPUT, AnalyzerError
from analyzer.untrusted import terminal_safe
from analyzer.version import __version__

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def main() -> None:
    """Console entry point: runs the app and maps errors to one line and an exit code."""
    if sys.argv[1:] == ["--version"]:  # fast path: no typer/rich import
        print(f"mixanalyzer {__version__}")
        return
    from analyzer.runtime import (
        Interrupted,
        install_signal_handlers,
        restore_signal_handlers,
        tune_process,
    )

    tune_process()  # before numpy is first imported (commands import it lazily)
    handlers = install_signal_handlers()
    from analyzer.cli.app import app
    from analyzer.cli.console import print_error
    from analyzer.cli.streams import (
        EXIT_PIPE_CLOSED,
        PipeClosed,
        guard_stdout,
        quiet_exit_on_closed_pipe,
    )
    from analyzer.paths import UserDirError

    stdout = guard_stdout()
    try:
        code = _run(app)
    except AnalyzerError as exc:
        print_error(exc.message)
        code = exc.exit_code
    except UserDirError as exc:
        print_error(str(exc))
        code = EXIT_OUTPUT
    except PipeClosed:
        quiet_exit_on_closed_pipe()
        code = EXIT_PIPE_CLOSED
    except (KeyboardInterrupt, Interrupted) as exc:
        print("mixanalyzer: interrupted", file=sys.stderr)
        code = exc.exit_code if isinstance(exc, Interrupted) else EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line, unless asked for the traceback
        if os.environ.get("MIXANALYZER_DEBUG"):
            raise
        print(
            f"mixanalyzer: internal error: {type(exc).__name__}: {terminal_safe(exc)} "
            "(set MIXANALYZER_DEBUG=1 for the traceback; please report it)",
            file=sys.stderr,
        )
        code = EXIT_INTERNAL
    finally:
        restore_signal_handlers(handlers)
        sys.stdout = stdout  # (main called in-process, as the tests do)
    sys.exit(code)


def _run(app: Callable[..., object]) -> int | str | None:
    """The app's exit status, with standard output flushed inside the error handling (a full
    disk or a closed pipe shows there, not in the interpreter's shutdown)."""
    from analyzer.runtime import swallowed_interrupt

    try:
        app(standalone_mode=True)
        code: int | str | None = 0
    except SystemExit as exc:
        exit_ = exc.__context__
        if isinstance(exit_, Exception) and isinstance(exit_.__cause__, KeyboardInterrupt):
            # typer turns a KeyboardInterrupt into a silent exit 130; it is one a native loop
            # (watchfiles) raised for our signal handler's Interrupted, which it swallowed
            raise swallowed_interrupt() from None
        code = exc.code
    sys.stdout.flush()
    return code
