"""The terminal table of one ``watch`` bounce: each figure now, since the previous bounce and
against the references, then the top differences in words."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from analyzer.report.numbers import number
from analyzer.report.terminal.fit import fit_width
from analyzer.report.watch_page import delta_rows


def _cell(v: float | None, spec: str, unit: str = "") -> str:
    return "-" if v is None else f"{number(v, spec)} {unit}".rstrip()


def render_bounce(console: Any, entry: Mapping[str, Any]) -> None:
    """The compact delta table of ``entry`` (a history entry with figures)."""
    from rich.markup import escape
    from rich.table import Table

    took = entry.get("analysis_s")
    name = os.path.basename(str(entry["path"]))
    title = f"bounce {entry['bounce']}: {escape(name)}"
    table = Table(title=title + (f" ({took:.1f} s)" if took is not None else ""),
                  title_justify="left")  # fmt: skip
    table.add_column("figure")
    for col in ("now", "since previous", "references", "vs references"):
        table.add_column(col, justify="right", no_wrap=True)
    for row in delta_rows(entry):
        change = row["vs_previous"]
        style = "" if change is None or abs(change) < 0.05 else ("yellow" if change > 0 else "cyan")
        shown = _cell(change, "+.1f")
        table.add_row(
            escape(row["label"]), _cell(row["value"], ".1f", row["unit"]),
            f"[{style}]{shown}[/{style}]" if style else shown,
            _cell(row["reference"], ".1f"), _cell(row["vs_references"], "+.1f"),
        )  # fmt: skip
    console.print(fit_width(console, table))
    for i, text in enumerate(entry.get("top_differences") or (), start=1):
        console.print(f"  {i}. {text}", markup=False, highlight=False)
