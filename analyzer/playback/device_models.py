"""Playback-device models as data: parametric filter sections, channel handling and level
behaviour for each device, each figure with its source.

Every section is an *analogue* (parametric) magnitude response (the prototypes of
:mod:`analyzer.dsp.biquad`) evaluated at given frequencies, so it does not depend on a sample
rate. Responses are relative to the studio baseline (flat monitors): 0 dB means "as on the
monitors". Earbud models are the device's eardrum response *minus* the Harman in-ear 2019 target
(bass shelf removed), normalised at 1 kHz, because raw ear-simulator curves contain the ear's own
+10…+18 dB gain near 2.5–3 kHz (see ``../shared/corpus/SOURCES.md``, "Playback-device
responses").

Sources are quoted in each section's ``source`` field. Where no published figure was found the
field says "assumption" and names the range it was chosen from (issue 5 gives the ranges).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np

from analyzer.dsp.biquad import (
    butterworth_high_pass_db,
    butterworth_low_pass_db,
    high_shelf_db,
    low_shelf_db,
    peaking_db,
)

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

#: Section classes by their name in device files.
SECTION_TYPES: dict[str, type] = {
    "high_pass": HighPass,
    "low_pass": LowPass,
    "peaking": Peaking,
    "low_shelf": LowShelf,
    "high_shelf": HighShelf,
    "cabin_gain": CabinGain,
    "breakpoints": Breakpoints,
}
#: Device-file names of the section classes.
SECTION_NAMES: dict[type, str] = {v: k for k, v in SECTION_TYPES.items()}


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
_SEAL_FIT = _FIT.replace("40 Hz–8 kHz", "20 Hz–8 kHz")

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

EARBUDS_SEALED = Device(
    name="earbuds-sealed",
    label="Sealed in-ear earbuds (AirPods Pro / Galaxy Buds-like)",
    kind="headphone",
    channels_mode="stereo",
    filters=(
        LowShelf(
            105.0,
            10.7,
            0.88,
            source=_SEAL_FIT + "the sealed fit keeps the bass: +5…+9 dB re the target at 20–100 Hz "
            "(Super Review AirPods Pro, oratory1990 Galaxy Buds; SOURCES.md: no LF roll-off)",
        ),
        Peaking(252.0, 8.8, 0.42, source=_SEAL_FIT + "both: +2…+5 dB excess at 150–500 Hz"),
        Peaking(4640.0, -3.0, 1.85, source=_SEAL_FIT + "both: −2…−2.5 dB dip near 4–5 kHz"),
        Peaking(2320.0, 6.2, 0.71, source=_SEAL_FIT + "AirPods Pro: +3.4 dB near 2 kHz"),
        Peaking(6590.0, 6.3, 1.68, source=_SEAL_FIT + "both: +1…+2 dB near 7 kHz"),
    ),
    nominal_level_db_spl=80.0,
    normalise_hz=1000.0,
    represents=("SuperReview_Apple_AirPods_Pro.csv", "oratory1990_Samsung_Galaxy_Buds.csv"),
    sources=(_AUTOEQ,),
    notes="One model for both curves: max error 2.2 dB (AirPods Pro) and 2.3 dB (Galaxy Buds), "
    "20 Hz–8 kHz; the open-fit model is ≈ 28 dB wrong at 20 Hz for these.",
)

_PHONE_HP_SRC = (
    "the one phone measurement found (OnePlus 6T bottom speaker, vpervolume.com, SOURCES.md) is "
    "linear from 260 Hz to 20 kHz: a 220 Hz 4th-order high-pass is −1 dB at 260 Hz (the former "
    "450 Hz gave −19 dB there); J. R. Chang & C. N. Wang, J. Mechanics 2018: a micro-speaker "
    "system's low bound 630 Hz, 300 Hz with a port. 4th order = closed micro-speaker (12 dB/oct) "
    "+ DSP protection high-pass (12 dB/oct): assumption (range: device_assumptions)"
)
PHONE = Device(
    name="phone",
    label="Smartphone speaker (mono)",
    kind="speaker",
    channels_mode="mono",
    width=0.0,
    filters=(
        HighPass(220.0, 4, source=_PHONE_HP_SRC),
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
        LowPass(
            12000.0,
            2,
            source="Dell Inspiron E1505: flat to 10 kHz (danmarx.org; −1.7 dB there); Framework "
            "13: HF roll-off from ≈ 7 kHz (community.frame.work; −0.4 dB there): the former 7 kHz "
            "cut-off (−3 dB at 7 kHz) contradicted the Dell; range 7–16 kHz (device_assumptions)",
        ),
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
    for d in (
        STUDIO,
        EARBUDS_OPEN,
        EARBUDS_SEALED,
        EARBUDS_CHEAP,
        PHONE,
        LAPTOP,
        BLUETOOTH_SPEAKER,
        TV,
        CAR,
        CLUB,
    )
}
