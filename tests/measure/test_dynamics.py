"""Dynamics: crest factor, PLR and PSR, the TT DR value, DC offset and clipped runs, on signals
with analytic answers, against brute-force references, streaming against whole-array, and on the
corpus music."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.io import open_audio, read_audio
from analyzer.measure.dynamics import (
    MAX_STORED_POSITIONS,
    DynamicsMeter,
    SampleDynamics,
    build_dynamics_stats,
    dr_block_frames,
    measure_sample_dynamics,
    psr_series,
)
from analyzer.measure.loudness import measure_loudness
from analyzer.measure.truepeak import measure_peaks
from analyzer.types import Series
from tests.signals import db_to_amp, sine

CLIP_RATIO = 10 ** (-0.01 / 20)


def feed_in_blocks(x: np.ndarray, fs: int, sizes: list[int]) -> SampleDynamics:
    """Stream ``x`` through a meter in blocks whose sizes cycle through ``sizes``."""
    meter = DynamicsMeter(fs, x.shape[0])
    pos, i = 0, 0
    while pos < x.shape[1]:
        n = sizes[i % len(sizes)]
        meter.feed(np.ascontiguousarray(x[:, pos : pos + n]))
        pos += n
        i += 1
    return meter.result()


def brute_force_runs(x: np.ndarray, fs: int) -> tuple[int, list[float]]:
    """Clipped runs straight from the definition: per channel, maximal runs of >= 3 samples with
    |x| >= peak * 10^(-0.01/20), when the file's peak is >= -0.1 dBFS."""
    a = np.abs(x)
    peak = a.max() if a.size else 0.0
    if peak < db_to_amp(-0.1):
        return 0, []
    starts: list[int] = []
    for row in a >= peak * CLIP_RATIO:
        edges = np.diff(np.pad(row.astype(np.int8), 1))  # +1 where a run starts, -1 after it
        s, e = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        starts.extend(s[(e - s) >= 3].tolist())
    return len(starts), [s / fs for s in sorted(starts)]


def reference_dr(x: np.ndarray, fs: int) -> list[float | None]:
    """DR_j written out from "Measuring DR ENv3" eqs. 1-4 (block by block, in Python)."""
    n = dr_block_frames(fs)
    out: list[float | None] = []
    for ch in x:
        blocks = [ch[i : i + n] for i in range(0, ch.size, n)]
        rms = sorted(math.sqrt(2 * float(np.sum(b**2)) / b.size) for b in blocks)
        peaks = sorted(float(np.max(np.abs(b))) for b in blocks)
        loud = max(1, int(0.2 * len(blocks)))
        top = math.sqrt(sum(r * r for r in rms[-loud:]) / loud)
        second = peaks[-2] if len(peaks) > 1 else peaks[-1]
        out.append(20 * math.log10(second / top) if top > 0 and second > 0 else None)
    return out


def tone(amplitude: float, seconds: float, fs: int, freq_hz: float = 1000.0) -> np.ndarray:
    """A mono sine whose block RMS (with the DR factor 2) and peak both equal ``amplitude`` when
    the block holds whole cycles (1 kHz at 48 kHz: 48 samples a cycle, one of them at the top)."""
    t = np.arange(round(seconds * fs)) / fs
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


# --- crest factor -------------------------------------------------------------------------


@pytest.mark.parametrize("fs", [44100, 48000, 96000])
@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("level_dbfs", [0.0, -20.0])
def test_crest_factor_of_a_sine_is_3_01_db(fs: int, channels: int, level_dbfs: float) -> None:
    x = sine(2.0, fs, peak_dbfs=level_dbfs, channels=channels)
    r = measure_sample_dynamics(x, fs)
    assert r.crest_factor_db == pytest.approx(10 * math.log10(2), abs=0.01)


@pytest.mark.parametrize("fs", [44100, 48000])
def test_crest_factor_of_a_full_scale_square_is_0_db(fs: int) -> None:
    t = np.arange(2 * fs) / fs
    square = np.where(np.sin(2 * np.pi * 100.5 * t) >= 0, 1.0, -1.0)
    r = measure_sample_dynamics(np.vstack([square, -square]), fs)
    assert r.crest_factor_db == pytest.approx(0.0, abs=1e-12)


def test_crest_factor_uses_the_peak_and_power_over_all_channels() -> None:
    fs = 48000
    x = np.vstack([tone(1.0, 2.0, fs), np.zeros(2 * fs)])
    # peak 1, mean square (1/2 + 0) / 2 = 1/4: crest 6.02 dB
    assert measure_sample_dynamics(x, fs).crest_factor_db == pytest.approx(6.0206, abs=1e-3)


# --- PLR and PSR --------------------------------------------------------------------------


def window_sample_peaks_dbfs(x: np.ndarray, fs: int) -> Series:
    """Peak of every 3 s window, hop 100 ms, on the short-term series' grid (sample peak: for
    the 1 kHz test tones at 48 kHz it equals the true peak)."""
    sub = fs // 10
    n = x.shape[1] // sub
    per = np.abs(x[:, : n * sub]).reshape(x.shape[0], n, sub).max(axis=(0, 2))
    windows = np.lib.stride_tricks.sliding_window_view(per, 30).max(axis=1)
    with np.errstate(divide="ignore"):
        db = 20 * np.log10(windows)
    return Series(rate_hz=10.0, start_s=3.0, values=tuple(db.tolist()))


@pytest.mark.parametrize("fs", [44100, 48000])
def test_plr_of_a_minus_20_dbfs_stereo_sine(fs: int) -> None:
    """True peak -20 dBTP; a stereo sine of -20 dBFS peak per channel reads -20 LUFS (EBU Tech
    3341: -23 dBFS reads -23 LUFS; eq. 2's -0.691 dB offsets the K-filter's gain at 1 kHz), so
    PLR = 0.0 dB. The K-filter's exact gain at 1 kHz is 0.007-0.01 dB above 0.691 dB."""
    x = sine(10.0, fs, peak_dbfs=-20.0)
    lo, pk = measure_loudness(x, fs), measure_peaks(x, fs)
    d = build_dynamics_stats(
        measure_sample_dynamics(x, fs),
        true_peak_dbtp=pk.true_peak_dbtp,
        integrated_lufs=lo.integrated_lufs,
        short_term=None,
        window_true_peak=None,
        intersample_overs=0,
    )
    assert pk.true_peak_dbtp == pytest.approx(-20.0, abs=0.01)
    assert lo.integrated_lufs == pytest.approx(-20.0, abs=0.02)
    assert d.plr_db == pk.true_peak_dbtp - lo.integrated_lufs
    assert d.plr_db == pytest.approx(0.0, abs=0.02)
    assert d.psr is None and d.psr_max_db is None and d.psr_median_db is None


def test_plr_follows_the_crest_of_the_signal() -> None:
    """A -20 dBFS sine with one +14 dB single-sample click: true peak rises 14 dB, loudness does
    not (measurably), so PLR rises by about 14 dB."""
    fs = 48000
    x = sine(10.0, fs, peak_dbfs=-20.0)
    x[:, 5 * fs] = db_to_amp(-6.0)
    lo, pk = measure_loudness(x, fs), measure_peaks(x, fs)
    d = build_dynamics_stats(
        measure_sample_dynamics(x, fs),
        true_peak_dbtp=pk.true_peak_dbtp,
        integrated_lufs=lo.integrated_lufs,
        short_term=None,
        window_true_peak=None,
        intersample_overs=0,
    )
    assert d.plr_db == pytest.approx(14.0, abs=0.3)


def test_psr_of_a_steady_sine_is_constant() -> None:
    fs = 48000
    x = sine(12.0, fs, peak_dbfs=-20.0)
    lo = measure_loudness(x, fs, keep_series=True)
    peaks = window_sample_peaks_dbfs(x, fs)
    assert peaks.start_s == lo.short_term.start_s
    assert len(peaks.values) == len(lo.short_term.values)
    d = build_dynamics_stats(
        measure_sample_dynamics(x, fs),
        true_peak_dbtp=-20.0,
        integrated_lufs=lo.integrated_lufs,
        short_term=lo.short_term,
        window_true_peak=peaks,
        intersample_overs=0,
    )
    psr = np.array(d.psr.values)
    assert d.psr.rate_hz == 10.0 and d.psr.start_s == 3.0 and psr.size == 91
    assert np.ptp(psr) < 1e-3
    assert d.psr_median_db == pytest.approx(0.0, abs=0.02)
    assert d.psr_max_db == pytest.approx(d.psr_median_db, abs=1e-3)


def test_psr_skips_silent_windows_and_keeps_alignment() -> None:
    """Tone for 6 s, then 6 s of silence: windows entirely in the silence are -inf LUFS and hold
    NaN; the others are defined. PSR is largest for the window with least tone in it."""
    fs = 48000
    x = np.concatenate([sine(6.0, fs, peak_dbfs=-20.0), np.zeros((2, 6 * fs))], axis=1)
    lo = measure_loudness(x, fs, keep_series=True)
    peaks = window_sample_peaks_dbfs(x, fs)
    psr = psr_series(lo.short_term, peaks)
    values = np.array(psr.values)
    st_values = np.array(lo.short_term.values)
    assert np.array_equal(np.isnan(values), ~(st_values >= -70.0))
    assert np.isnan(values).sum() > 0 and np.isfinite(values).sum() > 30
    d = build_dynamics_stats(
        measure_sample_dynamics(x, fs),
        true_peak_dbtp=-20.0,
        integrated_lufs=lo.integrated_lufs,
        short_term=lo.short_term,
        window_true_peak=peaks,
        intersample_overs=3,
    )
    finite = values[np.isfinite(values)]
    assert d.psr_max_db == pytest.approx(finite.max()) and d.psr_max_db > 10.0
    assert d.psr_median_db == pytest.approx(np.median(finite))
    assert d.intersample_overs == 3
    # A window-peak series that starts 0.1 s later is shifted into place, not misaligned.
    later = Series(10.0, 3.1, peaks.values[1:])
    shifted = np.array(psr_series(lo.short_term, later).values)
    assert np.array_equal(shifted[1:], values[1:], equal_nan=True) and np.isnan(shifted[0])
    with pytest.raises(ValueError):
        psr_series(lo.short_term, Series(5.0, 3.0, peaks.values))


# --- DR -----------------------------------------------------------------------------------


def test_dr_block_length() -> None:
    assert dr_block_frames(44100) == 132480  # "Measuring DR ENv3" eq. 1
    assert dr_block_frames(48000) == 144000
    assert dr_block_frames(96000) == 288000
    fs = 44100
    assert measure_sample_dynamics(np.ones((1, 132480)) * 0.1, fs).dr_blocks == 1
    assert measure_sample_dynamics(np.ones((1, 132481)) * 0.1, fs).dr_blocks == 2


@pytest.mark.parametrize("fs", [44100, 48000])
def test_dr_of_a_steady_sine_is_0(fs: int) -> None:
    """Block RMS sqrt(2 * mean square) of a sine equals its peak: DR_j = 0 dB."""
    r = measure_sample_dynamics(sine(30.0, fs, peak_dbfs=-6.0), fs)
    assert r.dr == 0
    for v in r.dr_per_channel:
        assert v == pytest.approx(0.0, abs=0.01)


def test_dr_counts_only_the_loudest_20_percent_of_blocks() -> None:
    """15 s quiet then 15 s loud: the top 2 of 10 blocks are loud, so DR is 0 although the crest
    factor (which averages everything) is 2.9 dB above a sine's."""
    fs = 48000
    x = np.concatenate([tone(0.05, 15.0, fs), tone(0.5, 15.0, fs)])[None, :]
    r = measure_sample_dynamics(x, fs)
    assert r.dr_blocks == 10 and r.dr == 0
    assert r.dr_per_channel[0] == pytest.approx(0.0, abs=1e-9)
    crest = 20 * math.log10(0.5) - 10 * math.log10((0.05**2 + 0.5**2) / 4)
    assert r.crest_factor_db == pytest.approx(crest, abs=1e-6)


def test_dr_top_blocks_and_second_peak_exactly() -> None:
    """Ten 3 s blocks of sines of amplitudes a_1..a_10: N = 2 loudest blocks, Pk_2nd = a_9."""
    fs = 48000
    amps = [0.1, 0.3, 0.2, 0.6, 0.25, 0.9, 0.15, 0.45, 0.7, 0.35]
    x = np.concatenate([tone(a, 3.0, fs) for a in amps])[None, :]
    r = measure_sample_dynamics(x, fs)
    expected = 20 * math.log10(0.7 / math.sqrt((0.9**2 + 0.7**2) / 2))
    assert r.dr_per_channel[0] == pytest.approx(expected, abs=1e-9)


def test_dr_uses_the_second_largest_block_peak() -> None:
    """A 0.1 sine with clicks: in two different blocks Pk_2nd is the smaller click (DR 18); both
    in one block, Pk_2nd is another block's peak, the sine's own (DR 0)."""
    fs = 48000
    x = tone(0.1, 30.0, fs)[None, :]
    apart = x.copy()
    apart[0, [int(4.5 * fs) + 1, int(20.5 * fs) + 1]] = [1.0, 0.8]
    r = measure_sample_dynamics(apart, fs)
    assert r.dr_per_channel[0] == pytest.approx(20 * math.log10(0.8 / 0.1), abs=0.01)
    assert r.dr == 18
    together = x.copy()
    together[0, [int(4.5 * fs) + 1, int(5.5 * fs) + 1]] = [1.0, 0.8]
    r = measure_sample_dynamics(together, fs)
    assert r.dr_per_channel[0] == pytest.approx(0.0, abs=0.01) and r.dr == 0


def test_dr_partial_last_block_counts_with_its_own_rms() -> None:
    """9 s at 0.2 then 1 s at 0.8: four blocks (the last of 1 s), N = 1 (the 1 s block, RMS
    0.8 over its own samples), Pk_2nd = 0.2: DR_j = 20 log10(0.2 / 0.8) = -12.04."""
    fs = 48000
    x = np.concatenate([tone(0.2, 9.0, fs), tone(0.8, 1.0, fs)])[None, :]
    r = measure_sample_dynamics(x, fs)
    assert r.dr_blocks == 4
    assert r.dr_per_channel[0] == pytest.approx(20 * math.log10(0.25), abs=1e-9)
    assert r.dr == -12


def test_dr_does_not_cap_block_peaks_at_full_scale() -> None:
    """A block peak above full scale (a decoded lossy master overshoots) counts as it is, as
    dr14_t.meter reads decoded float samples: Pk_2nd is 1.5, not 1.0."""
    fs = 48000
    x = tone(0.1, 30.0, fs)[None, :]
    x[0, [int(4.5 * fs) + 1, int(20.5 * fs) + 1]] = [2.0, 1.5]
    r = measure_sample_dynamics(x, fs)
    # 20 log10(1.5 / 0.1), less 0.02 dB for the clicks' own energy (not 20 log10(1.0 / 0.1))
    assert r.dr_per_channel[0] == pytest.approx(20 * math.log10(15.0), abs=0.03)
    assert r.dr_per_channel[0] == pytest.approx(reference_dr(x, fs)[0], abs=1e-9)


def test_dr_is_the_rounded_mean_over_channels_without_silent_ones() -> None:
    fs = 48000
    base = tone(0.1, 30.0, fs)
    a, b = base.copy(), base.copy()
    # Pk_2nd / top RMS of about 10^(11/20) and 10^(13.4/20): DR_j 11 and 13.4, mean 12.2.
    for ch, db in ((a, 11.0), (b, 13.4)):
        ch[[int(4.5 * fs) + 1, int(20.5 * fs) + 1]] = 0.1 * db_to_amp(db)
    r = measure_sample_dynamics(np.vstack([a, b]), fs)
    assert r.dr_per_channel[0] == pytest.approx(11.0, abs=0.02)
    assert r.dr_per_channel[1] == pytest.approx(13.4, abs=0.02)
    assert r.dr == 12
    r = measure_sample_dynamics(np.vstack([b, np.zeros_like(a)]), fs)
    assert r.dr_per_channel[1] is None and r.dr == 13


@pytest.mark.parametrize("fs", [8000, 44100, 48000])
@pytest.mark.parametrize("seconds", [0.5, 3.0, 7.3, 12.0, 31.0])
def test_dr_matches_the_written_out_reference(fs: int, seconds: float) -> None:
    rng = np.random.default_rng(int(fs + 10 * seconds))
    n = round(seconds * fs)
    env = np.repeat(rng.uniform(0.01, 0.5, size=n // 1000 + 1), 1000)[:n]
    x = rng.standard_normal((2, n)) * env
    r = measure_sample_dynamics(x, fs)
    ref = reference_dr(x, fs)
    for got, want in zip(r.dr_per_channel, ref, strict=True):
        assert got == pytest.approx(want, abs=1e-9)
    assert r.dr == math.floor(sum(ref) / 2 + 0.5)


# --- DC offset, silence -------------------------------------------------------------------


def test_dc_offset_per_channel() -> None:
    fs = 48000
    x = sine(2.0, fs, peak_dbfs=-6.0) + np.array([[0.01], [-0.02]])
    r = measure_sample_dynamics(x, fs)
    assert r.dc_offset == pytest.approx((0.01, -0.02), abs=1e-12)


def test_silence_gives_nones_without_error() -> None:
    fs = 48000
    x = np.zeros((2, 5 * fs))
    r = measure_sample_dynamics(x, fs)
    assert r.crest_factor_db is None and r.dr is None
    assert r.dr_per_channel == (None, None)
    assert r.dc_offset == (0.0, 0.0)
    assert r.clipped_runs == 0 and r.clipped_run_positions_s == ()
    lo, pk = measure_loudness(x, fs, keep_series=True), measure_peaks(x, fs)
    d = build_dynamics_stats(
        r,
        true_peak_dbtp=pk.true_peak_dbtp,
        integrated_lufs=lo.integrated_lufs,
        short_term=lo.short_term,
        window_true_peak=window_sample_peaks_dbfs(x, fs),
        intersample_overs=0,
    )
    assert d.plr_db is None and d.psr_max_db is None and d.psr_median_db is None
    assert d.psr is not None and all(math.isnan(v) for v in d.psr.values)
    assert d.crest_factor_db is None and d.dr is None and d.clipped_runs == 0


def test_no_frames_at_all() -> None:
    meter = DynamicsMeter(48000, 2)
    meter.feed(np.zeros((2, 0)))
    r = meter.result()
    assert r.frames == 0 and r.dr_blocks == 0
    assert r.crest_factor_db is None and r.dr is None and r.dr_per_channel == (None, None)
    assert r.dc_offset == (0.0, 0.0) and r.clipped_runs == 0


# --- clipped runs -------------------------------------------------------------------------


def noise_with_runs(
    fs: int, seconds: float, runs: list[tuple[int, float, int, float]], seed: int = 0
) -> np.ndarray:
    """Stereo noise (peak well below the runs) with runs ``(channel, start_s, length, value)``
    written in."""
    rng = np.random.default_rng(seed)
    x = np.clip(rng.standard_normal((2, round(seconds * fs))) * 0.1, -0.5, 0.5)
    for ch, start_s, length, value in runs:
        i = round(start_s * fs)
        x[ch, i : i + length] = value
    return x


RUNS = [
    (0, 0.0, 3, 0.999),  # at the very start
    (0, 0.25, 4, -0.999),  # negative
    (1, 0.5, 2, 0.999),  # 2 samples: not a run
    (1, 0.75, 7, 0.999),
    (0, 1.0, 3, 0.9989),  # 0.0009 dB below the peak: within 0.01 dB
    (1, 1.25, 3, 0.998),  # 0.0087 dB below: within
    (0, 1.5, 3, 0.9978),  # 0.0104 dB below: not within
    (0, 1.75, 5, 0.999),
]


@pytest.mark.parametrize("sizes", [[10**9], [4096], [1000, 17, 5003], [1, 2, 3]])
def test_clipped_runs_found_exactly(sizes: list[int]) -> None:
    fs = 8000
    x = noise_with_runs(fs, 2.5, [*RUNS, (1, 2.5 - 3 / fs, 3, -0.999)])  # run at the very end
    # a run broken by one sample 0.02 dB low: two runs of 2, neither counts
    i = round(2.0 * fs)
    x[0, i : i + 5] = [0.999, 0.999, 0.9967, 0.999, 0.999]
    r = feed_in_blocks(x, fs, sizes)
    starts = [0.0, 0.25, 0.75, 1.0, 1.25, 1.75, 2.5 - 3 / fs]
    assert r.clipped_runs == len(starts)
    assert r.clipped_run_positions_s == pytest.approx(starts)
    assert (r.clipped_runs, list(r.clipped_run_positions_s)) == brute_force_runs(x, fs)


def test_clipped_run_spanning_a_block_boundary() -> None:
    fs = 8000
    x = noise_with_runs(fs, 2.0, [])
    x[0, 4094:4099] = 0.9995  # 2 samples in block 1, 3 in block 2
    x[1, 8190:8192] = -0.9995  # 2 samples + 1 in the next block: a run of 3
    x[1, 8192] = 0.9995
    x[0, 6000:6002] = 0.9995  # 2 samples, ending a block of size 6002
    r = feed_in_blocks(x, fs, [4096])
    assert r.clipped_runs == 2
    assert r.clipped_run_positions_s == pytest.approx((4094 / fs, 8190 / fs))
    assert feed_in_blocks(x, fs, [6002]).clipped_runs == 2
    assert measure_sample_dynamics(x, fs).clipped_runs == 2


def test_runs_of_exactly_two_samples_do_not_count() -> None:
    fs = 8000
    x = noise_with_runs(fs, 1.0, [(c, 0.1 * k, 2, 1.0) for k in range(1, 9) for c in (0, 1)])
    assert measure_sample_dynamics(x, fs).clipped_runs == 0
    assert feed_in_blocks(x, fs, [997]).clipped_runs == 0


def test_no_runs_when_the_file_peak_is_below_minus_0_1_dbfs() -> None:
    fs = 8000
    level = db_to_amp(-0.105)
    x = noise_with_runs(fs, 1.0, [(0, 0.1, 50, level), (1, 0.5, 10, -level)])
    assert measure_sample_dynamics(x, fs).clipped_runs == 0
    x[0, 7000] = db_to_amp(-0.1)  # now the peak is -0.1 dBFS and -0.105 is within 0.01 dB
    assert measure_sample_dynamics(x, fs).clipped_runs == 2
    assert feed_in_blocks(x, fs, [333]).clipped_runs == 2


def test_runs_found_early_are_dropped_when_the_peak_rises_later() -> None:
    """In the first 1.5 s the peak is -0.025 dBFS and runs at -0.03 dBFS count; a sample at
    -0.017 dBFS later raises the file's peak, and only samples at -0.027 dBFS or above still
    qualify: the runs at -0.03 go, a mixed run shrinks to its part at -0.025."""
    fs = 8000
    low, top, gap, high = (db_to_amp(v) for v in (-0.03, -0.025, -0.05, -0.017))
    x = noise_with_runs(fs, 2.0, [(0, 0.1, 4, low), (1, 0.2, 6, -low)])
    x[0, 2400:2406] = [low, top, top, top, low, low]  # one run of 6, later 3 (from 2401)
    x[1, 3000:3005] = [top, top, gap, top, top]  # broken by a low sample: never a run
    before = feed_in_blocks(x[:, :12000], fs, [500])
    assert before.clipped_runs == 3
    x[1, 12500] = high
    for sizes in ([500], [7], [10**9]):
        r = feed_in_blocks(x, fs, sizes)
        assert r.clipped_runs == 1
        assert r.clipped_run_positions_s == pytest.approx((2401 / fs,))


def test_positions_are_capped_but_the_count_is_exact() -> None:
    fs = 8000
    n_runs = MAX_STORED_POSITIONS + 500
    x = np.zeros((1, n_runs * 5))
    x[0].reshape(n_runs, 5)[:, :3] = 1.0  # runs of 3 full-scale samples, gaps of 2
    r = feed_in_blocks(x, fs, [4096])
    assert r.clipped_runs == n_runs
    assert len(r.clipped_run_positions_s) == MAX_STORED_POSITIONS
    assert r.clipped_run_positions_s[:3] == pytest.approx((0.0, 5 / fs, 10 / fs))
    d = build_dynamics_stats(
        r,
        true_peak_dbtp=0.0,
        integrated_lufs=-3.0,
        short_term=None,
        window_true_peak=None,
        intersample_overs=0,
    )
    assert d.clipped_runs == n_runs and len(d.clipped_run_positions_s) == 100


def test_hard_clipped_runs_are_stored_compactly() -> None:
    """A hard-clipped run is one segment whatever its length."""
    fs = 8000
    x = noise_with_runs(fs, 2.0, [(0, 0.1 * k, 40, 1.0) for k in range(1, 19)])
    meter = DynamicsMeter(fs, 2)
    for i in range(0, x.shape[1], 1000):
        meter.feed(x[:, i : i + 1000])
    tracker = meter._clip
    stored = sum(len(s) for s in tracker.closed[0]) + len(tracker.open[0])
    assert stored == 18
    assert meter.result().clipped_runs == 18


# --- streaming == whole-array (hypothesis) ------------------------------------------------


@st.composite
def clipped_music(draw: st.DrawFn) -> tuple[np.ndarray, int, list[int]]:
    """Noise with a level envelope, 1-3 channels, 0.2-8 s at 8 kHz (several DR blocks, partial
    ones), with runs near a level that rises through the file, and random block sizes."""
    fs = 8000
    channels = draw(st.integers(1, 3))
    n = draw(st.integers(int(0.2 * fs), 8 * fs))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    env = np.repeat(rng.uniform(0.01, 0.3, size=n // 800 + 1), 800)[:n]
    x = rng.standard_normal((channels, n)) * env
    levels = np.sort(rng.uniform(0.9, 1.2, size=draw(st.integers(0, 12))))
    for level in levels:  # in time order, so the running peak rises in steps
        ch, length = int(rng.integers(channels)), int(rng.integers(1, 7))
        at = int(rng.integers(n))
        jitter = 1 - rng.uniform(0, 0.0025, size=length) * rng.integers(0, 2)
        seg = level * jitter[: max(0, min(length, n - at))]
        x[ch, at : at + seg.size] = seg * rng.choice([-1.0, 1.0])
    sizes = draw(st.lists(st.integers(1, 30000), min_size=1, max_size=6))
    return x, fs, sizes


@settings(max_examples=20, deadline=None)
@given(clipped_music())
def test_streaming_equals_whole_array(sig) -> None:
    x, fs, sizes = sig
    whole = measure_sample_dynamics(x, fs)
    streamed = feed_in_blocks(x, fs, sizes)
    assert streamed.frames == whole.frames and streamed.dr_blocks == whole.dr_blocks
    assert streamed.sample_peak == whole.sample_peak
    assert streamed.mean_square == pytest.approx(whole.mean_square, rel=1e-12)
    assert streamed.crest_factor_db == pytest.approx(whole.crest_factor_db, abs=1e-9)
    assert streamed.dr == whole.dr
    assert streamed.dr_per_channel == pytest.approx(whole.dr_per_channel, abs=1e-9)
    assert streamed.dc_offset == pytest.approx(whole.dc_offset, abs=1e-12)
    assert streamed.clipped_runs == whole.clipped_runs
    assert streamed.clipped_run_positions_s == whole.clipped_run_positions_s
    assert (whole.clipped_runs, list(whole.clipped_run_positions_s)) == brute_force_runs(x, fs)
    ref = reference_dr(x, fs)
    assert whole.dr_per_channel == pytest.approx(ref, abs=1e-9)


# --- corpus music -------------------------------------------------------------------------

READINGS = "loudness/music_reference_readings.json"
#: Decoded, no track holds runs of samples at its peak (lossy coding smears flat tops). These
#: four show the trace of clipping in the master (see test_source_clipped_tracks): ragged
#: plateaus of 3-11 consecutive samples above 0 dBFS.
SOURCE_CLIPPED = {
    "fretsonfire-muldjord--mutilated_mime--song.ogg",
    "nexuiz--brokenlight.ogg",
    "nexuiz--digital-pursuit.ogg",
    "warzone2100--Martin_Severn_-_track3.opus",
}
LOUD_MASTER = "nexuiz--brokenlight.ogg"  # electronic/industrial, -7.8 LUFS, "hyper-compressed"
AMBIENT = [
    "lincity-ng--Robert_van_Herk_-_Architectural_Contemplations.ogg",
    "singularity--Maxstack_-_Nebula.ogg",
    "warzone2100--Martin_Severn_-_track3.opus",
]


def _overs(x: np.ndarray) -> tuple[int, int]:
    """(samples above full scale, runs of >= 3 consecutive same-sign samples above it)."""
    runs = 0
    for row in x:
        for sign in (1.0, -1.0):
            over = sign * row > 1.0
            if not over.any():  # most tracks: nothing over full scale, no run
                continue
            edges = np.diff(np.pad(over.astype(np.int8), 1))
            s, e = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
            runs += int(((e - s) >= 3).sum())
    return int((np.abs(x) > 1.0).sum()), runs


@pytest.fixture(scope="module")
def corpus_music(corpus: Path) -> dict[str, dict]:
    """Every track decoded once: its sample dynamics, the brute-force clipped runs, its overs,
    and the runs the detector finds after clipping it to +-1 as a PCM export would."""
    out: dict[str, dict] = {}
    for path in sorted((corpus / "music").iterdir()):
        x, fs = read_audio(path)
        got = out[path.name] = {
            "dyn": measure_sample_dynamics(x, fs),
            "brute": brute_force_runs(x, fs),
            "overs": _overs(x),
        }
        if path.name in SOURCE_CLIPPED:
            clipped = np.clip(x, -1.0, 1.0)
            got["clipped_dyn"] = measure_sample_dynamics(clipped, fs)
            got["clipped_brute"] = brute_force_runs(clipped, fs)
    return out


@pytest.fixture(scope="module")
def readings(corpus: Path) -> dict:
    return json.loads((corpus / READINGS).read_text())


def test_every_corpus_track_runs(corpus_music: dict) -> None:
    assert len(corpus_music) == 16
    for name, got in corpus_music.items():
        d = got["dyn"]
        assert d.crest_factor_db is not None and 8.0 < d.crest_factor_db < 25.0, name
        assert d.dr is not None and all(v is not None for v in d.dr_per_channel), name
        assert all(abs(v) < 0.02 for v in d.dc_offset), name


def test_unclipped_tracks_have_no_clipped_runs(corpus_music: dict) -> None:
    for name, got in corpus_music.items():
        assert (got["dyn"].clipped_runs, list(got["dyn"].clipped_run_positions_s)) == got[
            "brute"
        ], name
        if name not in SOURCE_CLIPPED:
            assert got["dyn"].clipped_runs == 0, name
            assert got["overs"][1] == 0, name  # no plateau above full scale either


def test_source_clipped_tracks(corpus_music: dict) -> None:
    """The clipped masters decode to ragged plateaus above 0 dBFS, not to runs at one value, so
    the detector (runs at the file's peak) finds none; clipped to +-1 as any 16/24-bit export
    of them is, they hold real clipped runs and the detector finds each of them."""
    for name in SOURCE_CLIPPED:
        got = corpus_music[name]
        samples_over, plateaus = got["overs"]
        assert samples_over >= 20 and plateaus >= 3, name
        assert got["dyn"].clipped_runs == 0, name
        count, starts = got["clipped_brute"]
        assert count >= plateaus, name
        assert got["clipped_dyn"].clipped_runs == count, name
        assert list(got["clipped_dyn"].clipped_run_positions_s) == starts, name


def test_loud_master_has_far_lower_crest_and_plr_than_ambient(
    corpus_music: dict, readings: dict
) -> None:
    def stats(name: str):
        ref = readings[name]
        return build_dynamics_stats(
            corpus_music[name]["dyn"],
            true_peak_dbtp=ref["true_peak_8x_dbtp"],
            integrated_lufs=ref["ffmpeg_ebur128"]["integrated_lufs"],
            short_term=None,
            window_true_peak=None,
            intersample_overs=0,
        )

    loud = stats(LOUD_MASTER)
    ambient = [stats(n) for n in AMBIENT]
    assert loud.crest_factor_db < min(a.crest_factor_db for a in ambient) - 6.0
    assert loud.plr_db < min(a.plr_db for a in ambient) - 6.0
    assert loud.dr < min(a.dr for a in ambient) - 5
    everything = [stats(n) for n in corpus_music]
    assert loud.crest_factor_db == min(s.crest_factor_db for s in everything)
    assert loud.plr_db == min(s.plr_db for s in everything)


def test_streaming_a_corpus_file_equals_whole_array(corpus: Path, corpus_music: dict) -> None:
    name = "wesnoth--journeys_end.ogg"
    with open_audio(corpus / "music" / name) as src:
        meter = DynamicsMeter(src.info.sample_rate_hz, src.info.channels)
        for block in src.blocks(50000):
            meter.feed(block)
    streamed, whole = meter.result(), corpus_music[name]["dyn"]
    assert streamed.dr == whole.dr and streamed.clipped_runs == whole.clipped_runs
    assert streamed.crest_factor_db == pytest.approx(whole.crest_factor_db, abs=1e-9)
    assert streamed.dr_per_channel == pytest.approx(whole.dr_per_channel, abs=1e-9)
