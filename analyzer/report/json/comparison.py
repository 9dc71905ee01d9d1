"""JSON of a comparison with references and of a translation to playback devices."""

from __future__ import annotations

from typing import Any

from analyzer.comparison.metrics import Comparison
from analyzer.report.json.analysis import platforms_to_list, track_to_dict
from analyzer.report.json.envelope import COMPARISON, TRANSLATION, document_text, envelope
from analyzer.report.json.master import proposal_to_dict
from analyzer.report.numbers import rounded, rounded_mapping
from analyzer.types import TrackAnalysis


def comparison_to_dict(comp: Comparison) -> dict[str, Any]:
    """``comparison.references``, ``comparison.metrics`` (metric -> {mix, median, p10, p90,
    delta, verdict}), ``comparison.top_differences``, the reference gains and notes."""
    return {
        "references": list(comp.references),
        "reference_gains_db": {k: rounded(v, 2) for k, v in comp.reference_gains_db.items()},
        "metrics": {
            name: {
                "mix": rounded(m.mix, 3),
                "median": rounded(m.median, 3),
                "p10": rounded(m.p10, 3),
                "p90": rounded(m.p90, 3),
                "delta": rounded(m.delta, 3),
                "verdict": m.verdict,
                "deviation": round(m.deviation, 3),
            }
            for name, m in comp.metrics.items()
        },
        "top_differences": [
            {"metric": d.metric, "score": round(d.score, 3), "text": d.text}
            for d in comp.top_differences
        ],
        "notes": list(comp.notes),
    }


def compare_document(
    mix: TrackAnalysis,
    comp: Comparison,
    *,
    section: str = "whole",
    platforms: list[Any] | None = None,
    proposal: dict[str, Any] | None = None,
) -> str:
    """The ``compare`` JSON: the mix's own analysis under ``mix``, then ``comparison`` and the
    mix's ``platforms`` preview."""
    doc = envelope(COMPARISON, {
        "section": section,
        "mix": track_to_dict(mix),
        "comparison": comparison_to_dict(comp),
    })  # fmt: skip
    if platforms is not None:
        doc["platforms"] = platforms_to_list(platforms)
    if proposal is not None:
        doc["proposal"] = proposal
    return document_text(doc)


def translation_to_dict(tr: Any) -> dict[str, Any]:
    """``translation.devices`` (list of {name, score, loudness_change_lu, bass_survival,
    mono_loss_lu, masked_bands, tonal_balance_db, reference_score, findings, limiting_lu, parts
    (the named parts of the score), note (what every track loses there), timed_findings (with
    at_s / end_s, seconds)}) and the spread."""
    return {
        "devices": [
            {
                "name": d.name,
                "label": d.label,
                "score": rounded(d.score, 1),
                "loudness_change_lu": rounded(d.loudness_change_lu, 2),
                "bass_survival": rounded(d.bass_survival, 3),
                "harmonic_bass_db": rounded(d.harmonic_bass_db, 2),
                "mono_loss_lu": rounded(d.mono_loss_lu, 2),
                "masked_bands": list(d.masked_bands),
                "tonal_balance_db": rounded_mapping(d.tonal_balance_db),
                "reference_score": rounded(d.reference_score, 1),
                "findings": list(d.findings),
                "tonal_curve_db": [rounded(v, 2) for v in d.tonal_curve_db],
                "limiting_lu": rounded(d.limiting_lu, 2),
                "tonal_shift_db": rounded_mapping(d.tonal_shift_db),
                "parts": [
                    {
                        "name": p.name,
                        "points": rounded(p.points, 1),
                        "figure": rounded(p.figure, 2),
                        "unit": p.unit,
                        "basis": p.basis,
                    }
                    for p in d.parts
                ],
                "note": d.note,
                "timed_findings": [
                    {
                        "code": t.code,
                        "text": t.text,
                        "at_s": rounded(t.at_s, 2),
                        "end_s": rounded(t.end_s, 2),
                    }
                    for t in d.timed_findings
                ],
            }
            for d in tr.devices
        ],
        "spread": rounded(tr.spread, 1),
        "ranked_differences": list(tr.ranked_differences),
    }


def translate_document(
    mix: TrackAnalysis, references: list[str], tr: Any, *, proposal: Any = None,
    render_gains_db: dict[str, float] | None = None,
) -> str:  # fmt: skip
    """The ``translate`` JSON: the mix's analysis under ``mix``, the reference names,
    ``translation`` and, with references, the mastering ``proposal``; with ``--render`` each
    rendered device's ``render_gain_db`` (rendered loudness = mix + loudness_change_lu + it)."""
    translation = translation_to_dict(tr)
    for device in translation["devices"]:
        if render_gains_db and device["name"] in render_gains_db:
            device["render_gain_db"] = rounded(render_gains_db[device["name"]], 2)
    doc = envelope(TRANSLATION, {
        "mix": track_to_dict(mix),
        "references": references,
        "translation": translation,
    })  # fmt: skip
    if proposal is not None:
        doc["proposal"] = proposal_to_dict(proposal)
    return document_text(doc)
