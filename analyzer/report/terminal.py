"""Rich terminal view of analyses (colour on a terminal, plain text when piped)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from analyzer.dsp.bands import BROAD_BANDS
from analyzer.types import TrackAnalysis

if TYPE_CHECKING:
    from rich.console import Console

    from analyzer.comparison.metrics import Comparison


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


BAND_LABELS = {band.key: band.terminal_label for band in BROAD_BANDS}


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
        t.add_row("Crest factor", _fmt(dy.crest_factor_db, "dB"), "sample peak / RMS")
        t.add_row("PLR", _fmt(dy.plr_db, "dB"), "true peak - integrated")
        t.add_row("PSR max / median", f"{_fmt(dy.psr_max_db, '')} / {_fmt(dy.psr_median_db, 'dB')}",
                  "3 s true peak - short-term")  # fmt: skip
        t.add_row("DR", "n/a" if dy.dr is None else f"DR{dy.dr}", "TT / Pleasurize DR meter")
        clip_style = "red" if dy.clipped_runs else "green"
        t.add_row("Clipped runs", f"[{clip_style}]{dy.clipped_runs}[/]", ">= 3 samples at the peak")
        over_style = "red" if dy.intersample_overs else "green"
        t.add_row(
            "Inter-sample overs",
            f"[{over_style}]{dy.intersample_overs}[/]",
            "> 0 dBFS between samples",
        )
        dc = "  ".join(f"{v:+.5f}" for v in dy.dc_offset)
        t.add_row("DC offset", dc, "mean sample value")
        console.print(t)
    if st is not None:
        t = Table(title="Stereo", title_justify="left", header_style="bold")
        t.add_column("Metric")
        t.add_column("Value", justify="right")
        t.add_column("Definition", style="dim")
        if "mono" in st.flags:
            t.add_row("Channels", "mono", "no stereo image")
        else:
            t.add_row("Correlation", _fmt_plain(st.correlation, ".2f"), "Pearson, whole file")
            t.add_row("  5th pct / min", f"{_fmt_plain(st.correlation_p5, '.2f')} / "
                      f"{_fmt_plain(st.correlation_min, '.2f')}", "per 400 ms")  # fmt: skip
            t.add_row("Side / mid", _fmt(st.side_to_mid_db, "dB"), "energy ratio")
            t.add_row("Mono loss", _fmt(st.mono_loss_lu, "LU"), "(L+R)/2 vs stereo loudness")
            t.add_row("Balance", _fmt(st.balance_db, "dB"), "L minus R")
        if st.flags and st.flags != ("mono",):
            t.add_row("Flags", "[yellow]" + ", ".join(st.flags) + "[/]", "")
        console.print(t)
    if sp is not None and sp.tonal_balance_db:
        t = Table(title="Tonal balance", title_justify="left", header_style="bold")
        t.add_column("Band (Hz)")
        t.add_column("dB", justify="right")
        t.add_column("re total", min_width=20)
        t.add_column("Width S/M", justify="right")
        widths = st.width_per_band_db if st is not None else {}
        for key, label in BAND_LABELS.items():
            v = sp.tonal_balance_db.get(key)
            t.add_row(label, _fmt_plain(v, ".1f"), f"[cyan]{_bar(v)}[/]",
                      _fmt_plain(widths.get(key), ".1f"))  # fmt: skip
        tilt = _fmt_plain(sp.tilt_db_per_octave, "+.2f")
        t.caption = f"tilt {tilt} dB/oct, 100 Hz-10 kHz (pink noise = 0)"
        console.print(t)


def _fmt_plain(v: float | None, spec: str) -> str:
    if v is None:
        return "n/a"
    if v == -math.inf:
        return "-inf"
    return format(v, spec)


VERDICT_STYLE = {"within": "green", "above": "yellow", "below": "cyan"}
_MAIN_ROWS = [
    ("integrated_lufs", "Integrated (LUFS)"),
    ("lra_lu", "Loudness range (LU)"),
    ("true_peak_dbtp", "True peak (dBTP)"),
    ("plr_db", "PLR (dB)"),
    ("psr_median_db", "PSR median (dB)"),
    ("crest_factor_db", "Crest factor (dB)"),
    ("tilt_db_per_octave", "Tilt (dB/oct)"),
    ("correlation", "Correlation"),
]


def render_comparison(console: Console, comp: Comparison) -> None:
    """The comparison table (main metrics, broad bands, out-of-range 1/3-octave bands), the
    references' playback gains and the ranked differences."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Mix vs references (level-matched)", title_justify="left",
              header_style="bold")  # fmt: skip
    for col, just in (("Metric", "left"), ("Mix", "right"), ("Refs median", "right"),
                      ("10-90 %", "right"), ("Delta", "right"), ("", "left")):  # fmt: skip
        t.add_column(col, justify=just)  # type: ignore[arg-type]

    def row(name: str, label: str) -> None:
        m = comp.metrics.get(name)
        if m is None:
            return
        rng = "n/a" if m.p10 is None else f"{m.p10:.1f}..{m.p90:.1f}"
        verdict = m.verdict or "n/a"
        style = VERDICT_STYLE.get(verdict, "dim")
        t.add_row(label, _fmt_plain(m.mix, ".1f"), _fmt_plain(m.median, ".1f"), rng,
                  _fmt_plain(m.delta, "+.1f"), f"[{style}]{verdict}[/]")  # fmt: skip

    for name, label in _MAIN_ROWS:
        row(name, label)
    for band, label in BAND_LABELS.items():
        row(f"tonal.{band}", f"Tonal {label}")
    for band, label in BAND_LABELS.items():
        m = comp.metrics.get(f"width.{band}")
        if m is not None and m.verdict not in (None, "within"):
            row(f"width.{band}", f"Width {label}")
    for name, m in comp.metrics.items():
        if name.startswith("third_octave.") and m.verdict not in (None, "within"):
            row(name, f"1/3 oct {name.split('.', 1)[1]} Hz")
    console.print(t)
    if comp.reference_gains_db:
        console.print("[bold]Playback gain for each reference to match the mix[/bold]")
        for ref, gain in comp.reference_gains_db.items():
            console.print(f"  {escape(ref)}: {_fmt_plain(gain, '+.1f')} dB", highlight=False)
    if comp.top_differences:
        console.print("[bold]Differences that matter most[/bold]")
        for i, d in enumerate(comp.top_differences, 1):
            console.print(f"  {i}. {escape(d.text)}", highlight=False)
    elif any(m.verdict is not None for m in comp.metrics.values()):
        console.print("[green]Within the references' range on every metric.[/green]")
    else:
        console.print("[yellow]No metric could be compared (silent or too short?).[/yellow]")
    for note in comp.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]", highlight=False)


def render_platforms(console: Console, previews: list, codec: list | None = None) -> None:
    """Per platform: the gain it applies, the resulting loudness and true peak; warnings."""
    from rich.markup import escape
    from rich.table import Table

    if previews:
        t = Table(title="Streaming platforms and broadcast", title_justify="left",
                  header_style="bold")  # fmt: skip
        for col in ("Target", "LUFS", "Gain", "Result", "True peak", "Limited by"):
            t.add_column(col, justify="left" if col in ("Target", "Limited by") else "right")
        for p in previews:
            tp_style = "red" if p.warnings and any("true peak" in w for w in p.warnings) else ""
            tp = f"{p.result_true_peak_dbtp:+.1f}"
            t.add_row(escape(p.label or p.name), f"{p.target_lufs:.0f}", f"{p.gain_db:+.1f}",
                      f"{p.result_lufs:.1f}", f"[{tp_style}]{tp}[/]" if tp_style else tp,
                      p.limited_by or "")  # fmt: skip
        console.print(t)
        shown: set[str] = set()
        for p in previews:
            for w in p.warnings:
                if "louder than needed" in w and "louder" in shown:
                    continue
                shown.add("louder" if "louder than needed" in w else w)
                console.print(f"[yellow]{escape(p.label or p.name)}:[/] {escape(w)}")
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
            t.add_row(r.codec, note, f"{r.true_peak_before_dbtp:+.2f}",
                      f"{r.true_peak_after_dbtp:+.2f}", str(r.intersample_overs_after))  # fmt: skip
        console.print(t)


def render_translation(console: Console, tr: Any) -> None:
    """Per device: score (and the references' score), loudness change, bass, mono, masking;
    then the findings in words."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="Translation to playback systems", title_justify="left", header_style="bold")
    wide = console.width >= 120  # the short device names keep an 80-column table on one line
    t.add_column("Device", no_wrap=not wide, overflow="fold")
    t.add_column("Score", justify="right", no_wrap=True)
    # Short headers: the table fits 80 columns with the device names on one line.
    for col in ("Refs", "Loud LU", "Bass kept", "Harm dB", "Mono LU", "Masked"):
        t.add_column(col, justify="right")
    for d in tr.devices:
        style = "green" if d.score >= 75 else "yellow" if d.score >= 50 else "red"
        bar = "█" * round(d.score / 20) + "·" * (5 - round(d.score / 20))
        t.add_row(
            escape(d.label or d.name) if wide else escape(d.name),
            f"[{style}]{bar} {d.score:3.0f}[/]",
            _fmt_plain(d.reference_score, ".0f"),
            _fmt_plain(d.loudness_change_lu, "+.1f"),
            "n/a" if d.bass_survival is None else f"{100 * d.bass_survival:.0f} %",
            _fmt_plain(d.harmonic_bass_db, "+.1f"),
            _fmt_plain(d.mono_loss_lu, "+.1f"),
            str(len(d.masked_bands)),
        )
    t.caption = f"spread {_fmt_plain(tr.spread, '.0f')} points over the devices"
    console.print(t)
    for d in tr.devices:
        for f in d.findings:  # each finding names its device already
            console.print(f"- {escape(f)}", highlight=False)
    for line in tr.ranked_differences:
        console.print(f"[cyan]vs references:[/] {escape(line)}", highlight=False)


#: The dB span the tonal-balance bars cover (re the track's total power).
TONAL_BAR_DB = (-45.0, 0.0)


def tonal_bar(
    mix_db: float | None,
    p10: float | None = None,
    p90: float | None = None,
    width: int = 24,
    span: tuple[float, float] = TONAL_BAR_DB,
) -> str:
    """A bar of ``width`` cells from ``span[0]`` to ``mix_db``, with the references' 10-90 %
    range shaded: ``█`` mix only, ``▓`` mix inside the range, ``░`` range beyond the mix."""
    lo, hi = span

    def cell(v: float) -> int:
        return round((min(max(v, lo), hi) - lo) / (hi - lo) * width)

    end = cell(mix_db) if mix_db is not None else 0
    r0, r1 = (cell(p10), max(cell(p90), cell(p10) + 1)) if p10 is not None and p90 is not None \
        else (width + 1, width + 1)  # fmt: skip
    out = []
    for i in range(width):
        in_bar, in_range = i < end, r0 <= i < r1
        out.append("▓" if in_bar and in_range else "█" if in_bar else "░" if in_range else " ")
    return "".join(out).rstrip()


def render_tonal_bars(console: Console, rows: list[dict[str, Any]]) -> None:
    """Tonal balance of the mix against the references' range, one compact bar per band, from
    the view model's rows (:func:`analyzer.report.view.comparison_view` ``tonal``)."""
    from rich.table import Table

    t = Table(title="Tonal balance against the references", title_justify="left",
              header_style="bold", box=None, pad_edge=False)  # fmt: skip
    t.add_column("Band")
    t.add_column(f"{TONAL_BAR_DB[0]:.0f} dB … {TONAL_BAR_DB[1]:.0f} dB", no_wrap=True)
    t.add_column("Mix", justify="right")
    t.add_column("Delta", justify="right")
    t.add_column("")
    for r in rows:
        verdict = r.get("verdict") or "n/a"
        style = VERDICT_STYLE.get(verdict, "dim")
        bar = tonal_bar(r.get("mix"), r.get("p10"), r.get("p90"))
        t.add_row(r["label"], f"[{style}]{bar}[/]", _fmt_plain(r.get("mix"), ".1f"),
                  _fmt_plain(r.get("delta"), "+.1f"), f"[{style}]{verdict}[/]")  # fmt: skip
    t.caption = "█ mix  ░ references 10-90 %  ▓ both"
    console.print(t)


def render_findings(console: Console, findings: list[dict[str, str]], limit: int = 10) -> None:
    """The ranked findings of a view (most important first), numbered."""
    from rich.markup import escape

    if not findings:
        return
    console.print("[bold]What matters most[/bold]")
    for i, f in enumerate(findings[:limit], 1):
        console.print(f"  {i:>2}. {escape(f['text'])} [dim]({f['source']})[/dim]", highlight=False)
    if len(findings) > limit:
        console.print(f"  [dim]… and {len(findings) - limit} more in the HTML/JSON report[/dim]")
