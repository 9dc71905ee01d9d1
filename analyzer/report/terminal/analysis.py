"""Terminal tables of one analysis: loudness and peaks, dynamics, stereo, tonal balance, and
the platforms' normalisation preview."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from analyzer.dsp.bands import BROAD_BANDS
from analyzer.report.findings import TrackFinding, platform_finding
from analyzer.report.numbers import number
from analyzer.report.terminal.cells import PEAK_STYLE, fmt_plain, fmt_value
from analyzer.report.terminal.fit import fit_width
from analyzer.report.verdicts import true_peak_verdict
from analyzer.types import TrackAnalysis

if TYPE_CHECKING:
    from rich.console import Console

BAND_LABELS = {band.key: band.terminal_label for band in BROAD_BANDS}


def render_track(console: Console, result: TrackAnalysis) -> None:
    """Loudness and peaks of one file, with their definitions."""
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
        fmt_value(lo.integrated_lufs, "LUFS", why.get("integrated_lufs")),
        "BS.1770-4, gated (-70 LUFS, -10 LU)",
    )
    table.add_row(
        "Momentary max",
        fmt_value(lo.momentary_max_lufs, "LUFS", why.get("momentary_max_lufs")),
        "400 ms window",
    )
    table.add_row(
        "Short-term max",
        fmt_value(lo.short_term_max_lufs, "LUFS", why.get("short_term_max_lufs")),
        "3 s window",
    )
    table.add_row("Loudness range", fmt_value(lo.lra_lu, "LU", why.get("lra_lu")), "EBU Tech 3342")
    tp = pk.true_peak_dbtp
    tp_text = fmt_value(tp, "dBTP")
    verdict = true_peak_verdict(tp)
    if verdict is not None:
        tp_text = f"[{PEAK_STYLE[verdict]}]{tp_text}[/]"
    table.add_row("True peak", tp_text, f"BS.1770-4 Annex 2, {pk.oversampling_factor}x oversampled")
    if fi.channels > 1:
        per = "  ".join(fmt_value(v, "").strip() for v in pk.true_peak_per_channel_dbtp)
        table.add_row("  per channel", per, "dBTP")
    table.add_row("Sample peak", fmt_value(pk.sample_peak_dbfs, "dBFS"), "largest |sample|")
    console.print(fit_width(console, table))


def _bar(value_db: float | None, lo: float = -30.0, hi: float = 0.0, width: int = 20) -> str:
    if value_db is None or not math.isfinite(value_db):
        return ""
    frac = (min(max(value_db, lo), hi) - lo) / (hi - lo)
    return "█" * round(frac * width)


def render_character(console: Console, result: TrackAnalysis) -> None:
    """Dynamics, stereo and tonal balance of one track (the sections present)."""
    from rich.table import Table

    dy, st, sp = result.dynamics, result.stereo, result.spectrum
    if dy is not None:
        t = Table(title="Dynamics", title_justify="left", header_style="bold")
        t.add_column("Metric")
        t.add_column("Value", justify="right")
        t.add_column("Definition", style="dim")
        t.add_row("Crest factor", fmt_value(dy.crest_factor_db, "dB"), "sample peak / RMS")
        t.add_row("PLR", fmt_value(dy.plr_db, "dB"), "true peak - integrated")
        psr = f"{fmt_value(dy.psr_max_db, '')} / {fmt_value(dy.psr_median_db, 'dB')}"
        t.add_row("PSR max / median", psr, "3 s true peak - short-term")
        t.add_row("DR", "n/a" if dy.dr is None else f"DR{dy.dr}", "TT / Pleasurize DR meter")
        clip_style = "red" if dy.clipped_runs else "green"
        t.add_row("Clipped runs", f"[{clip_style}]{dy.clipped_runs}[/]", ">= 3 samples at the peak")
        over_style = "red" if dy.intersample_overs else "green"
        t.add_row(
            "Inter-sample overs",
            f"[{over_style}]{dy.intersample_overs}[/]",
            "> 0 dBFS between samples",
        )
        dc = "  ".join(f"{number(v, '+.5f')}" for v in dy.dc_offset)
        t.add_row("DC offset", dc, "mean sample value")
        console.print(fit_width(console, t))
    if st is not None:
        t = Table(title="Stereo", title_justify="left", header_style="bold")
        t.add_column("Metric")
        t.add_column("Value", justify="right")
        t.add_column("Definition", style="dim")
        if "mono" in st.flags:
            t.add_row("Channels", "mono", "no stereo image")
        else:
            t.add_row("Correlation", fmt_plain(st.correlation, ".2f"), "Pearson, whole file")
            t.add_row("  5th pct / min", f"{fmt_plain(st.correlation_p5, '.2f')} / "
                      f"{fmt_plain(st.correlation_min, '.2f')}", "per 400 ms")  # fmt: skip
            t.add_row("Side / mid", fmt_value(st.side_to_mid_db, "dB"), "energy ratio")
            t.add_row("Mono loss", fmt_value(st.mono_loss_lu, "LU"), "(L+R)/2 vs stereo loudness")
            t.add_row("Balance", fmt_value(st.balance_db, "dB"), "L minus R")
        if st.flags and st.flags != ("mono",):
            t.add_row("Flags", "[yellow]" + ", ".join(st.flags) + "[/]", "")
        console.print(fit_width(console, t))
    if sp is not None and sp.tonal_balance_db:
        t = Table(title="Tonal balance", title_justify="left", header_style="bold")
        t.add_column("Band (Hz)")
        t.add_column("dB", justify="right")
        t.add_column("re own total", min_width=20)
        t.add_column("Width S/M", justify="right")
        widths = st.width_per_band_db if st is not None else {}
        for key, label in BAND_LABELS.items():
            v = sp.tonal_balance_db.get(key)
            t.add_row(label, fmt_plain(v, ".1f"), f"[cyan]{_bar(v)}[/]",
                      fmt_plain(widths.get(key), ".1f"))  # fmt: skip
        tilt = fmt_plain(sp.tilt_db_per_octave, "+.2f")
        t.caption = (
            f"dB relative to the track's own total power; tilt {tilt} dB/oct, "
            "100 Hz-10 kHz (pink noise = 0)"
        )
        console.print(fit_width(console, t))


def render_track_findings(console: Console, findings: Sequence[TrackFinding]) -> None:
    """The findings table (what is out of spec, what to do, where), or one line saying there
    are none."""
    from rich.markup import escape
    from rich.table import Table

    if not findings:
        console.print("[green]Findings: none[/] [dim](peaks, DC, stereo flags, PLR, platforms)[/]")
        return
    t = Table(title="Findings", title_justify="left", header_style="bold")
    t.add_column("")
    t.add_column("What is out of spec, where, and what to do")
    for f in findings:  # the text says where ("at 2:31")
        t.add_row(f"[{_SEVERITY_STYLE[f.severity]}]{f.severity}[/]", escape(f.text))
    console.print(fit_width(console, t))


_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "cyan"}


def render_platforms(
    console: Console, previews: list, codec: list | None = None, *, louder_line: bool = True
) -> None:
    """Per platform: the gain it applies, the resulting loudness and true peak; warnings.
    "Louder than needed" is one line naming every platform that turns the track down
    (``louder_line=False`` when a findings table below says it)."""
    from rich.markup import escape
    from rich.table import Table

    if previews:
        t = Table(title="Streaming platforms and broadcast", title_justify="left",
                  header_style="bold")  # fmt: skip
        for col in ("Target", "LUFS", "Gain", "Result", "True peak", "Limited by"):
            t.add_column(col, justify="left" if col in ("Target", "Limited by") else "right")
        for p in previews:
            tp_style = "red" if p.warnings and any("true peak" in w for w in p.warnings) else ""
            tp = f"{number(p.result_true_peak_dbtp, '+.1f')}"
            t.add_row(escape(p.label or p.name), f"{p.target_lufs:.0f}",
                      number(p.gain_db, "+.1f"),
                      f"{p.result_lufs:.1f}", f"[{tp_style}]{tp}[/]" if tp_style else tp,
                      p.limited_by or "")  # fmt: skip
        console.print(fit_width(console, t))
        for p in previews:
            for w in p.warnings:
                if "louder than needed" not in w:
                    console.print(f"[yellow]{escape(p.label or p.name)}:[/] {escape(w)}")
        louder = platform_finding(previews) if louder_line else None
        if louder is not None:
            console.print(f"[yellow]Platforms:[/] {escape(louder.text)}")
    if codec:
        t = Table(title="Lossy round trip (true peak after decoding)", title_justify="left",
                  header_style="bold")  # fmt: skip
        for col in ("Codec", "Bitrate", "Before", "After", "Overs after"):
            t.add_column(col, justify="left" if col in ("Codec", "Bitrate") else "right")
        for r in codec:
            if r.error:
                t.add_row(
                    r.codec,
                    escape(r.bitrate_note.split(";")[0]),
                    "",
                    f"[dim]{escape(r.error)}[/]",
                    "",
                )
                continue
            note = escape(r.bitrate_note.split(";")[0])
            t.add_row(r.codec, note, number(r.true_peak_before_dbtp, "+.2f"),
                      number(r.true_peak_after_dbtp, "+.2f"),
                      str(r.intersample_overs_after))  # fmt: skip
        console.print(fit_width(console, t))
