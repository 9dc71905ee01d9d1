"""Versioned JSON of an analysis.

``-inf`` (digital silence) and ``None`` (undefined) both become ``null``, and the reason is given
under ``null_reasons``; NaN never appears. Keys carry units. ``SCHEMA_VERSION`` changes when a key
changes meaning or disappears; new keys beside the old ones do not change it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from analyzer.comparison.metrics import Comparison
from analyzer.types import DynamicsStats, Series, SpectrumStats, StereoStats, TrackAnalysis
from analyzer.version import __version__

SCHEMA_VERSION = 1


def _num(v: float | None, digits: int = 4) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return round(float(v), digits)


def _series(s: Series | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"rate_hz": s.rate_hz, "start_s": s.start_s, "values": [_num(v, 3) for v in s.values]}


def track_to_dict(
    result: TrackAnalysis,
    *,
    series: bool = False,
    platforms: list[Any] | None = None,
    codec_check: list[Any] | None = None,
) -> dict[str, Any]:
    """The per-file JSON object (``schema_version``, ``file``, ``loudness``, ``warnings``)."""
    lo, pk, fi = result.loudness, result.peaks, result.file
    reasons = dict(lo.null_reasons)
    if pk.true_peak_dbtp == -math.inf:
        reasons["true_peak_dbtp"] = "silent"
        reasons["sample_peak_dbfs"] = "silent"
    if lo.fold_down_integrated_lufs == -math.inf and "fold_down_integrated_lufs" not in reasons:
        reasons["fold_down_integrated_lufs"] = "silent: the mono fold-down cancels"
    loud: dict[str, Any] = {
        "integrated_lufs": _num(lo.integrated_lufs),
        "momentary_max_lufs": _num(lo.momentary_max_lufs),
        "short_term_max_lufs": _num(lo.short_term_max_lufs),
        "lra_lu": _num(lo.lra_lu),
        "lra_low_lufs": _num(lo.lra_low_lufs),
        "lra_high_lufs": _num(lo.lra_high_lufs),
        "relative_gate_lufs": _num(lo.relative_gate_lufs),
        "fold_down_integrated_lufs": _num(lo.fold_down_integrated_lufs),
        "true_peak_dbtp": _num(pk.true_peak_dbtp),
        "true_peak_per_channel_dbtp": [_num(v) for v in pk.true_peak_per_channel_dbtp],
        "sample_peak_dbfs": _num(pk.sample_peak_dbfs),
        "sample_peak_per_channel_dbfs": [_num(v) for v in pk.sample_peak_per_channel_dbfs],
        "true_peak_oversampling": pk.oversampling_factor,
        "null_reasons": reasons,
    }
    if series:
        loud["momentary_series_lufs"] = _series(lo.momentary)
        loud["short_term_series_lufs"] = _series(lo.short_term)
        # Largest value between two 10 Hz updates (about 1 ms resolution): a peak-hold trace.
        loud["momentary_hold_series_lufs"] = _series(lo.momentary_hold)
        loud["short_term_hold_series_lufs"] = _series(lo.short_term_hold)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mixanalyzer", "version": __version__},
        "file": {
            "path": fi.path,
            "format": fi.format,
            "subtype": fi.subtype,
            "sample_rate_hz": fi.sample_rate_hz,
            "channels": fi.channels,
            "frames": fi.frames,
            "duration_s": round(fi.duration_s, 6),
        },
        "loudness": loud,
    }
    if result.spectrum is not None:
        doc["spectrum"] = _spectrum(result.spectrum)
    if result.dynamics is not None:
        doc["dynamics"] = _dynamics(result.dynamics, series=series)
    if result.stereo is not None:
        doc["stereo"] = _stereo(result.stereo, series=series)
    if platforms is not None:
        doc["platforms"] = platforms_to_list(platforms)
    if codec_check is not None:
        doc["codec_check"] = codec_results_to_list(codec_check)
    doc["warnings"] = list(result.warnings)
    return doc


def _levels(values: Any) -> list[float | None] | None:
    return None if values is None else [_num(v, 2) for v in values]


def _mapping(m: Any, digits: int = 2) -> dict[str, float | None]:
    return {k: _num(v, digits) for k, v in m.items()}


def _spectrum(sp: SpectrumStats) -> dict[str, Any]:
    return {
        "third_octave_hz": list(sp.third_octave_hz),
        "third_octave_db": _levels(sp.third_octave_db),
        "third_octave_db_per_channel": [_levels(c) for c in sp.third_octave_db_per_channel],
        "third_octave_mid_db": _levels(sp.third_octave_mid_db),
        "third_octave_side_db": _levels(sp.third_octave_side_db),
        "sixth_octave_hz": [round(f, 2) for f in sp.sixth_octave_hz],
        "sixth_octave_db": _levels(sp.sixth_octave_db),
        "tonal_balance_db": _mapping(sp.tonal_balance_db),
        "tilt_db_per_octave": _num(sp.tilt_db_per_octave, 3),
        "levelled_to_lufs": _num(sp.levelled_to_lufs, 3),
        "frame_size": sp.frame_size,
        "frames_averaged": sp.frames_averaged,
    }


def _dynamics(dy: DynamicsStats, *, series: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "crest_factor_db": _num(dy.crest_factor_db, 3),
        "plr_db": _num(dy.plr_db, 3),
        "psr_max_db": _num(dy.psr_max_db, 3),
        "psr_median_db": _num(dy.psr_median_db, 3),
        "dr": dy.dr,
        "dr_per_channel": [_num(v, 2) for v in dy.dr_per_channel],
        "dc_offset": [_num(v, 7) for v in dy.dc_offset],
        "clipped_runs": dy.clipped_runs,
        "clipped_run_positions_s": [round(t, 4) for t in dy.clipped_run_positions_s],
        "intersample_overs": dy.intersample_overs,
    }
    if series:
        out["psr_series_db"] = _series(dy.psr)
    return out


def _stereo(st: StereoStats, *, series: bool = False) -> dict[str, Any]:
    reasons = {}
    if st.mono_loss_lu == -math.inf:
        reasons["mono_loss_lu"] = "the channels cancel: the mono fold-down is silent"
    if st.side_to_mid_db == -math.inf:
        reasons["side_to_mid_db"] = "no side signal (L = R)"
    out: dict[str, Any] = {
        "correlation": _num(st.correlation),
        "correlation_min": _num(st.correlation_min),
        "correlation_p5": _num(st.correlation_p5),
        "correlation_below_zero_share": _num(st.correlation_below_zero_share),
        "side_to_mid_db": _num(st.side_to_mid_db, 2),
        "width_per_band_db": _mapping(st.width_per_band_db),
        "mono_loss_lu": _num(st.mono_loss_lu, 3),
        "mono_loss_per_band_lu": _mapping(st.mono_loss_per_band_lu, 3),
        "balance_db": _num(st.balance_db, 3),
        "flags": list(st.flags),
        "null_reasons": reasons,
    }
    if series:
        out["correlation_series"] = _series(st.correlation_series)
    return out


def analyses_to_json(
    results: list[TrackAnalysis],
    *,
    series: bool = False,
    several: bool | None = None,
    errors: list[dict[str, Any]] | None = None,
    extras: list[dict[str, Any]] | None = None,
) -> str:
    """One input file: its object. Several (``several=True``, the default when there is more than
    one result): ``{"schema_version", "tool", "files": [objects], "errors": [...]}``. ``extras``
    holds keyword arguments of :func:`track_to_dict` per result (platforms, codec check)."""
    extras = extras or [{} for _ in results]
    objs = [track_to_dict(r, series=series, **e) for r, e in zip(results, extras, strict=True)]
    if several is None:
        several = len(objs) != 1
    if not several:
        doc: dict[str, Any] = objs[0]
    else:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "mixanalyzer", "version": __version__},
            "files": objs,
            "errors": errors or [],
        }
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def lookup(doc: dict[str, Any], dotted: str) -> Any:
    """``lookup(d, "loudness.lra_lu")``; raises KeyError when absent."""
    cur: Any = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise KeyError(dotted)
        cur = cur[part]
    return cur


def comparison_to_dict(comp: Comparison) -> dict[str, Any]:
    """``comparison.references``, ``comparison.metrics`` (metric -> {mix, median, p10, p90,
    delta, verdict}), ``comparison.top_differences``, the reference gains and notes."""
    return {
        "references": list(comp.references),
        "reference_gains_db": {k: _num(v, 2) for k, v in comp.reference_gains_db.items()},
        "metrics": {
            name: {
                "mix": _num(m.mix, 3),
                "median": _num(m.median, 3),
                "p10": _num(m.p10, 3),
                "p90": _num(m.p90, 3),
                "delta": _num(m.delta, 3),
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
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mixanalyzer", "version": __version__},
        "section": section,
        "mix": track_to_dict(mix),
        "comparison": comparison_to_dict(comp),
    }
    if platforms is not None:
        doc["platforms"] = platforms_to_list(platforms)
    if proposal is not None:
        doc["proposal"] = proposal
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def platforms_to_list(previews: list[Any]) -> list[dict[str, Any]]:
    """``platforms``: per streaming platform / broadcast target, the normalisation preview."""
    return [
        {
            "name": p.name,
            "label": p.label,
            "target_lufs": p.target_lufs,
            "gain_db": _num(p.gain_db, 2),
            "result_lufs": _num(p.result_lufs, 2),
            "result_true_peak_dbtp": _num(p.result_true_peak_dbtp, 2),
            "limited_by": p.limited_by,
            "warnings": list(p.warnings),
        }
        for p in previews
    ]


def codec_results_to_list(results: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "codec": r.codec,
            "bitrate": r.bitrate_note,
            "true_peak_before_dbtp": _num(r.true_peak_before_dbtp, 3),
            "true_peak_after_dbtp": _num(r.true_peak_after_dbtp, 3),
            "intersample_overs_after": r.intersample_overs_after,
            "error": r.error,
        }
        for r in results
    ]


def translation_to_dict(tr: Any) -> dict[str, Any]:
    """``translation.devices`` (list of {name, score, loudness_change_lu, bass_survival,
    mono_loss_lu, masked_bands, tonal_balance_db, reference_score, findings}) and the spread."""
    return {
        "devices": [
            {
                "name": d.name,
                "label": d.label,
                "score": _num(d.score, 1),
                "loudness_change_lu": _num(d.loudness_change_lu, 2),
                "bass_survival": _num(d.bass_survival, 3),
                "harmonic_bass_db": _num(d.harmonic_bass_db, 2),
                "mono_loss_lu": _num(d.mono_loss_lu, 2),
                "masked_bands": list(d.masked_bands),
                "tonal_balance_db": _mapping(d.tonal_balance_db),
                "reference_score": _num(d.reference_score, 1),
                "findings": list(d.findings),
                "tonal_curve_db": [_num(v, 2) for v in d.tonal_curve_db],
            }
            for d in tr.devices
        ],
        "spread": _num(tr.spread, 1),
        "ranked_differences": list(tr.ranked_differences),
    }


def translate_document(
    mix: TrackAnalysis, references: list[str], tr: Any, *, proposal: Any = None
) -> str:
    """The ``translate`` JSON: the mix's analysis under ``mix``, the reference names,
    ``translation`` and, with references, the mastering ``proposal``."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mixanalyzer", "version": __version__},
        "mix": track_to_dict(mix),
        "references": references,
        "translation": translation_to_dict(tr),
    }
    if proposal is not None:
        from analyzer.report.mastering import proposal_to_dict

        doc["proposal"] = proposal_to_dict(proposal)
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def schema_text() -> str:
    """The JSON Schema (draft 2020-12) of every document the CLI writes, shipped in the
    package."""
    from importlib.resources import files

    return files("analyzer.report").joinpath("schema.json").read_text(encoding="utf-8")
