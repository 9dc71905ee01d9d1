"""The response maths of the playback-device models: a device's magnitude response, its mean
gain per band, A-weighting and the car's road-noise floor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from analyzer.dsp.bands import THIRD_OCTAVE_EXACT_HZ, THIRD_OCTAVE_NOMINAL_HZ
from analyzer.playback.device_models import Device

# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


def _freqs(frequencies_hz: Any) -> np.ndarray:
    f = np.asarray(frequencies_hz, dtype=np.float64)
    if np.any(~np.isfinite(f)) or np.any(f <= 0):
        raise ValueError("frequencies must be finite and > 0 Hz")
    return f


def _raw_db(device: Device, f: np.ndarray) -> np.ndarray:
    out = np.zeros_like(f)
    for section in device.filters:
        out = out + section.response_db(f)
    return out


def magnitude_db(device: Device, frequencies_hz: Any) -> np.ndarray:
    """The device's linear magnitude response (dB re the studio baseline) at ``frequencies_hz``
    (any shape, Hz > 0), the sum of its sections; normalised to 0 dB at ``normalise_hz`` when
    the device sets it (earbuds: 1 kHz). Sample-rate independent (analogue prototypes)."""
    f = _freqs(frequencies_hz)
    out = _raw_db(device, f)
    if device.normalise_hz is not None:
        out = out - _raw_db(device, np.array([device.normalise_hz]))[0]
    return out


def _edge_pairs(band_edges: Any) -> np.ndarray:
    e = np.asarray(band_edges, dtype=np.float64)
    if e.ndim == 1:
        if e.size < 2 or np.any(np.diff(e) <= 0):
            raise ValueError("1-D band edges must be increasing and at least two")
        return np.stack([e[:-1], e[1:]], axis=1)
    if e.ndim == 2 and e.shape[1] == 2 and np.all(e[:, 1] > e[:, 0]):
        return e
    raise ValueError("band_edges must be increasing edges (N+1,) or (lo, hi) pairs (N, 2)")


def band_gains_db(device: Device, band_edges: Any, *, points_per_band: int = 64) -> np.ndarray:
    """Mean power gain (dB) of the device in each band.

    ``band_edges``: either N+1 increasing edges (Hz) or N (lo_hz, hi_hz) pairs, e.g.
    ``list(BROAD_BANDS_HZ.values())``. The power gain 10^(dB/10) is averaged over points spaced
    evenly in log frequency inside each band (i.e. for a pink, equal-energy-per-octave input,
    the usual long-term shape of music). Returns shape (N,).
    """
    pairs = _edge_pairs(band_edges)
    t = (np.arange(points_per_band) + 0.5) / points_per_band
    lo, hi = np.log(pairs[:, :1]), np.log(pairs[:, 1:])
    f = np.exp(lo + (hi - lo) * t)
    power = 10.0 ** (magnitude_db(device, f) / 10.0)
    return 10.0 * np.log10(power.mean(axis=1))


# --------------------------------------------------------------------------------------------
# Car road noise
# --------------------------------------------------------------------------------------------

#: Interior level at the driver's ear at 100 km/h, dB(A). Typical mid-size sedan at highway
#: speed: 65–70 dB(A) (apgraphics.net "Interior noise levels in cars" table: economy 70–75,
#: mid-size 65–70, luxury 60–65); a "standard" of < 69 dB(A) at 120 km/h is quoted at
#: us.ok.com. 68 dB(A) is taken here for a mid-size car.
CAR_NOISE_DBA_AT_100_KMH = 68.0
#: Speed law: level grows with 30·log10(speed) (≈ +3.4 dB from 100 to 130 km/h, −9 dB at
#: 50 km/h). Tyre/road noise rises ≈ 30–40·log10(v) (Sandberg & Ejsmont, Tyre/Road Noise
#: Reference Book, 2002 — quoted from memory, not read in the stored corpora); Flor et al.,
#: Sensors 20 (2020) 2471, find interior level strongly correlated with speed.
CAR_NOISE_SPEED_EXPONENT_DB = 30.0
#: Spectrum shape (unweighted 1/3-octave band SPL): flat below 63 Hz (boom / structure-borne
#: road noise), then falling 5 dB per octave: the usual shape of interior road noise, which is
#: dominated by low frequencies (Cerrato, "Automotive sound quality — powertrain, road and wind
#: noise", Sound & Vibration, April 2009). The slope is an assumption, not a digitised curve.
CAR_NOISE_KNEE_HZ = 63.0
CAR_NOISE_SLOPE_DB_PER_OCTAVE = -5.0


def a_weighting_db(frequencies_hz: Any) -> np.ndarray:
    """IEC 61672-1 A-weighting (dB, 0 at 1 kHz) at ``frequencies_hz``."""
    f2 = _freqs(frequencies_hz) ** 2
    ra = (12194.0**2 * f2**2) / (
        (f2 + 20.6**2) * np.sqrt((f2 + 107.7**2) * (f2 + 737.9**2)) * (f2 + 12194.0**2)
    )
    return 20.0 * np.log10(ra) + 2.0


def _noise_shape_db(f: np.ndarray) -> np.ndarray:
    return CAR_NOISE_SLOPE_DB_PER_OCTAVE * np.maximum(0.0, np.log2(f / CAR_NOISE_KNEE_HZ))


_SHAPE_CENTRES = np.array(THIRD_OCTAVE_EXACT_HZ)
_SHAPE_DBA = 10.0 * np.log10(
    np.sum(10.0 ** ((_noise_shape_db(_SHAPE_CENTRES) + a_weighting_db(_SHAPE_CENTRES)) / 10.0))
)


def car_noise_band_levels_db(speed_kmh: float, band_centres: Any) -> np.ndarray:
    """Road-noise floor in the cabin, dB SPL (unweighted) per 1/3-octave band centred at
    ``band_centres`` (Hz), at ``speed_kmh`` (> 0).

    The shape (:data:`CAR_NOISE_SLOPE_DB_PER_OCTAVE` above :data:`CAR_NOISE_KNEE_HZ`) is scaled
    so that the A-weighted sum over the 1/3-octave bands 20 Hz–20 kHz equals
    ``CAR_NOISE_DBA_AT_100_KMH + 30·log10(speed/100)``: ≈ 59 dB(A) at 50 km/h, 68 at 100 and
    71.4 at 130. Band levels are for 1/3-octave bandwidths; scale if you use other bands.
    """
    if not (isinstance(speed_kmh, (int, float)) and math.isfinite(speed_kmh) and speed_kmh > 0):
        raise ValueError("speed_kmh must be a finite number > 0")
    target = CAR_NOISE_DBA_AT_100_KMH + CAR_NOISE_SPEED_EXPONENT_DB * math.log10(speed_kmh / 100)
    return _noise_shape_db(_freqs(band_centres)) + (target - _SHAPE_DBA)


#: The gain (dB) under which a band is below the device's low cut-off (the device note's).
CUTOFF_DB = -6.0


def low_cutoff_hz(gains_db: np.ndarray) -> float | None:
    """The device's low cut-off from its gains per nominal 1/3-octave band (``gains_db``, in
    the order of :data:`~analyzer.dsp.bands.THIRD_OCTAVE_NOMINAL_HZ`): the lowest band centre
    from which every band up to 1 kHz has a gain of at least :data:`CUTOFF_DB` (None when no
    such band)."""
    nominal = np.asarray(THIRD_OCTAVE_NOMINAL_HZ, dtype=float)
    upto = int(np.searchsorted(nominal, 1000.0))
    low = np.flatnonzero(np.asarray(gains_db)[:upto] < CUTOFF_DB)
    first = int(low[-1]) + 1 if low.size else 0
    return float(nominal[first]) if first < upto else None
