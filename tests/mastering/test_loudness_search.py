"""The loudness trials from the recording alone against the limiter run over the whole
recorded power (the way the trials were made before: every frame through the limiter)."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.mastering.limiter import TruePeakLimiter
from analyzer.mastering.loudness_search import limited_segment_sums, segment_sums

FS = 44100
HOP = FS // 10


def _recording(seed: int) -> tuple[list[np.ndarray], list[int], np.ndarray]:
    """Detection of a stereo signal with loud bursts, its block sizes, and a power per frame."""
    rng = np.random.default_rng(seed)
    n = int(FS * 3.3)
    level = np.repeat(rng.uniform(0.05, 1.0, n // 2205 + 1), 2205)[:n]
    level[FS : 3 * FS] = 0.01  # a long quiet passage: the trial's releases end at zero
    x = rng.standard_normal((2, n)) * 0.25 * level
    lim = TruePeakLimiter(FS, 2, record_peaks=True, detect_only=True)
    for i in range(0, n, 30000):  # odd block sizes: the replay must follow them
        lim.process(x[:, i : i + 30000])
    lim.flush()
    power = (x[0] ** 2 + x[1] ** 2).astype(np.float32)
    return lim.recorded_peaks or [], lim.recorded_blocks, power


def _by_full_replay(peaks, blocks, power, gain_db) -> np.ndarray:
    """Independent: sqrt(power) through the replaying limiter, output squared, summed."""
    lim = TruePeakLimiter(FS, 1, input_gain_db=gain_db, replay_peaks=peaks)
    parts, fed = [], 0
    for size in blocks:
        parts.append(lim.process(np.sqrt(power[None, fed : fed + size], dtype=np.float64))[0])
        fed += size
    y = np.concatenate([*parts, lim.flush()[0]])[: power.size]
    n = power.size // HOP
    return (y[: n * HOP] ** 2).reshape(n, HOP).sum(axis=1)


@pytest.mark.parametrize("gain_db", [-6.0, 4.0, 12.0, 27.0])
def test_trial_segments_match_a_full_replay(gain_db):
    peaks, blocks, power = _recording(seed=int(gain_db) + 40)
    want = _by_full_replay(peaks, blocks, power, gain_db)
    got = limited_segment_sums(peaks, power, segment_sums(power, HOP), HOP, FS, gain_db, -1.0)
    # the trials end releases below TRIAL_TINY nepers: at most 2e-6 of a segment's power
    np.testing.assert_allclose(got, want, rtol=2.5e-6, atol=1e-12 * want.max())
    if gain_db > 0:  # the test is about limiting: the limiter took something
        unlimited = segment_sums(power, HOP) * 10 ** (gain_db / 10)
        assert np.any(got < unlimited * 0.9)
