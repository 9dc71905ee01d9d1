"""Playback-device models as data: parametric filter sections, channel handling and level
behaviour for each device, each figure with its source.

Every response here is an *analogue* (parametric) magnitude response evaluated at given
frequencies, so it does not depend on a sample rate. Responses are relative to the studio
baseline (flat monitors): 0 dB means "as on the monitors". Earbud models are the device's
eardrum response *minus* the Harman in-ear 2019 target (bass shelf removed), normalised at
1 kHz, because raw ear-simulator curves contain the ear's own +10…+18 dB gain near 2.5–3 kHz
(see ``../shared/corpus/SOURCES.md``, "Playback-device responses").

Sources are quoted in each section's ``source`` field. Where no published figure was found the
field says "assumption" and names the range it was chosen from (issue 5 gives the ranges).

Public API: :class:`Device`, the section classes, :data:`BUILTIN_DEVICES`,
:func:`magnitude_db`, :func:`band_gains_db`, :func:`car_noise_band_levels_db`,
:func:`a_weighting_db`, :func:`device_to_dict`, :func:`device_from_dict`, :func:`load_devices`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from analyzer.dsp.bands import THIRD_OCTAVE_EXACT_HZ
from analyzer.dsp.biquad import (
    butterworth_high_pass_db,
    butterworth_low_pass_db,
    high_shelf_db,
    low_shelf_db,
    peaking_db,
)
from analyzer.errors import UsageError

# --------------------------------------------------------------------------------------------
# Filter sections (analogue prototypes of analyzer.dsp.biquad; s = j f / f0)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HighPass:
    """Butterworth high-pass of ``order``: −3.01 dB at ``cutoff_hz``, 6·order dB/octave below."""

    cutoff_hz: float
    order: int
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        return butterworth_high_pass_db(f, self.cutoff_hz, self.order)


@dataclass(frozen=True)
class LowPass:
    """Butterworth low-pass of ``order``: −3.01 dB at ``cutoff_hz``, 6·order dB/octave above."""

    cutoff_hz: float
    order: int
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        return butterworth_low_pass_db(f, self.cutoff_hz, self.order)


@dataclass(frozen=True)
class Peaking:
    """Peaking (bell) section, RBJ Audio-EQ-Cookbook analogue prototype: exactly ``gain_db`` at
    ``centre_hz``, bandwidth set by ``q``."""

    centre_hz: float
    gain_db: float
    q: float
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        return peaking_db(f, self.centre_hz, self.gain_db, self.q)


@dataclass(frozen=True)
class LowShelf:
    """RBJ analogue low shelf: ``gain_db`` far below ``corner_hz``, ``gain_db``/2 at it."""

    corner_hz: float
    gain_db: float
    q: float = 0.7071
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        return low_shelf_db(f, self.corner_hz, self.gain_db, self.q)


@dataclass(frozen=True)
class HighShelf:
    """RBJ analogue high shelf: ``gain_db`` far above ``corner_hz``, ``gain_db``/2 at it."""

    corner_hz: float
    gain_db: float
    q: float = 0.7071
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        return high_shelf_db(f, self.corner_hz, self.gain_db, self.q)


@dataclass(frozen=True)
class CabinGain:
    """Room/cabin pressure gain: 0 dB at and above ``corner_hz``, rising
    ``slope_db_per_octave`` below it, capped at ``max_gain_db`` (piecewise linear in log f)."""

    corner_hz: float
    slope_db_per_octave: float
    max_gain_db: float
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        octaves_below = np.maximum(0.0, np.log2(self.corner_hz / f))
        return np.minimum(self.max_gain_db, self.slope_db_per_octave * octaves_below)


@dataclass(frozen=True)
class Breakpoints:
    """A table of (frequency, dB) breakpoints, interpolated linearly in log frequency and held
    constant beyond its ends (for measured or user-drawn curves)."""

    frequencies_hz: tuple[float, ...]
    gains_db: tuple[float, ...]
    source: str = ""

    def response_db(self, f: np.ndarray) -> np.ndarray:
        return np.interp(np.log(f), np.log(np.asarray(self.frequencies_hz)), self.gains_db)


Section = Union[HighPass, LowPass, Peaking, LowShelf, HighShelf, CabinGain, Breakpoints]  # noqa: UP007

_SECTION_TYPES: dict[str, type] = {
    "high_pass": HighPass,
    "low_pass": LowPass,
    "peaking": Peaking,
    "low_shelf": LowShelf,
    "high_shelf": HighShelf,
    "cabin_gain": CabinGain,
    "breakpoints": Breakpoints,
}
_SECTION_NAMES: dict[type, str] = {v: k for k, v in _SECTION_TYPES.items()}


# --------------------------------------------------------------------------------------------
# Level behaviour and the device
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelBehaviour:
    """Level-dependent processing (nonlinear, rendered in the time domain later).

    ``kind`` is ``"multiband_limiter"`` (one threshold per band between ``crossovers_hz``) or
    ``"bass_limiter"`` (one band below ``crossovers_hz[0]`` is limited). Thresholds are the
    acoustic output levels (dB SPL at the listener) where gain reduction starts.
    """

    kind: str
    crossovers_hz: tuple[float, ...]
    thresholds_db_spl: tuple[float, ...]
    ratio: float
    attack_ms: float
    release_ms: float
    source: str = ""


CHANNEL_MODES = ("stereo", "mono", "narrow")


@dataclass(frozen=True)
class Device:
    """One playback device.

    ``channels_mode``: ``"stereo"`` (as is), ``"mono"`` (fold-down (L+R)/2) or ``"narrow"``
    (side signal scaled by ``width``, 0…1). ``mono_below_hz`` folds only the low end to mono
    (club subs). ``balance_db`` > 0 means the left channel arrives louder at the listener and
    ``right_delay_ms`` > 0 that the right arrives later (driver seat). ``normalise_hz``: the
    response is normalised to 0 dB there (earbud models). ``represents``: the measured CSVs in
    ``../shared/corpus/devices`` that the model was fitted to and is tested against.
    ``noise``: name of an ambient-noise model (``"car_road"``) used as a masking floor.
    """

    name: str
    label: str
    kind: str
    channels_mode: str
    filters: tuple[Section, ...]
    width: float = 1.0
    mono_below_hz: float | None = None
    balance_db: float = 0.0
    right_delay_ms: float = 0.0
    nominal_level_db_spl: float = 83.0
    max_level_db_spl: float | None = None
    level: LevelBehaviour | None = None
    noise: str | None = None
    normalise_hz: float | None = None
    represents: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())
    notes: str = ""


_ASSUME = "assumption (no published figure found); chosen inside the range of issue 5: "
_AUTOEQ = "AutoEq (jaakkopasanen/AutoEq, MIT) CSVs in ../shared/corpus/devices, see SOURCES.md"
_FIT = "least-minimax fit (by this module's author) to device − Harman IE 2019 w/o bass, 1/3-oct "
_FIT += "smoothed, normalised at 1 kHz, 40 Hz–8 kHz, to "

STUDIO = Device(
    name="studio",
    label="Studio monitors (flat baseline)",
    kind="reference",
    channels_mode="stereo",
    filters=(),
    nominal_level_db_spl=83.0,
    sources=("baseline: a flat response is the reference all other devices are relative to",),
    notes="83 dB SPL per channel: the film/music mixing reference level (SMPTE RP 200 / Katz).",
)

EARBUDS_OPEN = Device(
    name="earbuds-open",
    label="Open-fit earbuds (Apple AirPods-like)",
    kind="headphone",
    channels_mode="stereo",
    filters=(
        HighPass(
            68.0,
            2,
            source=_FIT + "oratory1990 AirPods + Super Review AirPods 2; the raw curves are "
            "−6 dB re 200 Hz–1 kHz at ≈ 57 / 55 Hz (SOURCES.md)",
        ),
        Peaking(2020.0, 7.2, 1.48, source=_FIT + "AirPods: 1.6–2.5 kHz excess over the target"),
        Peaking(5340.0, 2.8, 7.5, source=_FIT + "AirPods: narrow 5.3 kHz peak"),
        Peaking(7970.0, 3.9, 9.0, source=_FIT + "AirPods 2 (Super Review): peak ≈ 8 kHz"),
    ),
    nominal_level_db_spl=80.0,
    normalise_hz=1000.0,
    represents=("oratory1990_Apple_AirPods.csv", "SuperReview_Apple_AirPods_2.csv"),
    sources=(_AUTOEQ,),
    notes="Apple EarPods (oratory1990) are not claimed: their 2–8 kHz excess differs from the "
    "AirPods' by up to 6 dB, so one model cannot hold both within ±3 dB.",
)

EARBUDS_CHEAP = Device(
    name="earbuds-cheap",
    label="Cheap earbuds (bass falls near 200 Hz)",
    kind="headphone",
    channels_mode="stereo",
    filters=(
        HighPass(
            238.0,
            2,
            source=_FIT + "Innerfidelity Walmart Three Dollar Buds (63 Hz–8 kHz); raw curve −6 dB "
            "at ≈ 205 Hz, −10 dB at ≈ 160 Hz (SOURCES.md)",
        ),
        Peaking(392.0, 6.0, 1.94, source=_FIT + "Walmart buds: +4.6 dB bump near 400 Hz"),
        Peaking(2300.0, -9.6, 2.25, source=_FIT + "Walmart buds: −7.6 dB dip near 2.5 kHz"),
        HighShelf(3620.0, -4.4, 1.35, source=_FIT + "Walmart buds: treble −5…−6 dB from ≈ 4 kHz"),
    ),
    nominal_level_db_spl=80.0,
    normalise_hz=1000.0,
    represents=("Innerfidelity_Walmart_Three_Dollar_Buds.csv",),
    sources=(_AUTOEQ,),
)

_PHONE_HP_SRC = (
    "low cut-off 300–600 Hz (issue 5); J. R. Chang & C. N. Wang, J. Mechanics 2018: a "
    "micro-speaker system's low bound 630 Hz, 300 Hz with a port; OnePlus 6T linear from 260 Hz "
    "(vpervolume.com). 4th order = closed micro-speaker (12 dB/oct) + DSP protection high-pass "
    "(12 dB/oct): assumption"
)
PHONE = Device(
    name="phone",
    label="Smartphone speaker (mono)",
    kind="speaker",
    channels_mode="mono",
    width=0.0,
    filters=(
        HighPass(450.0, 4, source=_PHONE_HP_SRC),
        Peaking(
            3000.0,
            5.0,
            2.0,
            source=_ASSUME + "presence resonance of a micro-speaker front chamber; vpervolume.com "
            "reports a notch at 3.8 kHz with a horn, Zhong et al. (Appl. Acoust. 93, 2015) "
            "enclosure resonances near 7.8 kHz",
        ),
        LowPass(14000.0, 2, source=_ASSUME + "micro-speaker treble limit"),
    ),
    nominal_level_db_spl=70.0,
    max_level_db_spl=85.0,
    level=LevelBehaviour(
        kind="multiband_limiter",
        crossovers_hz=(1000.0, 4000.0),
        thresholds_db_spl=(70.0, 78.0, 78.0),
        ratio=10.0,
        attack_ms=5.0,
        release_ms=100.0,
        source=_ASSUME + "phones compress at every volume (issue 5); the low band, which drives "
        "excursion, limits first; max ≈ 85 dB SPL at 30 cm",
    ),
    sources=("SOURCES.md 'Other playback devices' table, smartphone rows",),
)

LAPTOP = Device(
    name="laptop",
    label="Laptop speakers (narrow stereo)",
    kind="speaker",
    channels_mode="narrow",
    width=0.4,
    filters=(
        HighPass(
            300.0,
            4,
            source="Framework 13: falls off quickly below 400 Hz; Dell Inspiron E1505: good to "
            "≈ 300 Hz then drops like a rock; unnamed notebook: steep fall at 300 Hz "
            "(SOURCES.md); order 4 = 'steep': assumption",
        ),
        LowPass(7000.0, 2, source="Framework 13: HF roll-off from ≈ 7 kHz (community.frame.work)"),
    ),
    nominal_level_db_spl=70.0,
    max_level_db_spl=82.0,
    sources=("SOURCES.md 'Other playback devices' table, laptop rows",),
    notes="width 0.4: speakers ≈ 30 cm apart at ≈ 50 cm subtend ≈ ±17° instead of ±30° "
    "(geometry; assumption).",
)

BLUETOOTH_SPEAKER = Device(
    name="bluetooth-speaker",
    label="Small Bluetooth speaker (mono)",
    kind="speaker",
    channels_mode="mono",
    width=0.0,
    filters=(
        HighPass(
            90.0,
            2,
            source="issue 5: −3 dB near 80–100 Hz, 12 dB/oct closed-box slope (closed box with "
            "Qtc 0.707 = 2nd-order Butterworth); JBL Charge 6 is quoted 'down to 56 Hz' "
            "(gamereactor.it) — a larger unit",
        ),
        LowPass(16000.0, 2, source=_ASSUME + "small full-range driver treble limit"),
    ),
    nominal_level_db_spl=75.0,
    max_level_db_spl=90.0,
    level=LevelBehaviour(
        kind="bass_limiter",
        crossovers_hz=(200.0,),
        thresholds_db_spl=(80.0,),
        ratio=8.0,
        attack_ms=10.0,
        release_ms=200.0,
        source=_ASSUME + "DSP bass limiter that engages with level (issue 5)",
    ),
    sources=("SOURCES.md 'Other playback devices' table, Bluetooth row",),
)

TV = Device(
    name="tv",
    label="Flat-screen TV speakers",
    kind="speaker",
    channels_mode="narrow",
    width=0.6,
    filters=(
        HighPass(
            120.0,
            4,
            source="issue 5: low cut-off near 100–150 Hz; no numeric TV data found "
            "(Rtings publishes per-TV low-frequency extension); order 4: assumption",
        ),
        Peaking(
            2500.0,
            3.0,
            1.0,
            source=_ASSUME + "dialogue-region emphasis (1–4 kHz) of TV voice processing",
        ),
        LowPass(12000.0, 2, source=_ASSUME + "down-firing slim drivers lose the top octave"),
    ),
    nominal_level_db_spl=70.0,
    max_level_db_spl=85.0,
    sources=("SOURCES.md 'Other playback devices' table, TV row",),
)

CAR = Device(
    name="car",
    label="Car (driver seat, with road noise)",
    kind="room",
    channels_mode="stereo",
    balance_db=3.0,
    right_delay_ms=2.0,
    filters=(
        CabinGain(
            80.0,
            12.0,
            10.0,
            source="cabin gain +12 dB/oct below a 70–90 Hz corner (glasswolf.net/papers/"
            "xferfunct.html); typical sedan +10…12 dB at 30 Hz (rokketbox.com); capped at "
            "+10 dB (reached at 45 Hz) so that 30 Hz reads +10 dB",
        ),
    ),
    nominal_level_db_spl=80.0,
    max_level_db_spl=100.0,
    noise="car_road",
    sources=("SOURCES.md 'Other playback devices' table, car cabin rows",),
    notes="driver seat: ≈ 0.7 m to the left door speaker vs ≈ 1.4 m to the right, so the left "
    "arrives ≈ 2 ms earlier and, with cabin reflections, ≈ 3 dB louder (inverse distance would "
    "give 6 dB): geometry, assumption.",
)

CLUB = Device(
    name="club",
    label="Club PA (mono sub)",
    kind="speaker",
    channels_mode="stereo",
    mono_below_hz=100.0,
    filters=(
        HighPass(30.0, 4, source=_ASSUME + "sub-bass horn/reflex tuning near 30 Hz, 24 dB/oct"),
        LowShelf(100.0, 6.0, 0.7071, source=_ASSUME + "sub emphasis of club tunings (+6 dB)"),
    ),
    nominal_level_db_spl=100.0,
    max_level_db_spl=110.0,
    sources=("issue 5: mono sub below ≈ 100 Hz, sub emphasis, very high level",),
    notes="100 dB SPL (A-slow ≈ dance-floor level); many venues are limited to 100–102 dB(A).",
)

BUILTIN_DEVICES: dict[str, Device] = {
    d.name: d
    for d in (STUDIO, EARBUDS_OPEN, EARBUDS_CHEAP, PHONE, LAPTOP, BLUETOOTH_SPEAKER, TV, CAR, CLUB)
}


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


# --------------------------------------------------------------------------------------------
# User devices: dict <-> Device, JSON/TOML files
# --------------------------------------------------------------------------------------------


def device_to_dict(device: Device) -> dict[str, Any]:
    """Plain JSON-able dict of ``device`` in the user-file shape (see :func:`load_devices`)."""
    out: dict[str, Any] = {}
    for name in Device.__dataclass_fields__:
        value = getattr(device, name)
        if name == "filters":
            value = [_section_to_dict(s) for s in value]
        elif name == "level" and value is not None:
            value = {k: _plain(getattr(value, k)) for k in LevelBehaviour.__dataclass_fields__}
        else:
            value = _plain(value)
        out[name] = value
    return out


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _section_to_dict(section: Section) -> dict[str, Any]:
    d: dict[str, Any] = {"type": _SECTION_NAMES[type(section)]}
    for k in type(section).__dataclass_fields__:
        d[k] = _plain(getattr(section, k))
    return d


_REQUIRED = ("name", "channels_mode", "filters")
_NUMBER_FIELDS = {
    "width",
    "balance_db",
    "right_delay_ms",
    "nominal_level_db_spl",
    "max_level_db_spl",
    "mono_below_hz",
    "normalise_hz",
}


def _num(value: Any, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number")
    if positive and value <= 0:
        raise ValueError(f"{what} must be > 0")
    return float(value)


def _section_from_dict(d: Any, where: str) -> Section:
    if not isinstance(d, Mapping) or d.get("type") not in _SECTION_TYPES:
        raise ValueError(f"{where}: 'type' must be one of {', '.join(_SECTION_TYPES)}")
    cls = _SECTION_TYPES[d["type"]]
    fields = cls.__dataclass_fields__
    unknown = set(d) - set(fields) - {"type"}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    kw: dict[str, Any] = {}
    for k in fields:
        if k not in d:
            if k in ("source", "q"):
                continue
            raise ValueError(f"{where}: missing '{k}'")
        v = d[k]
        if k == "source":
            if not isinstance(v, str):
                raise ValueError(f"{where}: 'source' must be a string")
            kw[k] = v
        elif k == "order":
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 8:
                raise ValueError(f"{where}: 'order' must be an integer 1-8")
            kw[k] = v
        elif k in ("frequencies_hz", "gains_db"):
            if not isinstance(v, (list, tuple)) or len(v) < 2:
                raise ValueError(f"{where}: '{k}' must be a list of at least two numbers")
            kw[k] = tuple(_num(x, f"{where}.{k}", positive=k == "frequencies_hz") for x in v)
        else:
            pos = k.endswith("_hz") or k == "q"
            kw[k] = _num(v, f"{where}.{k}", positive=pos)
    if cls is Breakpoints:
        if len(kw["frequencies_hz"]) != len(kw["gains_db"]):
            raise ValueError(f"{where}: frequencies_hz and gains_db differ in length")
        if np.any(np.diff(kw["frequencies_hz"]) <= 0):
            raise ValueError(f"{where}: frequencies_hz must increase")
    return cls(**kw)


def device_from_dict(d: Any, where: str = "device") -> Device:
    """Build and validate a :class:`Device` from the user-file shape; ``ValueError`` (naming
    ``where`` and the field) on any problem."""
    if not isinstance(d, Mapping):
        raise ValueError(f"{where} must be a table/object")
    unknown = set(d) - set(Device.__dataclass_fields__)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for k in _REQUIRED:
        if k not in d:
            raise ValueError(f"{where}: missing '{k}'")
    name = d["name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where}: 'name' must be a non-empty string")
    where = f"device '{name}'"
    kw: dict[str, Any] = {"name": name}
    for k in ("label", "kind", "notes"):
        if k in d:
            if not isinstance(d[k], str):
                raise ValueError(f"{where}: '{k}' must be a string")
            kw[k] = d[k]
    kw.setdefault("label", name)
    kw.setdefault("kind", "user")
    if d["channels_mode"] not in CHANNEL_MODES:
        raise ValueError(f"{where}: 'channels_mode' must be one of {', '.join(CHANNEL_MODES)}")
    kw["channels_mode"] = d["channels_mode"]
    for k in _NUMBER_FIELDS & set(d):
        if d[k] is None and k in ("max_level_db_spl", "mono_below_hz", "normalise_hz"):
            kw[k] = None
            continue
        kw[k] = _num(d[k], f"{where}.{k}", positive=k.endswith("_hz"))
    if not 0.0 <= kw.get("width", 1.0) <= 1.0:
        raise ValueError(f"{where}: 'width' must be between 0 and 1")
    if kw["channels_mode"] == "mono" and "width" not in d:
        kw["width"] = 0.0
    filters = d["filters"]
    if not isinstance(filters, (list, tuple)):
        raise ValueError(f"{where}: 'filters' must be a list")
    kw["filters"] = tuple(
        _section_from_dict(s, f"{where} filter {i + 1}") for i, s in enumerate(filters)
    )
    for k in ("represents", "sources"):
        if k in d:
            v = d[k]
            if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
                raise ValueError(f"{where}: '{k}' must be a list of strings")
            kw[k] = tuple(v)
    if d.get("noise") is not None:
        if d["noise"] != "car_road":
            raise ValueError(f"{where}: 'noise' must be null or 'car_road'")
        kw["noise"] = "car_road"
    if d.get("level") is not None:
        kw["level"] = _level_from_dict(d["level"], f"{where} level")
    return Device(**kw)


def _level_from_dict(d: Any, where: str) -> LevelBehaviour:
    if not isinstance(d, Mapping):
        raise ValueError(f"{where} must be a table/object")
    fields = LevelBehaviour.__dataclass_fields__
    unknown = set(d) - set(fields)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = [k for k in fields if k != "source" and k not in d]
    if missing:
        raise ValueError(f"{where}: missing {', '.join(repr(k) for k in missing)}")
    if d["kind"] not in ("multiband_limiter", "bass_limiter"):
        raise ValueError(f"{where}: 'kind' must be 'multiband_limiter' or 'bass_limiter'")
    for k in ("crossovers_hz", "thresholds_db_spl"):
        if not isinstance(d[k], (list, tuple)):
            raise ValueError(f"{where}: '{k}' must be a list of numbers")
    crossovers = tuple(_num(x, f"{where}.crossovers_hz", positive=True) for x in d["crossovers_hz"])
    thresholds = tuple(_num(x, f"{where}.thresholds_db_spl") for x in d["thresholds_db_spl"])
    if len(thresholds) != len(crossovers) + 1 and d["kind"] == "multiband_limiter":
        raise ValueError(f"{where}: need one threshold per band (len(crossovers_hz) + 1)")
    return LevelBehaviour(
        kind=d["kind"],
        crossovers_hz=crossovers,
        thresholds_db_spl=thresholds,
        ratio=_num(d["ratio"], f"{where}.ratio", positive=True),
        attack_ms=_num(d["attack_ms"], f"{where}.attack_ms", positive=True),
        release_ms=_num(d["release_ms"], f"{where}.release_ms", positive=True),
        source=str(d.get("source", "")),
    )


def _read_table(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        try:
            import tomllib
        except ImportError as exc:  # Python 3.10
            raise ValueError("TOML needs Python 3.11 or newer; use JSON") from exc
        return tomllib.loads(text)
    return json.loads(text)


def load_devices(path: str | Path | None = None) -> dict[str, Device]:
    """Built-in devices plus those of a user file (a user device replaces a built-in one of the
    same name).

    File shape (JSON, or TOML for a ``.toml`` path): ``{"devices": [DEVICE, ...]}`` where
    DEVICE is :func:`device_to_dict`'s shape; only ``name``, ``channels_mode`` and ``filters``
    are required. Filters are ``{"type": "high_pass" | "low_pass" | "peaking" | "low_shelf" |
    "high_shelf" | "cabin_gain" | "breakpoints", ...the section's fields...}``.
    Raises :class:`UsageError` with a one-line message naming the file on any problem.
    """
    devices = dict(BUILTIN_DEVICES)
    if path is None:
        return devices
    p = Path(path)
    try:
        data = _read_table(p)
        if not isinstance(data, Mapping) or not isinstance(data.get("devices"), list):
            raise ValueError("expected a top-level 'devices' list")
        seen: set[str] = set()
        for i, entry in enumerate(data["devices"]):
            dev = device_from_dict(entry, f"device {i + 1}")
            if dev.name in seen:
                raise ValueError(f"device '{dev.name}' is defined twice")
            seen.add(dev.name)
            devices[dev.name] = dev
    except OSError as exc:
        raise UsageError(f"{p}: cannot read device file ({exc.strerror or exc})") from exc
    except (ValueError, TypeError) as exc:  # json/toml decode errors are ValueErrors
        msg = " ".join(str(exc).split())
        raise UsageError(f"{p}: bad device file: {msg}") from exc
    return devices
