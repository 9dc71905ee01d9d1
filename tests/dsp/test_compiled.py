"""The meters' compiled kernels (analyzer.dsp.compiled) give what the numpy paths give.

K-weighting: the compiled recursion against the numpy block state-space path (the same
recursion by matrix products, so they agree to rounding). True peak: the compiled grid
against the numpy product, the refined peaks, the 100 ms series and the overs counts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyzer.dsp import compiled, jit
from analyzer.dsp.kweighting import KWeightingFilter
from analyzer.measure.loudness import LoudnessMeter
from analyzer.measure.truepeak import TruePeakMeter


def _use(monkeypatch: pytest.MonkeyPatch, which: str) -> None:
    monkeypatch.setattr(jit, "kernels", lambda **_: compiled if which == "compiled" else None)


def _music_like(fs: int, seconds: float, channels: int = 2, seed: int = 1) -> np.ndarray:
    """Noise through a 1/f-ish tilt with a few loud tones and a gap of silence: overs near
    full scale, quiet passages, both channels different."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    t = np.arange(n) / fs
    x = np.cumsum(rng.standard_normal((channels, n)), axis=1)
    x -= np.convolve(x[0], np.ones(64) / 64, mode="same")[None, :]
    x /= np.max(np.abs(x))
    x += 0.6 * np.sin(2 * np.pi * 11025.3 * t + np.arange(channels)[:, None])
    x[:, n // 3 : n // 3 + fs // 2] = 0.0
    return x * (1.05 / np.max(np.abs(x)))


def _split(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, i = [], 0
    while i < x.shape[1]:
        for s in sizes:
            out.append(x[:, i : i + s])
            i += s
    return [b for b in out if b.shape[1]]


@pytest.mark.parametrize("fs", [44100, 48000, 96000])
def test_kweighting_recursion_equals_block_path(monkeypatch: pytest.MonkeyPatch, fs: int) -> None:
    x = _music_like(fs, 2.5)
    outs = {}
    for which in ("compiled", "numpy"):
        _use(monkeypatch, which)
        f = KWeightingFilter(fs, 2)
        outs[which] = np.concatenate([f.process(b) for b in _split(x, [7, 40000, 1, 90001])], 1)
    scale = np.max(np.abs(outs["numpy"]))
    assert np.max(np.abs(outs["compiled"] - outs["numpy"])) <= 1e-9 * scale


def test_kweighting_stereo_energies_equal(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _music_like(44100, 3.0)
    got = {}
    for which in ("compiled", "numpy"):
        _use(monkeypatch, which)
        f = KWeightingFilter(44100, 2)
        parts = [f.stereo_energies(b) for b in _split(x, [30000, 3, 65536])]
        got[which] = tuple(np.concatenate(p) for p in zip(*parts, strict=True))
    for a, b in zip(got["compiled"], got["numpy"], strict=True):
        assert np.max(np.abs(a - b)) <= 1e-9 * np.max(b)


@pytest.mark.parametrize("channels", [1, 2, 6])
def test_loudness_meter_same_on_both_paths(monkeypatch: pytest.MonkeyPatch, channels: int) -> None:
    x = _music_like(48000, 8.0, channels) * 0.5
    res = {}
    for which in ("compiled", "numpy"):
        _use(monkeypatch, which)
        m = LoudnessMeter(48000, channels, keep_series=True)
        for b in _split(x, [48000, 12345]):
            m.feed(b)
        res[which] = m.result()
    a, b = res["compiled"], res["numpy"]
    assert math.isclose(a.integrated_lufs, b.integrated_lufs, abs_tol=1e-9)
    assert math.isclose(a.momentary_max_lufs, b.momentary_max_lufs, abs_tol=1e-9)
    assert math.isclose(a.short_term_max_lufs, b.short_term_max_lufs, abs_tol=1e-9)
    assert np.allclose(a.short_term.values, b.short_term.values, atol=1e-9, equal_nan=True)


def _peaks(x: np.ndarray, fs: int, **kw: object) -> TruePeakMeter:
    m = TruePeakMeter(fs, x.shape[0], **kw)
    for b in _split(x, [262144, 1000, 70001]):
        m.feed(b)
    return m


@pytest.mark.parametrize("fs", [44100, 48000, 96000])
@pytest.mark.parametrize("track_windows", [True, False])
def test_true_peak_same_on_both_paths(
    monkeypatch: pytest.MonkeyPatch, fs: int, track_windows: bool
) -> None:
    x = _music_like(fs, 6.0)
    meters, results = {}, {}
    for which in ("compiled", "numpy"):
        _use(monkeypatch, which)
        meters[which] = _peaks(x, fs, track_windows=track_windows)
        results[which] = meters[which].result()
    a, b = results["compiled"], results["numpy"]
    assert a.true_peak_dbtp > 0.4  # the signal has overs to find
    for u, v in zip(a.true_peak_per_channel_dbtp, b.true_peak_per_channel_dbtp, strict=True):
        assert abs(u - v) <= 1e-9
    assert a.sample_peak_per_channel_dbfs == b.sample_peak_per_channel_dbfs
    if track_windows:
        ma, mb = meters["compiled"], meters["numpy"]
        assert ma.intersample_overs == mb.intersample_overs > 0
        # grid values: float32 sums in another order (a few units of float32's last place)
        wa, wb = ma.window_true_peak(), mb.window_true_peak()
        assert wa is not None and wb is not None and len(wa.values) == len(wb.values) > 0
        assert np.allclose(wa.values, wb.values, atol=1e-5)
        assert ma.peak_time_s() == mb.peak_time_s()


def test_true_peak_kernel_against_an_independent_sum() -> None:
    """The kernel's grid, written out here as plain sums over the taps in float64."""
    from analyzer.dsp.oversample import interpolation_matrix

    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, 3000)
    h = interpolation_matrix(4).astype(np.float32)
    taps = h.shape[0]
    rows = x.size - taps - 20
    first, after = 4, 4 + taps // 2 - 1
    row_max, arg = np.empty(rows), np.empty(rows, np.int8)
    overs = compiled.truepeak_rows(x, first, after, h, 0.9, row_max, arg)
    x32 = x.astype(np.float32).astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(x32[first:], taps)[:rows]
    y = np.abs(windows @ h.astype(np.float64))
    s = np.abs(x[after : after + rows])
    want = np.maximum(y.max(axis=1), s)
    assert np.allclose(row_max, want, rtol=1e-6, atol=0)
    assert overs == np.count_nonzero(y.max(axis=1) > 0.9)
    clear = np.abs(s - y.max(axis=1)) > 1e-5 * want  # away from float32 ties
    expect = np.where(s >= y.max(axis=1), 0, np.argmax(y, axis=1) + 1)
    assert np.array_equal(arg[clear], expect[clear])


def test_kernels_only_after_opting_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jit, "_loader", None)
    assert jit.kernels() is None  # analyze never pays numba's import and memory
    monkeypatch.setenv("MIXANALYZER_NO_JIT", "1")
    jit.start_loading()
    assert jit._loader is None and jit.kernels() is None
    assert jit.kernels(native=True) is None  # nor the library built ahead of time


def test_biquad_cascade_is_sosfilt() -> None:
    """The EQ's compiled recursion against scipy's, with the delays carried across cuts at
    awkward places: the same order of operations (on a 4-minute file the difference was exactly
    0; the bound leaves room for a compiler that fuses a multiply-add)."""
    from scipy.signal import sosfilt

    from analyzer.mastering.eq import EqMove, sos

    fs = 44100
    moves = [
        EqMove("low_shelf", 120.0, 4.0),
        EqMove("high_shelf", 6000.0, -5.0),
        EqMove("peaking", 400.0, 3.0, 1.4),
        EqMove("high_pass", 25.0, 0.0, 0.7071),
    ]
    s = np.ascontiguousarray(sos(moves, fs))
    x = _music_like(fs, 1.5, channels=3)
    want = sosfilt(s, x, axis=1)
    z = np.zeros((3, len(moves), 2))
    parts = []
    for b in _split(x, [1, 4095, 30000, 7]):
        y = np.empty(b.shape)
        compiled.biquad_cascade(np.ascontiguousarray(b), s, z, y)
        parts.append(y)
    got = np.concatenate(parts, axis=1)
    assert np.max(np.abs(got - want)) <= 1e-14 * np.max(np.abs(want))


@pytest.mark.parametrize("seed", range(6))
def test_eq_chain_same_on_both_paths(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """The mastering EQ by the compiled recursion (where the kernels are loaded) and by FFT
    overlap-save (elsewhere) agree to 1e-9 of the peak, on random cookbook cascades of one to
    four moves; the recursion gives the same bits whatever the block sizes (the FFT's grid
    follows them: that path agrees with itself to its ~1e-11 truncation)."""
    from analyzer.mastering.eq import EqChain, EqMove

    rng = np.random.default_rng(seed)
    fs = int(rng.choice([44100, 48000, 96000]))
    kinds = ["peaking", "low_shelf", "high_shelf", "peaking"]
    moves = [
        EqMove(str(rng.choice(kinds)), float(np.exp(rng.uniform(np.log(25.0), np.log(18000.0)))),
               float(rng.uniform(-9.0, 9.0)), float(rng.uniform(0.4, 4.0)))
        for _ in range(int(rng.integers(1, 5)))
    ]  # fmt: skip
    x = _music_like(fs, 1.2, seed=seed)
    outs = {}
    for which in ("compiled", "numpy"):
        _use(monkeypatch, which)
        runs = []
        for sizes in ([65536], [7, 40000, 1, 9001]):
            chain = EqChain(moves, fs, 2)
            runs.append(np.concatenate([chain.process(b) for b in _split(x, sizes)], axis=1))
        if which == "compiled":
            assert np.array_equal(runs[0], runs[1])
        else:
            assert np.max(np.abs(runs[0] - runs[1])) <= 1e-10 * np.max(np.abs(runs[0]))
        outs[which] = runs[0]
    scale = np.max(np.abs(outs["numpy"]))
    assert np.max(np.abs(outs["compiled"] - outs["numpy"])) <= 1e-9 * scale, moves
