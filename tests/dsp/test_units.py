"""dB helpers: the floors are the caller's, ratios of missing powers are None."""

from __future__ import annotations

import math

import numpy as np

from analyzer.dsp.units import amplitude_to_db, db_to_amplitude, db_to_power, power_to_db, ratio_db


def test_round_trips_and_floors() -> None:
    assert math.isclose(amplitude_to_db(db_to_amplitude(-6.0), floor_db=-math.inf), -6.0)
    assert math.isclose(power_to_db(db_to_power(-3.0), floor_db=-math.inf), -3.0)
    assert amplitude_to_db(0.0, floor_db=-math.inf) == -math.inf
    assert power_to_db(0.0, floor_db=-120.0) == -120.0
    np.testing.assert_allclose(db_to_power(np.array([0.0, 10.0])), [1.0, 10.0])


def test_ratio_db() -> None:
    assert ratio_db(2.0, 1.0) == 10.0 * math.log10(2.0)
    assert ratio_db(0.0, 1.0) is None
    assert ratio_db(1.0, 0.0) is None
