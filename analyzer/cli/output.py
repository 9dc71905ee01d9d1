"""The outputs of every command: ``-`` (standard output) or a path written atomically, refused
up front when it exists without ``--force`` (exit 4), before any analysis."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from analyzer.app.measuring import refuse_existing_output
from analyzer.errors import UsageError
from analyzer.untrusted import terminal_safe


def check_outputs(
    *paths: str | None,
    force: bool,
    html: str | None = None,
    inputs: Iterable[str | None] = (),
    listen: bool = False,
) -> None:
    """Refuse, before any work: ``--html -`` (a 5 MB page on a terminal helps nobody; exit 2),
    ``--listen`` without ``--html`` (exit 2); an output that is one of the ``inputs`` or another
    output, even with ``force`` (exit 4); an existing output without ``force``, or one that is
    not a regular file (exit 4)."""
    from analyzer.io.write import check_distinct, stream_of

    check_listen(listen, html)
    if stream_of(html) is not None:  # -, /dev/stdout, /dev/stderr
        raise UsageError("--html needs a file path ('-' is only for --json)")
    check_distinct(inputs, (*paths, html))
    for path in (*paths, html):
        refuse_existing_output(path, force)


def existing_files(*names: str | None) -> list[str]:
    """The names that are existing files (a ``--profile`` or ``--targets`` may be a name, not a
    path): inputs an output must not replace."""
    import os

    return [n for n in names if n and os.path.isfile(n)]


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


def check_export(export_eq: str | None, export_format: str, json_path: str | None) -> None:
    """``--export-format`` is one of the formats and goes with ``--export-eq``; the JSON and
    the export cannot both go to standard output (exit 2)."""
    from analyzer.report.eq_export import EXPORT_FORMATS

    if export_format not in EXPORT_FORMATS:
        raise UsageError(f"--export-format {export_format!r}: expected one of "
                         f"{', '.join(EXPORT_FORMATS)}")  # fmt: skip
    if export_eq == "-" and json_path == "-":
        raise UsageError("--json - and --export-eq -: only one of them can go to stdout")


def emit_export(
    path: str | None, proposal: object, sample_rate_hz: float, fmt: str, *, source: str,
    force: bool,
) -> None:  # fmt: skip
    """Write the proposal's EQ moves in ``fmt`` (:mod:`analyzer.report.eq_export`)."""
    if not path or proposal is None:
        return
    from analyzer.io import display_path
    from analyzer.report.eq_export import export_text

    name = display_path(os.path.basename(source))
    emit(path, export_text(proposal, sample_rate_hz, fmt, source=name), force=force)  # type: ignore[arg-type]
