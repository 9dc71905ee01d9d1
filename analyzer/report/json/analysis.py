"""JSON of analyses: the per-file object, the one-file and several-files documents, the
platforms' preview and the lossy round trip.

``-inf`` (digital silence) and ``None`` (undefined) both become ``null``, and the reason is given
under ``null_reasons``; NaN never appears. Keys carry units.
"""

from __future__ import annotations

import math
from typing import Any

from analyzer.report.findings import findings_to_list, track_findings
from analyzer.report.json.envelope import ANALYSES, ANALYSIS, document_text, envelope, tool_header
from analyzer.report.numbers import rounded, rounded_mapping
from analyzer.types import DynamicsStats, Series, SpectrumStats, StereoStats, TrackAnalysis


def _series(s: Series | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"rate_hz": s.rate_hz, "start_s": s.start_s, "values": [rounded(v, 3) for v in s.values]}


def track_to_dict(result: TrackAnalysis, **options: Any) -> dict[str, Any]:
    """The per-file JSON object: :func:`~analyzer.report.json.envelope.tool_header`, then
    :func:`track_body` (``options``: its ``series``, ``platforms``, ``codec_check``)."""
    return {**tool_header(), **track_body(result, **options)}


def track_body(
    result: TrackAnalysis,
    *,
    series: bool = False,
    platforms: list[Any] | None = None,
    codec_check: list[Any] | None = None,
) -> dict[str, Any]:
    """The per-file object without its header: ``file``, ``loudness``, ..., ``warnings``; with
    ``platforms`` (a file's own report: analyze, batch) also ``findings``."""
    lo, pk, fi = result.loudness, result.peaks, result.file
    reasons = dict(lo.null_reasons)
    if pk.true_peak_dbtp == -math.inf:
        reasons["true_peak_dbtp"] = "silent"
        reasons["sample_peak_dbfs"] = "silent"
    if lo.fold_down_integrated_lufs == -math.inf and "fold_down_integrated_lufs" not in reasons:
        reasons["fold_down_integrated_lufs"] = "silent: the mono fold-down cancels"
    loud: dict[str, Any] = {
        "integrated_lufs": rounded(lo.integrated_lufs),
        "momentary_max_lufs": rounded(lo.momentary_max_lufs),
        "short_term_max_lufs": rounded(lo.short_term_max_lufs),
        "lra_lu": rounded(lo.lra_lu),
        "lra_low_lufs": rounded(lo.lra_low_lufs),
        "lra_high_lufs": rounded(lo.lra_high_lufs),
        "relative_gate_lufs": rounded(lo.relative_gate_lufs),
        "fold_down_integrated_lufs": rounded(lo.fold_down_integrated_lufs),
        "true_peak_dbtp": rounded(pk.true_peak_dbtp),
        "true_peak_per_channel_dbtp": [rounded(v) for v in pk.true_peak_per_channel_dbtp],
        "sample_peak_dbfs": rounded(pk.sample_peak_dbfs),
        "sample_peak_per_channel_dbfs": [rounded(v) for v in pk.sample_peak_per_channel_dbfs],
        "true_peak_oversampling": pk.oversampling_factor,
        "true_peak_at_s": rounded(pk.true_peak_at_s, 2),
        "short_term_max_at_s": rounded(lo.short_term_max_at_s, 2),
        "null_reasons": reasons,
    }
    if series:
        loud["momentary_series_lufs"] = _series(lo.momentary)
        loud["short_term_series_lufs"] = _series(lo.short_term)
        # Largest value between two 10 Hz updates (about 1 ms resolution): a peak-hold trace.
        loud["momentary_hold_series_lufs"] = _series(lo.momentary_hold)
        loud["short_term_hold_series_lufs"] = _series(lo.short_term_hold)
    doc: dict[str, Any] = {
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
    if platforms is not None:
        # The analysis of a file as its own report (analyze, batch): what is out of spec.
        doc["findings"] = findings_to_list(track_findings(result, platforms))
    doc["warnings"] = list(result.warnings)
    return doc


def _levels(values: Any) -> list[float | None] | None:
    return None if values is None else [rounded(v, 2) for v in values]


def _spectrum(sp: SpectrumStats) -> dict[str, Any]:
    return {
        "third_octave_hz": list(sp.third_octave_hz),
        "third_octave_db": _levels(sp.third_octave_db),
        "third_octave_db_per_channel": [_levels(c) for c in sp.third_octave_db_per_channel],
        "third_octave_mid_db": _levels(sp.third_octave_mid_db),
        "third_octave_side_db": _levels(sp.third_octave_side_db),
        "sixth_octave_hz": [round(f, 2) for f in sp.sixth_octave_hz],
        "sixth_octave_db": _levels(sp.sixth_octave_db),
        "tonal_balance_db": rounded_mapping(sp.tonal_balance_db),
        "tilt_db_per_octave": rounded(sp.tilt_db_per_octave, 3),
        "levelled_to_lufs": rounded(sp.levelled_to_lufs, 3),
        "frame_size": sp.frame_size,
        "frames_averaged": sp.frames_averaged,
    }


def _dynamics(dy: DynamicsStats, *, series: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "crest_factor_db": rounded(dy.crest_factor_db, 3),
        "plr_db": rounded(dy.plr_db, 3),
        "psr_max_db": rounded(dy.psr_max_db, 3),
        "psr_median_db": rounded(dy.psr_median_db, 3),
        "dr": dy.dr,
        "dr_per_channel": [rounded(v, 2) for v in dy.dr_per_channel],
        "dc_offset": [rounded(v, 7) for v in dy.dc_offset],
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
        "correlation": rounded(st.correlation),
        "correlation_min": rounded(st.correlation_min),
        "correlation_p5": rounded(st.correlation_p5),
        "correlation_below_zero_share": rounded(st.correlation_below_zero_share),
        "side_to_mid_db": rounded(st.side_to_mid_db, 2),
        "width_per_band_db": rounded_mapping(st.width_per_band_db),
        "mono_loss_lu": rounded(st.mono_loss_lu, 3),
        "mono_loss_per_band_lu": rounded_mapping(st.mono_loss_per_band_lu, 3),
        "balance_db": rounded(st.balance_db, 3),
        "flags": list(st.flags),
        "correlation_min_at_s": rounded(st.correlation_min_at_s, 2),
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
    """One input file: an ``analysis`` document (its object, with ``kind``). Several
    (``several=True``, the default when there is more than one result): an ``analyses`` document,
    ``{"schema_version", "tool", "kind", "files": [objects], "errors": [...]}``. ``extras`` holds
    keyword arguments of :func:`track_to_dict` per result (platforms, codec check)."""
    extras = extras or [{} for _ in results]
    bodies = [track_body(r, series=series, **e) for r, e in zip(results, extras, strict=True)]
    if several is None:
        several = len(bodies) != 1
    if not several:
        return document_text(envelope(ANALYSIS, bodies[0]))
    files = [{**tool_header(), **b} for b in bodies]
    return document_text(envelope(ANALYSES, {"files": files, "errors": errors or []}))


def platforms_to_list(previews: list[Any]) -> list[dict[str, Any]]:
    """``platforms``: per streaming platform / broadcast target, the normalisation preview."""
    return [
        {
            "name": p.name,
            "label": p.label,
            "target_lufs": p.target_lufs,
            "gain_db": rounded(p.gain_db, 2),
            "result_lufs": rounded(p.result_lufs, 2),
            "result_true_peak_dbtp": rounded(p.result_true_peak_dbtp, 2),
            "limited_by": p.limited_by,
            "warnings": list(p.warnings),
        }
        for p in previews
    ]


def codec_results_to_list(results: list[Any]) -> list[dict[str, Any]]:
    """``codec_check``: per codec, the true peak before and after the lossy round trip."""
    return [
        {
            "codec": r.codec,
            "bitrate": r.bitrate_note,
            "true_peak_before_dbtp": rounded(r.true_peak_before_dbtp, 3),
            "true_peak_after_dbtp": rounded(r.true_peak_after_dbtp, 3),
            "intersample_overs_after": r.intersample_overs_after,
            "error": r.error,
        }
        for r in results
    ]
