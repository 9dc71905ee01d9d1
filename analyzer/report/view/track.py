"""The view of one track: summary cards, platform rows, spectrum, tonal balance, decimated
series and stereo image, with the comparison's ranges merged into the mix's rows."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analyzer.dsp.bands import BROAD_BANDS
from analyzer.report.findings import track_findings
from analyzer.report.numbers import rounded
from analyzer.report.verdicts import above_ceiling, true_peak_verdict
from analyzer.report.view.model import (
    ComparisonView,
    LoudnessSeries,
    MetricRow,
    PeakSeries,
    PlatformRow,
    SeriesView,
    SpectrumCurve,
    StereoView,
    SummaryCard,
    TargetLine,
    TonalRow,
    TrackView,
    WidthRow,
)
from analyzer.types import Series as MeasuredSeries
from analyzer.types import SpectrumStats, StereoStats, TrackAnalysis

#: Long series are reduced to at most this many points per trace (plots stay light).
MAX_SERIES_POINTS = 1500
#: Platforms whose targets are drawn on the loudness plot (a few distinct ones).
TARGET_LINE_PLATFORMS = ("spotify", "apple-music", "ebu-r128")


def decimate(
    t_s: Sequence[float], values: Sequence[float | None], how: str = "max"
) -> tuple[list[float], list[float | None]]:
    """At most :data:`MAX_SERIES_POINTS` points: each bucket of ``k`` consecutive values becomes
    its maximum (``how="max"``: peaks and loudness maxima stay visible), minimum or mean. A
    bucket with no defined value stays ``None``, so gaps remain gaps."""
    n = len(values)
    k = max(1, math.ceil(n / MAX_SERIES_POINTS))
    v = np.array([np.nan if x is None else float(x) for x in values], dtype=float)
    v[~np.isfinite(v)] = np.nan
    if k == 1:
        return [rounded(t, 2) or 0.0 for t in t_s], [rounded(x, 3) for x in v]
    m = n // k * k
    tail = v[m:]
    blocks = v[:m].reshape(-1, k)
    parts = [blocks] + ([np.pad(tail, (0, k - tail.size), constant_values=np.nan)[None]]
                        if tail.size else [])  # fmt: skip
    b = np.concatenate(parts)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN buckets stay NaN
        red = {"max": np.nanmax, "min": np.nanmin, "mean": np.nanmean}[how](b, axis=1)
    times = [float(t_s[min(i * k + k // 2, n - 1)]) for i in range(b.shape[0])]
    return [rounded(t, 2) or 0.0 for t in times], [rounded(x, 3) for x in red]


def series_view(s: MeasuredSeries | None, how: str = "max") -> SeriesView | None:
    """A measured series decimated for a plot; ``None`` when empty or undefined throughout."""
    if s is None or not s.values:
        return None
    t = [s.start_s + i / s.rate_hz for i in range(len(s.values))]
    ts, vs = decimate(t, list(s.values), how)
    if all(v is None for v in vs):
        return None
    return SeriesView(tuple(ts), tuple(vs))


def _window_true_peak(track: TrackAnalysis) -> MeasuredSeries | None:
    """True peak of each 3 s window = PSR + short-term loudness (both on the same 10 Hz grid)."""
    dy, st = track.dynamics, track.loudness.short_term
    if dy is None or dy.psr is None or st is None:
        return None
    if dy.psr.start_s != st.start_s or len(dy.psr.values) != len(st.values):
        return None
    vals = tuple(
        p + s if p is not None and s is not None and math.isfinite(p + s) else math.nan
        for p, s in zip(dy.psr.values, st.values, strict=True)
    )
    return MeasuredSeries(st.rate_hz, st.start_s, vals)


def _summary(track: TrackAnalysis) -> tuple[SummaryCard, ...]:
    lo, pk, dy = track.loudness, track.peaks, track.dynamics
    rows = [
        ("integrated", "Integrated", lo.integrated_lufs, "LUFS", None),
        ("true_peak", "True peak", pk.true_peak_dbtp, "dBTP",
         true_peak_verdict(rounded(pk.true_peak_dbtp, 3))),
        ("lra", "Loudness range", lo.lra_lu, "LU", None),
        ("plr", "PLR", dy.plr_db if dy else None, "dB", None),
        ("psr_median", "PSR (median)", dy.psr_median_db if dy else None, "dB", None),
        ("short_term_max", "Short-term max", lo.short_term_max_lufs, "LUFS", None),
    ]  # fmt: skip
    out = []
    for key, label, value, unit, verdict in rows:
        reason = lo.null_reasons.get(f"{key}_lufs") or lo.null_reasons.get(f"{key}_lu")
        if value is not None and value == -math.inf:
            reason = "silent"
        out.append(SummaryCard(key, label, rounded(value, 1), unit, verdict, reason))
    return tuple(out)


def platform_rows(previews: Sequence[Any] | None) -> tuple[PlatformRow, ...]:
    """The normalisation preview as rows (:func:`analyzer.playback.platforms.preview`)."""
    rows = []
    for p in previews or ():
        peak = rounded(p.result_true_peak_dbtp, 1)
        rows.append(
            PlatformRow(
                name=p.name,
                label=p.label or p.name,
                target_lufs=rounded(p.target_lufs, 1),
                gain_db=rounded(p.gain_db, 1),
                result_lufs=rounded(p.result_lufs, 1),
                result_true_peak_dbtp=peak,
                limited_by=p.limited_by,
                warnings=tuple(p.warnings),
                peak_above_ceiling=above_ceiling(peak),
            )
        )
    return tuple(rows)


def _target_lines(platforms: Sequence[Any] | None) -> tuple[TargetLine, ...]:
    """Horizontal lines for the loudness plot: a few distinct platform targets."""
    seen: dict[float, str] = {}
    for p in platforms or ():
        if p.name in TARGET_LINE_PLATFORMS and p.target_lufs not in seen:
            seen[p.target_lufs] = p.label or p.name
    return tuple(TargetLine(k, v) for k, v in sorted(seen.items(), reverse=True))


def _spectrum(sp: SpectrumStats, integrated: float | None) -> SpectrumCurve:
    # Level-matched: the curve is relative to the track's own integrated loudness.
    offset = 0.0 if sp.levelled_to_lufs is not None else (integrated or 0.0)
    return SpectrumCurve(
        hz=tuple(round(f, 2) for f in sp.sixth_octave_hz),
        db=tuple(None if v is None else rounded(v - offset, 2) for v in sp.sixth_octave_db),
        re="LUFS" if integrated is not None else "dBFS",
    )


def _tonal_rows(sp: SpectrumStats, comp: ComparisonView | None) -> tuple[TonalRow, ...]:
    compared = {r.band: r for r in comp.tonal} if comp is not None else {}
    rows = []
    for band in BROAD_BANDS:
        mix_db = rounded(sp.tonal_balance_db.get(band.key), 2)
        ref: MetricRow | None = compared.get(band.key)
        if ref is None:
            rows.append(TonalRow(band.key, band.label, band.range_text, mix_db))
        else:
            rows.append(TonalRow(band.key, band.label, band.range_text, mix_db, compared=True,
                                 median=ref.median, p10=ref.p10, p90=ref.p90, delta=ref.delta,
                                 verdict=ref.verdict))  # fmt: skip
    return tuple(rows)


def _stereo(st: StereoStats, comp: ComparisonView | None) -> StereoView:
    compared = {r.band: r for r in comp.width} if comp is not None else {}
    width = []
    for band in BROAD_BANDS:
        mix_db = rounded(st.width_per_band_db.get(band.key), 1)
        ref = compared.get(band.key)
        if ref is None:
            width.append(WidthRow(band.key, band.label, mix_db))
        else:
            width.append(WidthRow(band.key, band.label, mix_db, ref.median, ref.p10, ref.p90,
                                  ref.verdict))  # fmt: skip
    return StereoView(
        correlation=rounded(st.correlation, 3),
        correlation_p5=rounded(st.correlation_p5, 3),
        side_to_mid_db=rounded(st.side_to_mid_db, 1),
        mono_loss_lu=rounded(st.mono_loss_lu, 2),
        balance_db=rounded(st.balance_db, 2),
        flags=tuple(st.flags),
        correlation_series=series_view(st.correlation_series, "min"),
        width=tuple(width),
    )


def _loudness_series(
    track: TrackAnalysis, integrated: float | None, platforms: Sequence[Any] | None
) -> LoudnessSeries | None:
    mom = series_view(track.loudness.momentary)
    short = series_view(track.loudness.short_term)
    if not (mom or short):
        return None
    return LoudnessSeries(mom, short, rounded(integrated, 1), _target_lines(platforms))


def _peak_series(track: TrackAnalysis) -> PeakSeries | None:
    psr = series_view(track.dynamics.psr if track.dynamics else None, "mean")
    wtp = series_view(_window_true_peak(track))
    if not (psr or wtp):
        return None
    return PeakSeries(wtp, psr, rounded(track.peaks.true_peak_dbtp, 2))


def track_view(
    track: TrackAnalysis,
    *,
    platforms: Sequence[Any] | None = None,
    tags: Mapping[str, str] | None = None,
    role: str = "mix",
    comparison: ComparisonView | None = None,
) -> TrackView:
    """One track: file facts, tags, summary card, platform table, spectrum (1/6 octave, dB re
    its integrated loudness), tonal balance, series (loudness, window true peak, PSR,
    correlation) and stereo width per band; ``comparison`` adds the references' ranges to the
    tonal-balance and width rows."""
    fi, sp, st = track.file, track.spectrum, track.stereo
    integrated = rounded(track.loudness.integrated_lufs, 6)
    return TrackView(
        role=role,
        name=os.path.basename(fi.path) or fi.path,
        path=fi.path,
        tags={str(k): str(v) for k, v in (tags or {}).items() if v},
        format=f"{fi.format}/{fi.subtype}",
        sample_rate_hz=fi.sample_rate_hz,
        channels=fi.channels,
        duration_s=rounded(fi.duration_s, 2),
        summary=_summary(track),
        platforms=platform_rows(platforms),
        spectrum=_spectrum(sp, integrated) if sp is not None else None,
        tonal_balance=_tonal_rows(sp, comparison) if sp is not None else (),
        tilt_db_per_octave=rounded(sp.tilt_db_per_octave, 2) if sp is not None else None,
        loudness_series=_loudness_series(track, integrated, platforms),
        peak_series=_peak_series(track),
        stereo=_stereo(st, comparison) if st is not None and "mono" not in st.flags else None,
        warnings=tuple(track.warnings),
        findings=track_findings(track, platforms),
    )
