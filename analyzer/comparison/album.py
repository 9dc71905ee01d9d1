"""Album consistency: does a set of tracks sound like one record?

Over the tracks whose integrated loudness is defined (silent tracks are left out, with a note):

* **Spreads**: the loudness spread is the highest minus the lowest integrated loudness (LU);
  the tonal spread is, per broad band of the tonal balance, the highest minus the lowest level
  (dB re each track's own total power, so level does not enter). Max - min, not a percentile
  range: on an album every track is heard, so the two extremes are what a listener compares.
* **Outliers**: a track is a loudness outlier when its integrated loudness is more than
  ``outlier_lu`` (default 3 LU) from the album median, and a tonal outlier in a band when its
  level there is more than ``outlier_tonal_db`` (default 3 dB) from the album's median in that
  band. The median is the album's centre because it ignores the outliers themselves (a mean
  would move towards one very loud master). The thresholds are fixed perceptual distances, not
  multiples of the album's own scatter (k·MAD): the question is consistency, and a rule scaled
  by the scatter would excuse every track of an album that is all over the place. 3 LU is three
  times the ±1 LU that EBU R128 (Tech 3343) allows around a target, and a jump that size
  between consecutive tracks is plainly heard; 3 dB in a broad band is an obvious EQ move.
* **Gains**: album-mode normalisation. Each track is moved only as far as needed to come
  within ``spread_lu`` around the median (``[median - spread/2, median + spread/2]``); tracks
  already inside keep their level, so the intended differences between them (a quiet ballad,
  a loud single) survive, and a static gain never changes a track's dynamics.
  ``spread_lu = 0`` asks for every track at the median. A gain that would push the true peak
  above ``ceiling_dbtp`` (default -1 dBTP) is cut to what the peak allows, and the reason is
  given: the rest needs a limiter, which is a mastering decision, not a gain.
* A mono track is taken as played on both speakers (dual mono): its loudness, and the loudness
  after its gain, are 3 LU over its one-channel BS.1770 reading
  (:func:`~analyzer.measure.loudness.as_played_lufs`), with a note.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.dsp.bands import BROAD_BAND_BY_KEY, BROAD_BAND_NAMES
from analyzer.measure.loudness import as_played_lufs
from analyzer.types import DEFAULT_CEILING_DBTP, TrackAnalysis

DEFAULT_SPREAD_LU = 2.0
OUTLIER_LU = 3.0
OUTLIER_TONAL_DB = 3.0


@dataclass(frozen=True)
class AlbumOutlier:
    """A track out of line with the album: ``track`` is its 1-based position, ``reasons`` one
    phrase per finding, ``text`` the sentence."""

    path: str
    track: int
    loudness_delta_lu: float | None
    reasons: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class AlbumGain:
    """The suggested static gain of one track; ``wanted_gain_db`` before the true-peak cut."""

    path: str
    gain_db: float
    wanted_gain_db: float
    integrated_after_lufs: float
    true_peak_after_dbtp: float | None
    reason: str | None = None


@dataclass(frozen=True)
class AlbumReport:
    """Spreads, outliers and suggested gains over the tracks of an album."""

    n_tracks: int
    median_lufs: float | None
    loudness_spread_lu: float | None
    loudness_spread_after_lu: float | None
    tonal_median_db: Mapping[str, float | None]
    tonal_spread_db: Mapping[str, float | None]
    outliers: tuple[AlbumOutlier, ...]
    gains: tuple[AlbumGain, ...]
    target_spread_lu: float
    ceiling_dbtp: float
    outlier_lu: float
    outlier_tonal_db: float
    notes: tuple[str, ...] = ()


def _finite(v: float | None) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


_TONAL_WORDS = {
    "sub": ("heavier in the sub-bass", "lighter in the sub-bass"),
    "low": ("heavier in the low end", "lighter in the low end"),
    "low_mid": ("fuller in the low mids", "thinner in the low mids"),
    "high_mid": ("more forward in the high mids", "more recessed in the high mids"),
    "high": ("brighter", "duller"),
    "air": ("airier", "less airy"),
}


def _tonal_phrase(band: str, delta_db: float) -> str:
    more, less = _TONAL_WORDS[band]
    lo, hi = BROAD_BAND_BY_KEY[band].lo_hz, BROAD_BAND_BY_KEY[band].hi_hz
    word = more if delta_db > 0 else less
    return f"{abs(delta_db):.1f} dB {word} ({_khz(lo)}-{_khz(hi)} Hz)"


def _khz(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def album_report(
    tracks: Sequence[TrackAnalysis],
    *,
    spread_lu: float = DEFAULT_SPREAD_LU,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    outlier_lu: float = OUTLIER_LU,
    outlier_tonal_db: float = OUTLIER_TONAL_DB,
) -> AlbumReport:
    """The album consistency report of ``tracks`` (in album order); see the module docstring
    for the rules. ``spread_lu`` >= 0 is the loudness window the gains aim for (LU)."""
    if spread_lu < 0:
        raise ValueError("spread_lu must be >= 0")
    notes: list[str] = []
    measured = []
    for i, t in enumerate(tracks, start=1):
        lufs = _finite(as_played_lufs(t.loudness.integrated_lufs, t.file.channels))
        if lufs is None:
            notes.append(f"track {i} ({t.file.path}) has no integrated loudness: left out")
            continue
        if t.file.channels == 1:
            notes.append(f"track {i} ({t.file.path}) is mono: its loudness is as played on "
                         f"both speakers, {lufs:.1f} LUFS")  # fmt: skip
        measured.append((i, t, lufs))
    tonal_median, tonal_spread = _tonal_stats(measured)
    if not measured:
        return AlbumReport(
            n_tracks=0, median_lufs=None, loudness_spread_lu=None, loudness_spread_after_lu=None,
            tonal_median_db=tonal_median, tonal_spread_db=tonal_spread, outliers=(), gains=(),
            target_spread_lu=spread_lu, ceiling_dbtp=ceiling_dbtp, outlier_lu=outlier_lu,
            outlier_tonal_db=outlier_tonal_db, notes=tuple(notes),
        )  # fmt: skip
    levels = np.array([lufs for _, _, lufs in measured])
    median = float(np.median(levels))
    outliers = [
        o
        for i, t, lufs in measured
        if (o := _outlier(i, t, lufs - median, tonal_median, outlier_lu, outlier_tonal_db))
    ]
    gains = [_gain(t, lufs, median, spread_lu, ceiling_dbtp) for _, t, lufs in measured]
    after = [g.integrated_after_lufs for g in gains]
    return AlbumReport(
        n_tracks=len(measured),
        median_lufs=median,
        loudness_spread_lu=float(levels.max() - levels.min()),
        loudness_spread_after_lu=max(after) - min(after),
        tonal_median_db=tonal_median,
        tonal_spread_db=tonal_spread,
        outliers=tuple(outliers),
        gains=tuple(gains),
        target_spread_lu=spread_lu,
        ceiling_dbtp=ceiling_dbtp,
        outlier_lu=outlier_lu,
        outlier_tonal_db=outlier_tonal_db,
        notes=tuple(notes),
    )


def _tonal_stats(
    measured: Sequence[tuple[int, TrackAnalysis, float]],
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Per broad band: the album's median tonal balance and its spread (max - min)."""
    tonal_median: dict[str, float | None] = {}
    tonal_spread: dict[str, float | None] = {}
    for band in BROAD_BAND_NAMES:
        vals = [
            _finite(t.spectrum.tonal_balance_db.get(band)) if t.spectrum else None
            for _, t, _ in measured
        ]
        defined = [v for v in vals if v is not None]
        tonal_median[band] = float(np.median(defined)) if defined else None
        tonal_spread[band] = max(defined) - min(defined) if defined else None
    return tonal_median, tonal_spread


def _outlier(
    i: int, t: TrackAnalysis, delta: float, tonal_median: Mapping[str, float | None],
    outlier_lu: float, outlier_tonal_db: float,
) -> AlbumOutlier | None:  # fmt: skip
    """Track ``i`` (``delta`` LU from the album median) as an outlier, or ``None``."""
    reasons = []
    if abs(delta) > outlier_lu:
        reasons.append(f"{abs(delta):.1f} LU {'louder' if delta > 0 else 'quieter'}")
    tonal = []
    for band in BROAD_BAND_NAMES:
        v = _finite(t.spectrum.tonal_balance_db.get(band)) if t.spectrum else None
        med = tonal_median[band]
        if v is not None and med is not None and abs(v - med) > outlier_tonal_db:
            tonal.append((abs(v - med), _tonal_phrase(band, v - med)))
    # Largest tonal difference first; the sentence names the two largest (all are listed
    # in ``reasons``), so it stays readable.
    tonal.sort(key=lambda x: -x[0])
    reasons.extend(phrase for _, phrase in tonal)
    if not reasons:
        return None
    said = reasons[: 3 if abs(delta) > outlier_lu else 2]
    joined = said[0] if len(said) == 1 else ", ".join(said[:-1]) + f" and {said[-1]}"
    text = f"track {i} ({t.file.path}) is {joined} than the album median"
    return AlbumOutlier(t.file.path, i, delta, tuple(reasons), text)


def _gain(
    t: TrackAnalysis, lufs: float, median: float, spread_lu: float, ceiling_dbtp: float
) -> AlbumGain:
    """The static gain that brings the track within ``spread_lu`` around the median, cut to what
    its true peak allows under ``ceiling_dbtp``."""
    lo, hi = median - spread_lu / 2, median + spread_lu / 2
    wanted = min(max(lufs, lo), hi) - lufs
    gain, reason = wanted, None
    tp = _finite(t.peaks.true_peak_dbtp)
    if wanted > 0 and tp is not None and tp + wanted > ceiling_dbtp:
        gain = max(0.0, ceiling_dbtp - tp)
        reason = (
            f"cut from {wanted:+.1f} dB to {gain:+.1f} dB: the true peak would reach "
            f"{tp + wanted:+.1f} dBTP, above the {ceiling_dbtp:+.1f} dBTP ceiling "
            "(the rest needs a limiter)"
        )
    return AlbumGain(
        path=t.file.path,
        gain_db=gain,
        wanted_gain_db=wanted,
        integrated_after_lufs=lufs + gain,
        true_peak_after_dbtp=None if tp is None else tp + gain,
        reason=reason,
    )
