"""Where the command line writes: the stdout console for tables, the stderr console for progress,
and the one-line ``mixanalyzer: error|warning|note: ...`` messages on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from analyzer.untrusted import terminal_safe

#: The title of the proposal that ``compare`` and ``translate`` show.
PROPOSAL_TITLE = "proposed master (apply: mixanalyzer master)"


#: The width of tables written to a pipe or file when ``COLUMNS`` does not say: wider than the
#: 80 columns of an old terminal, so file names and findings keep to a line or two.
PIPED_WIDTH = 120


def output_width(is_terminal: bool, environ: Mapping[str, str] | None = None) -> int | None:
    """The width the stdout tables take: ``COLUMNS`` when set to a positive number, the
    terminal's own (``None``: rich asks it) on a terminal, else :data:`PIPED_WIDTH`."""
    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if is_terminal else PIPED_WIDTH


def _safe_console(**kwargs: Any) -> Any:
    """A rich console whose every rendered text segment goes through
    :func:`~analyzer.untrusted.terminal_safe`: names, labels, keys and descriptions read from
    files or the command line reach the terminal with their control and bidi characters made
    visible, whatever table or markup they are in (rich's ``escape()`` only escapes markup,
    and rich passes ESC through). Rich's own styling is in separate control codes, kept."""
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def render(self, renderable: Any, options: Any = None) -> Any:
            for seg in super().render(renderable, options):
                if seg.control or seg.text.isprintable() or seg.text == "\n":
                    yield seg
                else:
                    yield Segment(terminal_safe(seg.text, keep_newlines=True), seg.style)

    return SafeConsole(highlight=False, **kwargs)


def stdout_console() -> Any:
    """A rich console on standard output (tables and reports), as wide as
    :func:`output_width` says."""
    return _safe_console(width=output_width(sys.stdout.isatty()))


def stderr_console() -> Any:
    """A rich console on standard error (progress bars)."""
    return _safe_console(stderr=True)


def print_error(message: str) -> None:
    print(f"mixanalyzer: error: {terminal_safe(message)}", file=sys.stderr)


def print_warnings(warnings: Iterable[str]) -> None:
    for w in warnings:
        print(f"mixanalyzer: warning: {terminal_safe(w)}", file=sys.stderr)


def print_notes(notes: Iterable[str]) -> None:
    for note in notes:
        print(f"mixanalyzer: note: {terminal_safe(note)}", file=sys.stderr)
