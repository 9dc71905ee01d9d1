"""The outputs of every command: ``-`` (standard output) or a path written atomically, refused
up front when it exists without ``--force`` (exit 4), before any analysis."""

from __future__ import annotations

import sys

from analyzer.app.measuring import refuse_existing_output
from analyzer.errors import UsageError
from analyzer.untrusted import terminal_safe


def check_outputs(
    *paths: str | None, force: bool, html: str | None = None, listen: bool = False
) -> None:
    """Refuse, before any work: an existing output without ``force`` (exit 4), ``--html -``
    (a 5 MB page on a terminal helps nobody; exit 2) and ``--listen`` without ``--html``."""
    check_listen(listen, html)
    for path in paths:
        refuse_existing_output(path, force)
    if html == "-":
        raise UsageError("--html needs a file path ('-' is only for --json)")
    refuse_existing_output(html, force)


def check_listen(listen: bool, html: str | None) -> None:
    """``--listen`` puts the player in the HTML report: refused without ``--html`` (exit 2)."""
    if listen and not html:
        raise UsageError("--listen needs --html PATH (the player is part of the HTML report)")


def emit(path: str | None, text: str, *, force: bool) -> None:
    """Write ``text`` to standard output (``-``), atomically to ``path``, or nowhere (None)."""
    if not path:
        return
    if path == "-":
        if sys.stdout.isatty():  # a CSV cell or a name read to a person: no raw controls
            text = terminal_safe(text.replace("\r\n", "\n"), keep_newlines=True)
        sys.stdout.write(text)
        return
    from analyzer.io import write_text_atomic

    write_text_atomic(path, text, force=force)
