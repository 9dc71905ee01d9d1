"""JSON back into the result types: the inverse of :mod:`analyzer.report.json`.

The JSON rounds every number to the precision it states (loudness to 1e-4, levels to 0.01 dB,
series to 1e-3), so ``load(dump(x))`` equals ``x`` to that precision, and ``dump(load(doc))``
gives ``doc`` back exactly. ``null`` becomes minus infinity where the JSON says why (a
``null_reasons`` entry starting "silent", a peak, a cancelling fold-down, no side signal) and
where the type holds a float for silence (loudness series); NaN in the PSR and correlation series;
``None`` everywhere else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from analyzer.comparison.metrics import Comparison, Difference, MetricComparison
from analyzer.errors import UsageError
from analyzer.playback.codecs import CodecResult
from analyzer.playback.device_parts import ScorePart, TimedFinding
from analyzer.playback.platforms import PlatformPreview
from analyzer.playback.translate import DeviceTranslation, Translation
from analyzer.report.json.envelope import (
    ANALYSES,
    ANALYSIS,
    BATCH,
    COMPARISON,
    KINDS,
    MASTER,
    SCHEMA_VERSION,
    TRANSLATION,
)
from analyzer.types import (
    AudioInfo,
    DynamicsStats,
    LoudnessStats,
    PeakStats,
    Series,
    SpectrumStats,
    StereoStats,
    TrackAnalysis,
)
from analyzer.untrusted import parse_json

if TYPE_CHECKING:
    from analyzer.mastering.propose import Proposal

_INF = -math.inf
#: Reasons the JSON adds beside the loudness meter's own (the peaks and the fold-down).
_ADDED_REASONS = ("true_peak_dbtp", "sample_peak_dbfs")


def _f(v: Any, when_null: float | None = None) -> float | None:
    return when_null if v is None else float(v)


def _series(d: Mapping[str, Any] | None, null: float) -> Series | None:
    if d is None:
        return None
    return Series(
        float(d["rate_hz"]),
        float(d["start_s"]),
        tuple(null if v is None else v for v in d["values"]),
    )


def _levels(v: Any) -> tuple[float | None, ...] | None:
    return None if v is None else tuple(v)


def _silent(reasons: Mapping[str, str], key: str) -> float | None:
    """-inf when the reason for a null says silence, else None."""
    return _INF if reasons.get(key, "").startswith("silent") else None


def track_from_dict(doc: Mapping[str, Any]) -> TrackAnalysis:
    """A per-file JSON object (``analyze`` with one file, or ``mix`` in compare / translate)."""
    _check_version(doc)
    fi, lo = doc["file"], doc["loudness"]
    reasons = dict(lo["null_reasons"])
    loud_reasons = {k: v for k, v in reasons.items() if k not in _ADDED_REASONS}
    fold = lo.get("fold_down_integrated_lufs")
    if "fold_down_integrated_lufs" in loud_reasons and loud_reasons[
        "fold_down_integrated_lufs"
    ].startswith("silent: the mono fold-down"):
        loud_reasons.pop("fold_down_integrated_lufs")  # added by the JSON writer
        fold_v: float | None = _INF
    else:
        fold_v = _f(fold, _silent(reasons, "integrated_lufs"))
    loudness = LoudnessStats(
        integrated_lufs=_f(lo["integrated_lufs"], _silent(reasons, "integrated_lufs")),
        momentary_max_lufs=_f(lo["momentary_max_lufs"], _silent(reasons, "momentary_max_lufs")),
        short_term_max_lufs=_f(lo["short_term_max_lufs"], _silent(reasons, "short_term_max_lufs")),
        lra_lu=_f(lo["lra_lu"], _silent(reasons, "lra_lu")),
        lra_low_lufs=_f(lo.get("lra_low_lufs")),
        lra_high_lufs=_f(lo.get("lra_high_lufs")),
        relative_gate_lufs=_f(lo.get("relative_gate_lufs")),
        fold_down_integrated_lufs=fold_v,
        momentary=_series(lo.get("momentary_series_lufs"), _INF),
        short_term=_series(lo.get("short_term_series_lufs"), _INF),
        momentary_hold=_series(lo.get("momentary_hold_series_lufs"), _INF),
        short_term_hold=_series(lo.get("short_term_hold_series_lufs"), _INF),
        null_reasons=loud_reasons,
        short_term_max_at_s=_f(lo.get("short_term_max_at_s")),
    )
    peaks = PeakStats(
        true_peak_dbtp=_f(lo["true_peak_dbtp"], _INF),  # type: ignore[arg-type]
        true_peak_per_channel_dbtp=tuple(
            _INF if v is None else v for v in lo["true_peak_per_channel_dbtp"]
        ),
        sample_peak_dbfs=_f(lo["sample_peak_dbfs"], _INF),  # type: ignore[arg-type]
        sample_peak_per_channel_dbfs=tuple(
            _INF if v is None else v for v in lo["sample_peak_per_channel_dbfs"]
        ),
        oversampling_factor=int(lo["true_peak_oversampling"]),
        true_peak_at_s=_f(lo.get("true_peak_at_s")),
    )
    return TrackAnalysis(
        file=AudioInfo(
            path=fi["path"],
            sample_rate_hz=int(fi["sample_rate_hz"]),
            channels=int(fi["channels"]),
            frames=int(fi["frames"]),
            format=fi["format"],
            subtype=fi["subtype"],
        ),
        loudness=loudness,
        peaks=peaks,
        spectrum=_spectrum(doc["spectrum"]) if "spectrum" in doc else None,
        stereo=_stereo(doc["stereo"]) if "stereo" in doc else None,
        dynamics=_dynamics(doc["dynamics"]) if "dynamics" in doc else None,
        warnings=tuple(doc["warnings"]),
    )


def _spectrum(sp: Mapping[str, Any]) -> SpectrumStats:
    return SpectrumStats(
        third_octave_hz=tuple(sp["third_octave_hz"]),
        third_octave_db=_levels(sp["third_octave_db"]),  # type: ignore[arg-type]
        third_octave_db_per_channel=tuple(tuple(c) for c in sp["third_octave_db_per_channel"]),
        third_octave_mid_db=_levels(sp["third_octave_mid_db"]),
        third_octave_side_db=_levels(sp["third_octave_side_db"]),
        sixth_octave_hz=tuple(sp["sixth_octave_hz"]),
        sixth_octave_db=_levels(sp["sixth_octave_db"]),  # type: ignore[arg-type]
        tonal_balance_db=dict(sp["tonal_balance_db"]),
        tilt_db_per_octave=_f(sp["tilt_db_per_octave"]),
        frame_size=int(sp["frame_size"]),
        frames_averaged=int(sp["frames_averaged"]),
        levelled_to_lufs=_f(sp["levelled_to_lufs"]),
    )


def _dynamics(dy: Mapping[str, Any]) -> DynamicsStats:
    return DynamicsStats(
        crest_factor_db=_f(dy["crest_factor_db"]),
        plr_db=_f(dy["plr_db"]),
        psr_max_db=_f(dy["psr_max_db"]),
        psr_median_db=_f(dy["psr_median_db"]),
        dr=dy["dr"],
        dr_per_channel=tuple(dy["dr_per_channel"]),
        dc_offset=tuple(dy["dc_offset"]),
        clipped_runs=int(dy["clipped_runs"]),
        clipped_run_positions_s=tuple(dy["clipped_run_positions_s"]),
        intersample_overs=int(dy["intersample_overs"]),
        psr=_series(dy.get("psr_series_db"), math.nan),
    )


def _stereo(st: Mapping[str, Any]) -> StereoStats:
    reasons = st["null_reasons"]
    return StereoStats(
        correlation=_f(st["correlation"]),
        correlation_min=_f(st["correlation_min"]),
        correlation_p5=_f(st["correlation_p5"]),
        correlation_below_zero_share=_f(st["correlation_below_zero_share"]),
        side_to_mid_db=_f(st["side_to_mid_db"], _INF if "side_to_mid_db" in reasons else None),
        width_per_band_db=dict(st["width_per_band_db"]),
        mono_loss_lu=_f(st["mono_loss_lu"], _INF if "mono_loss_lu" in reasons else None),
        mono_loss_per_band_lu=dict(st["mono_loss_per_band_lu"]),
        balance_db=_f(st["balance_db"]),
        flags=tuple(st["flags"]),
        correlation_series=_series(st.get("correlation_series"), math.nan),
        correlation_min_at_s=_f(st.get("correlation_min_at_s")),
    )


def platforms_from_list(rows: list[Mapping[str, Any]]) -> list[PlatformPreview]:
    return [
        PlatformPreview(
            name=r["name"],
            label=r["label"],
            target_lufs=r["target_lufs"],
            gain_db=r["gain_db"],
            result_lufs=r["result_lufs"],
            result_true_peak_dbtp=r["result_true_peak_dbtp"],
            limited_by=r["limited_by"],
            warnings=tuple(r["warnings"]),
        )
        for r in rows
    ]


def codec_results_from_list(rows: list[Mapping[str, Any]]) -> list[CodecResult]:
    return [
        CodecResult(
            codec=r["codec"],
            bitrate_note=r["bitrate"],
            true_peak_before_dbtp=r["true_peak_before_dbtp"],
            true_peak_after_dbtp=r["true_peak_after_dbtp"],
            intersample_overs_after=r["intersample_overs_after"],
            error=r["error"],
        )
        for r in rows
    ]


def comparison_from_dict(c: Mapping[str, Any]) -> Comparison:
    return Comparison(
        references=tuple(c["references"]),
        reference_gains_db=dict(c["reference_gains_db"]),
        metrics={
            name: MetricComparison(
                m["mix"],
                m["median"],
                m["p10"],
                m["p90"],
                m["delta"],
                m["verdict"],
                m.get("deviation", 0.0),
            )
            for name, m in c["metrics"].items()
        },
        top_differences=tuple(
            Difference(d["metric"], d["score"], d["text"]) for d in c["top_differences"]
        ),
        notes=tuple(c["notes"]),
    )


def translation_from_dict(t: Mapping[str, Any]) -> Translation:
    return Translation(
        devices=tuple(
            DeviceTranslation(
                name=d["name"],
                label=d["label"],
                score=d["score"],
                loudness_change_lu=d["loudness_change_lu"],
                bass_survival=d["bass_survival"],
                harmonic_bass_db=d["harmonic_bass_db"],
                mono_loss_lu=d["mono_loss_lu"],
                masked_bands=tuple(d["masked_bands"]),
                tonal_balance_db=dict(d["tonal_balance_db"]),
                reference_score=d["reference_score"],
                findings=tuple(d["findings"]),
                tonal_curve_db=tuple(d.get("tonal_curve_db", ())),
                parts=tuple(
                    ScorePart(p["name"], p["points"], p["figure"], p["unit"], p["basis"])
                    for p in d.get("parts", ())
                ),
                note=d.get("note"),
                timed_findings=tuple(
                    TimedFinding(t["code"], t["text"], t["at_s"], t["end_s"])
                    for t in d.get("timed_findings", ())
                ),
                limiting_lu=d.get("limiting_lu"),
                tonal_shift_db=dict(d.get("tonal_shift_db", {})),
            )
            for d in t["devices"]
        ),
        spread=t["spread"],
        ranked_differences=tuple(t["ranked_differences"]),
    )


def _check_version(doc: Mapping[str, Any]) -> None:
    v = doc.get("schema_version")
    if v != SCHEMA_VERSION:
        raise UsageError(f"JSON schema_version {v!r}: this version reads {SCHEMA_VERSION}")


def proposal_from_dict(d: Mapping[str, Any]) -> Proposal:
    """A ``proposal`` object back into a :class:`Proposal` (the JSON's rounding aside)."""
    from analyzer.mastering.eq import EqMove
    from analyzer.mastering.propose import (
        DcRemoval,
        FineCurve,
        LoudnessPlan,
        Proposal,
        ToneProposal,
        WidthProposal,
    )

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
        **({"max_limiting_db": ld["max_limiting_db"]} if "max_limiting_db" in ld else {}),
        asked_lufs=ld.get("asked_lufs"),
    )  # fmt: skip
    dc = d.get("dc_removal")
    removal = None if dc is None else DcRemoval(tuple(dc["offsets"]), dc["share_of_power"])
    return Proposal(tone=tone, width=width, loudness=loud, amounts=dict(d["amounts"]),
                    dc=removal)  # fmt: skip


def _proposal(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``{"proposal": Proposal}`` when the document holds the mastering proposal, else ``{}``."""
    return {"proposal": proposal_from_dict(doc["proposal"])} if "proposal" in doc else {}


def _analysis(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": ANALYSIS, "tracks": [track_from_dict(doc)]}
    if "platforms" in doc:
        out["platforms"] = platforms_from_list(doc["platforms"])
    if "codec_check" in doc:
        out["codec_check"] = codec_results_from_list(doc["codec_check"])
    return out


def _analyses(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": ANALYSES,
        "tracks": [track_from_dict(d) for d in doc["files"]],
        "errors": list(doc["errors"]),
    }


def _comparison(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": COMPARISON,
        "section": doc["section"],
        "mix": track_from_dict(doc["mix"]),
        "comparison": comparison_from_dict(doc["comparison"]),
        "platforms": platforms_from_list(doc.get("platforms", [])),
        **_proposal(doc),
    }


def _translation(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": TRANSLATION,
        "mix": track_from_dict(doc["mix"]),
        "references": list(doc["references"]),
        "translation": translation_from_dict(doc["translation"]),
        **_proposal(doc),
    }


def _master(doc: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        "kind": MASTER,
        "engine": doc["engine"],
        "references": list(doc["references"]),
        "mix": track_from_dict(doc["mix"]),
        "proposal": proposal_from_dict(doc["proposal"]),
        "notes": list(doc["notes"]),
    }
    if "output" in doc:
        out["output"] = {**doc["output"], "analysis": track_from_dict(doc["output"]["analysis"])}
    if "verification" in doc:
        out["verification"] = doc["verification"]
    return out


def _batch(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": BATCH,
        "tracks": [track_from_dict(d) for d in doc["files"]],
        "comparisons": [
            comparison_from_dict(d["comparison"]) if "comparison" in d else None
            for d in doc["files"]
        ],
        "errors": list(doc["errors"]),
        "cache": dict(doc["cache"]),
        "references": list(doc.get("references", [])),
        "album": doc.get("album"),
    }


_LOADERS = {
    ANALYSIS: _analysis,
    ANALYSES: _analyses,
    COMPARISON: _comparison,
    TRANSLATION: _translation,
    MASTER: _master,
    BATCH: _batch,
}


def _kind_from_keys(doc: Mapping[str, Any]) -> str:
    """The kind of a document without ``kind``: mixanalyzer wrote none before the field was
    added (same ``schema_version``), so such documents are still read by the rule their readers
    used, from the keys they hold."""
    if "files" in doc:
        return BATCH if "cache" in doc else ANALYSES
    if "file" in doc:
        return ANALYSIS
    if "engine" in doc and "proposal" in doc:
        return MASTER
    if "comparison" in doc:
        return COMPARISON
    if "translation" in doc:
        return TRANSLATION
    raise UsageError(
        "not a mixanalyzer JSON document (no kind, file, files, comparison or translation)"
    )


def load_document(text: str) -> dict[str, Any]:
    """Any document the CLI writes, parsed strictly (NaN or Infinity refused) into result
    types, by its ``kind``: ``{"kind", "tracks" | "mix", "comparison", "translation",
    "platforms", ...}``. Refuses an unknown kind."""

    try:
        doc = parse_json(text)
    except ValueError as exc:  # syntax, NaN/Infinity, nesting or number limits: one line
        raise UsageError(f"not a valid mixanalyzer JSON document: {exc}") from None
    if not isinstance(doc, dict):
        raise UsageError("not a mixanalyzer JSON document (not a JSON object)")
    _check_version(doc)
    kind = doc["kind"] if "kind" in doc else _kind_from_keys(doc)
    if not isinstance(kind, str) or kind not in _LOADERS:
        raise UsageError(f"JSON document kind {kind!r}: this version reads {', '.join(KINDS)}")
    return _LOADERS[kind](doc)
