"""The true-peak interpolation filters: flat pass band, exact at the samples, sensible factors."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.dsp.oversample import interpolation_matrix, oversampling_factor


@pytest.mark.parametrize(
    ("fs", "factor"), [(8000, 23), (44100, 4), (48000, 4), (96000, 2), (192000, 2), (384000, 2)]
)
def test_factor(fs: int, factor: int) -> None:
    assert oversampling_factor(fs) == factor
    assert (fs < 96000 and factor >= 4) or fs >= 96000


def test_every_phase_is_flat_to_18khz_at_44k1() -> None:
    h = interpolation_matrix(4)
    fs = 44100
    f = np.linspace(20, 18000, 200)
    k = np.arange(h.shape[0])
    resp = np.abs(np.exp(-2j * np.pi * np.outer(f / fs, k)) @ h)
    assert np.max(np.abs(20 * np.log10(resp))) < 0.005


def test_interpolates_a_sine_between_samples() -> None:
    fs, f = 48000, 5000.0
    h = interpolation_matrix(4)
    n = np.arange(400)
    x = np.sin(2 * np.pi * f * n / fs)
    w = np.lib.stride_tricks.sliding_window_view(x, h.shape[0])[50:300]
    got = w @ h
    half = h.shape[0] // 2
    t = (np.arange(50, 300)[:, None] + half - 1 + np.arange(1, 4)[None, :] / 4) / fs
    assert np.max(np.abs(got - np.sin(2 * np.pi * f * t))) < 1e-3


def test_bessel_i0_series_equals_numpy_over_the_kaiser_range() -> None:
    """The power series that replaced ``numpy.i0`` in the fractional-delay filters (for speed)
    against ``numpy.i0`` itself, densely over ``[0, KAISER_BETA]``: float64 rounding apart."""
    from analyzer.dsp.oversample import KAISER_BETA, bessel_i0, fractional_delay_matrix

    z = np.linspace(0.0, KAISER_BETA, 100_001)
    np.testing.assert_allclose(bessel_i0(z), np.i0(z), rtol=2e-15, atol=0)
    fractions = np.linspace(0.0, 1.0, 257)[:-1]
    k = np.arange(32, dtype=float)[:, None] - 15 - fractions[None, :]
    window = np.i0(KAISER_BETA * np.sqrt(np.clip(1 - (k / 16) ** 2, 0, None))) / np.i0(KAISER_BETA)
    h = np.sinc(k) * window
    np.testing.assert_allclose(fractional_delay_matrix(fractions), h / h.sum(axis=0), rtol=0,
                               atol=1e-15)  # fmt: skip
