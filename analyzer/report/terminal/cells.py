"""Cells of the terminal tables: numbers with units, "n/a" and "-inf" where undefined or
silent, and the styles of the verdicts the view decides (:mod:`analyzer.report.verdicts`)."""

from __future__ import annotations

import math

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
    return f"{v:.1f} {unit}"


def fmt_plain(v: float | None, spec: str) -> str:
    """``format(v, spec)``, "n/a" when undefined, "-inf" for silence (no markup)."""
    if v is None:
        return "n/a"
    if v == -math.inf:
        return "-inf"
    return format(v, spec)


def fmt_dash(v: float | None, spec: str, unit: str = "") -> str:
    """``format(v, spec)`` and the unit, or "-" when there is no value."""
    return "-" if v is None else f"{format(v, spec)} {unit}".rstrip()
