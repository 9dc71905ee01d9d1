"""Translation findings relative to the references on the same device (issue 15, "Findings
relative to the references on the same device").

Every track loses something on a phone or in a car; that is the device, not the mix. With
references (tracks, or a genre profile's ranges) a device finding exists only where the mix's
figure lies outside the references' 10-90 % range on that device, by more than the figure's
tolerance, in the direction that loses, and costs at least :data:`MIN_GAP_POINTS` more than the
references' median; the references' own figure is said in the same sentence. What every track
loses stays the device ``note``, said once.

The figures compared (per device; a profile stores them as ``translation.<device>.<key>``):
``harmonic_bass_db`` (bass heard through harmonics), ``level_shortfall_lu`` (how much quieter
than typical programme), ``mono_loss_lu``, ``presence_quiet_snr_db``
(presence over the road noise in the quietest 10 % of the time), ``limiting_lu``,
``tonal_shift.<band>`` (how the device moves the level-matched broad-band balance against
the studio), ``bass_survival``
(context), ``score`` and ``points.<part>``.

The ``tonal`` part becomes the tonal deviation from the references on the device: the mean over
the broad bands low_mid, high_mid and high of the distance (dB) of the mix's tonal shift
(device balance minus studio balance) outside the range of the references' shifts there, 2
points per dB (max 20). The shift, not the balance itself: a mix duller than the references in
the studio is duller on every device, and that difference is the comparison's (``compare``),
said once there; what a device adds is whether it moves the mix's balance more than theirs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from analyzer.measure.stats import RangeStats, metric_ranges, range_stats
from analyzer.playback.device_level import NOT_JUDGED, NOTHING_HEARD_LU
from analyzer.playback.device_metrics import HARMONIC_FLOOR_DB, TONAL_BANDS
from analyzer.playback.device_parts import PART_NAMES, DeviceTranslation, part, score_of

#: A difference must cost at least this many points more than the references' median.
MIN_GAP_POINTS = 1.0
#: Per part: the figure, +1 when a higher figure loses (-1 lower), and the tolerance beyond the
#: references' range (the figure's unit) under which it is not a difference.
RULES: dict[str, tuple[str, int, float]] = {
    "bass": ("harmonic_bass_db", -1, 3.0),
    "level": ("level_shortfall_lu", +1, 1.0),
    "mono": ("mono_loss_lu", -1, 0.5),
    "masking": ("presence_quiet_snr_db", -1, 2.0),
    "limiting": ("limiting_lu", +1, 0.5),
}
#: The tonal deviation (dB outside the references' shifts) under which it is not a difference.
TONAL_TOLERANCE_DB = 1.0
#: The timed findings that belong to a part.
TIMED_PART = {"masked_by_noise": "masking", "limited": "limiting"}


@dataclass(frozen=True)
class RefDifference:
    """Where the mix differs from the references on a device: ``figure`` against the
    references' ``p10``-``p90``, costing ``gap_points`` more than their median."""

    device: str
    part: str
    figure: float
    p10: float
    p90: float
    gap_points: float
    text: str


def _part(dt: DeviceTranslation, name: str) -> float | None:
    return next((p.figure for p in dt.parts if p.name == name), None)


def _raw_figures(dt: DeviceTranslation) -> dict[str, float | None]:
    """:func:`figures`, infinities kept (a mix that cancels in mono loses ``-inf`` LU)."""
    out: dict[str, float | None] = {
        "score": dt.score,
        "harmonic_bass_db": dt.harmonic_bass_db,
        "bass_survival": dt.bass_survival,
        "mono_loss_lu": dt.mono_loss_lu,
        "presence_quiet_snr_db": _part(dt, "masking"),
        "level_shortfall_lu": _part(dt, "level"),
        "limiting_lu": dt.limiting_lu,
    }
    for band in TONAL_BANDS:
        out[f"tonal_shift.{band}"] = dt.tonal_shift_db.get(band)
    for p in dt.parts:
        out[f"points.{p.name}"] = p.points
    return out


def figures(dt: DeviceTranslation) -> dict[str, float | None]:
    """The figures of one device's translation that references are compared on (module
    docstring), by key; ``None`` where undefined or infinite (what a profile can hold)."""
    raw = _raw_figures(dt)
    return {k: (v if v is None or math.isfinite(v) else None) for k, v in raw.items()}


def ranges_of(refs: Sequence[DeviceTranslation]) -> dict[str, RangeStats]:
    """The references' ranges of :func:`figures` on one device."""
    return metric_ranges(figures(r) for r in refs)


def _outside(v: float | None, r: RangeStats | None) -> float:
    """How far (dB) ``v`` lies outside ``r``'s 10-90 % range (0 inside or undefined)."""
    if v is None or r is None or r.p10 is None or r.p90 is None:
        return 0.0
    return max(r.p10 - v, v - r.p90, 0.0)


def tonal_against(dt: DeviceTranslation, ranges: Mapping[str, RangeStats]) -> DeviceTranslation:
    """``dt`` with its ``tonal`` part measured against the references' range on the device
    (module docstring) and its score summed again; unchanged without those ranges."""
    keys = [f"tonal_shift.{b}" for b in TONAL_BANDS]
    if not any(ranges.get(k) is not None and ranges[k].n for k in keys):
        return dt
    if any(p.name == "tonal" and p.basis == NOT_JUDGED for p in dt.parts):
        return dt  # the device plays nothing of the mix
    excess = [
        _outside(dt.tonal_shift_db.get(b), ranges.get(f"tonal_shift.{b}")) for b in TONAL_BANDS
    ]
    x = sum(excess) / len(excess)
    new = part("tonal", min(20.0, 2.0 * x), x, "dB", "outside the references' range")
    parts = {p.name: p for p in dt.parts} | {"tonal": new}
    ordered = tuple(parts[n] for n in PART_NAMES if n in parts)
    return replace(dt, parts=ordered, score=score_of(ordered))


def _refs(lo: float, hi: float, fmt: str, unit: str) -> str:
    """``the references -5.0 to -3.0 dB`` (one value when the range is one)."""
    if f"{lo:{fmt}}" == f"{hi:{fmt}}":
        return f"the references {lo:{fmt}} {unit}"
    return f"the references {lo:{fmt}} to {hi:{fmt}} {unit}"


def _sentence(dt: DeviceTranslation, name: str, v: float, r: RangeStats,
              ranges: Mapping[str, RangeStats]) -> str:  # fmt: skip
    on, lo, hi = f"on the {dt.label}", r.p10, r.p90
    if name == "bass":
        s = ranges.get("bass_survival")
        lost = (
            ""
            if s is None or s.median is None
            else (
                f"; on this device the references lose {100 * (1 - s.median):.0f} % of "
                "40-250 Hz too"
            )
        )
        heard = (
            f"{v:.1f} dB re the low end"
            if v > HARMONIC_FLOOR_DB + 20.0
            else f"none heard (under {HARMONIC_FLOOR_DB + 20.0:g} dB re the low end)"
        )
        return (f"{on} your bass is heard less through its harmonics: {heard}, "
                f"{_refs(lo, hi, '.1f', 'dB')}{lost}")  # fmt: skip
    if name == "mono":
        lost = f"{-v:.1f} LU" if math.isfinite(v) else "everything (it cancels)"
        return (f"{on} your mix loses more in the mono fold: {lost}, "
                f"{_refs(-hi, -lo, '.1f', 'LU')}")  # fmt: skip
    if name == "level":
        under = (f"{v:.1f} LU under typical programme" if v < NOTHING_HEARD_LU
                 else f"not heard at all (more than {NOTHING_HEARD_LU:g} LU under typical "
                 "programme)")  # fmt: skip
        return (f"{on} your mix plays quieter than the references at the same studio loudness: "
                f"{under}, {_refs(lo, hi, '.1f', 'LU')}")  # fmt: skip
    if name == "masking":
        return (f"{on} your quiet passages sink under the road noise: the presence band is "
                f"{v:.1f} dB over the noise in the quietest 10 % of the time, "
                f"{_refs(lo, hi, '.1f', 'dB')}")  # fmt: skip
    return (f"{on} the limiter works harder on your mix: {v:.1f} LU off on average, "
            f"{_refs(lo, hi, '.1f', 'LU')}")  # fmt: skip


def _points(dt: DeviceTranslation, name: str) -> float:
    return next((p.points for p in dt.parts if p.name == name), 0.0)


def _tonal_difference(
    dt: DeviceTranslation, ranges: Mapping[str, RangeStats]
) -> RefDifference | None:
    """The tonal difference (the part measured against the references, at least
    :data:`MIN_GAP_POINTS`), named by the band whose shift lies furthest outside theirs."""
    x = _part(dt, "tonal")
    points = _points(dt, "tonal")
    against = any(p.name == "tonal" and "references" in p.basis for p in dt.parts)
    if x is None or x < TONAL_TOLERANCE_DB or points < MIN_GAP_POINTS or not against:
        return None

    def outside(b: str) -> float:
        return _outside(dt.tonal_shift_db.get(b), ranges.get(f"tonal_shift.{b}"))

    band = max(TONAL_BANDS, key=outside)
    v, r = dt.tonal_shift_db.get(band), ranges[f"tonal_shift.{band}"]
    text = (f"on the {dt.label} the device moves your tonal balance {x:.1f} dB more than the "
            f"references' on average ({band.replace('_', ' ')} {v:+.1f} dB against the studio, "
            f"{_refs(r.p10, r.p90, '+.1f', 'dB')})")  # fmt: skip
    return RefDifference(dt.name, "tonal", x, r.p10, r.p90, points, text)  # type: ignore[arg-type]


def differences(dt: DeviceTranslation, ranges: Mapping[str, RangeStats]) -> list[RefDifference]:
    """Where ``dt`` differs from the references' ``ranges`` on its device (module docstring)."""
    out = []
    figs = _raw_figures(dt)
    for name, (key, sign, tol) in RULES.items():
        v, r = figs.get(key), ranges.get(key)
        if v is None or math.isnan(v) or r is None or r.p10 is None or r.p90 is None:
            continue
        beyond = (v - r.p90) if sign > 0 else (r.p10 - v)
        ref_pts = ranges.get(f"points.{name}")
        gap = _points(dt, name) - (
            ref_pts.median if ref_pts and ref_pts.median is not None else 0.0
        )
        if beyond > tol and gap >= MIN_GAP_POINTS:
            text = f"{_sentence(dt, name, v, r, ranges)} [{gap:.1f} points]"
            out.append(RefDifference(dt.name, name, v, r.p10, r.p90, round(gap, 1), text))
    tonal = _tonal_difference(dt, ranges)
    if tonal is not None:
        out.append(replace(tonal, text=f"{tonal.text} [{tonal.gap_points:.1f} points]"))
    return out


def _note(dt: DeviceTranslation, ranges: Mapping[str, RangeStats]) -> str | None:
    h, r = dt.harmonic_bass_db, ranges.get("harmonic_bass_db")
    if dt.note is None or h is None or r is None or r.median is None:
        return dt.note
    if h <= HARMONIC_FLOOR_DB + 20.0:
        return f"{dt.note} (the references' median {r.median:.1f} dB)"
    diff = h - r.median
    side = "under" if diff < 0 else "above"
    return f"{dt.note}, {abs(diff):.1f} dB {side} the references' median ({r.median:.1f} dB)"


def relative(
    dt: DeviceTranslation, ranges: Mapping[str, RangeStats], reference_score: float | None
) -> tuple[DeviceTranslation, list[RefDifference]]:
    """``dt`` judged against the references' ``ranges`` on its device: the tonal part against
    their range, the findings only where the mix differs from them (the timed ones with their
    part), the note with the references' context, and their score. A device that is not scored
    (a mix without integrated loudness) only takes their score."""
    if dt.score is None:
        return replace(dt, reference_score=reference_score), []
    dt = tonal_against(dt, ranges)
    diffs = differences(dt, ranges)
    kept = {d.part for d in diffs}
    timed = tuple(t for t in dt.timed_findings if TIMED_PART.get(t.code) in kept)
    findings = tuple(d.text for d in diffs) + tuple(t.text for t in timed)
    out = replace(dt, findings=findings, timed_findings=timed, note=_note(dt, ranges),
                  reference_score=reference_score)  # fmt: skip
    return out, diffs


def reference_score_of(
    refs: Sequence[DeviceTranslation], ranges: Mapping[str, RangeStats]
) -> float | None:
    """The median of the references' scores, each with its tonal part against their range."""
    scores = [tonal_against(r, ranges).score for r in refs]
    return range_stats(scores).median
