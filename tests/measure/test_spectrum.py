"""Spectrum meter: Welch normalisation (against scipy), analytic band levels (sines, pink and white
noise), fractional-octave band edges (IEC 61260-1), tilt, tonal balance, mid/side and stereo
bands, streaming == whole-array, degenerate input, and the real corpus."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dsp.bands import (
    BROAD_BAND_NAMES,
    OCTAVE_RATIO,
    SIXTH_OCTAVE_NOMINAL_HZ,
    THIRD_OCTAVE_EXACT_HZ,
    THIRD_OCTAVE_NOMINAL_HZ,
)
from analyzer.measure.spectrum import (
    SpectrumMeter,
    band_powers,
    frame_size,
    levelled,
    measure_spectrum,
)
from tests.signals import close_or_both_none as _close
from tests.signals import pink_noise, sine

WHITE_TILT = 10 * math.log10(2)  # +3.01 dB/octave


def third(freq_hz: float) -> int:
    return THIRD_OCTAVE_NOMINAL_HZ.index(freq_hz)


def test_band_tables() -> None:
    """ISO 266 nominal centres and IEC 61260-1 base-ten exact centres agree to the rounding."""
    assert len(THIRD_OCTAVE_NOMINAL_HZ) == 31
    assert THIRD_OCTAVE_NOMINAL_HZ[0] == 20 and THIRD_OCTAVE_NOMINAL_HZ[-1] == 20000
    for nominal, exact in zip(THIRD_OCTAVE_NOMINAL_HZ, THIRD_OCTAVE_EXACT_HZ, strict=True):
        assert exact == pytest.approx(nominal, rel=0.03)
    assert THIRD_OCTAVE_EXACT_HZ[third(1000.0)] == 1000.0
    assert SIXTH_OCTAVE_NOMINAL_HZ[0] == 20 and SIXTH_OCTAVE_NOMINAL_HZ[-1] == 20000
    assert len(SIXTH_OCTAVE_NOMINAL_HZ) == 61
    assert set(THIRD_OCTAVE_NOMINAL_HZ) <= set(SIXTH_OCTAVE_NOMINAL_HZ)


@pytest.mark.parametrize(("fs", "nfft"), [(8000, 4096), (44100, 16384), (48000, 16384)])
def test_frame_size(fs: int, nfft: int) -> None:
    assert frame_size(fs) == nfft
    assert frame_size(96000) == 32768


@pytest.mark.parametrize("fs", [8000, 44100, 48000])
def test_psd_equals_scipy_welch(fs: int) -> None:
    """Same frames, window and density scaling as scipy.signal.welch (Welch 1967)."""
    from scipy.signal import welch

    rng = np.random.default_rng(fs)
    x = rng.standard_normal((2, 3 * frame_size(fs) + 1234))
    meter = SpectrumMeter(fs, 2)
    for i in range(0, x.shape[1], 7777):
        meter.feed(x[:, i : i + 7777])
    f, psd = meter.psd()
    nfft = frame_size(fs)
    f_ref, psd_ref = welch(
        x, fs, window="hann", nperseg=nfft, noverlap=nfft // 2, detrend=False, scaling="density"
    )
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(psd, psd_ref, rtol=1e-10)


def test_band_powers_weight_edge_bins_by_fraction() -> None:
    """A flat spectrum gives every band a power proportional to its width in Hz."""
    df, bins = 2.0, 1001
    p = np.ones(bins)
    edges = [(11.3, 17.9), (100.0, 101.0), (0.0, 5.0), (1990.0, 2500.0)]
    got = band_powers(p, edges, df, (bins - 1) * df)
    # Bins 0 and Nyquist cover half a bin's width but hold a whole bin's power (one-sided).
    assert got == pytest.approx([6.6 / df, 0.5, 1.0 + 4.0 / df, 0.5 + 4.0 + 1.0])


@pytest.mark.parametrize("fs", [44100, 48000, 96000])
@pytest.mark.parametrize("peak_dbfs", [0.0, -20.0])
def test_sine_band_holds_its_power(fs: int, peak_dbfs: float) -> None:
    """A 1 kHz sine reads its peak level in dB re full scale in its band (±0.1 dB); the
    neighbouring bands are at least 40 dB down."""
    s = measure_spectrum(sine(5.0, fs, peak_dbfs=peak_dbfs), fs)
    k = third(1000.0)
    assert s.third_octave_db[k] == pytest.approx(peak_dbfs, abs=0.1)
    assert s.third_octave_db[k - 1] < peak_dbfs - 40
    assert s.third_octave_db[k + 1] < peak_dbfs - 40
    for row in s.third_octave_db_per_channel:
        assert row[k] == pytest.approx(peak_dbfs, abs=0.1)
    assert s.third_octave_mid_db[k] == pytest.approx(peak_dbfs, abs=0.1)
    assert all(v is None for v in s.third_octave_side_db)  # identical channels: no side
    assert s.tonal_balance_db["low_mid"] == pytest.approx(0.0, abs=1e-6)
    assert s.frame_size == frame_size(fs)


@pytest.mark.parametrize("freq_hz", [40.0, 63.0, 100.0, 4000.0, 10000.0, 16000.0])
def test_sines_across_the_range(freq_hz: float) -> None:
    """From 40 Hz up, a tone holds its power in its own third octave (the 20-31.5 Hz bands are
    only 2-3 bins of 2.9 Hz wide, so a pure tone there leaks up to 1.2 dB to its neighbours)."""
    fs = 48000
    s = measure_spectrum(sine(5.0, fs, peak_dbfs=-6.0, freq_hz=freq_hz), fs)
    assert s.third_octave_db[third(freq_hz)] == pytest.approx(-6.0, abs=0.1)


def test_sine_shorter_than_one_frame() -> None:
    """A file shorter than one Welch frame is one zero-padded frame with its own window."""
    fs = 48000
    s = measure_spectrum(sine(0.2, fs, peak_dbfs=-10.0), fs)
    assert s.frames_averaged == 1
    assert s.third_octave_db[third(1000.0)] == pytest.approx(-10.0, abs=0.1)


@pytest.fixture(scope="module")
def pink_stats():
    fs = 48000
    return measure_spectrum(pink_noise(60.0, fs, seed=7) * 0.1, fs)


def test_pink_noise_is_flat_in_third_octaves(pink_stats) -> None:
    """Pink noise has equal power in every base-ten third octave: ±0.5 dB, 31.5 Hz - 16 kHz."""
    lo, hi = third(31.5), third(16000.0)
    levels = np.array(pink_stats.third_octave_db[lo : hi + 1])
    assert np.all(np.abs(levels - levels.mean()) <= 0.5), levels - levels.mean()
    assert pink_stats.tilt_db_per_octave == pytest.approx(0.0, abs=0.1)
    # The 1/6-octave curve is flat too, 3 dB below the third-octave levels.
    sixth = np.array(pink_stats.sixth_octave_db[4:-6])
    assert np.all(np.abs(sixth - (levels.mean() - WHITE_TILT)) <= 0.7)


def test_pink_noise_tonal_balance(pink_stats) -> None:
    """Broad bands of pink noise hold power in proportion to their width in octaves."""
    octaves = {"sub": 60 / 20, "low": 250 / 60, "low_mid": 2000 / 250}
    octaves |= {"high_mid": 6000 / 2000, "high": 12000 / 6000, "air": 20000 / 12000}
    total = math.log2(20000 / 20)
    for name, ratio in octaves.items():
        expected = 10 * math.log10(math.log2(ratio) / total)
        assert pink_stats.tonal_balance_db[name] == pytest.approx(expected, abs=0.3), name
    assert tuple(pink_stats.tonal_balance_db) == BROAD_BAND_NAMES


@pytest.mark.parametrize("fs", [44100, 48000])
def test_white_noise_tilt_and_absolute_level(fs: int) -> None:
    """White noise rises 10 log10(2) = 3.01 dB per octave; its band power is the variance times
    the band's share of 0 - fs/2."""
    sigma = 0.1
    x = sigma * np.random.default_rng(11).standard_normal((2, 30 * fs))
    s = measure_spectrum(x, fs)
    assert s.tilt_db_per_octave == pytest.approx(WHITE_TILT, abs=0.1)
    for freq in (1000.0, 4000.0, 10000.0):
        f_m = THIRD_OCTAVE_EXACT_HZ[third(freq)]
        width = f_m * (OCTAVE_RATIO ** (1 / 6) - OCTAVE_RATIO ** (-1 / 6))
        expected = 10 * math.log10(2 * sigma**2 * width / (fs / 2))
        assert s.third_octave_db[third(freq)] == pytest.approx(expected, abs=0.2)


def test_tilt_of_a_known_slope() -> None:
    """Noise shaped to -3 dB/octave relative to pink reads -3.0 dB/octave."""
    fs, n = 48000, 48000 * 30
    rng = np.random.default_rng(5)
    spec = np.fft.rfft(rng.standard_normal((1, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / fs)
    f[0] = f[1]
    x = np.fft.irfft(spec / f, n=n, axis=1)  # 1/f^2 power: pink minus 3 dB per octave
    s = measure_spectrum(x / np.sqrt(np.mean(x**2)) * 0.1, fs)
    assert s.tilt_db_per_octave == pytest.approx(-WHITE_TILT, abs=0.1)


def test_tonal_balance_partitions_the_total() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 48000 * 3)) * np.linspace(0.01, 1, 48000 * 3)
    s = measure_spectrum(x, 48000)
    total = sum(10 ** (v / 10) for v in s.tonal_balance_db.values())
    assert total == pytest.approx(1.0, rel=1e-9)


def test_bands_above_nyquist_are_none() -> None:
    fs = 22050
    rng = np.random.default_rng(0)
    s = measure_spectrum(rng.standard_normal((1, fs * 3)) * 0.1, fs)
    for f, v in zip(THIRD_OCTAVE_EXACT_HZ, s.third_octave_db, strict=True):
        assert (v is None) == (f >= fs / 2)
    assert s.tonal_balance_db["air"] is None  # 12 kHz and up is above 11.025 kHz
    assert s.tonal_balance_db["high"] is not None
    assert s.tilt_db_per_octave == pytest.approx(WHITE_TILT, abs=0.15)  # bands to 8 kHz
    assert s.third_octave_mid_db is None and s.third_octave_side_db is None  # mono


def test_silence_gives_none_everywhere() -> None:
    for x in (np.zeros((2, 48000 * 2)), np.zeros((2, 100)), np.zeros((1, 1))):
        meter = SpectrumMeter(48000, x.shape[0])
        meter.feed(x)
        meter.feed(x[:, :0])
        s = meter.result()
        assert all(v is None for v in s.third_octave_db)
        assert all(v is None for row in s.third_octave_db_per_channel for v in row)
        assert all(v is None for v in s.sixth_octave_db)
        assert all(v is None for v in s.tonal_balance_db.values())
        assert s.tilt_db_per_octave is None
        width, loss = meter.stereo_bands()
        assert all(v is None for v in (*width.values(), *loss.values()))


def test_nothing_fed() -> None:
    meter = SpectrumMeter(44100, 2)
    s = meter.result()
    assert s.frames_averaged == 0
    assert all(v is None for v in s.third_octave_db)


def test_mid_side_and_stereo_bands_of_independent_noise() -> None:
    """Independent equal noise: mid = side (width 0 dB) and the mono fold-down loses 3 dB."""
    fs = 48000
    x = pink_noise(30.0, fs, seed=21) * 0.1
    meter = SpectrumMeter(fs, 2)
    meter.feed(x)
    s = meter.result()
    mid = np.array(s.third_octave_mid_db[3:-1])
    side = np.array(s.third_octave_side_db[3:-1])
    assert np.all(np.abs(mid - side) < 0.5)
    width, loss = meter.stereo_bands()
    assert tuple(width) == BROAD_BAND_NAMES == tuple(loss)
    for name in BROAD_BAND_NAMES:
        assert width[name] == pytest.approx(0.0, abs=0.25), name
        assert loss[name] == pytest.approx(-WHITE_TILT, abs=0.15), name


def test_stereo_bands_of_panned_and_inverted_mono() -> None:
    fs = 48000
    mono = pink_noise(10.0, fs, channels=1, seed=2)[0] * 0.1
    for a, b in ((1.0, 0.5), (0.2, 1.0)):
        meter = SpectrumMeter(fs, 2)
        meter.feed(np.stack([a * mono, b * mono]))
        width, loss = meter.stereo_bands()
        for name in BROAD_BAND_NAMES:
            assert width[name] == pytest.approx(20 * math.log10(abs(a - b) / (a + b)), abs=1e-6)
            expected = 10 * math.log10((a + b) ** 2 / (2 * (a * a + b * b)))
            assert loss[name] == pytest.approx(expected, abs=1e-6)
    # Centre: no side at all (minus infinity -> None); no loss in mono.
    meter = SpectrumMeter(fs, 2)
    meter.feed(np.stack([mono, mono]))
    width, loss = meter.stereo_bands()
    assert all(width[n] is None for n in BROAD_BAND_NAMES)
    assert all(loss[n] == 0.0 for n in BROAD_BAND_NAMES)
    # One channel inverted: everything cancels in mono (minus infinity -> None).
    meter = SpectrumMeter(fs, 2)
    meter.feed(np.stack([mono, -mono]))
    width, loss = meter.stereo_bands()
    assert all(loss[n] is None for n in BROAD_BAND_NAMES)


def test_mono_file() -> None:
    fs = 44100
    meter = SpectrumMeter(fs, 1)
    meter.feed(sine(2.0, fs, channels=1))
    s = meter.result()
    assert s.third_octave_mid_db is None and s.third_octave_side_db is None
    assert len(s.third_octave_db_per_channel) == 1
    assert s.third_octave_db == s.third_octave_db_per_channel[0]
    width, loss = meter.stereo_bands()
    assert tuple(width) == BROAD_BAND_NAMES
    assert all(v is None for v in (*width.values(), *loss.values()))


def test_multichannel_mix_is_the_mean_over_channels() -> None:
    fs = 48000
    x = sine(3.0, fs, peak_dbfs=-10.0, channels=3)
    x[2] = 0.0
    s = measure_spectrum(x, fs)
    k = third(1000.0)
    assert s.third_octave_db[k] == pytest.approx(-10.0 + 10 * math.log10(2 / 3), abs=0.1)
    assert s.third_octave_db_per_channel[2][k] is None
    assert all(v is None for v in s.third_octave_side_db)  # L/R are the first two


def test_levelled() -> None:
    fs = 48000
    s = measure_spectrum(sine(3.0, fs, peak_dbfs=-20.0), fs)
    out = levelled(s, -23.0)
    k = third(1000.0)
    assert out.third_octave_db[k] == pytest.approx(s.third_octave_db[k] + 23.0)
    assert out.third_octave_db_per_channel[1][k] == pytest.approx(s.third_octave_db[k] + 23.0)
    assert out.sixth_octave_db[10] == pytest.approx(s.sixth_octave_db[10] + 23.0)
    assert out.third_octave_side_db == s.third_octave_side_db  # all None stays None
    assert out.tonal_balance_db == s.tonal_balance_db
    assert out.tilt_db_per_octave == s.tilt_db_per_octave
    gone = levelled(s, None)
    assert all(v is None for v in gone.third_octave_db)
    assert all(v is None for v in levelled(s, -math.inf).third_octave_db)
    # Two copies of a track at different gains compare equal once levelled.
    x = pink_noise(5.0, fs, seed=1) * 0.05
    a, b = measure_spectrum(x, fs), measure_spectrum(x * 10 ** (-7 / 20), fs)
    la, lb = levelled(a, -20.0), levelled(b, -27.0)
    np.testing.assert_allclose(la.third_octave_db, lb.third_octave_db, atol=1e-9)


@st.composite
def signal_and_blocks(draw: st.DrawFn) -> tuple[np.ndarray, int, list[int]]:
    fs = draw(st.sampled_from([8000, 22050, 48000]))
    seconds = draw(st.floats(0.05, 2.5))
    channels = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    n = max(1, round(seconds * fs))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((channels, n)) * np.linspace(0.01, 0.5, n)
    if channels > 1 and draw(st.booleans()):
        x[1] = -0.5 * x[0] + 0.1 * x[1]
    sizes = draw(st.lists(st.integers(1, 40000), min_size=1, max_size=12))
    return x, fs, sizes


def _split(n: int, sizes: list[int]) -> list[tuple[int, int]]:
    out, pos, i = [], 0, 0
    while pos < n:
        step = sizes[i % len(sizes)]
        out.append((pos, min(pos + step, n)))
        pos += step
        i += 1
    return out


@settings(max_examples=20, deadline=None)
@given(signal_and_blocks())
def test_streaming_equals_whole_array(case) -> None:
    x, fs, sizes = case
    whole = SpectrumMeter(fs, x.shape[0])
    whole.feed(x)
    stream = SpectrumMeter(fs, x.shape[0])
    for lo, hi in _split(x.shape[1], sizes):
        stream.feed(x[:, lo:hi])
    a, b = whole.result(), stream.result()
    assert a.frames_averaged == b.frames_averaged
    for field in ("third_octave_db", "sixth_octave_db", "third_octave_mid_db"):
        va, vb = getattr(a, field), getattr(b, field)
        assert (va is None) == (vb is None)
        if va is not None:
            assert all(_close(p, q) for p, q in zip(va, vb, strict=True)), field
    assert all(_close(a.tonal_balance_db[k], b.tonal_balance_db[k]) for k in BROAD_BAND_NAMES)
    assert _close(a.tilt_db_per_octave, b.tilt_db_per_octave)
    for da, db in zip(whole.stereo_bands(), stream.stereo_bands(), strict=True):
        assert all(_close(da[k], db[k]) for k in BROAD_BAND_NAMES)


def test_corpus_tracks(corpus_analyses: dict) -> None:
    """Every corpus track streams through the meter (in the suite's one analysis of each,
    ``corpus_analyses``); tonal balance and tilt are plausible."""
    assert len(corpus_analyses) >= 16
    stats = {}
    for name, analysis in corpus_analyses.items():
        s = analysis.spectrum
        assert s is not None, name
        stats[name] = s
        tb = s.tonal_balance_db
        assert sum(10 ** (v / 10) for v in tb.values()) == pytest.approx(1.0, rel=1e-9)
        assert all(v is not None for v in s.third_octave_db)
        assert s.frames_averaged > 0
        if "solo-trumpet" not in name:  # full mixes fall with frequency
            assert -5.5 < s.tilt_db_per_octave < 0.0, (name, s.tilt_db_per_octave)
            assert max(tb, key=tb.get) in ("low", "low_mid"), (name, tb)
    # The solo piano has almost nothing above 6 kHz; the solo trumpet has no bass.
    piano = stats["librosa--lena-orsa_-_pistachio-ice-cream-ragtime.hq.ogg"].tonal_balance_db
    assert piano["high"] < -35 and piano["air"] < -50
    trumpet = stats["librosa--sorohanro_-_solo-trumpet-06.hq.ogg"]
    assert trumpet.tonal_balance_db["sub"] < -50 and trumpet.tilt_db_per_octave > 0
