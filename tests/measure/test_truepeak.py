"""True peak on signals with analytic peaks, including peaks that fall between grid points."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure.truepeak import TruePeakMeter, measure_peaks


@pytest.mark.parametrize("fs", [44100, 48000, 96000])
@pytest.mark.parametrize("freq_hz", [997.0, 5513.0, 11025.0, 15000.0])
@pytest.mark.parametrize("phase", [0.1, 0.77, 2.0])
def test_sine_reads_its_amplitude_between_grid_points(
    fs: int, freq_hz: float, phase: float
) -> None:
    """A 4x grid under-reads a 15 kHz sine by up to 0.4 dB; the refined peak must not."""
    n = np.arange(fs)
    x = 0.5 * np.sin(2 * np.pi * freq_hz * n / fs + phase)
    ramp = np.minimum(1.0, np.minimum(n, n[::-1]) / (0.01 * fs))  # 10 ms fades
    p = measure_peaks(np.vstack([x * ramp, x * ramp]), fs)
    assert p.true_peak_dbtp == pytest.approx(20 * np.log10(0.5), abs=0.01)


def test_factor_and_per_channel_values() -> None:
    fs = 48000
    n = np.arange(fs)
    x = np.vstack(
        [0.25 * np.sin(2 * np.pi * 1000 * n / fs), 0.5 * np.sin(2 * np.pi * 1000 * n / fs)]
    )
    p = measure_peaks(x, fs)
    assert p.oversampling_factor == 4
    assert p.true_peak_per_channel_dbtp[0] == pytest.approx(-12.04, abs=0.01)
    assert p.true_peak_per_channel_dbtp[1] == pytest.approx(-6.02, abs=0.01)
    assert p.true_peak_dbtp == max(p.true_peak_per_channel_dbtp)


def test_silence_is_minus_infinity() -> None:
    p = measure_peaks(np.zeros((2, 48000)), 48000)
    assert p.true_peak_dbtp == -np.inf and p.sample_peak_dbfs == -np.inf


def test_result_does_not_change_the_meter() -> None:
    fs = 44100
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3 * fs)) * 0.1
    m = TruePeakMeter(fs, 2)
    m.feed(x[:, :fs])
    first = m.result()
    assert m.result() == first
    m.feed(x[:, fs:])
    assert (
        m.result() == measure_peaks(x, fs)
        or abs(m.result().true_peak_dbtp - measure_peaks(x, fs).true_peak_dbtp) < 1e-4
    )


def test_result_is_idempotent_with_window_tracking() -> None:
    fs = 48000
    n = np.arange(fs)
    x = 1.2 * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    m = TruePeakMeter(fs, 1, track_windows=True)
    m.feed(x[None, :])
    first = (m.result(), m.intersample_overs, m.window_true_peak())
    second = (m.result(), m.intersample_overs, m.window_true_peak())
    assert first == second
