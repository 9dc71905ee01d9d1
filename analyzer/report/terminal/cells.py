"""Cells of the terminal tables: numbers with units, "n/a" and "-inf" where undefined or
silent, and the styles of the verdicts the view decides (:mod:`analyzer.report.verdicts`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

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


def keep_names_to_two_lines(column: Any, names: Iterable[str], console_width: int) -> None:
    """Give ``column`` (a rich ``Column`` holding file names, folded) at least half the
    longest name's width, so no name wraps over more than two lines, as far as the console's
    width leaves the other columns ``OTHER_COLUMNS_MIN`` cells."""
    from rich.cells import cell_len

    longest = max((cell_len(n) for n in names), default=0)
    half = -(-longest // 2)
    column.min_width = max(column.min_width or 0, min(half, console_width - OTHER_COLUMNS_MIN))


#: The cells a table keeps for the columns beside a column of file names.
OTHER_COLUMNS_MIN = 40
