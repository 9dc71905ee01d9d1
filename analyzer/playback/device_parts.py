"""The named parts of a device's translation score (issue 15, "A score that explains itself") and
the time-resolved checks (issue 15, "Over time, not only on average").

A device's score is ``100 - sum(part.points)`` over six named parts, each with the figure it is
computed from (formulas: :func:`analyzer.playback.translate.translate`):

* ``tonal``: tonal deviation (the references' range on the device, or the mix's own studio
  playback when there are none);
* ``bass``: bass audibility through harmonics where the device does not play the low end;
* ``level``: how much quieter the device plays the mix than typical programme
  (:mod:`analyzer.playback.device_level`);
* ``masking``: masking of the presence band by the device's noise (the car's road noise);
* ``limiting``: level-dependent limiting by the device's own limiter;
* ``mono``: loss in the mono fold-down on a mono device.

Over time: the masking and the limiting are evaluated per short-term window (3 s, ITU-R BS.1771
short-term loudness, one window per second from the analysis' 10 Hz short-term series). The
spectrum's *shape* is the long-term one and its *level* follows the window's short-term loudness,
``band_dB_i = band_dB + (S_i - I)`` (``S_i`` the short-term loudness, ``I`` the integrated
loudness): the one-pass analysis keeps no per-window spectrum. Windows more than
:data:`WINDOW_RANGE_LU` under the integrated loudness (fade-outs, silence) are left out. Without
the series (an analysis made without it) there is one window: the whole track at ``I``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from analyzer.types import TrackAnalysis

#: The parts of the score, in the order they are shown.
PART_NAMES = ("tonal", "bass", "level", "masking", "limiting", "mono")
#: What each part measures, for the reports.
PART_LABELS = {
    "tonal": "tonal deviation",
    "bass": "bass through harmonics",
    "level": "quieter than typical programme",
    "masking": "masking by noise",
    "limiting": "level-dependent limiting",
    "mono": "mono fold loss",
}
#: The short-term window (s), ITU-R BS.1771 / EBU Tech 3341 short-term loudness.
WINDOW_S = 3.0
#: One window per this many seconds of the 10 Hz short-term series.
HOP_S = 1.0
#: Windows quieter than the integrated loudness by more than this (LU) are left out.
WINDOW_RANGE_LU = 40.0
#: A window whose presence band is below the noise by this much (SNR < 0 dB) falls under it.
MASKED_SNR_DB = 0.0
#: A window whose presence band is less than this (dB) over the noise barely clears it.
NEAR_NOISE_SNR_DB = 3.0
#: A window whose limiter takes at least this much off (LU) is reported as limited.
LIMITED_LU = 3.0
#: At most this many spans are named in one finding.
SPANS_SHOWN = 3


def clock(seconds: float) -> str:
    """``2:31`` (``1:02:31`` past an hour): where in the file, as a player shows it."""
    total = math.floor(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class ScorePart:
    """One named part of a device's score: ``points`` taken off (>= 0) and the ``figure`` (in
    ``unit``) they come from; ``basis`` says what the figure is compared with."""

    name: str
    points: float
    figure: float | None
    unit: str
    basis: str


@dataclass(frozen=True)
class TimedFinding:
    """A finding that happens at a time: ``at_s`` (seconds from the start) to ``end_s``."""

    code: str
    text: str
    at_s: float
    end_s: float


@dataclass(frozen=True)
class Window:
    """A 3 s short-term window from ``start_s`` to ``end_s`` and its level re the integrated
    loudness (LU)."""

    start_s: float
    end_s: float
    delta_lu: float


def windows(track: TrackAnalysis) -> tuple[Window, ...]:
    """The short-term windows of ``track`` (module docstring): one per :data:`HOP_S`, each
    ``WINDOW_S`` long, with its short-term loudness re the integrated loudness."""
    lo = track.loudness
    integrated = lo.integrated_lufs
    if integrated is None or not math.isfinite(integrated):
        return ()
    series = lo.short_term
    if series is None or not series.values:
        return (Window(0.0, float(track.file.duration_s), 0.0),)
    step = max(1, round(HOP_S * series.rate_hz))
    out = []
    for i in range(0, len(series.values), step):
        v = series.values[i]
        if v is None or not math.isfinite(v) or v < integrated - WINDOW_RANGE_LU:
            continue
        end = series.start_s + i / series.rate_hz
        out.append(Window(max(0.0, end - WINDOW_S), end, v - integrated))
    return tuple(out) or (Window(0.0, float(track.file.duration_s), 0.0),)


def spans(ws: Sequence[Window], flagged: Sequence[bool]) -> list[tuple[float, float]]:
    """The time spans covered by the flagged windows, overlapping ones merged."""
    out: list[tuple[float, float]] = []
    for w, f in zip(ws, flagged, strict=True):
        if not f:
            continue
        if out and w.start_s <= out[-1][1] + 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], w.end_s))
        else:
            out.append((w.start_s, w.end_s))
    return out


def span_text(found: Sequence[tuple[float, float]]) -> str:
    """``0:00–0:25, 1:10–1:40`` (the first :data:`SPANS_SHOWN`, then how many more)."""
    shown = ", ".join(f"{clock(a)}–{clock(b)}" for a, b in found[:SPANS_SHOWN])
    more = len(found) - SPANS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def timed_finding(
    code: str,
    ws: Sequence[Window],
    values: Sequence[float],
    flag: Callable[[float], bool],
    sentence: Callable[[str, float], str],
    worst: Callable[[Sequence[float]], float],
) -> TimedFinding | None:
    """One finding over the windows whose value ``flag`` marks: ``sentence(spans, worst)``,
    at the first span; None when no window is marked."""
    flagged = [flag(v) for v in values]
    found = spans(ws, flagged)
    if not found:
        return None
    marked = [v for v, f in zip(values, flagged, strict=True) if f]
    text = sentence(span_text(found), worst(marked))
    return TimedFinding(code, text, found[0][0], found[-1][1])


def part(name: str, points: float, figure: float | None, unit: str, basis: str) -> ScorePart:
    """A :class:`ScorePart` with its points rounded to 0.1 and never negative."""
    return ScorePart(name, round(max(0.0, points), 1), figure, unit, basis)


def score_of(parts: Sequence[ScorePart]) -> float:
    """``100 - sum(points)``, never below 0, to 0.1."""
    return round(max(0.0, 100.0 - sum(p.points for p in parts)), 1)


@dataclass(frozen=True)
class DeviceTranslation:
    """The mix on one device. Formulas (band powers ``P`` are per 1/3-octave band, linear):

    * ``loudness_change_lu``: ``10 log10(sum_b k_b P_dev,b / sum_b k_b P_studio,b)``, where
      ``k_b = |K(f_b)|^2`` is the BS.1770 K-weighting power at the band centre and ``P_dev``
      the device output (channel handling, filters and, at the playback level, the limiter).
    * ``tonal_balance_db``: per broad band, ``10 log10(P_dev,band / P_dev,total)`` (level-matched:
      relative to the device output's own 20 Hz-20 kHz total; a 1/3-octave band belongs to the
      broad band holding its centre). ``None`` for a band with no power.
    * ``bass_survival``: ``sum_bass P_lin / sum_bass P_studio`` over the 40-250 Hz bands, where
      ``P_lin`` is the linear path (channel handling and filters, no limiter), clipped to 0-1.
    * ``harmonic_bass_db``: ``10 log10(sum_H P_dev / sum_bass P_studio)``. ``H`` holds the bands
      carrying the 2nd-5th harmonics of the bass line (centres from ``2 f_dom`` to ``5 f_top``,
      half a band of slack each side, where ``f_dom`` is the loudest 40-250 Hz band and
      ``f_top`` the highest bass band within 10 dB of it) that the device still plays (gain
      >= -12 dB). Floored at -120 dB; ``None`` without low-end energy.
    * ``mono_loss_lu`` (mono devices, stereo tracks): ``10 log10(sum_b k_b P_M,b / sum_b k_b
      P_mix,b)``: the mid ``M = (L + R) / 2`` on both speakers against the stereo power.
    * ``masked_bands`` (devices with a noise model): bands holding content (within 50 dB of the
      loudest band) whose output level ``10 log10(P_dev,b) - I + level`` (``I`` the integrated
      loudness, LUFS) is below the road-noise band level at ``speed_kmh``.
    * ``score``: 100 minus the points of ``parts`` (see :func:`translate`); ``None`` when the
      mix has no integrated loudness (silent, or shorter than one 400 ms gating block): it
      cannot be set at a playback level, so there is nothing to score.
    * ``parts``: the named parts of the score (:mod:`analyzer.playback.device_parts`).
    * ``note``: what every track loses on this device (not the mix's fault), said once.
    * ``timed_findings``: findings that happen at a time (per 3 s short-term window).
    * ``tonal_shift_db``: per broad band low_mid, high_mid, high (those within 30 dB of the
      studio total), the level-matched balance through the device minus the studio's (dB).
    * ``limiting_lu``: mean over the short-term windows of the loudness (LU, K-weighted) the
      device's limiter takes off at the playback level; ``None`` without a limiter.
    * ``reference_score``: the median of the references' scores on this device.
    * ``tonal_curve_db``: per 1/3-octave band (20 Hz-20 kHz), ``10 log10(P_dev,b / P_dev,total)``,
      the level-matched curve the listener gets (``None`` for a band with no power), for plots.
    """

    name: str
    label: str
    score: float | None
    loudness_change_lu: float | None
    bass_survival: float | None
    harmonic_bass_db: float | None
    mono_loss_lu: float | None
    masked_bands: tuple[str, ...]
    tonal_balance_db: Mapping[str, float | None]
    reference_score: float | None
    findings: tuple[str, ...]
    tonal_curve_db: tuple[float | None, ...] = ()
    parts: tuple[ScorePart, ...] = ()
    note: str | None = None
    timed_findings: tuple[TimedFinding, ...] = ()
    limiting_lu: float | None = None
    tonal_shift_db: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceDetail:
    """What the ranking of differences needs besides the public result: the deductions by
    name, the presence band's signal-to-noise ratio (dB) and the playback level (dB SPL)."""

    deductions: Mapping[str, float]
    presence_snr_db: float | None
    level_db_spl: float | None
