"""The true-peak limiter: ceiling held in true peak, latency, streaming, linking, release."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.mastering.limiter import TruePeakLimiter, limit
from analyzer.measure.truepeak import measure_peaks
from tests.signals import pink_noise, sine


def _true_peak(y: np.ndarray, fs: int) -> float:
    return measure_peaks(y, fs).true_peak_dbtp


def _square(fs: int, freq_hz: float = 441.0, seconds: float = 1.0) -> np.ndarray:
    return np.sign(sine(seconds, fs, peak_dbfs=0.0, freq_hz=freq_hz))


def _signal(kind: str, fs: int) -> np.ndarray:
    if kind == "pink":
        return pink_noise(2.0, fs, seed=4) * 0.25  # ~ -12 dBFS RMS, peaks ~ +0.5 dBTP
    if kind == "square":
        return _square(fs)
    # fs/4 at 45 degrees: samples at +-0.707, the waveform between them at full scale (+3 dB)
    return sine(1.0, fs, peak_dbfs=0.0, freq_hz=fs / 4, phase_rad=np.pi / 4)


@pytest.mark.parametrize("fs", [44100, 48000])
@pytest.mark.parametrize("ceiling", [-1.0, -0.1])
@pytest.mark.parametrize("kind", ["pink", "square", "fs4"])
@pytest.mark.parametrize("drive_db", [6.0, 12.0])
def test_true_peak_stays_under_the_ceiling(fs, ceiling, kind, drive_db):
    x = _signal(kind, fs)
    before = _true_peak(x, fs) + drive_db
    y, stats = limit(x, fs, ceiling_dbtp=ceiling, input_gain_db=drive_db)
    assert y.shape == x.shape
    after = _true_peak(y, fs)
    assert before > ceiling + 5.0  # it really was pushed into the limiter
    assert after <= ceiling
    assert after >= ceiling - 0.2  # and not limited much harder than needed
    assert stats.max_gain_reduction_db == pytest.approx(before - ceiling, abs=0.2)


def test_inter_sample_peak_is_caught():
    """The fs/4 sine's samples are 3 dB under its true peak: a sample-peak limiter misses it."""
    fs = 48000
    x = sine(1.0, fs, peak_dbfs=-0.5, freq_hz=fs / 4, phase_rad=np.pi / 4)
    assert measure_peaks(x, fs).sample_peak_dbfs < -3.0
    y, stats = limit(x, fs, ceiling_dbtp=-1.0)
    assert stats.max_gain_reduction_db > 0.4
    assert _true_peak(y, fs) <= -1.0


@st.composite
def _loud_signals(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    channels = draw(st.integers(1, 2))
    n = draw(st.integers(200, 6000))
    kind = draw(st.sampled_from(["white", "clicks", "bursts", "hf_tone"]))
    if kind == "white":
        x = rng.standard_normal((channels, n)) * rng.uniform(0.1, 1.0)
    elif kind == "clicks":
        x = np.zeros((channels, n))
        idx = rng.integers(0, n, size=(channels, 8))
        for c in range(channels):
            x[c, idx[c]] = rng.choice([-1.0, 1.0], size=8) * rng.uniform(0.5, 2.0, size=8)
    elif kind == "bursts":
        env = np.repeat(rng.uniform(0.0, 1.5, size=n // 100 + 1), 100)[:n]
        x = rng.standard_normal((channels, n)) * env
    else:
        f = rng.uniform(0.3, 0.5)  # near Nyquist: the detector's grid reads lowest here
        t = np.arange(n)
        x = np.tile(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)), (channels, 1))
    fs = draw(st.sampled_from([44100, 48000, 96000]))
    return x, fs


@settings(max_examples=15, deadline=None)
@given(
    sig=_loud_signals(),
    ceiling=st.floats(-3.0, 0.0),
    drive=st.floats(0.0, 15.0),
    release=st.sampled_from([5.0, 20.0, 100.0, 400.0]),
    attack=st.sampled_from([None, 0.1, 1.0]),
)
def test_property_true_peak_never_over(sig, ceiling, drive, release, attack):
    x, fs = sig
    y, _ = limit(
        x, fs, ceiling_dbtp=ceiling, input_gain_db=drive, release_ms=release, attack_ms=attack
    )
    assert y.shape == x.shape
    assert _true_peak(y, fs) <= ceiling + 0.01


def test_streaming_is_identical_for_any_block_size():
    fs = 44100
    x = pink_noise(1.5, fs, seed=9) * 0.3
    whole, stats = limit(x, fs, input_gain_db=9.0)
    for block in (997, 8192, 20000):
        lim = TruePeakLimiter(fs, 2, input_gain_db=9.0)
        outs = []
        for i in range(0, x.shape[1], block):
            outs.append(lim.process(x[:, i : i + block]))
            fed = min(i + block, x.shape[1])
            assert sum(o.shape[1] for o in outs) == fed - lim.latency_samples
        outs.append(lim.flush())
        streamed = np.concatenate(outs, axis=1)
        assert np.array_equal(streamed, whole), block
        assert lim.stats == stats


@pytest.mark.parametrize("fs", [44100, 48000])
def test_quiet_signal_is_only_delayed(fs):
    """Latency == lookahead exactly: after n input frames, n - L output frames; a signal under
    the ceiling comes out bit-identical (gain exactly 1)."""
    x = sine(0.5, fs, peak_dbfs=-6.0, freq_hz=997.0)
    x[1] *= 0.5
    lim = TruePeakLimiter(fs, 2, lookahead_ms=2.0)
    latency = round(2.0 * fs / 1000)
    assert lim.latency_samples == latency
    outs, fed, emitted = [], 0, 0
    for block in (50, latency - 50, 1, 1000, 9000, 333, x.shape[1]):
        part = lim.process(x[:, fed : fed + block])
        fed += min(block, x.shape[1] - fed)
        emitted += part.shape[1]
        assert emitted == max(fed - latency, 0)
        outs.append(part)
    tail = lim.flush()
    assert tail.shape[1] == latency
    y = np.concatenate([*outs, tail], axis=1)
    assert y.shape == x.shape
    assert np.array_equal(y, x)
    assert lim.gain_reduction_db == (0.0, 0.0)


def test_stereo_linked():
    """A peak on the left only: both channels get the same gain."""
    fs = 48000
    rng = np.random.default_rng(3)
    base = rng.standard_normal(fs) * 0.05
    x = np.stack([base.copy(), 0.5 * base])
    x[0, fs // 2] = 2.0  # +6 dBFS click on the left
    y, stats = limit(x, fs, ceiling_dbtp=-1.0)
    assert stats.max_gain_reduction_db > 6.0
    gain_right = y[1] / x[1]
    assert gain_right.min() < 0.5  # the right channel was turned down with the left
    mask = np.ones(fs, dtype=bool)
    mask[fs // 2] = False
    np.testing.assert_allclose(gain_right[mask], (y[0] / x[0])[mask], rtol=1e-12)


def _gain_curve(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return y[0] / x[0]


def test_release_recovers_within_five_release_times():
    fs = 44100
    release_ms = 100.0
    n = fs * 2
    x = np.full((2, n), 0.1)  # DC: the interpolated waveform is flat, the gain is y / x
    peak_at = fs // 4
    x[:, peak_at] = 2.0
    lim = TruePeakLimiter(fs, 2, release_ms=release_ms)
    y = np.concatenate([lim.process(x), lim.flush()], axis=1)
    g_db = 20 * np.log10(_gain_curve(x, y))
    assert g_db.min() < -6.0
    assert np.all(
        g_db[: peak_at - lim.latency_samples] == 0.0
    )  # nor before the look-ahead  # no reduction long before
    after = peak_at + round(5 * release_ms * fs / 1000)
    assert g_db[after:].min() > -0.01


def test_release_is_program_dependent():
    """Recovery 50 ms after a click is faster than 50 ms after a second of heavy limiting."""
    fs = 44100
    n = fs * 3
    x = np.full((1, n), 0.1)
    x[0, fs // 2] = 2.0  # a click
    loud_end = 2 * fs
    x[0, fs:loud_end] = 2.0 * np.sign(np.sin(2 * np.pi * 50 * np.arange(fs) / fs))
    lim = TruePeakLimiter(fs, 1, release_ms=100.0)
    y = np.concatenate([lim.process(x), lim.flush()], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_db = 20 * np.log10(np.abs(_gain_curve(x, y)))
    later = round(0.05 * fs)
    after_click = g_db[fs // 2 + later]
    after_loud = g_db[loud_end + later]
    assert after_click > after_loud + 3.0


def test_sine_thd_after_attack_is_low():
    """A steady 100 Hz sine driven 6 dB over the ceiling: distortion below 1 %."""
    fs = 48000
    x = sine(2.0, fs, peak_dbfs=5.0, freq_hz=100.0, channels=1)
    y, _ = limit(x, fs, ceiling_dbtp=-1.0)
    seg = y[0, fs : fs + fs // 2]  # 0.5 s = 50 whole periods, long after the attack
    spec = np.abs(np.fft.rfft(seg))
    k = 50  # the 100 Hz bin
    fundamental = spec[k]
    harmonics = np.sqrt(sum(spec[h * k] ** 2 for h in range(2, 40)))
    assert harmonics / fundamental < 0.01


def test_single_full_scale_click_no_overshoot():
    fs = 44100
    x = np.zeros((2, fs // 2))
    x[:, 1000] = 1.0
    y, _ = limit(x, fs, ceiling_dbtp=-1.0)
    assert _true_peak(y, fs) <= -1.0


def test_rejects_too_short_lookahead_and_bad_shapes():
    with pytest.raises(ValueError, match="lookahead"):
        TruePeakLimiter(44100, 2, lookahead_ms=0.2)
    lim = TruePeakLimiter(44100, 2)
    with pytest.raises(ValueError):
        lim.process(np.zeros((1, 10)))
    lim.flush()
    with pytest.raises(RuntimeError):
        lim.process(np.zeros((2, 10)))


def test_mono_1d_input():
    fs = 44100
    x = pink_noise(0.5, fs, channels=1, seed=1)[0] * 0.5
    y, stats = limit(x, fs, input_gain_db=6.0)
    assert y.shape == x.shape
    assert stats.frames == x.size
    assert _true_peak(y, fs) <= -1.0


def test_recorded_detection_replays_at_any_gain():
    """The detection recorded at unity gain, replayed at +9 dB, gives the limiter's own result
    (to float32 rounding of the peaks) and never goes over the ceiling."""
    fs = 44100
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, fs * 2)) * 0.1
    rec = TruePeakLimiter(fs, 2, record_peaks=True, detect_only=True)
    for i in range(0, x.shape[1], 10000):
        assert rec.process(x[:, i : i + 10000]).shape[1] == 0  # detection only: no output
    rec.flush()
    assert rec.recorded_peaks and sum(p.size for p in rec.recorded_peaks) >= x.shape[1]
    outs = {}
    for replay in (None, rec.recorded_peaks):
        lim = TruePeakLimiter(fs, 2, input_gain_db=9.0, replay_peaks=replay)
        parts = [lim.process(x[:, i : i + 10000]) for i in range(0, x.shape[1], 10000)]
        outs[replay is None] = np.concatenate([*parts, lim.flush()], axis=1)
    assert np.max(np.abs(outs[True] - outs[False])) < 1e-6
    assert _true_peak(outs[False], fs) <= -1.0


@pytest.mark.parametrize("fs", [8000, 11025, 384000])
def test_every_supported_rate_is_limited(fs):
    """At 8 and 11.025 kHz the 2 ms look-ahead is shorter than the detector's delay: the default
    look-ahead grows to fit (mastering an 8 kHz file used to fail with a ValueError)."""
    x = pink_noise(1.0, fs, seed=5) * 0.25
    y, stats = limit(x, fs, ceiling_dbtp=-1.0, input_gain_db=12.0)
    assert stats.max_gain_reduction_db > 5.0
    assert _true_peak(y, fs) <= -1.0


@pytest.mark.parametrize("fs", [44100, 96000, 22050])
def test_detection_on_the_built_grid_reads_as_the_product(fs, monkeypatch):
    """Where the true-peak grid is built for this CPU (analyzer.dsp.native), the detector uses
    it instead of numpy's banded product: the same filter, float32 sums in another order, so
    the detected peaks agree to float32 rounding, the gains to ~1e-6, and the ceiling holds on
    both paths."""
    from analyzer.dsp import native

    if native.load() is None or native.load().truepeak_rows is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the true-peak grid was not built for this CPU")
        pytest.skip("the true-peak grid was not built")
    assert TruePeakLimiter(fs, 2)._grid is native.load().truepeak_rows  # used without asking
    rng = np.random.default_rng(fs)
    x = np.cumsum(rng.standard_normal((2, fs * 2)), axis=1)
    x = 0.4 * x / np.max(np.abs(x)) + 0.3 * rng.standard_normal(x.shape)
    results = {}
    for built in (True, False):
        rec = TruePeakLimiter(fs, 2, ceiling_dbtp=-1.0, record_peaks=True, detect_only=True)
        if not built:
            rec._grid = None  # the numpy product, as where no compiler built the library
        for i in range(0, x.shape[1], 7000):
            rec.process(x[:, i : i + 7000])
        rec.flush()
        lim = TruePeakLimiter(fs, 2, ceiling_dbtp=-1.0, input_gain_db=8.0,
                              replay_peaks=rec.recorded_peaks)  # fmt: skip
        y = np.concatenate([lim.process(x), lim.flush()], axis=1)
        results[built] = (np.concatenate(rec.recorded_peaks), y, lim.stats)
    (p_grid, y_grid, s_grid), (p_prod, y_prod, s_prod) = results[True], results[False]
    assert np.max(np.abs(p_grid - p_prod) / np.maximum(p_prod, 1e-12)) < 1e-5
    assert min(s_grid.max_gain_reduction_db, s_prod.max_gain_reduction_db) > 3.0  # limits hard
    assert np.max(np.abs(y_grid - y_prod)) < 1e-5
    assert max(_true_peak(y_grid, fs), _true_peak(y_prod, fs)) <= -1.0


def test_record_pass_detects_per_channel_as_one_linked_detector(tmp_path):
    """The master's recording pass runs one detector per channel (each in its own meter
    thread) and links them by the maximum per chunk: the recorded peaks and block sizes are
    bit-identical to one stereo detector's fed the same blocks, whatever their sizes (the
    built grid detects whole blocks at once; the chunk grid stays CHUNK)."""
    import soundfile as sf

    from analyzer.mastering import chain
    from analyzer.mastering.loudness_plan import LoudnessPlan
    from analyzer.mastering.propose import Proposal, ToneProposal, WidthProposal

    fs = 44100
    rng = np.random.default_rng(21)
    x = rng.standard_normal((2, fs * 3)) * np.array([[0.5], [0.2]])
    x[1, fs : fs + 500] *= 4.0  # the right channel is the louder one here
    path = tmp_path / "mix.wav"
    sf.write(path, x.T, fs, subtype="FLOAT")
    proposal = Proposal(
        tone=ToneProposal((), None, (), (), (), None, None, 1.0),
        width=WidthProposal(None, None, ()),
        loudness=LoudnessPlan(-14.0, "test", -1.0, 0.0, 0.0, 1.0),
        amounts={"tone": 1.0, "width": 1.0, "loudness": 1.0},
    )
    rec = chain._record_pass(str(path), proposal, fs, 2, False, -1.0, lambda _: None)
    linked = TruePeakLimiter(fs, 2, ceiling_dbtp=-1.0, record_peaks=True, detect_only=True)
    y = sf.read(path, dtype="float64", always_2d=True)[0].T
    for block in rec.blocks:
        linked.process(y[:, :block])
        y = y[:, block:]
    linked.flush()
    assert rec.blocks == linked.recorded_blocks
    assert len(rec.peaks) == len(linked.recorded_peaks) > 2
    for got, want in zip(rec.peaks, linked.recorded_peaks, strict=True):
        assert got.dtype == np.float32 and np.array_equal(got, want)


def test_rates_too_low_for_the_built_grid_use_the_product():
    """Below ~5.3 kHz the limiter's detection needs more phases than the built grid takes (its
    phase index is an int8): such a limiter uses numpy's product instead of refusing."""
    fs = 5000
    lim = TruePeakLimiter(fs, 1)
    assert lim.detect_factor - 1 > 127 and lim._grid is None
    x = sine(1.0, fs, peak_dbfs=6.0, freq_hz=440.0, channels=1)
    y, stats = limit(x, fs)
    assert stats.max_gain_reduction_db > 5.0 and y.shape == x.shape
