"""RBJ EQ moves against scipy: coefficients' responses, stated gains, exact filtering, streaming."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.mastering.eq import (
    EqChain,
    EqMove,
    apply_eq,
    biquad_coefficients,
    impulse_response_length,
    response_db,
    sos,
)

RATES = [44100, 48000, 96000]
MOVES = [
    EqMove("peaking", 400.0, 4.0, 1.0),
    EqMove("peaking", 3150.0, -7.5, 4.0),
    EqMove("low_shelf", 120.0, -4.0),
    EqMove("high_shelf", 6000.0, -5.0),
    EqMove("high_shelf", 9000.0, 2.0, 0.7),
    EqMove("high_pass", 30.0),
    EqMove("low_pass", 16000.0),
]
DETUNE = [MOVES[2], EqMove("peaking", 400.0, 4.0, 1.0), MOVES[3]]
CASCADES = [
    DETUNE,
    [*MOVES[:5], EqMove("high_pass", 20.0), EqMove("peaking", 30.0, 6.0, 10.0)],
    [EqMove("peaking", 1000.0, 3.0, 1.0)],
]


def gain_db(move: EqMove, fs: float, f: float) -> float:
    return float(response_db([move], fs, np.array([f]))[0])


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.kind}-{m.frequency_hz:g}")
def test_response_matches_freqz_of_own_coefficients(move: EqMove, fs: int) -> None:
    b, a = biquad_coefficients(move, fs)
    assert a[0] == 1.0
    freqs = np.geomspace(10.0, 0.49 * fs, 400)
    _, h = ss.freqz(b, a, worN=freqs, fs=fs)
    np.testing.assert_allclose(response_db([move], fs, freqs), 20 * np.log10(np.abs(h)), atol=1e-9)


def test_coefficients_are_the_cookbook_formulas() -> None:
    # Peaking EQ written out from the W3C Audio EQ Cookbook for f0 = 1 kHz, +6 dB, Q 2 at 48 kHz.
    big_a, w0 = 10 ** (6 / 40), 2 * np.pi * 1000 / 48000
    alpha = np.sin(w0) / (2 * 2.0)
    b = np.array([1 + alpha * big_a, -2 * np.cos(w0), 1 - alpha * big_a])
    a = np.array([1 + alpha / big_a, -2 * np.cos(w0), 1 - alpha / big_a])
    got_b, got_a = biquad_coefficients(EqMove("peaking", 1000.0, 6.0, 2.0), 48000)
    np.testing.assert_allclose(got_b, b / a[0], rtol=1e-14)
    np.testing.assert_allclose(got_a, a / a[0], rtol=1e-14)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize(
    ("f0", "g", "q"), [(60, 5, 0.7), (400, 4, 1), (3150, -7.5, 4), (12000, 3, 2)]
)
def test_peaking_reaches_its_gain_at_f0(fs: int, f0: float, g: float, q: float) -> None:
    assert gain_db(EqMove("peaking", f0, g, q), fs, f0) == pytest.approx(g, abs=0.01)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("g", [-5.0, 2.0, 6.0])
def test_shelves_reach_half_gain_at_f0_and_full_gain_far_away(fs: int, g: float) -> None:
    low = EqMove("low_shelf", 120.0, g)
    assert gain_db(low, fs, 120.0) == pytest.approx(g / 2, abs=0.1)
    assert gain_db(low, fs, 120.0 / 40) == pytest.approx(g, abs=0.1)
    assert gain_db(low, fs, 0.45 * fs) == pytest.approx(0.0, abs=0.1)
    high = EqMove("high_shelf", 6000.0, g)
    assert gain_db(high, fs, 6000.0) == pytest.approx(g / 2, abs=0.1)
    assert gain_db(high, fs, 0.499 * fs) == pytest.approx(g, abs=0.1)
    assert gain_db(high, fs, 6000.0 / 40) == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("kind", ["high_pass", "low_pass"])
@pytest.mark.parametrize("f0", [30.0, 1000.0, 16000.0])
def test_passes_are_3_db_down_at_f0(fs: int, kind: str, f0: float) -> None:
    assert gain_db(EqMove(kind, f0, q=0.7071), fs, f0) == pytest.approx(-3.01, abs=0.01)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("moves", CASCADES, ids=["detune", "seven", "one"])
def test_cascade_equals_sosfilt(fs: int, moves: list[EqMove]) -> None:
    rng = np.random.default_rng(fs + len(moves))
    x = rng.standard_normal((2, 2 * 65536 + 17))
    ref = ss.sosfilt(sos(moves, fs), x, axis=1)
    assert np.max(np.abs(apply_eq(x, moves, fs) - ref)) < 1e-9
    # 1-D input is one channel.
    assert np.max(np.abs(apply_eq(x[0], moves, fs) - ref[0])) < 1e-9


@pytest.mark.parametrize("block", [1000, 44100, 300001])
def test_streaming_equals_whole_array(block: int) -> None:
    fs = 44100
    moves = CASCADES[1]
    rng = np.random.default_rng(block)
    x = rng.standard_normal((2, 5 * 44100 + 3))
    whole = apply_eq(x, moves, fs)
    chain = EqChain(moves, fs, 2)
    parts = [chain.process(x[:, s : s + block]) for s in range(0, x.shape[1], block)]
    assert np.max(np.abs(np.concatenate(parts, axis=1) - whole)) < 1e-10


def test_zero_db_peaking_is_identity() -> None:
    x = np.random.default_rng(0).standard_normal((2, 10000))
    move = EqMove("peaking", 1000.0, 0.0, 1.0)
    assert np.array_equal(apply_eq(x, [move], 48000), x)
    assert np.max(np.abs(response_db([move], 48000, np.geomspace(20, 20000, 50)))) < 1e-12
    assert np.array_equal(apply_eq(x, [], 48000), x)


def test_impulse_response_length_covers_the_decay() -> None:
    moves = CASCADES[1]
    n = impulse_response_length(moves, 48000)
    impulse = np.zeros(4 * n)
    impulse[0] = 1.0
    h = ss.sosfilt(sos(moves, 48000), impulse)
    assert np.sum(np.abs(h[n:])) < 1e-10


def test_bad_moves_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        EqMove("notch", 100.0)
    with pytest.raises(ValueError, match="Q"):
        EqMove("peaking", 100.0, 3.0, 0.0)
    with pytest.raises(ValueError, match="Nyquist"):
        biquad_coefficients(EqMove("peaking", 30000.0, 3.0), 48000)


@settings(max_examples=200, deadline=None)
@given(
    f0=st.floats(20.0, 1000.0),
    g=st.floats(-6.0, 6.0),
    q=st.floats(0.5, 10.0),
    octaves=st.floats(0.01, 1.0),
)
def test_peaking_is_symmetric_in_log_frequency(
    f0: float, g: float, q: float, octaves: float
) -> None:
    # Up to 4 kHz at 48 kHz the bilinear transform's warping stays below 0.05 dB here.
    k = (4000.0 / f0) ** octaves
    up, down = response_db([EqMove("peaking", f0, g, q)], 48000, np.array([f0 * k, f0 / k]))
    assert up == pytest.approx(down, abs=0.05)
