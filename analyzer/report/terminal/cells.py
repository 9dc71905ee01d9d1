"""Cells of the terminal tables: numbers with units, "n/a" and "-inf" where undefined or
silent, and the styles of the verdicts the view decides (:mod:`analyzer.report.verdicts`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from analyzer.report.numbers import number

#: Rich styles of a comparison verdict, a true-peak verdict and a device grade.
VERDICT_STYLE = {"within": "green", "above": "yellow", "below": "cyan"}
PEAK_STYLE = {"bad": "bold red", "warn": "yellow", "good": "green"}
GRADE_STYLE = {"good": "green", "warn": "yellow", "bad": "red"}


def fmt_value(v: float | None, unit: str, reason: str | None = None) -> str:
    """``-14.2 LUFS``; a dim "n/a (reason)" when undefined, "-inf (silent)" for silence."""
    if v is None:
        return f"[dim]n/a ({reason})[/dim]" if reason else "[dim]n/a[/dim]"
    if v == -math.inf:
        return "[dim]-inf (silent)[/dim]"
    return f"{number(v)} {unit}"


def fmt_plain(v: float | None, spec: str) -> str:
    """``format(v, spec)``, "n/a" when undefined, "-inf" for silence (no markup)."""
    return number(v, spec)


def fmt_dash(v: float | None, spec: str, unit: str = "") -> str:
    """``format(v, spec)`` and the unit, or "-" when there is no value."""
    return "-" if v is None else f"{number(v, spec)} {unit}".rstrip()


def name_room(console_width: int, other_columns: Iterable[Iterable[str]]) -> int:
    """The cells left for a column of names in a bordered rich table (one cell of padding on
    each side, one border after each column) beside ``other_columns`` (each its header and
    cells, markup-free) on a console ``console_width`` wide; at least 12."""
    from rich.cells import cell_len

    used = 1 + 3 + sum(max((cell_len(c) for c in col), default=0) + 3 for col in other_columns)
    return max(12, console_width - used)


def two_line_names(names: Sequence[str], room: int) -> tuple[list[str], int]:
    """``names`` fitted to a folded column of ``room`` cells over two lines at most (a name
    longer than two lines keeps its start and its end, the middle cut to "…"), and the column's
    minimum width: half the longest fitted name."""
    from rich.cells import cell_len

    fitted = []
    for name in names:
        if cell_len(name) > 2 * room:
            tail = 2 * room - 1 - room // 2  # the end (the file's own name) matters most
            name = name[: room // 2] + "…" + name[-tail:]
        fitted.append(name)
    longest = max((cell_len(n) for n in fitted), default=0)
    return fitted, min(room, -(-longest // 2))
