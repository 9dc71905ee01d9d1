"""JSON of the mastering proposal, of a written master and of its verification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from analyzer.report.json.analysis import track_to_dict
from analyzer.report.json.envelope import MASTER, document_text, envelope
from analyzer.report.numbers import rounded

if TYPE_CHECKING:
    from analyzer.mastering.chain import MasterResult
    from analyzer.mastering.propose import Proposal
    from analyzer.mastering.verify import Verification


def proposal_to_dict(p: Proposal) -> dict[str, Any]:
    """``proposal``: the DC offset taken out (null when none), EQ moves with reasons, the
    predicted tonal error, the width move and the loudness plan."""
    tone = p.tone
    return {
        "amounts": {k: rounded(v, 3) for k, v in p.amounts.items()},
        "eq": {
            "moves": [
                {
                    "type": m.kind,
                    "frequency_hz": rounded(m.frequency_hz, 1),
                    "gain_db": rounded(m.gain_db, 2),
                    "q": rounded(m.q, 3),
                    "why": m.why,
                }
                for m in tone.moves
            ],
            "fine": None
            if tone.fine is None
            else {
                "smoothing_octaves": rounded(tone.fine.smoothing_octaves, 3),
                "frequencies_hz": [rounded(f, 1) for f in tone.fine.frequencies_hz],
                "gain_db": [rounded(g, 2) for g in tone.fine.gain_db],
            },
            "band_hz": [rounded(f, 1) for f in tone.band_hz],
            "difference_before_db": [rounded(v, 2) for v in tone.before_db],
            "difference_after_predicted_db": [rounded(v, 2) for v in tone.after_db],
            "tonal_error_before_db": rounded(tone.error_before_db, 2),
            "tonal_error_after_predicted_db": rounded(tone.error_after_db, 2),
            "notes": list(tone.notes),
            "too_far": tone.too_far,
            "far_db": rounded(tone.far_db, 2),
        },
        "dc_removal": None
        if p.dc is None
        else {
            "offsets": [rounded(v, 6) for v in p.dc.offsets],
            "share_of_power": rounded(p.dc.share_of_power, 4),
            "why": p.dc.why,
        },
        "width": {
            "side_gain_db": rounded(p.width.side_gain_db, 2),
            "mono_below_hz": rounded(p.width.mono_below_hz, 1),
            "why": list(p.width.why),
        },
        "loudness": {
            "target_lufs": rounded(p.loudness.target_lufs, 2),
            "target_source": p.loudness.target_source,
            "ceiling_dbtp": rounded(p.loudness.ceiling_dbtp, 2),
            "gain_db": rounded(p.loudness.gain_db, 2),
            "predicted_peak_reduction_db": rounded(p.loudness.predicted_peak_reduction_db, 2),
            "max_limiting_db": rounded(p.loudness.max_limiting_db, 2),
            "asked_lufs": rounded(p.loudness.asked_lufs, 2),
            "warnings": list(p.loudness.warnings),
        },
    }


def verification_to_dict(v: Verification) -> dict[str, Any]:
    """``verification``: before / after / reference rows, the tonal error and the checks."""
    return {
        "rows": [
            {
                "metric": r.metric,
                "unit": r.unit,
                "before": rounded(r.before, 2),
                "after": rounded(r.after, 2),
                "reference": rounded(r.reference, 2),
            }
            for r in v.rows
        ],
        "tonal_error_before_db": rounded(v.tonal_error_before_db, 3),
        "tonal_error_after_db": rounded(v.tonal_error_after_db, 3),
        "target_lufs": rounded(v.target_lufs, 2),
        "ceiling_dbtp": rounded(v.ceiling_dbtp, 2),
        "checks": dict(v.checks),
    }


def master_document(
    *, mix: Any, proposal: Proposal, engine: str, result: MasterResult | None,
    verification: Verification | None, references: list[str], notes: list[str],
) -> str:  # fmt: skip
    """The ``master`` JSON: the mix, the proposal, and (unless a dry run) the output's analysis,
    what the limiter did and the verification."""
    doc = envelope(MASTER, {
        "engine": engine,
        "references": references,
        "mix": track_to_dict(mix),
        "proposal": proposal_to_dict(proposal),
        "notes": notes,
    })  # fmt: skip
    if result is not None:
        lim = result.limiter
        doc["output"] = {
            "path": result.path,
            "analysis": track_to_dict(result.analysis),
            "gain_db": rounded(result.gain_db, 2),
            "limiter": None
            if lim is None
            else {
                "max_gain_reduction_db": rounded(lim.max_gain_reduction_db, 2),
                "mean_gain_reduction_db": rounded(lim.mean_gain_reduction_db, 3),
                "limited_fraction": rounded(lim.limited_fraction, 4),
                "latency_samples": lim.latency_samples,
            },
            "write_passes": result.write_passes,
            "warnings": list(result.warnings),
        }
        eff = result.matchering
        if eff is not None:
            doc["output"]["matchering"] = {
                "band_hz": [rounded(f, 1) for f in eff.band_hz],
                "eq_change_db": [rounded(v, 2) for v in eff.eq_change_db],
                "gain_db": rounded(eff.gain_db, 2),
                "peak_reduction_db": rounded(eff.peak_reduction_db, 2),
                "true_peak_limited": eff.true_peak_limited,
            }
    if verification is not None:
        doc["verification"] = verification_to_dict(verification)
    return document_text(doc)
