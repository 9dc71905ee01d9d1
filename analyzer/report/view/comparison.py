"""The views of a comparison with references and of the translation to playback devices."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analyzer.dsp.bands import BROAD_BANDS, THIRD_OCTAVE_NOMINAL_HZ
from analyzer.playback.device_parts import PART_LABELS
from analyzer.report.numbers import rounded
from analyzer.report.verdicts import MAIN_METRICS, score_grade
from analyzer.report.view.model import (
    ComparisonView,
    DeviceCurve,
    DeviceTonalRow,
    DeviceView,
    DifferenceRow,
    MetricRow,
    ReferenceGain,
    ReferenceSpectrum,
    ScorePartView,
    TranslationView,
)
from analyzer.types import TrackAnalysis

THIRD_OCTAVE_PREFIX = "third_octave."


def _curves(curves: Sequence[Sequence[float | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in c] for c in curves], dtype=float)


def _percentiles(curves: Sequence[Sequence[float | None]], q: Sequence[float]) -> np.ndarray:
    """Per-point percentiles over curves, ignoring undefined points (all-undefined stay NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(_curves(curves), q, axis=0)


def _median_curve(curves: Sequence[Sequence[float | None]]) -> tuple[float | None, ...]:
    """Per-point median over curves, ignoring undefined points (all-undefined stay None)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(_curves(curves), axis=0)
    return tuple(rounded(v, 2) for v in med)


def _reference_spectrum(references: Sequence[TrackAnalysis]) -> ReferenceSpectrum | None:
    """Median and 10-90 % band of the references' 1/6-octave curves, each relative to its own
    integrated loudness (level-matched, like the comparison)."""
    curves = []
    hz: tuple[float, ...] = ()
    for r in references:
        sp, i = r.spectrum, r.loudness.integrated_lufs
        if sp is None or i is None or not math.isfinite(i):
            continue
        hz = sp.sixth_octave_hz
        off = 0.0 if sp.levelled_to_lufs is not None else i
        curves.append([None if v is None else v - off for v in sp.sixth_octave_db])
    if not curves:
        return None
    p10, med, p90 = _percentiles(curves, [10, 50, 90])
    return ReferenceSpectrum(
        hz=tuple(round(f, 2) for f in hz),
        median=tuple(rounded(v, 2) for v in med),
        p10=tuple(rounded(v, 2) for v in p10),
        p90=tuple(rounded(v, 2) for v in p90),
        resolution="1/6 octave",
    )


def _profile_spectrum(metrics: Mapping[str, Any]) -> ReferenceSpectrum | None:
    """The reference band from the comparison's 1/3-octave metrics (a profile keeps no 1/6-octave
    curves)."""
    rows = sorted(
        (
            (float(name.split(".", 1)[1]), m)
            for name, m in metrics.items()
            if name.startswith(THIRD_OCTAVE_PREFIX) and m.median is not None
        ),
        key=lambda r: r[0],
    )
    if not rows:
        return None
    return ReferenceSpectrum(
        hz=tuple(h for h, _ in rows),
        median=tuple(rounded(m.median, 2) for _, m in rows),
        p10=tuple(rounded(m.p10, 2) for _, m in rows),
        p90=tuple(rounded(m.p90, 2) for _, m in rows),
        resolution="1/3 octave",
    )


def _metric_row(comp: Any, name: str, label: str, **extra: str) -> MetricRow | None:
    m = comp.metrics.get(name)
    if m is None:
        return None
    return MetricRow(name, label, rounded(m.mix, 2), rounded(m.median, 2), rounded(m.p10, 2),
                     rounded(m.p90, 2), rounded(m.delta, 2), m.verdict, **extra)  # fmt: skip


def _rows(rows: Any) -> tuple[MetricRow, ...]:
    return tuple(r for r in rows if r is not None)


def comparison_view(
    comp: Any, references: Sequence[TrackAnalysis] = (), section: str = "whole"
) -> ComparisonView:
    """The comparison: main metrics table, tonal balance and width with the references' range,
    the reference spectrum band, the references' playback gains and the ranked differences."""
    spectrum = _reference_spectrum(references) if references else None
    if spectrum is None:
        spectrum = _profile_spectrum(comp.metrics)
    out_of_range = [
        name
        for name in comp.metrics
        if name.startswith(THIRD_OCTAVE_PREFIX)
        and comp.metrics[name].verdict not in (None, "within")
    ]
    return ComparisonView(
        section=section,
        references=tuple(comp.references),
        metrics=_rows(_metric_row(comp, n, label) for n, label in MAIN_METRICS),
        tonal=_rows(
            _metric_row(comp, f"tonal.{b.key}", b.label, band=b.key, range=b.range_text)
            for b in BROAD_BANDS
        ),
        width=_rows(_metric_row(comp, f"width.{b.key}", b.label, band=b.key) for b in BROAD_BANDS),
        third_octave_out=_rows(
            _metric_row(comp, name, f"{float(name.split('.', 1)[1]):g} Hz") for name in out_of_range
        ),
        reference_spectrum=spectrum,
        reference_gains_db=tuple(
            ReferenceGain(k, rounded(v, 1)) for k, v in comp.reference_gains_db.items()
        ),
        top_differences=tuple(
            DifferenceRow(d.metric, rounded(d.score, 2), d.text) for d in comp.top_differences
        ),
        notes=tuple(comp.notes),
    )


def _same_device(reference_translations: Sequence[Any], i: int, name: str) -> list[Any]:
    """Device ``i`` of every reference translation, where it is the same device."""
    return [
        rt.devices[i]
        for rt in reference_translations
        if i < len(rt.devices) and rt.devices[i].name == name
    ]


def _device_view(d: Any, refs: Sequence[Any]) -> DeviceView:
    tonal = []
    for b in BROAD_BANDS:
        vals = [r.tonal_balance_db.get(b.key) for r in refs]
        vals = [v for v in vals if v is not None and math.isfinite(v)]
        ref_db = rounded(float(np.median(vals)), 2) if vals else None
        tonal.append(DeviceTonalRow(b.key, b.label, rounded(d.tonal_balance_db.get(b.key), 2),
                                    ref_db))  # fmt: skip
    curve = None
    if d.tonal_curve_db:
        ref_curves = [r.tonal_curve_db for r in refs
                      if len(r.tonal_curve_db) == len(d.tonal_curve_db)]  # fmt: skip
        curve = DeviceCurve(
            hz=tuple(THIRD_OCTAVE_NOMINAL_HZ[: len(d.tonal_curve_db)]),
            mix=tuple(rounded(v, 2) for v in d.tonal_curve_db),
            ref_median=_median_curve(ref_curves) if ref_curves else None,
        )
    score = rounded(d.score, 1)
    return DeviceView(
        name=d.name, label=d.label or d.name, score=score, grade=score_grade(score),
        reference_score=rounded(d.reference_score, 1),
        loudness_change_lu=rounded(d.loudness_change_lu, 1),
        bass_survival=rounded(d.bass_survival, 3), harmonic_bass_db=rounded(d.harmonic_bass_db, 1),
        mono_loss_lu=rounded(d.mono_loss_lu, 1), masked_bands=tuple(d.masked_bands),
        tonal=tuple(tonal), findings=tuple(d.findings), curve=curve,
        parts=tuple(
            ScorePartView(p.name, PART_LABELS.get(p.name, p.name), rounded(p.points, 1),
                          rounded(p.figure, 1), p.unit, p.basis)
            for p in d.parts
        ),
        note=d.note,
    )  # fmt: skip


def translation_view(tr: Any, reference_translations: Sequence[Any] = ()) -> TranslationView:
    """Per device: score (and the references' median), figures, findings, and the level-matched
    broad-band balance through the device for the mix and (median) the references."""
    return TranslationView(
        devices=tuple(
            _device_view(d, _same_device(reference_translations, i, d.name))
            for i, d in enumerate(tr.devices)
        ),
        spread=rounded(tr.spread, 1),
        ranked_differences=tuple(tr.ranked_differences),
    )
