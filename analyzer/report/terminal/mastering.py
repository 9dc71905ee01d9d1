"""Terminal tables of the mastering proposal and of the verification of a written master."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from analyzer.report.numbers import number
from analyzer.report.terminal.cells import fmt_dash
from analyzer.report.terminal.fit import fit_width

if TYPE_CHECKING:
    from rich.console import Console

    from analyzer.mastering.chain import MasterResult
    from analyzer.mastering.propose import Proposal
    from analyzer.mastering.verify import Verification


def render_proposal(console: Console, p: Proposal, *, title: str = "proposed master") -> None:
    """The moves with their reasons, the predicted residual, width and loudness."""
    tone = p.tone
    table = Table(title=title, title_justify="left", show_header=True)
    table.add_column("move", no_wrap=True)
    table.add_column("why", overflow="fold")
    if p.dc is not None:
        head, _, why = p.dc.why.partition(": ")
        table.add_row(escape(head), escape(why))
    for m in sorted(tone.moves, key=lambda m: m.frequency_hz):
        head, _, why = m.why.partition(": ")
        table.add_row(escape(head), escape(why))
    if tone.fine is not None:
        table.add_row(
            f"fine match curve ({tone.fine.smoothing_octaves:.2g} oct smoothing)",
            "linear-phase FIR: the smoothed residual after the moves",
        )
    for why in p.width.why:
        head, _, rest = why.partition(": ")
        table.add_row(escape(head), escape(rest))
    lp = p.loudness
    if lp.target_lufs is not None and lp.amount > 0:
        table.add_row(
            f"gain {number(lp.gain_db, '+.1f')} dB into a {lp.ceiling_dbtp:g} dBTP limiter",
            f"target {lp.target_lufs:.1f} LUFS ({escape(lp.target_source)}); about "
            f"{lp.predicted_peak_reduction_db:.1f} dB of peak reduction",
        )
    if table.row_count:
        console.print(fit_width(console, table))
    else:
        console.print(f"{title}: nothing to change", markup=False)
    if tone.error_before_db is not None:
        console.print(
            f"tonal difference (RMS, 40 Hz-16 kHz, level-matched): "
            f"{tone.error_before_db:.2f} dB now, {fmt_dash(tone.error_after_db, '.2f')} dB "
            "predicted after the moves",
            markup=False,
        )
    for note in p.notes:
        console.print(f"note: {note}", markup=False, soft_wrap=True)


#: The bands the terminal shows of Matchering's measured EQ change (octave centres, Hz).
OCTAVE_CENTRES_HZ = (31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0)


def render_matchering(console: Console, result: MasterResult) -> None:
    """What Matchering did, measured on the written master: its EQ (the level-matched
    1/3-octave change, at octave centres), its gain, its limiter, and the true-peak limiter
    after it."""
    eff = result.matchering
    if eff is None:
        return
    table = Table(title="what Matchering did (measured: master minus mix, level-matched)",
                  title_justify="left")  # fmt: skip
    shown = [(hz, db) for hz, db in zip(eff.band_hz, eff.eq_change_db, strict=True)
             if any(abs(hz - c) / c < 0.02 for c in OCTAVE_CENTRES_HZ)]  # fmt: skip
    table.add_column("Hz", no_wrap=True)
    for hz, _ in shown:
        table.add_column(f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}", justify="right")
    table.add_row("dB", *(fmt_dash(db, "+.1f") for _, db in shown))
    console.print(fit_width(console, table))
    gain = "unknown" if eff.gain_db is None else f"{number(eff.gain_db, '+.1f')} dB"
    console.print(
        f"Matchering: level {gain} (integrated), its limiter took "
        f"{eff.peak_reduction_db:.1f} dB off the sample peaks",
        markup=False,
    )
    if not eff.true_peak_limited:
        console.print("no true-peak limiter after it (--raw-matchering)", markup=False)


def render_verification(console: Console, v: Verification, result: MasterResult) -> None:
    """Before / after / reference, and the checks."""
    table = Table(title="verification (measured on the written file)", title_justify="left")
    for col in ("", "before", "after", "reference"):
        table.add_column(col, justify="right" if col else "left", no_wrap=True)
    for r in v.rows:
        spec = ".2f" if r.metric == "tonal error" else ".1f"
        table.add_row(
            f"{r.metric} ({r.unit})",
            fmt_dash(r.before, spec), fmt_dash(r.after, spec), fmt_dash(r.reference, spec),
        )  # fmt: skip
    console.print(fit_width(console, table))
    lim = result.limiter
    if lim is not None and result.matchering is not None:
        console.print(
            f"true-peak limiter after Matchering: peak reduction up to "
            f"{lim.max_gain_reduction_db:.1f} dB to {lim.ceiling_dbtp:g} dBTP, limiting "
            f"{100 * lim.limited_fraction:.1f} % of the time",
            markup=False,
        )
    elif lim is not None:
        console.print(
            f"limiter: gain {number(result.gain_db, '+.2f')} dB in, peak reduction up to "
            f"{lim.max_gain_reduction_db:.1f} dB, limiting {100 * lim.limited_fraction:.1f} % "
            "of the time",
            markup=False,
        )
    marks = {True: "ok", False: "FAILED", None: "n/a"}
    console.print(
        "checks: " + ", ".join(f"{k.replace('_', ' ')} {marks[x]}" for k, x in v.checks.items()),
        markup=False,
        soft_wrap=True,
    )
