"""Reports of the mastering proposal and of a written master: JSON parts and terminal tables."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from analyzer.mastering.chain import MasterResult
from analyzer.mastering.propose import Proposal
from analyzer.mastering.verify import Verification
from analyzer.report.json import SCHEMA_VERSION, _num, track_to_dict
from analyzer.version import __version__


def proposal_to_dict(p: Proposal) -> dict[str, Any]:
    """``proposal``: EQ moves with reasons, the predicted tonal error, the width move and the
    loudness plan."""
    tone = p.tone
    return {
        "amounts": {k: _num(v, 3) for k, v in p.amounts.items()},
        "eq": {
            "moves": [
                {
                    "type": m.kind,
                    "frequency_hz": _num(m.frequency_hz, 1),
                    "gain_db": _num(m.gain_db, 2),
                    "q": _num(m.q, 3),
                    "why": m.why,
                }
                for m in tone.moves
            ],
            "fine": None
            if tone.fine is None
            else {
                "smoothing_octaves": _num(tone.fine.smoothing_octaves, 3),
                "frequencies_hz": [_num(f, 1) for f in tone.fine.frequencies_hz],
                "gain_db": [_num(g, 2) for g in tone.fine.gain_db],
            },
            "band_hz": [_num(f, 1) for f in tone.band_hz],
            "difference_before_db": [_num(v, 2) for v in tone.before_db],
            "difference_after_predicted_db": [_num(v, 2) for v in tone.after_db],
            "tonal_error_before_db": _num(tone.error_before_db, 2),
            "tonal_error_after_predicted_db": _num(tone.error_after_db, 2),
            "notes": list(tone.notes),
        },
        "width": {
            "side_gain_db": _num(p.width.side_gain_db, 2),
            "mono_below_hz": _num(p.width.mono_below_hz, 1),
            "why": list(p.width.why),
        },
        "loudness": {
            "target_lufs": _num(p.loudness.target_lufs, 2),
            "target_source": p.loudness.target_source,
            "ceiling_dbtp": _num(p.loudness.ceiling_dbtp, 2),
            "gain_db": _num(p.loudness.gain_db, 2),
            "predicted_peak_reduction_db": _num(p.loudness.predicted_peak_reduction_db, 2),
            "warnings": list(p.loudness.warnings),
        },
    }


def proposal_from_dict(d: dict[str, Any]) -> Proposal:
    """A ``proposal`` object back into a :class:`Proposal` (the JSON's rounding aside)."""
    from analyzer.mastering.eq import EqMove
    from analyzer.mastering.propose import FineCurve, LoudnessPlan, ToneProposal, WidthProposal

    eq, wd, ld = d["eq"], d["width"], d["loudness"]
    fine = eq["fine"]
    tone = ToneProposal(
        moves=tuple(
            EqMove(m["type"], m["frequency_hz"], m["gain_db"], m["q"], m["why"])
            for m in eq["moves"]
        ),
        fine=None if fine is None else FineCurve(
            tuple(fine["frequencies_hz"]), tuple(fine["gain_db"]), fine["smoothing_octaves"]
        ),
        band_hz=tuple(eq["band_hz"]),
        before_db=tuple(eq["difference_before_db"]),
        after_db=tuple(eq["difference_after_predicted_db"]),
        error_before_db=eq["tonal_error_before_db"],
        error_after_db=eq["tonal_error_after_predicted_db"],
        amount=d["amounts"]["tone"],
        notes=tuple(eq["notes"]),
    )  # fmt: skip
    width = WidthProposal(wd["side_gain_db"], wd["mono_below_hz"], tuple(wd["why"]))
    loud = LoudnessPlan(
        ld["target_lufs"], ld["target_source"], ld["ceiling_dbtp"], ld["gain_db"],
        ld["predicted_peak_reduction_db"], d["amounts"]["loudness"], tuple(ld["warnings"]),
    )  # fmt: skip
    return Proposal(tone=tone, width=width, loudness=loud, amounts=dict(d["amounts"]))


def verification_to_dict(v: Verification) -> dict[str, Any]:
    return {
        "rows": [
            {
                "metric": r.metric,
                "unit": r.unit,
                "before": _num(r.before, 2),
                "after": _num(r.after, 2),
                "reference": _num(r.reference, 2),
            }
            for r in v.rows
        ],
        "tonal_error_before_db": _num(v.tonal_error_before_db, 3),
        "tonal_error_after_db": _num(v.tonal_error_after_db, 3),
        "target_lufs": _num(v.target_lufs, 2),
        "ceiling_dbtp": _num(v.ceiling_dbtp, 2),
        "checks": dict(v.checks),
    }


def master_document(
    *, mix: Any, proposal: Proposal, engine: str, result: MasterResult | None,
    verification: Verification | None, references: list[str], notes: list[str],
) -> str:  # fmt: skip
    """The ``master`` JSON: the mix, the proposal, and (unless a dry run) the output's analysis,
    what the limiter did and the verification."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mixanalyzer", "version": __version__},
        "engine": engine,
        "references": references,
        "mix": track_to_dict(mix),
        "proposal": proposal_to_dict(proposal),
        "notes": notes,
    }
    if result is not None:
        lim = result.limiter
        doc["output"] = {
            "path": result.path,
            "analysis": track_to_dict(result.analysis),
            "gain_db": _num(result.gain_db, 2),
            "limiter": None
            if lim is None
            else {
                "max_gain_reduction_db": _num(lim.max_gain_reduction_db, 2),
                "mean_gain_reduction_db": _num(lim.mean_gain_reduction_db, 3),
                "limited_fraction": _num(lim.limited_fraction, 4),
                "latency_samples": lim.latency_samples,
            },
            "write_passes": result.write_passes,
            "warnings": list(result.warnings),
        }
    if verification is not None:
        doc["verification"] = verification_to_dict(verification)
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def master_view_for(
    proposal: Proposal, sample_rate_hz: int, *, engine: str = "native",
    result: MasterResult | None = None, verification: Verification | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The report's ``master`` section: the moves, the response of everything the EQ does
    (moves and fine curve, 1/24-octave grid 20 Hz-20 kHz) and the before/after table."""
    import numpy as np

    from analyzer.mastering.eq import response_db
    from analyzer.report.view import master_view

    hz = 20.0 * 2.0 ** (np.arange(0, 240) / 24.0)
    hz = hz[hz < min(20000.0, 0.49 * sample_rate_hz)]
    tone = proposal.tone
    db = response_db(tone.moves, sample_rate_hz, hz) if tone.moves else np.zeros(hz.size)
    if tone.fine is not None:
        db = db + tone.fine.gain_at(hz)
    rows = []
    if verification is not None:
        rows = [{"label": r.metric, "unit": r.unit, "before": r.before, "after": r.after}
                for r in verification.rows]  # fmt: skip
    return master_view(
        [{"kind": m.kind, "freq_hz": m.frequency_hz, "gain_db": m.gain_db, "q": m.q,
          "reason": m.why.partition(": ")[2]} for m in tone.moves],
        engine=engine,
        response={"hz": [float(f) for f in hz], "db": [float(v) for v in db]},
        before_after=rows,
        output=None if result is None else result.path,
        notes=[*proposal.notes, *proposal.width.why, *(result.warnings if result else ()),
               *(notes or [])],
    )  # fmt: skip


def _f(v: float | None, spec: str = "+.1f") -> str:
    return "-" if v is None else format(v, spec)


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
            f"{tone.error_before_db:.2f} dB now, {_f(tone.error_after_db, '.2f')} dB predicted "
            f"after the moves",
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
        unit = f" {r.unit}"
        table.add_row(
            f"{r.metric} ({r.unit})",
            _f(r.before, spec), _f(r.after, spec), _f(r.reference, spec),
        )  # fmt: skip
        del unit
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
