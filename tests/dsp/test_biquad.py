"""RBJ biquads: the analogue prototypes hit their defining points, and the digital sections
(bilinear transform) follow them well below Nyquist and match scipy's cascade response."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import sosfreqz

from analyzer.dsp.biquad import (
    RBJ_KINDS,
    butterworth_high_pass_db,
    butterworth_low_pass_db,
    cascade_response,
    high_shelf_db,
    low_shelf_db,
    peaking_db,
    rbj_coefficients,
)


def test_analogue_prototypes_defining_points() -> None:
    f0 = np.array([1000.0])
    assert peaking_db(f0, 1000.0, 4.5, 2.0)[0] == pytest.approx(4.5, abs=1e-12)
    assert low_shelf_db(f0, 1000.0, -6.0, 0.7071)[0] == pytest.approx(-3.0, abs=1e-9)
    assert high_shelf_db(f0, 1000.0, 6.0, 0.7071)[0] == pytest.approx(3.0, abs=1e-9)
    assert low_shelf_db(np.array([1.0]), 1000.0, -6.0, 0.7071)[0] == pytest.approx(-6.0, abs=1e-4)
    assert high_shelf_db(np.array([1e6]), 1000.0, 6.0, 0.7071)[0] == pytest.approx(6.0, abs=1e-4)
    assert butterworth_high_pass_db(f0, 1000.0, 3)[0] == pytest.approx(-3.0103, abs=1e-4)
    assert butterworth_low_pass_db(f0, 1000.0, 2)[0] == pytest.approx(-3.0103, abs=1e-4)
    # 6 dB per octave and order far from the corner
    assert butterworth_high_pass_db(np.array([125.0]), 1000.0, 2)[0] == pytest.approx(
        -36.1, abs=0.1
    )


@pytest.mark.parametrize("kind", RBJ_KINDS)
def test_digital_follows_analogue_below_nyquist(kind: str) -> None:
    fs = 192000.0
    f = np.geomspace(20.0, 2000.0, 50)
    b, a = rbj_coefficients(kind, 300.0, 5.0, 1.2, fs)
    assert a[0] == 1.0
    digital = 20 * np.log10(np.abs(cascade_response([(b, a)], fs, f)))
    analogue = {
        "peaking": lambda: peaking_db(f, 300.0, 5.0, 1.2),
        "low_shelf": lambda: low_shelf_db(f, 300.0, 5.0, 1.2),
        "high_shelf": lambda: high_shelf_db(f, 300.0, 5.0, 1.2),
        # The cookbook's 2nd-order passes with Q: |H|^2 of s^2 / (s^2 + s/Q + 1) and 1 / (...).
        "high_pass": lambda: 20 * np.log10(np.abs((1j * f / 300) ** 2 / _den(f))),
        "low_pass": lambda: 20 * np.log10(np.abs(1 / _den(f))),
    }[kind]()
    np.testing.assert_allclose(digital, analogue, atol=0.05)


def _den(f: np.ndarray) -> np.ndarray:
    s = 1j * f / 300.0
    return s * s + s / 1.2 + 1


def test_cascade_matches_scipy() -> None:
    fs = 48000.0
    sections = [rbj_coefficients(k, 1000.0, -3.0, 0.9, fs) for k in RBJ_KINDS]
    sos = np.array([np.concatenate(s) for s in sections])
    w, h = sosfreqz(sos, worN=512, fs=fs)
    np.testing.assert_allclose(cascade_response(sections, fs, w), h, rtol=1e-9, atol=1e-12)
