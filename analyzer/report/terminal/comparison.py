"""Terminal tables of a comparison with references and of the translation to playback
devices; the tonal bars and the ranked findings from the view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.numbers import metric_decimals, number
from analyzer.report.terminal.analysis import BAND_LABELS
from analyzer.report.terminal.cells import GRADE_STYLE, VERDICT_STYLE, fmt_plain
from analyzer.report.terminal.fit import fit_width
from analyzer.report.verdicts import MAIN_METRICS, score_grade
from analyzer.report.view.model import Finding, MetricRow

if TYPE_CHECKING:
    from rich.console import Console

    from analyzer.comparison.metrics import Comparison


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
        spec = f".{metric_decimals(name)}f"
        rng = "n/a" if m.p10 is None else f"{number(m.p10, spec)}..{number(m.p90, spec)}"
        verdict = m.verdict or "n/a"
        style = VERDICT_STYLE.get(verdict, "dim")
        t.add_row(label, fmt_plain(m.mix, spec), fmt_plain(m.median, spec), rng,
                  fmt_plain(m.delta, "+" + spec), f"[{style}]{verdict}[/]")  # fmt: skip

    for name, label in MAIN_METRICS:
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
    t.caption = TONAL_RELATIVE
    console.print(fit_width(console, t))
    if comp.reference_gains_db:
        console.print("[bold]Playback gain for each reference to match the mix[/bold]")
        for ref, gain in comp.reference_gains_db.items():
            console.print(f"  {escape(ref)}: {fmt_plain(gain, '+.1f')} dB", highlight=False)
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
    # "Under noise": the bands masked by the device's noise (a count), in five columns.
    # Headers over two lines, cells whole (never "100" over "%"): a table too wide for the
    # console is drawn more compactly or in parts (analyzer.report.terminal.fit).
    for col in ("Refs", "Loud LU", "Bass kept", "Harm dB", "Mono LU", "Under noise"):
        t.add_column(col.replace(" ", "\n"), justify="right", no_wrap=True)
    for d in tr.devices:
        if d.score is None:  # a mix without integrated loudness is not scored
            cell = "[dim]····· n/a[/]"
        else:
            style = GRADE_STYLE[score_grade(d.score) or "bad"]
            bar = "█" * round(d.score / 20) + "·" * (5 - round(d.score / 20))
            cell = f"[{style}]{bar} {d.score:3.0f}[/]"
        t.add_row(
            escape(d.label or d.name) if wide else escape(d.name),
            cell,
            fmt_plain(d.reference_score, ".0f"),
            fmt_plain(d.loudness_change_lu, "+.1f"),
            "n/a" if d.bass_survival is None else f"{number(100 * d.bass_survival, '.0f')} %",
            fmt_plain(d.harmonic_bass_db, "+.1f"),
            fmt_plain(d.mono_loss_lu, "+.1f"),
            str(len(d.masked_bands)),
        )
    t.caption = f"spread {fmt_plain(tr.spread, '.0f')} points over the devices"
    console.print(fit_width(console, t))
    render_score_parts(console, tr)
    for note in dict.fromkeys(d.note for d in tr.devices if d.note):  # each said once
        console.print(f"[dim]device note:[/] {escape(note)}", highlight=False)
    ranked = set(tr.ranked_differences)
    for d in tr.devices:
        for f in d.findings:  # each finding names its device already
            if f not in ranked:  # said below, against the references
                console.print(f"- {escape(f)}", highlight=False)
    for line in tr.ranked_differences:
        console.print(f"[cyan]vs references:[/] {escape(line)}", highlight=False)


def score_parts_text(d: Any) -> str:
    """``74 = 100 - 16.3 mono fold loss - 6.8 bass through harmonics``: a device's score from
    the points of its named parts (largest first; parts that take nothing off are left out)."""
    from analyzer.playback.device_parts import PART_LABELS

    if d.score is None:
        return "n/a (not scored)"
    taken = sorted((p for p in d.parts if p.points >= 0.05), key=lambda p: -p.points)
    terms = "".join(f" - {p.points:.1f} {PART_LABELS.get(p.name, p.name)}" for p in taken)
    return f"{d.score:.1f} = 100{terms}"


def render_score_parts(console: Console, tr: Any) -> None:
    """Per device, what its score is made of (:func:`score_parts_text`)."""
    from rich.markup import escape

    console.print("[bold]Scores, part by part[/bold]", highlight=False)
    for d in tr.devices:
        console.print(f"  {escape(d.name)}: {escape(score_parts_text(d))}", highlight=False)


#: How to read the tonal-balance numbers, said wherever they are shown.
TONAL_RELATIVE = (
    "Tonal bands: dB relative to each track's own total, so a dull top raises the share of "
    "every band below it; the references' range is the guide"
)
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


def render_tonal_bars(console: Console, rows: Sequence[MetricRow]) -> None:
    """Tonal balance of the mix against the references' range, one compact bar per band, from
    the view's rows (:attr:`analyzer.report.view.ComparisonView.tonal`)."""
    from rich.table import Table

    t = Table(title="Tonal balance against the references", title_justify="left",
              header_style="bold", box=None, pad_edge=False)  # fmt: skip
    t.add_column("Band")
    t.add_column(f"{TONAL_BAR_DB[0]:.0f} dB … {TONAL_BAR_DB[1]:.0f} dB", no_wrap=True)
    t.add_column("Mix", justify="right")
    t.add_column("Delta", justify="right")
    t.add_column("")
    for r in rows:
        verdict = r.verdict or "n/a"
        style = VERDICT_STYLE.get(verdict, "dim")
        bar = tonal_bar(r.mix, r.p10, r.p90)
        t.add_row(r.label, f"[{style}]{bar}[/]", fmt_plain(r.mix, ".1f"),
                  fmt_plain(r.delta, "+.1f"), f"[{style}]{verdict}[/]")  # fmt: skip
    t.caption = f"█ mix  ░ references 10-90 %  ▓ both. {TONAL_RELATIVE}"
    console.print(fit_width(console, t))


def render_findings(console: Console, findings: Sequence[Finding], limit: int = 10) -> None:
    """The ranked findings of a view (most important first), numbered."""
    from rich.markup import escape

    if not findings:
        return
    console.print("[bold]What matters most[/bold]")
    for i, f in enumerate(findings[:limit], 1):
        console.print(f"  {i:>2}. {escape(f.text)} [dim]({f.source})[/dim]", highlight=False)
    if len(findings) > limit:
        console.print(f"  [dim]… and {len(findings) - limit} more in the HTML/JSON report[/dim]")
