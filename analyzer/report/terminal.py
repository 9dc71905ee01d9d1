"""Rich terminal view of analyses (colour on a terminal, plain text when piped)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from analyzer.types import TrackAnalysis

if TYPE_CHECKING:
    from rich.console import Console


def _fmt(v: float | None, unit: str, reason: str | None = None) -> str:
    if v is None:
        return f"[dim]n/a ({reason})[/dim]" if reason else "[dim]n/a[/dim]"
    if v == -math.inf:
        return "[dim]-inf (silent)[/dim]"
    return f"{v:.1f} {unit}"


def _peak_style(v: float) -> str:
    if v > 0.0:
        return "bold red"
    if v > -1.0:
        return "yellow"
    return "green"


def render_track(console: Console, result: TrackAnalysis) -> None:
    from rich.markup import escape
    from rich.table import Table

    lo, pk, fi = result.loudness, result.peaks, result.file
    why = lo.null_reasons
    title = (
        f"{escape(fi.path)}  [dim]{fi.sample_rate_hz} Hz · {fi.channels} ch · "
        f"{fi.duration_s:.1f} s · {fi.format}/{fi.subtype}[/dim]"
    )
    table = Table(title=title, title_justify="left", show_header=True, header_style="bold")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    table.add_column("Definition", style="dim")
    table.add_row(
        "Integrated",
        _fmt(lo.integrated_lufs, "LUFS", why.get("integrated_lufs")),
        "BS.1770-4, gated (-70 LUFS, -10 LU)",
    )
    table.add_row(
        "Momentary max",
        _fmt(lo.momentary_max_lufs, "LUFS", why.get("momentary_max_lufs")),
        "400 ms window",
    )
    table.add_row(
        "Short-term max",
        _fmt(lo.short_term_max_lufs, "LUFS", why.get("short_term_max_lufs")),
        "3 s window",
    )
    table.add_row("Loudness range", _fmt(lo.lra_lu, "LU", why.get("lra_lu")), "EBU Tech 3342")
    tp = pk.true_peak_dbtp
    tp_text = _fmt(tp, "dBTP")
    if math.isfinite(tp):
        tp_text = f"[{_peak_style(tp)}]{tp_text}[/]"
    table.add_row("True peak", tp_text, f"BS.1770-4 Annex 2, {pk.oversampling_factor}x oversampled")
    if fi.channels > 1:
        per = "  ".join(_fmt(v, "").strip() for v in pk.true_peak_per_channel_dbtp)
        table.add_row("  per channel", per, "dBTP")
    table.add_row("Sample peak", _fmt(pk.sample_peak_dbfs, "dBFS"), "largest |sample|")
    console.print(table)
