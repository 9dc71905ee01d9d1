"""Playback devices: the public names of the device models in one place.

The models are data in :mod:`analyzer.playback.device_models` (filter sections, channel
handling, level behaviour, the built-in devices with their sources), the response maths in
:mod:`analyzer.playback.device_response` (:func:`magnitude_db`, :func:`band_gains_db`,
:func:`car_noise_band_levels_db`, :func:`a_weighting_db`) and the user device-file parser in
:mod:`analyzer.playback.device_file` (:func:`device_to_dict`, :func:`device_from_dict`,
:func:`load_devices`).
"""

from __future__ import annotations

from analyzer.playback.device_file import device_from_dict, device_to_dict, load_devices
from analyzer.playback.device_models import (
    BLUETOOTH_SPEAKER,
    BUILTIN_DEVICES,
    CAR,
    CHANNEL_MODES,
    CLUB,
    EARBUDS_CHEAP,
    EARBUDS_OPEN,
    LAPTOP,
    PHONE,
    STUDIO,
    TV,
    Breakpoints,
    CabinGain,
    Device,
    HighPass,
    HighShelf,
    LevelBehaviour,
    LowPass,
    LowShelf,
    Peaking,
    Section,
)
from analyzer.playback.device_response import (
    CAR_NOISE_DBA_AT_100_KMH,
    CAR_NOISE_KNEE_HZ,
    CAR_NOISE_SLOPE_DB_PER_OCTAVE,
    CAR_NOISE_SPEED_EXPONENT_DB,
    a_weighting_db,
    band_gains_db,
    car_noise_band_levels_db,
    magnitude_db,
)

__all__ = [
    "BLUETOOTH_SPEAKER",
    "BUILTIN_DEVICES",
    "CAR",
    "CAR_NOISE_DBA_AT_100_KMH",
    "CAR_NOISE_KNEE_HZ",
    "CAR_NOISE_SLOPE_DB_PER_OCTAVE",
    "CAR_NOISE_SPEED_EXPONENT_DB",
    "CHANNEL_MODES",
    "CLUB",
    "EARBUDS_CHEAP",
    "EARBUDS_OPEN",
    "LAPTOP",
    "PHONE",
    "STUDIO",
    "TV",
    "Breakpoints",
    "CabinGain",
    "Device",
    "HighPass",
    "HighShelf",
    "LevelBehaviour",
    "LowPass",
    "LowShelf",
    "Peaking",
    "Section",
    "a_weighting_db",
    "band_gains_db",
    "car_noise_band_levels_db",
    "device_from_dict",
    "device_to_dict",
    "load_devices",
    "magnitude_db",
]
