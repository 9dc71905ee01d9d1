"""The report as plain data: what people see, built once from the result types and shared by the
HTML report (and the terminal's tonal bars and findings).

A view is a JSON-able ``dict`` (str keys; str, int, float, bool, None, lists and dicts only; no
NaN or infinity: an undefined or silent value is ``None``). Nothing here measures, formats for a
medium or prints. Sections are present (not ``None``) only when their data is.

Shape (``VIEW_VERSION`` 1)::

    {
      "view_version": 1, "kind": "analyze" | "compare" | "translate" | "demo" | ...,
      "title": str, "tool": {"name", "version"},
      "tracks": [TrackView, ...],          # analyze: every file; others: the mix first
      "references": [str, ...],            # reference names (compare / translate)
      "comparison": ComparisonView | None,
      "translation": TranslationView | None,
      "findings": [{"source", "text"}, ...],   # ranked, most important first
      "notes": [str, ...],
      "master": MasterView | None,          # hook for ``mixanalyzer master`` (see below)
      "batch": BatchView | None,            # hook for ``mixanalyzer batch`` (see below)
    }

``MasterView`` (rendered when present; every key optional except ``moves``)::

    {"engine": str, "moves": [{"kind": "peaking" | "low_shelf" | "high_shelf" | ...,
      "freq_hz": float, "gain_db": float, "q": float | None, "reason": str}, ...],
     "response": {"hz": [float, ...], "db": [float | None, ...]} | None,
     "before_after": [{"label": str, "unit": str, "before": float | None,
                       "after": float | None}, ...],
     "output": str | None, "notes": [str, ...]}

``BatchView`` (rendered when present)::

    {"tracks": [{"name": str, "integrated_lufs": float | None, "true_peak_dbtp": float | None,
                 "lra_lu": float | None, "plr_db": float | None, "gain_db": float | None,
                 "verdict": str | None}, ...],
     "album": {"median_lufs": float | None, "loudness_spread_lu": float | None,
               "loudness_spread_after_lu": float | None} | None,
     "notes": [str, ...]}

Use :func:`master_view` / :func:`batch_view` to validate and attach them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from analyzer.dsp.bands import BROAD_BANDS, THIRD_OCTAVE_NOMINAL_HZ
from analyzer.types import Series, TrackAnalysis
from analyzer.version import __version__

VIEW_VERSION = 1
#: Long series are reduced to at most this many points per trace (plots stay light).
MAX_SERIES_POINTS = 1500

BAND_NAMES = {band.key: (band.label, band.range_text) for band in BROAD_BANDS}


def _num(v: Any, digits: int = 3) -> float | None:
    """A finite rounded float, or None (NaN, infinities and None all become None)."""
    if v is None:
        return None
    v = float(v)
    return round(v, digits) if math.isfinite(v) else None


def _name(path: str) -> str:
    return os.path.basename(path) or path


# --- series --------------------------------------------------------------------------------


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
        return [_num(t, 2) or 0.0 for t in t_s], [_num(x) for x in v]
    m = n // k * k
    tail = v[m:]
    blocks = v[:m].reshape(-1, k)
    parts = [blocks] + ([np.pad(tail, (0, k - tail.size), constant_values=np.nan)[None]]
                        if tail.size else [])  # fmt: skip
    b = np.concatenate(parts)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN buckets stay NaN
            red = {"max": np.nanmax, "min": np.nanmin, "mean": np.nanmean}[how](b, axis=1)
    times = [float(t_s[min(i * k + k // 2, n - 1)]) for i in range(b.shape[0])]
    return [_num(t, 2) or 0.0 for t in times], [_num(x) for x in red]


def _series_view(s: Series | None, how: str = "max") -> dict[str, Any] | None:
    if s is None or not s.values:
        return None
    t = [s.start_s + i / s.rate_hz for i in range(len(s.values))]
    ts, vs = decimate(t, list(s.values), how)
    if all(v is None for v in vs):
        return None
    return {"t_s": ts, "values": vs}


def _window_true_peak(track: TrackAnalysis) -> Series | None:
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
    return Series(st.rate_hz, st.start_s, vals)


# --- tracks --------------------------------------------------------------------------------


def _verdict_peak(tp: float | None) -> str | None:
    if tp is None:
        return None
    return "bad" if tp > 0.0 else "warn" if tp > -1.0 else "good"


def _summary(track: TrackAnalysis) -> list[dict[str, Any]]:
    lo, pk, dy = track.loudness, track.peaks, track.dynamics
    rows = [
        ("integrated", "Integrated", lo.integrated_lufs, "LUFS", None),
        (
            "true_peak",
            "True peak",
            pk.true_peak_dbtp,
            "dBTP",
            _verdict_peak(_num(pk.true_peak_dbtp)),
        ),
        ("lra", "Loudness range", lo.lra_lu, "LU", None),
        ("plr", "PLR", dy.plr_db if dy else None, "dB", None),
        ("psr_median", "PSR (median)", dy.psr_median_db if dy else None, "dB", None),
        ("short_term_max", "Short-term max", lo.short_term_max_lufs, "LUFS", None),
    ]
    out = []
    for key, label, value, unit, verdict in rows:
        reason = lo.null_reasons.get(f"{key}_lufs") or lo.null_reasons.get(f"{key}_lu")
        if value is not None and value == -math.inf:
            reason = "silent"
        out.append({"key": key, "label": label, "value": _num(value, 1), "unit": unit,
                    "verdict": verdict, "reason": reason})  # fmt: skip
    return out


def platform_rows(previews: Sequence[Any] | None) -> list[dict[str, Any]]:
    """The normalisation preview as rows (:func:`analyzer.playback.platforms.preview`)."""
    return [
        {
            "name": p.name,
            "label": p.label or p.name,
            "target_lufs": _num(p.target_lufs, 1),
            "gain_db": _num(p.gain_db, 1),
            "result_lufs": _num(p.result_lufs, 1),
            "result_true_peak_dbtp": _num(p.result_true_peak_dbtp, 1),
            "limited_by": p.limited_by,
            "warnings": list(p.warnings),
        }
        for p in previews or ()
    ]


def track_view(
    track: TrackAnalysis,
    *,
    platforms: Sequence[Any] | None = None,
    tags: Mapping[str, str] | None = None,
    role: str = "mix",
) -> dict[str, Any]:
    """One track: file facts, tags, summary card, platform table, spectrum (1/6 octave, dB re
    its integrated loudness), tonal balance, series (loudness, window true peak, PSR,
    correlation) and stereo width per band."""
    fi, lo, sp, st = track.file, track.loudness, track.spectrum, track.stereo
    integrated = _num(lo.integrated_lufs, 6)
    view: dict[str, Any] = {
        "role": role,
        "name": _name(fi.path),
        "path": fi.path,
        "tags": {str(k): str(v) for k, v in (tags or {}).items() if v},
        "format": f"{fi.format}/{fi.subtype}",
        "sample_rate_hz": fi.sample_rate_hz,
        "channels": fi.channels,
        "duration_s": _num(fi.duration_s, 2),
        "summary": _summary(track),
        "platforms": platform_rows(platforms),
        "spectrum": None,
        "tonal_balance": [],
        "tilt_db_per_octave": None,
        "loudness_series": None,
        "peak_series": None,
        "stereo": None,
        "warnings": list(track.warnings),
    }
    if sp is not None:
        # Level-matched: the curve is relative to the track's own integrated loudness.
        offset = 0.0 if sp.levelled_to_lufs is not None else (integrated or 0.0)
        view["spectrum"] = {
            "hz": [round(f, 2) for f in sp.sixth_octave_hz],
            "db": [None if v is None else _num(v - offset, 2) for v in sp.sixth_octave_db],
            "re": "LUFS" if integrated is not None else "dBFS",
        }
        view["tonal_balance"] = [
            {"band": b, "label": BAND_NAMES[b][0], "range": BAND_NAMES[b][1],
             "mix_db": _num(sp.tonal_balance_db.get(b), 2)}
            for b in BAND_NAMES
        ]  # fmt: skip
        view["tilt_db_per_octave"] = _num(sp.tilt_db_per_octave, 2)
    mom = _series_view(lo.momentary)
    short = _series_view(lo.short_term)
    if mom or short:
        view["loudness_series"] = {
            "momentary": mom,
            "short_term": short,
            "integrated_lufs": _num(integrated, 1),
            "targets": _target_lines(platforms),
        }
    psr = _series_view(track.dynamics.psr if track.dynamics else None, "mean")
    wtp = _series_view(_window_true_peak(track))
    if psr or wtp:
        view["peak_series"] = {
            "true_peak_3s": wtp,
            "psr": psr,
            "true_peak_dbtp": _num(track.peaks.true_peak_dbtp, 2),
        }
    if st is not None and "mono" not in st.flags:
        view["stereo"] = {
            "correlation": _num(st.correlation, 3),
            "correlation_p5": _num(st.correlation_p5, 3),
            "side_to_mid_db": _num(st.side_to_mid_db, 1),
            "mono_loss_lu": _num(st.mono_loss_lu, 2),
            "balance_db": _num(st.balance_db, 2),
            "flags": list(st.flags),
            "correlation_series": _series_view(st.correlation_series, "min"),
            "width": [
                {
                    "band": b,
                    "label": BAND_NAMES[b][0],
                    "mix_db": _num(st.width_per_band_db.get(b), 1),
                }
                for b in BAND_NAMES
            ],
        }
    return view


def _target_lines(platforms: Sequence[Any] | None) -> list[dict[str, Any]]:
    """Horizontal lines for the loudness plot: a few distinct platform targets."""
    seen: dict[float, str] = {}
    for p in platforms or ():
        if p.name in ("spotify", "apple-music", "ebu-r128") and p.target_lufs not in seen:
            seen[p.target_lufs] = p.label or p.name
    return [{"lufs": k, "label": v} for k, v in sorted(seen.items(), reverse=True)]


# --- comparison ----------------------------------------------------------------------------


def _reference_spectrum(references: Sequence[TrackAnalysis]) -> dict[str, Any] | None:
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
        curves.append([np.nan if v is None else v - off for v in sp.sixth_octave_db])
    if not curves:
        return None
    a = np.array(curves, dtype=float)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p10, med, p90 = np.nanpercentile(a, [10, 50, 90], axis=0)
    return {
        "hz": [round(f, 2) for f in hz],
        "median": [_num(v, 2) for v in med],
        "p10": [_num(v, 2) for v in p10],
        "p90": [_num(v, 2) for v in p90],
        "resolution": "1/6 octave",
    }


def _profile_spectrum(metrics: Mapping[str, Any]) -> dict[str, Any] | None:
    """The reference band from the comparison's 1/3-octave metrics (a profile keeps no 1/6-octave
    curves)."""
    rows = []
    for name, m in metrics.items():
        if name.startswith("third_octave.") and m.median is not None:
            rows.append((float(name.split(".", 1)[1]), m))
    if not rows:
        return None
    rows.sort(key=lambda r: r[0])
    return {
        "hz": [h for h, _ in rows],
        "median": [_num(m.median, 2) for _, m in rows],
        "p10": [_num(m.p10, 2) for _, m in rows],
        "p90": [_num(m.p90, 2) for _, m in rows],
        "resolution": "1/3 octave",
    }


def comparison_view(
    comp: Any, references: Sequence[TrackAnalysis] = (), section: str = "whole"
) -> dict[str, Any]:
    """The comparison: main metrics table, tonal balance and width with the references' range,
    the reference spectrum band, the references' playback gains and the ranked differences."""

    def row(name: str, label: str) -> dict[str, Any] | None:
        m = comp.metrics.get(name)
        if m is None:
            return None
        return {"metric": name, "label": label, "mix": _num(m.mix, 2), "median": _num(m.median, 2),
                "p10": _num(m.p10, 2), "p90": _num(m.p90, 2), "delta": _num(m.delta, 2),
                "verdict": m.verdict}  # fmt: skip

    main = [
        ("integrated_lufs", "Integrated (LUFS)"),
        ("lra_lu", "Loudness range (LU)"),
        ("true_peak_dbtp", "True peak (dBTP)"),
        ("plr_db", "PLR (dB)"),
        ("psr_median_db", "PSR median (dB)"),
        ("crest_factor_db", "Crest factor (dB)"),
        ("tilt_db_per_octave", "Tilt (dB/oct)"),
        ("correlation", "Correlation"),
    ]
    spectrum = _reference_spectrum(references) if references else None
    if spectrum is None:
        spectrum = _profile_spectrum(comp.metrics)
    return {
        "section": section,
        "references": list(comp.references),
        "metrics": [r for n, label in main if (r := row(n, label)) is not None],
        "tonal": [
            r | {"band": b, "range": BAND_NAMES[b][1]}
            for b in BAND_NAMES
            if (r := row(f"tonal.{b}", BAND_NAMES[b][0])) is not None
        ],
        "width": [
            r | {"band": b}
            for b in BAND_NAMES
            if (r := row(f"width.{b}", BAND_NAMES[b][0])) is not None
        ],
        "third_octave_out": [
            r
            for name in comp.metrics
            if name.startswith("third_octave.")
            and comp.metrics[name].verdict not in (None, "within")
            and (r := row(name, f"{float(name.split('.', 1)[1]):g} Hz")) is not None
        ],
        "reference_spectrum": spectrum,
        "reference_gains_db": [
            {"reference": k, "gain_db": _num(v, 1)} for k, v in comp.reference_gains_db.items()
        ],
        "top_differences": [
            {"metric": d.metric, "score": _num(d.score, 2), "text": d.text}
            for d in comp.top_differences
        ],
        "notes": list(comp.notes),
    }


# --- translation ---------------------------------------------------------------------------


def translation_view(tr: Any, reference_translations: Sequence[Any] = ()) -> dict[str, Any]:
    """Per device: score (and the references' median), figures, findings, and the level-matched
    broad-band balance through the device for the mix and (median) the references."""
    devices = []
    for i, d in enumerate(tr.devices):
        ref_bal: dict[str, float | None] = {}
        for b in BAND_NAMES:
            vals = [
                rt.devices[i].tonal_balance_db.get(b)
                for rt in reference_translations
                if i < len(rt.devices) and rt.devices[i].name == d.name
            ]
            vals = [v for v in vals if v is not None and math.isfinite(v)]
            ref_bal[b] = _num(float(np.median(vals)), 2) if vals else None
        score = _num(d.score, 1)
        curve = None
        if d.tonal_curve_db:
            refs = [
                rt.devices[i].tonal_curve_db
                for rt in reference_translations
                if i < len(rt.devices) and rt.devices[i].name == d.name
                and len(rt.devices[i].tonal_curve_db) == len(d.tonal_curve_db)
            ]  # fmt: skip
            curve = {
                "hz": list(THIRD_OCTAVE_NOMINAL_HZ[: len(d.tonal_curve_db)]),
                "mix": [_num(v, 2) for v in d.tonal_curve_db],
                "ref_median": _median_curve(refs) if refs else None,
            }
        devices.append(
            {
                "name": d.name,
                "label": d.label or d.name,
                "score": score,
                "grade": None if score is None else "good" if score >= 75 else
                         "warn" if score >= 50 else "bad",
                "reference_score": _num(d.reference_score, 1),
                "loudness_change_lu": _num(d.loudness_change_lu, 1),
                "bass_survival": _num(d.bass_survival, 3),
                "harmonic_bass_db": _num(d.harmonic_bass_db, 1),
                "mono_loss_lu": _num(d.mono_loss_lu, 1),
                "masked_bands": list(d.masked_bands),
                "tonal": [
                    {"band": b, "label": BAND_NAMES[b][0],
                     "mix_db": _num(d.tonal_balance_db.get(b), 2), "ref_db": ref_bal[b]}
                    for b in BAND_NAMES
                ],
                "findings": list(d.findings),
                "curve": curve,
            }
        )  # fmt: skip
    return {
        "devices": devices,
        "spread": _num(tr.spread, 1),
        "ranked_differences": list(tr.ranked_differences),
    }


def _median_curve(curves: Sequence[Sequence[float | None]]) -> list[float | None]:
    a = np.array([[np.nan if v is None else v for v in c] for c in curves], dtype=float)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-None bands stay None
        med = np.nanmedian(a, axis=0)
    return [_num(v, 2) for v in med]


# --- hooks for master and batch ------------------------------------------------------------

_MOVE_KEYS = {"kind", "freq_hz", "gain_db"}


def master_view(
    moves: Sequence[Mapping[str, Any]],
    *,
    engine: str = "",
    response: Mapping[str, Sequence[float | None]] | None = None,
    before_after: Sequence[Mapping[str, Any]] = (),
    output: str | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``master`` section (module docstring): proposed EQ moves, their response curve and
    the before/after table. Raises ``ValueError`` on a move without kind, freq_hz, gain_db."""
    clean_moves = []
    for m in moves:
        missing = _MOVE_KEYS - set(m)
        if missing:
            raise ValueError(f"an EQ move needs {', '.join(sorted(missing))}")
        clean_moves.append(
            {"kind": str(m["kind"]), "freq_hz": _num(m["freq_hz"], 1),
             "gain_db": _num(m["gain_db"], 2), "q": _num(m.get("q"), 3),
             "reason": str(m.get("reason", ""))}
        )  # fmt: skip
    resp = None
    if response is not None:
        resp = {"hz": [_num(f, 2) for f in response["hz"]],
                "db": [_num(v, 2) for v in response["db"]]}  # fmt: skip
    return {
        "engine": engine,
        "moves": clean_moves,
        "response": resp,
        "before_after": [
            {
                "label": str(r["label"]),
                "unit": str(r.get("unit", "")),
                "before": _num(r.get("before"), 2),
                "after": _num(r.get("after"), 2),
            }
            for r in before_after
        ],
        "output": output,
        "notes": list(notes),
    }


def batch_view(
    tracks: Sequence[Mapping[str, Any]],
    *,
    album: Mapping[str, float | None] | None = None,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``batch`` section (module docstring): one row per track and the album figures."""
    keys = ("integrated_lufs", "true_peak_dbtp", "lra_lu", "plr_db", "gain_db")
    return {
        "tracks": [
            {
                "name": str(t["name"]),
                **{k: _num(t.get(k), 2) for k in keys},
                "verdict": t.get("verdict"),
            }
            for t in tracks
        ],
        "album": None if album is None else {k: _num(v, 2) for k, v in album.items()},
        "notes": list(notes),
    }


# --- the whole report ----------------------------------------------------------------------


def build_view(
    kind: str,
    tracks: Sequence[TrackAnalysis],
    *,
    platforms: Sequence[Sequence[Any] | None] | None = None,
    tags: Sequence[Mapping[str, str] | None] | None = None,
    comparison: Any = None,
    references: Sequence[TrackAnalysis] = (),
    reference_names: Sequence[str] = (),
    section: str = "whole",
    translation: Any = None,
    reference_translations: Sequence[Any] = (),
    notes: Sequence[str] = (),
    master: Mapping[str, Any] | None = None,
    batch: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The whole report. ``tracks[0]`` is the mix for compare / translate; ``platforms`` and
    ``tags`` go per track. ``master`` / ``batch`` come from :func:`master_view` /
    :func:`batch_view`."""
    platforms = list(platforms or [None] * len(tracks))
    tags = list(tags or [None] * len(tracks))
    tviews = [
        track_view(t, platforms=p, tags=g, role="mix" if i == 0 else "track")
        for i, (t, p, g) in enumerate(zip(tracks, platforms, tags, strict=True))
    ]
    comp = comparison_view(comparison, references, section) if comparison is not None else None
    trans = (
        translation_view(translation, reference_translations) if translation is not None else None
    )
    if comp is not None and tviews:
        by_band = {r["band"]: r for r in comp["tonal"]}
        for row in tviews[0]["tonal_balance"]:
            ref = by_band.get(row["band"])
            if ref:
                row.update({k: ref[k] for k in ("median", "p10", "p90", "delta", "verdict")})
        widths = {r["band"]: r for r in comp["width"]}
        if tviews[0]["stereo"] is not None:
            for row in tviews[0]["stereo"]["width"]:
                ref = widths.get(row["band"])
                if ref:
                    row.update({k: ref[k] for k in ("median", "p10", "p90", "verdict")})
    findings: list[dict[str, str]] = []
    if comp is not None:
        findings += [{"source": "compare", "text": d["text"]} for d in comp["top_differences"]]
    if trans is not None:
        findings += [{"source": "translate", "text": t} for t in trans["ranked_differences"]]
        if not trans["ranked_differences"]:
            worst = sorted(
                (d for d in trans["devices"] if d["findings"]),
                key=lambda d: d["score"] if d["score"] is not None else 100.0,
            )
            findings += [{"source": "translate", "text": d["findings"][0]} for d in worst[:3]]
    for tv in tviews[:1] if kind != "analyze" else tviews:
        shown = set()
        for p in tv["platforms"]:
            for w in p["warnings"]:
                key = "louder" if "louder than needed" in w else w
                if key not in shown:
                    shown.add(key)
                    findings.append({"source": "platforms", "text": f"{p['label']}: {w}"})
        findings += [{"source": "analysis", "text": w} for w in tv["warnings"]]
    if master is not None:
        findings += [{"source": "master", "text": n} for n in master.get("notes", [])]
    first = tviews[0]["name"] if tviews else "report"
    return {
        "view_version": VIEW_VERSION,
        "kind": kind,
        "title": title or f"mixanalyzer {kind}: {first}",
        "tool": {"name": "mixanalyzer", "version": __version__},
        "tracks": tviews,
        "references": list(reference_names) or (list(comp["references"]) if comp else []),
        "comparison": comp,
        "translation": trans,
        "findings": findings,
        "notes": list(notes),
        "master": dict(master) if master is not None else None,
        "batch": dict(batch) if batch is not None else None,
    }
