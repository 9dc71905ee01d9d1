"""A mix against reference tracks or a genre profile, level-matched.

Every track is reduced to one flat vector of metrics (:func:`track_metrics`). Levels that depend
on playback gain are taken relative to the track's own integrated loudness: the comparison is
made as if every track played at the same loudness, the way REFERENCE 2 or Metric AB match them
by ear. Every track is taken as a stereo player plays it: a mono file on both speakers, 3 LU
louder than BS.1770 reads it as one channel (:func:`~analyzer.measure.loudness.as_played_lufs`),
so a mono bounce and its dual-mono copy compare as the same track. The references give, per
metric, a median and a 10th-90th percentile range; the mix gets a delta to the median and a
verdict against the range widened by a tolerance. The differences that matter most are ranked
(broad bands weigh more than single 1/3-octave bands) and put in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from analyzer.dsp.bands import BROAD_BAND_BY_KEY, BROAD_BAND_NAMES, broad_band_of
from analyzer.measure.loudness import as_played_lufs, played_rise_lu
from analyzer.measure.stats import RangeStats, range_stats
from analyzer.types import TrackAnalysis

RANK_MIN_HZ = 31.5
RANK_MAX_HZ = 16000.0


@dataclass(frozen=True)
class MetricKind:
    """How a family of metrics is compared: tolerance around the range, weight in the ranking
    (per unit of deviation), and the words for it."""

    tolerance: float
    weight: float
    unit: str


KINDS: dict[str, MetricKind] = {
    "loudness": MetricKind(0.5, 0.0, "LU"),  # integrated: matched by gain, not ranked
    "lra": MetricKind(1.0, 0.6, "LU"),
    "true_peak": MetricKind(0.5, 0.4, "dB"),
    "dynamics": MetricKind(1.0, 0.7, "dB"),
    "tonal": MetricKind(1.0, 1.0, "dB"),
    "third_octave": MetricKind(1.5, 0.2, "dB"),
    "tilt": MetricKind(0.3, 3.0, "dB/oct"),
    "correlation": MetricKind(0.1, 5.0, ""),
    "width": MetricKind(2.0, 0.4, "dB"),
    "mono_loss": MetricKind(0.5, 0.8, "LU"),
}


def metric_kind(name: str) -> MetricKind:
    return KINDS[_family(name)]


def _family(name: str) -> str:
    head = name.split(".", 1)[0]
    return {
        "integrated_lufs": "loudness",
        "lra_lu": "lra",
        "true_peak_dbtp": "true_peak",
        "plr_db": "dynamics",
        "psr_median_db": "dynamics",
        "crest_factor_db": "dynamics",
        "tilt_db_per_octave": "tilt",
        "correlation": "correlation",
    }.get(head, head)


def _finite(v: float | None) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def track_metrics(track: TrackAnalysis) -> dict[str, float | None]:
    """The flat, level-independent metric vector of a track (``None`` where undefined).

    1/3-octave levels are in dB re the track's integrated loudness as played (module
    docstring: a mono file's integrated loudness, PLR and PSR are those of dual mono); tonal
    balance is relative to the track's total; everything else does not depend on playback gain
    except the integrated loudness and true peak themselves.
    """
    lo, pk, dy, st, sp = track.loudness, track.peaks, track.dynamics, track.stereo, track.spectrum
    measured = _finite(lo.integrated_lufs)
    integrated = _finite(as_played_lufs(measured, track.file.channels))
    # As played, the loudness (integrated and short-term) rises and the peaks do not.
    rise = played_rise_lu(measured, track.file.channels)
    out: dict[str, float | None] = {
        "integrated_lufs": integrated,
        "lra_lu": _finite(lo.lra_lu),
        "true_peak_dbtp": _finite(pk.true_peak_dbtp),
        "plr_db": _less(dy.plr_db if dy else None, rise),
        "psr_median_db": _less(dy.psr_median_db if dy else None, rise),
        "crest_factor_db": _finite(dy.crest_factor_db) if dy else None,
    }
    for band in BROAD_BAND_NAMES:
        out[f"tonal.{band}"] = _finite(sp.tonal_balance_db.get(band)) if sp else None
    if sp is not None:
        for hz, level in zip(sp.third_octave_hz, sp.third_octave_db, strict=True):
            rel = None if level is None or integrated is None else level - integrated
            out[f"third_octave.{_hz_key(hz)}"] = _finite(rel)
    out["tilt_db_per_octave"] = _finite(sp.tilt_db_per_octave) if sp else None
    out["correlation"] = _finite(st.correlation) if st else None
    for band in BROAD_BAND_NAMES:
        out[f"width.{band}"] = _finite(st.width_per_band_db.get(band)) if st else None
    for band in BROAD_BAND_NAMES:
        out[f"mono_loss.{band}"] = _finite(st.mono_loss_per_band_lu.get(band)) if st else None
    return out


def _less(v: float | None, by: float) -> float | None:
    return None if v is None else _finite(v - by)


def _hz_key(hz: float) -> str:
    return f"{hz:g}"


@dataclass(frozen=True)
class MetricComparison:
    mix: float | None
    median: float | None
    p10: float | None
    p90: float | None
    delta: float | None
    verdict: str | None  # within / above / below; None when either side is undefined
    deviation: float  # distance outside the widened range (0 when within)


@dataclass(frozen=True)
class Difference:
    metric: str
    score: float
    text: str


@dataclass(frozen=True)
class Comparison:
    references: tuple[str, ...]
    reference_gains_db: Mapping[str, float | None]  # playback gain for each reference to match
    metrics: Mapping[str, MetricComparison]
    top_differences: tuple[Difference, ...]
    notes: tuple[str, ...] = ()


def compare_metrics(
    mix: Mapping[str, float | None], ref_stats: Mapping[str, RangeStats]
) -> dict[str, MetricComparison]:
    """Each metric of the mix against the references' range."""
    out: dict[str, MetricComparison] = {}
    for name, value in mix.items():
        rs = ref_stats.get(name, RangeStats(None, None, None, 0))
        if value is None or rs.median is None or rs.p10 is None or rs.p90 is None:
            out[name] = MetricComparison(value, rs.median, rs.p10, rs.p90, None, None, 0.0)
            continue
        tol = metric_kind(name).tolerance
        lo, hi = rs.p10 - tol, rs.p90 + tol
        if value > hi:
            verdict, deviation = "above", value - hi
        elif value < lo:
            verdict, deviation = "below", lo - value
        else:
            verdict, deviation = "within", 0.0
        out[name] = MetricComparison(
            value, rs.median, rs.p10, rs.p90, value - rs.median, verdict, deviation
        )
    return out


def rank_differences(metrics: Mapping[str, MetricComparison], top: int = 5) -> list[Difference]:
    """The differences that matter most, largest weighted deviation first, in plain words.

    A 1/3-octave band inside a broad band that is itself out of range adds nothing new, so it
    is left out; so is integrated loudness (the comparison is level-matched).
    """
    broad_out = {
        name.split(".", 1)[1]
        for name, m in metrics.items()
        if name.startswith("tonal.") and m.verdict not in (None, "within")
    }
    ranked = []
    for name, m in metrics.items():
        if m.verdict in (None, "within") or m.delta is None:
            continue
        kind = metric_kind(name)
        if kind.weight == 0.0:
            continue
        if name.startswith("third_octave."):
            hz = float(name.split(".")[1])
            # The extreme bands are too noisy to lead a list of what a listener hears.
            if hz < RANK_MIN_HZ or hz > RANK_MAX_HZ or broad_band_of(hz) in broad_out:
                continue
        ranked.append(Difference(name, m.deviation * kind.weight, describe(name, m)))
    ranked.sort(key=lambda d: -d.score)
    return ranked[:top]


def describe(name: str, m: MetricComparison) -> str:
    """One sentence for a metric outside the references' range."""
    d = m.delta or 0.0
    mag = abs(d)
    more = d > 0
    family, _, key = name.partition(".")
    if family == "tonal":
        band = BROAD_BAND_BY_KEY[key]
        label, lo, hi = band.noun, band.lo_hz, band.hi_hz
        word = "heavier" if more else "lighter"
        if key in ("high", "air", "high_mid"):
            word = "brighter" if more else "duller"
        return f"{label} {mag:.1f} dB {word} than the references between {_hz(lo)} and {_hz(hi)}"
    if family == "third_octave":
        where = "above" if more else "below"
        return f"1/3 octave at {_hz(float(key))} {mag:.1f} dB {where} the references"
    if family == "width":
        word = "wider" if more else "narrower"
        return f"{BROAD_BAND_BY_KEY[key].noun} {mag:.1f} dB {word} (side/mid) than the references"
    if family == "mono_loss":
        word = "less" if more else "more"
        return (
            f"{BROAD_BAND_BY_KEY[key].noun} loses {mag:.1f} LU {word} in mono than the references"
        )
    words = {
        "lra_lu": ("loudness range", "LU", "wider", "narrower"),
        "true_peak_dbtp": ("true peak", "dB", "higher", "lower"),
        "plr_db": ("peak-to-loudness ratio", "dB", "higher (more open)", "lower (more compressed)"),
        "psr_median_db": ("short-term PSR", "dB", "higher (punchier)", "lower (denser)"),
        "crest_factor_db": ("crest factor", "dB", "higher", "lower"),
        "tilt_db_per_octave": ("spectral tilt", "dB/oct", "brighter", "darker"),
        "correlation": ("stereo correlation", "", "higher (narrower)", "lower (wider)"),
    }
    label, unit, up, down = words.get(name, (name, "", "higher", "lower"))
    amount = f"{mag:.2f}" if unit in ("", "dB/oct") else f"{mag:.1f}"
    unit_text = f" {unit}" if unit else ""
    return f"{label} {amount}{unit_text} {up if more else down} than the references"


def _hz(hz: float) -> str:
    return f"{hz / 1000:g} kHz" if hz >= 1000 else f"{hz:g} Hz"


def compare(
    mix: TrackAnalysis,
    references: Sequence[TrackAnalysis] = (),
    *,
    profile_stats: Mapping[str, RangeStats] | None = None,
    reference_names: Sequence[str] | None = None,
    notes: Sequence[str] = (),
) -> Comparison:
    """The mix against reference analyses, or against a profile's per-metric ranges."""
    mix_m = track_metrics(mix)
    if profile_stats is not None:
        stats = dict(profile_stats)
        names = tuple(reference_names or ())
        gains: dict[str, float | None] = {}
    else:
        ref_ms = [track_metrics(r) for r in references]
        stats = {k: range_stats([m.get(k) for m in ref_ms]) for k in mix_m}
        names = tuple(reference_names or [r.file.path for r in references])
        gains = {}
        for name, m in zip(names, ref_ms, strict=True):
            mi, ri = mix_m["integrated_lufs"], m["integrated_lufs"]
            gains[name] = None if mi is None or ri is None else mi - ri
    metrics = compare_metrics(mix_m, stats)
    tracks = [("the mix", mix)]
    if profile_stats is None:
        tracks += list(zip(names, references, strict=True))
    return Comparison(
        references=names,
        reference_gains_db=gains,
        metrics=metrics,
        top_differences=tuple(rank_differences(metrics)),
        notes=(*notes, *_mono_notes(tracks)),
    )


def _mono_notes(tracks: Sequence[tuple[str, TrackAnalysis]]) -> list[str]:
    """Which tracks are mono and so compared as dual mono (module docstring)."""
    out = []
    for name, track in tracks:
        measured = _finite(track.loudness.integrated_lufs)
        if track.file.channels == 1 and measured is not None:
            played = as_played_lufs(measured, 1)
            out.append(f"{name}: mono, compared as played on both speakers: {played:.1f} LUFS "
                       f"({measured:.1f} LUFS as one channel); PLR and PSR likewise")  # fmt: skip
    return out
