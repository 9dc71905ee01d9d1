"""Decibels: amplitude and power to dB and back, and power ratios in dB.

The definitions are the usual ones (IEC 60027-3: a field quantity's level is
``20 log10(a / a0)``, a power quantity's ``10 log10(p / p0)``). What a zero (or negative)
amplitude or power maps to is the caller's decision and is always passed explicitly as
``floor_db`` (``-inf`` for "no signal", or a finite floor); :func:`ratio_db` returns ``None``
when the ratio is undefined.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

FloatOrArray = TypeVar("FloatOrArray", float, np.ndarray)


def amplitude_to_db(a: float, *, floor_db: float) -> float:
    """``20 log10(a)``, or ``floor_db`` when ``a <= 0``."""
    return 20.0 * math.log10(a) if a > 0 else floor_db


def power_to_db(p: float, *, floor_db: float) -> float:
    """``10 log10(p)``, or ``floor_db`` when ``p <= 0``."""
    return 10.0 * math.log10(p) if p > 0 else floor_db


def db_to_amplitude(db: FloatOrArray) -> FloatOrArray:
    """``10^(dB / 20)``: the amplitude (gain factor) of a level in dB."""
    return 10.0 ** (db / 20.0)


def db_to_power(db: FloatOrArray) -> FloatOrArray:
    """``10^(dB / 10)``: the power of a level in dB."""
    return 10.0 ** (db / 10.0)


def ratio_db(num: float, den: float) -> float | None:
    """``10 log10(num / den)`` of two powers; ``None`` when either is zero (minus or plus
    infinity, or 0/0)."""
    return 10.0 * math.log10(num / den) if num > 0 and den > 0 else None


__all__ = ["amplitude_to_db", "db_to_amplitude", "db_to_power", "power_to_db", "ratio_db"]
