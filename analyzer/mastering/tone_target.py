"""The tonal target of a master and how a linear filter moves the measured bands.

The target is the level-matched difference between the mix's 1/3-octave band levels and the
references' (both in dB re their own integrated loudness, as :mod:`analyzer.comparison.metrics`
measures them). Inside the references' 10-90 % range a band counts as matched: the residual of a
band is its distance to that range (with one reference, to its level). The effect of a filter on
a measured band is predicted as the band's mean power gain ``|H|^2`` (the band is assumed flat
inside); the change of integrated loudness it causes is predicted from the band powers weighted
by the K-weighting filter (BS.1770-4 clause 2.1), since after mastering both tracks are compared
at equal loudness again. So the prediction is of the very numbers the verification measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.comparison.metrics import Comparison
from analyzer.dsp.kweighting import kweighting_response
from analyzer.dsp.units import ratio_db
from analyzer.mastering.eq import EqMove, response

#: The range of the reported tonal error (the standard mastering view: the extreme bands are
#: dominated by rumble and codec cut-offs).
ERROR_MIN_HZ = 40.0
ERROR_MAX_HZ = 16000.0
#: Frequencies per band over which a filter's power gain is averaged.
POINTS_PER_BAND = 9


@dataclass(frozen=True)
class ToneTarget:
    """Per 1/3-octave band (dB re integrated loudness): the mix and the references' median and
    10-90 % range; NaN where a side is undefined."""

    band_hz: np.ndarray
    mix_db: np.ndarray
    median_db: np.ndarray
    p10_db: np.ndarray
    p90_db: np.ndarray


def tone_target(comparison: Comparison) -> ToneTarget:
    """The 1/3-octave part of a comparison as arrays (band order as measured)."""
    hz, mix, med, p10, p90 = [], [], [], [], []
    for name, m in comparison.metrics.items():
        if not name.startswith("third_octave."):
            continue
        hz.append(float(name.split(".", 1)[1]))
        for out, v in ((mix, m.mix), (med, m.median), (p10, m.p10), (p90, m.p90)):
            out.append(np.nan if v is None else float(v))
    order = np.argsort(hz)
    arrays = [np.asarray(a, dtype=float)[order] for a in (hz, mix, med, p10, p90)]
    return ToneTarget(*arrays)


def band_gain_db(moves: Sequence[EqMove], sample_rate_hz: float, band_hz: np.ndarray) -> np.ndarray:
    """Power gain (dB) of ``moves`` averaged over each 1/3-octave band (flat spectrum inside)."""
    if not moves:
        return np.zeros(len(band_hz))
    grid = band_grid(np.asarray(band_hz, dtype=float), sample_rate_hz)
    power = np.abs(response(moves, sample_rate_hz, grid.ravel())) ** 2
    return 10.0 * np.log10(power.reshape(grid.shape).mean(axis=1))


def band_grid(band_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """``POINTS_PER_BAND`` frequencies across each 1/3-octave band (kept below Nyquist)."""
    half = 10.0 ** (0.3 / 6.0)  # half a base-ten third octave (IEC 61260-1)
    steps = np.linspace(-1.0, 1.0, POINTS_PER_BAND)
    grid = band_hz[:, None] * half ** steps[None, :]
    return np.minimum(grid, 0.499 * sample_rate_hz)


def k_power(band_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Mean K-weighting power gain (BS.1770-4 clause 2.1) over each band."""
    grid = band_grid(band_hz, sample_rate_hz)
    k = np.abs(kweighting_response(sample_rate_hz, grid.ravel())) ** 2
    return k.reshape(grid.shape).mean(axis=1)


def predicted_levels(mix_db: np.ndarray, gain_db: np.ndarray, k_power: np.ndarray) -> np.ndarray:
    """Band levels re integrated loudness after a linear filter with band gains ``gain_db``:
    every band moves by its gain, and all of them by minus the change of K-weighted power
    (the loudness change, BS.1770-4 without the gate) that the filter causes."""
    p = np.where(np.isfinite(mix_db), 10.0 ** (np.nan_to_num(mix_db, nan=-300.0) / 10.0), 0.0)
    g = 10.0 ** (gain_db / 10.0)
    before = float(np.sum(p * k_power))
    if np.ndim(gain_db) == 2:  # one filter per row (the fit's finite differences)
        shifts = [ratio_db(float(a), before) for a in np.sum(p * k_power * g, axis=1)]
        return mix_db + gain_db - np.array([[0.0 if s is None else s] for s in shifts])
    shift = ratio_db(float(np.sum(p * k_power * g)), before)
    return mix_db + gain_db - (0.0 if shift is None else shift)


def distance_to_range(levels: np.ndarray, target: ToneTarget) -> np.ndarray:
    """Signed distance (dB) of each band to the references' 10-90 % range; 0 inside, NaN where
    undefined."""
    lo = np.fmin(target.p10_db, target.p90_db)
    hi = np.fmax(target.p10_db, target.p90_db)
    return levels - np.clip(levels, lo, hi)


def tonal_error_db(
    deltas_db: np.ndarray,
    band_hz: np.ndarray,
    lo_hz: float = ERROR_MIN_HZ,
    hi_hz: float = ERROR_MAX_HZ,
) -> float | None:
    """RMS (dB) of level-matched band differences over ``lo_hz``-``hi_hz`` (defined bands)."""
    sel = (band_hz >= lo_hz * 0.99) & (band_hz <= hi_hz * 1.01) & np.isfinite(deltas_db)
    if not np.any(sel):
        return None
    return float(np.sqrt(np.mean(deltas_db[sel] ** 2)))
