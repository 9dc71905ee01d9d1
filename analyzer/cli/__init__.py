"""The ``mixanalyzer`` command: a thin typer layer over :mod:`analyzer.app`.

:func:`main` is the only place that turns an :class:`~analyzer.errors.AnalyzerError` into a
one-line message and an exit code. ``mixanalyzer --version`` answers before typer, rich or
numpy are imported.
"""

from __future__ import annotations

import os
import sys

from analyzer.errors import EXIT_INTERNAL, AnalyzerError
from analyzer.untrusted import terminal_safe
from analyzer.version import __version__

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def main() -> None:
    """Console entry point: runs the app and maps errors to one line and an exit code."""
    if sys.argv[1:] == ["--version"]:  # fast path: no typer/rich import
        print(f"mixanalyzer {__version__}")
        return
    from analyzer.runtime import tune_process

    tune_process()  # before numpy is first imported (commands import it lazily)
    from analyzer.cli.app import app
    from analyzer.cli.console import print_error

    try:
        app(standalone_mode=True)
    except AnalyzerError as exc:
        print_error(exc.message)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("mixanalyzer: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: one line, unless asked for the traceback
        if os.environ.get("MIXANALYZER_DEBUG"):
            raise
        print(
            f"mixanalyzer: internal error: {type(exc).__name__}: {terminal_safe(exc)} "
            "(set MIXANALYZER_DEBUG=1 for the traceback; please report it)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
