"""Invariants that hold for any signal (hypothesis): gain moves loudness by the gain, true peak is
never below sample peak, channel order does not matter, streaming equals whole-array, and pruned
true-peak search equals interpolating everything."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analyzer.measure.loudness import LoudnessMeter, measure_loudness
from analyzer.measure.truepeak import TruePeakMeter, measure_peaks
from tests.signals import pink_noise

RATES = st.sampled_from([8000, 22050, 44100, 48000, 96000])


@st.composite
def music_like(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """Pink noise with a random level envelope, 0.5-4 s, 1-2 channels."""
    fs = draw(RATES)
    seconds = draw(st.floats(0.5, 4.0))
    channels = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**31 - 1))
    x = pink_noise(seconds, fs, channels=channels, seed=seed) * 0.1
    n_env = draw(st.integers(1, 6))
    env_db = np.array(draw(st.lists(st.floats(-40, 0), min_size=n_env, max_size=n_env)))
    env = 10 ** (np.interp(np.linspace(0, 1, x.shape[1]), np.linspace(0, 1, n_env), env_db) / 20)
    return x * env, fs


SETTINGS = settings(max_examples=25, deadline=None)


@SETTINGS
@given(music_like(), st.floats(-30.0, 20.0))
def test_gain_moves_integrated_loudness_by_the_gain(sig, gain_db: float) -> None:
    x, fs = sig
    a = measure_loudness(x, fs, keep_series=True)
    b = measure_loudness(x * 10 ** (gain_db / 20), fs, keep_series=True)
    assume(a.integrated_lufs is not None and math.isfinite(a.integrated_lufs))
    # The only level-dependent step is the -70 LUFS absolute gate: no block may cross it.
    assume(min(min(a.momentary.values), min(b.momentary.values)) > -69.9)
    assert abs((b.integrated_lufs - a.integrated_lufs) - gain_db) <= 0.01


@SETTINGS
@given(music_like())
def test_true_peak_at_least_sample_peak(sig) -> None:
    x, fs = sig
    p = measure_peaks(x, fs)
    assert p.true_peak_dbtp >= p.sample_peak_dbfs
    for tp, sp in zip(p.true_peak_per_channel_dbtp, p.sample_peak_per_channel_dbfs, strict=True):
        assert tp >= sp


@SETTINGS
@given(music_like())
def test_channel_swap_changes_nothing(sig) -> None:
    x, fs = sig
    if x.shape[0] == 1:
        x = np.vstack([x, 0.5 * x[::-1]])
    a, b = measure_loudness(x, fs), measure_loudness(x[::-1], fs)
    assert (
        a.integrated_lufs == b.integrated_lufs or abs(a.integrated_lufs - b.integrated_lufs) < 1e-9
    )
    assert measure_peaks(x, fs).true_peak_dbtp == measure_peaks(x[::-1], fs).true_peak_dbtp


@SETTINGS
@given(music_like(), st.lists(st.integers(64, 30000), min_size=1, max_size=8))
def test_streaming_equals_whole_array(sig, sizes: list[int]) -> None:
    x, fs = sig
    whole_l = measure_loudness(x, fs, keep_series=True)
    whole_p = measure_peaks(x, fs)
    lm = LoudnessMeter(fs, x.shape[0], keep_series=True)
    pm = TruePeakMeter(fs, x.shape[0])
    pos, i = 0, 0
    while pos < x.shape[1]:
        step = sizes[i % len(sizes)]
        lm.feed(x[:, pos : pos + step])
        pm.feed(x[:, pos : pos + step])
        pos += step
        i += 1
    sl, sp = lm.result(), pm.result()
    for field in ("integrated_lufs", "momentary_max_lufs", "short_term_max_lufs", "lra_lu"):
        a, b = getattr(whole_l, field), getattr(sl, field)
        assert (a is None and b is None) or abs(a - b) < 1e-6, field
    assert np.allclose(whole_l.momentary.values, sl.momentary.values, atol=1e-6)
    # Grid values are float32 (1e-6 relative) and the refinement converges to ~1e-7 of a
    # sample: block boundaries may move the last digits.
    assert abs(sp.true_peak_dbtp - whole_p.true_peak_dbtp) < 1e-4


def test_streaming_in_tiny_blocks() -> None:
    """Blocks shorter than the interpolation filter and the 1 ms tick still add up."""
    x = pink_noise(0.6, 8000, channels=2, seed=3) * 0.2
    whole_l, whole_p = measure_loudness(x, 8000), measure_peaks(x, 8000)
    lm, pm = LoudnessMeter(8000, 2), TruePeakMeter(8000, 2)
    pos, step = 0, 1
    while pos < x.shape[1]:
        lm.feed(x[:, pos : pos + step])
        pm.feed(x[:, pos : pos + step])
        pos += step
        step = step % 7 + 1
    assert abs(lm.result().integrated_lufs - whole_l.integrated_lufs) < 1e-9
    assert abs(pm.result().true_peak_dbtp - whole_p.true_peak_dbtp) < 1e-4


@SETTINGS
@given(music_like(), st.floats(0.1, 4.0))
def test_pruned_true_peak_equals_full_interpolation(sig, drive: float) -> None:
    x, fs = sig
    x = np.clip(x * drive * 10, -1, 1)  # loud and clipped: many near-peak chunks
    pruned = measure_peaks(x, fs, prune=True)
    full = measure_peaks(x, fs, prune=False)
    assert np.allclose(
        pruned.true_peak_per_channel_dbtp, full.true_peak_per_channel_dbtp, atol=1e-4
    )
