"""K-weighting against BS.1770-4's 48 kHz table, the recursive filter, and its analytic gain."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss

from analyzer.dsp.kweighting import kweight, kweighting_coefficients, kweighting_response


def test_coefficients_match_bs1770_table_at_48k() -> None:
    b, a = kweighting_coefficients(48000)
    # BS.1770-4 Annex 1, Tables 1 and 2.
    assert b[0] == pytest.approx([1.53512485958697, -2.69169618940638, 1.19839281085285], abs=1e-8)
    assert a[0] == pytest.approx([1.0, -1.69065929318241, 0.73248077421585], abs=1e-8)
    assert b[1] == pytest.approx([1.0, -2.0, 1.0])
    assert a[1] == pytest.approx([1.0, -1.99004745483398, 0.99007225036621], abs=1e-8)


@pytest.mark.parametrize("fs", [8000, 22050, 44100, 48000, 96000, 192000, 384000])
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_numpy_filter_equals_recursive_filter(fs: int, channels: int) -> None:
    rng = np.random.default_rng(fs + channels)
    x = rng.standard_normal((channels, 3 * 65536 + 17))
    b, a = kweighting_coefficients(fs)
    ref = ss.sosfilt(np.hstack([b, a]), x, axis=1)
    assert np.max(np.abs(kweight(x, fs) - ref)) < 1e-9


@pytest.mark.parametrize("fs", [44100, 48000, 96000])
def test_gain_at_1khz_is_the_bs1770_offset(fs: int) -> None:
    # A 1 kHz sine reads its RMS level: K-weighting gives +0.691 dB there at 48 kHz, cancelled by
    # eq. 2. The bilinear transform warps the shelf slightly at other rates (0.68 dB at 96 kHz).
    gain_db = 20 * np.log10(abs(kweighting_response(fs, np.array([1000.0]))[0]))
    assert gain_db == pytest.approx(0.691, abs=0.015)


def test_high_pass_removes_dc() -> None:
    y = kweight(np.ones((1, 48000)), 48000)
    assert abs(y[0, -1]) < 1e-6
