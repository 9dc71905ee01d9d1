"""Where the command line writes: the stdout console for tables, the stderr console for progress,
and the one-line ``mixanalyzer: error|warning|note: ...`` messages on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

#: The title of the proposal that ``compare`` and ``translate`` show.
PROPOSAL_TITLE = "proposed master (apply: mixanalyzer master)"


def stdout_console() -> Any:
    """A rich console on standard output (tables and reports)."""
    from rich.console import Console

    return Console(highlight=False)


def stderr_console() -> Any:
    """A rich console on standard error (progress bars)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_error(message: str) -> None:
    print(f"mixanalyzer: error: {message}", file=sys.stderr)


def print_warnings(warnings: Iterable[str]) -> None:
    for w in warnings:
        print(f"mixanalyzer: warning: {w}", file=sys.stderr)


def print_notes(notes: Iterable[str]) -> None:
    for note in notes:
        print(f"mixanalyzer: note: {note}", file=sys.stderr)
