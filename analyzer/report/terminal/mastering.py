"""Terminal tables of the mastering proposal and of the verification of a written master."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from analyzer.report.terminal.cells import fmt_dash

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
            f"gain {lp.gain_db:+.1f} dB into a {lp.ceiling_dbtp:g} dBTP limiter",
            f"target {lp.target_lufs:.1f} LUFS ({escape(lp.target_source)}); about "
            f"{lp.predicted_peak_reduction_db:.1f} dB of peak reduction",
        )
    if table.row_count:
        console.print(table)
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
    console.print(table)
    lim = result.limiter
    if lim is not None:
        console.print(
            f"limiter: gain {result.gain_db:+.2f} dB in, peak reduction up to "
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
