"""The block state-space filter gives the recursion's output (``scipy.signal.sosfilt``, the
independent truth) for any cascade of stable biquads, any channel count and any way of cutting
the signal into calls, the state carried from one call to the next."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dsp.biquad import rbj_coefficients
from analyzer.dsp.block_iir import BLOCK, GROUP, BlockBiquads, state_space
from analyzer.dsp.kweighting import kweighting_coefficients


def _run(b: np.ndarray, a: np.ndarray, x: np.ndarray, cuts: list[int]) -> np.ndarray:
    f = BlockBiquads(b, a, x.shape[0])
    out, i = [], 0
    for n in [*cuts, x.shape[1]]:
        out.append(f.process(x[:, i : i + n]))
        i += n
        if i >= x.shape[1]:
            break
    return np.concatenate(out, axis=1)[:, : x.shape[1]]


def _sos(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.hstack([b, a])


@pytest.mark.parametrize("frames", [0, 1, BLOCK - 1, BLOCK, BLOCK * GROUP, BLOCK * GROUP + 1,
                                    3 * BLOCK * GROUP - 5, 100_003])  # fmt: skip
def test_any_length_in_one_call(frames: int) -> None:
    b, a = kweighting_coefficients(44100)
    x = np.random.default_rng(frames).standard_normal((2, frames))
    want = ss.sosfilt(_sos(b, a), x, axis=1) if frames else x.copy()
    got = BlockBiquads(b, a, 2).process(x)
    assert got.shape == x.shape
    assert np.max(np.abs(got - want), initial=0.0) <= 1e-10 * max(
        1.0, np.max(np.abs(want), initial=0.0)
    )


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 3000), min_size=0, max_size=6),
    channels=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_any_cutting_carries_the_state(cuts: list[int], channels: int, seed: int) -> None:
    """Random stable cascades (RBJ shelves and bells, 1-3 sections, down to 20 Hz at 48 kHz,
    whose poles sit close to the unit circle) cut at random places."""
    rng = np.random.default_rng(seed)
    sections = []
    for _ in range(rng.integers(1, 4)):
        kind = ("peaking", "low_shelf", "high_shelf")[rng.integers(0, 3)]
        f0 = float(20.0 * 1000.0 ** rng.random())
        sections.append(rbj_coefficients(kind, f0, float(rng.uniform(-12, 12)),
                                         float(rng.uniform(0.3, 8.0)), 48000))  # fmt: skip
    b = np.array([s[0] for s in sections])
    a = np.array([s[1] for s in sections])
    x = rng.standard_normal((channels, 9000))
    want = ss.sosfilt(_sos(b, a), x, axis=1)
    got = _run(b, a, x, cuts)
    assert np.max(np.abs(got - want)) <= 1e-9 * np.max(np.abs(want))


def test_state_space_impulse_response() -> None:
    """``(A, B, C, D)`` reproduce the cascade's impulse response sample by sample."""
    b, a = kweighting_coefficients(48000)
    A, B, C, D = state_space(b, a)
    impulse = np.zeros(200)
    impulse[0] = 1.0
    want = ss.sosfilt(_sos(b, a), impulse)
    s, got = np.zeros(4), []
    for v in impulse:
        got.append(C @ s + D * v)
        s = A @ s + B * v
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
