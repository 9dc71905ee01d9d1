"""Stereo meter: correlation (overall and per 400 ms block), side-to-mid, balance, mono loss,
flags, streaming == whole-array, degenerate input, and the real corpus (dual mono, flipped
polarity)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dsp.bands import BROAD_BAND_NAMES
from analyzer.io import open_audio
from analyzer.measure.spectrum import SpectrumMeter
from analyzer.measure.stereo import StereoMeter, measure_stereo
from tests.signals import close_or_both_none as _close
from tests.signals import sine

FS = 48000
HALF_POWER_DB = 10 * math.log10(0.5)  # -3.01


def pink_noise(seconds: float, fs: int, *, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Pink noise band-limited to 20 Hz - 20 kHz, unit RMS per channel.

    (``tests.signals.pink_noise`` is pink down to 1 / duration: a quarter of its power lies below
    1 Hz in a few FFT bins, so two independent channels correlate by chance at |r| ~ 0.2.)
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * fs)
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / fs)
    gain = np.where((f >= 20.0) & (f <= 20000.0), 1.0 / np.sqrt(np.maximum(f, 1.0)), 0.0)
    x = np.fft.irfft(spec * gain, n=n, axis=1)
    return x / np.sqrt(np.mean(x**2, axis=1, keepdims=True))


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    """20 s of independent pink noise on two channels, -20 dB RMS."""
    return pink_noise(20.0, FS, seed=4) * 0.1


def test_identical_channels(noise) -> None:
    s = measure_stereo(np.stack([noise[0], noise[0]]), FS)
    assert s.correlation == pytest.approx(1.0, abs=1e-12)
    assert s.correlation_min == pytest.approx(1.0, abs=1e-9)
    assert s.correlation_p5 == pytest.approx(1.0, abs=1e-9)
    assert s.correlation_below_zero_share == 0.0
    assert s.side_to_mid_db is None  # minus infinity: no side signal
    assert s.balance_db == 0.0
    assert s.mono_loss_lu == 0.0
    assert s.flags == ("dual_mono",)
    assert all(s.width_per_band_db[n] is None for n in BROAD_BAND_NAMES)
    assert all(s.mono_loss_per_band_lu[n] == 0.0 for n in BROAD_BAND_NAMES)


def test_inverted_channel(noise) -> None:
    s = measure_stereo(np.stack([noise[0], -noise[0]]), FS)
    assert s.correlation == pytest.approx(-1.0, abs=1e-12)
    assert s.correlation_below_zero_share == 1.0
    assert s.side_to_mid_db is None  # plus infinity: no mid signal
    assert s.mono_loss_lu is None  # minus infinity: the fold-down cancels completely
    assert all(s.mono_loss_per_band_lu[n] is None for n in BROAD_BAND_NAMES)
    assert s.flags == ("polarity_inverted",)


def test_inverted_channel_of_a_real_stereo_signal(noise) -> None:
    """A mostly-mono mix with a flipped channel: flagged, and its mono fold-down loses > 15 LU."""
    common = pink_noise(20.0, FS, channels=1, seed=9)[0] * 0.1
    x = np.stack([common + 0.1 * noise[0], -(common + 0.1 * noise[1])])
    s = measure_stereo(x, FS)
    assert s.correlation < -0.95
    assert "polarity_inverted" in s.flags
    assert s.mono_loss_lu < -15.0
    assert all(s.mono_loss_per_band_lu[n] < -15.0 for n in BROAD_BAND_NAMES)
    assert s.side_to_mid_db > 15.0


def test_independent_noise(noise) -> None:
    s = measure_stereo(noise, FS)
    assert abs(s.correlation) < 0.02
    assert s.side_to_mid_db == pytest.approx(0.0, abs=0.2)
    assert s.balance_db == pytest.approx(0.0, abs=1e-6)  # both normalised to the same RMS
    assert s.mono_loss_lu == pytest.approx(HALF_POWER_DB, abs=0.1)
    assert s.flags == ()
    assert 0.0 < s.correlation_below_zero_share < 1.0
    assert -1.0 < s.correlation_min < s.correlation_p5 < 0.0
    for n in BROAD_BAND_NAMES:
        assert s.width_per_band_db[n] == pytest.approx(0.0, abs=0.5)
        assert s.mono_loss_per_band_lu[n] == pytest.approx(HALF_POWER_DB, abs=0.25)


def test_centre_panned_mono(noise) -> None:
    """Mono panned to the centre (L = R): no side signal, so side-to-mid and the width of every
    band are minus infinity, reported as None; the channels count as dual mono."""
    s = measure_stereo(np.stack([0.5 * noise[0], 0.5 * noise[0]]), FS)
    assert s.side_to_mid_db is None
    assert all(s.width_per_band_db[n] is None for n in BROAD_BAND_NAMES)
    assert s.mono_loss_lu == 0.0


@pytest.mark.parametrize(("gain_l", "gain_r"), [(1.0, 0.5), (0.3, 1.0), (1.0, 0.0001)])
def test_off_centre_panned_mono(noise, gain_l: float, gain_r: float) -> None:
    """Mono panned off centre (L = a x, R = b x) is fully correlated, but M/S is not a pan-aware
    decomposition: S = (a - b) x / 2 is not zero. Side-to-mid is 20 log10(|a-b| / (a+b)) in
    every band, balance is 20 log10(a / b), and the mono fold-down loses
    10 log10((a+b)^2 / (2 (a^2 + b^2))). It is not dual mono."""
    x = np.stack([gain_l * noise[0], gain_r * noise[0]])
    s = measure_stereo(x, FS)
    width = 20 * math.log10(abs(gain_l - gain_r) / (gain_l + gain_r))
    loss = 10 * math.log10((gain_l + gain_r) ** 2 / (2 * (gain_l**2 + gain_r**2)))
    assert s.correlation == pytest.approx(1.0, abs=1e-9)
    assert s.correlation_min == pytest.approx(1.0, abs=1e-9)
    assert s.side_to_mid_db == pytest.approx(width, abs=1e-6)
    assert s.balance_db == pytest.approx(20 * math.log10(gain_l / gain_r), abs=1e-6)
    assert s.mono_loss_lu == pytest.approx(loss, abs=1e-6)
    for n in BROAD_BAND_NAMES:
        assert s.width_per_band_db[n] == pytest.approx(width, abs=1e-6)
        assert s.mono_loss_per_band_lu[n] == pytest.approx(loss, abs=1e-6)
    assert s.flags == ()


def test_nearly_identical_channels_are_dual_mono(noise) -> None:
    """Within 1 % in amplitude (side-to-mid <= -40 dB) counts as dual mono; 3 % does not."""
    assert measure_stereo(np.stack([noise[0], 0.99 * noise[0]]), FS).flags == ("dual_mono",)
    tiny = np.stack([noise[0], noise[0] + 0.003 * noise[1]])
    assert measure_stereo(tiny, FS).flags == ("dual_mono",)
    assert measure_stereo(np.stack([noise[0], 0.97 * noise[0]]), FS).flags == ()


def test_correlation_distribution_over_blocks(noise) -> None:
    """5 s in phase then 5 s in anti-phase: 400 ms blocks every 100 ms, 97 of them; 47 read +1,
    47 read -1 and three straddle the change (+0.5, about 0, -0.5)."""
    n = 5 * FS
    x = noise[0, : 2 * n]
    sign = np.concatenate([np.ones(n), -np.ones(n)])
    s = measure_stereo(np.stack([x, x * sign]), FS)
    assert s.correlation_min == pytest.approx(-1.0, abs=1e-9)
    assert s.correlation_p5 == pytest.approx(-1.0, abs=1e-9)
    assert 48 / 97 <= s.correlation_below_zero_share <= 49 / 97
    assert abs(s.correlation) < 0.05
    assert "polarity_inverted" not in s.flags
    # The same blocks as a series over time: 10 Hz from 0.4 s, +1 then -1.
    series = s.correlation_series
    assert series is not None and series.rate_hz == 10.0 and series.start_s == 0.4
    assert len(series.values) == 97
    assert series.values[:47] == pytest.approx([1.0] * 47, abs=1e-4)
    assert series.values[-47:] == pytest.approx([-1.0] * 47, abs=1e-4)


def test_correlation_series_marks_silent_blocks_nan(noise) -> None:
    x = noise[0, : 4 * FS].copy()
    x[2 * FS :] = 0.0  # the second half is silent: its blocks have no correlation
    s = measure_stereo(np.stack([x, x]), FS)
    values = s.correlation_series.values
    assert values[0] == pytest.approx(1.0, abs=1e-4)
    assert all(math.isnan(v) for v in values[-10:])


def test_silent_channel(noise) -> None:
    x = np.stack([noise[0], np.zeros(noise.shape[1])])
    s = measure_stereo(x, FS)
    assert s.flags == ("silent_channel",)
    assert s.correlation is None and s.correlation_min is None and s.correlation_p5 is None
    assert s.balance_db is None  # plus infinity
    assert s.side_to_mid_db == pytest.approx(0.0, abs=1e-9)  # M = S = L / 2
    assert s.mono_loss_lu == pytest.approx(HALF_POWER_DB, abs=1e-9)


def test_silence() -> None:
    for frames in (0, 1, 100, 3 * FS):
        x = np.zeros((2, frames))
        s = measure_stereo(x, FS) if frames else StereoMeter(FS, 2).result()
        assert s.flags == ()
        assert s.correlation is None and s.correlation_min is None
        assert s.correlation_p5 is None and s.correlation_below_zero_share is None
        assert s.side_to_mid_db is None and s.balance_db is None and s.mono_loss_lu is None
        assert all(v is None for v in s.width_per_band_db.values())
        assert all(v is None for v in s.mono_loss_per_band_lu.values())


def test_quiet_blocks_are_skipped(noise) -> None:
    """Blocks below -70 dB (here: independent dither between two bursts) do not count."""
    x = noise[:, : 6 * FS].copy()
    x[1, : 2 * FS] = x[0, : 2 * FS]
    x[1, 4 * FS :] = x[0, 4 * FS :]
    x[:, 2 * FS : 4 * FS] *= 1e-4  # -100 dB, uncorrelated
    s = measure_stereo(x, FS)
    assert s.correlation_min == pytest.approx(1.0, abs=1e-6)
    assert s.correlation_below_zero_share == 0.0


def test_mono_file() -> None:
    s = measure_stereo(sine(2.0, FS, channels=1), FS)
    assert s.flags == ("mono",)
    for value in (
        s.correlation,
        s.correlation_min,
        s.correlation_p5,
        s.correlation_below_zero_share,
        s.side_to_mid_db,
        s.mono_loss_lu,
        s.balance_db,
    ):
        assert value is None
    assert tuple(s.width_per_band_db) == BROAD_BAND_NAMES
    assert all(v is None for v in s.width_per_band_db.values())
    assert all(v is None for v in s.mono_loss_per_band_lu.values())


def test_shorter_than_one_block(noise) -> None:
    s = measure_stereo(np.stack([noise[0, :1000], noise[0, :1000]]), FS)
    assert s.correlation == pytest.approx(1.0)
    assert s.correlation_min is None and s.correlation_below_zero_share is None
    assert s.flags == ("dual_mono",)


def test_more_than_two_channels_use_the_first_two(noise) -> None:
    x = np.stack([noise[0], noise[0], noise[1], -noise[0]])
    s = measure_stereo(x, FS)
    assert s.correlation == pytest.approx(1.0)
    assert s.flags == ("dual_mono",)


def test_result_takes_the_engine_values(noise) -> None:
    meter = StereoMeter(FS, 2)
    meter.feed(noise)
    width = dict.fromkeys(BROAD_BAND_NAMES, 1.5)
    s = meter.result(width_per_band_db=width, mono_loss_per_band_lu=width, mono_loss_lu=-2.5)
    assert s.mono_loss_lu == -2.5
    assert s.width_per_band_db == width and s.mono_loss_per_band_lu == width
    bare = meter.result()
    assert bare.mono_loss_lu == pytest.approx(HALF_POWER_DB, abs=0.1)  # ungated fallback
    assert all(v is None for v in bare.width_per_band_db.values())
    assert meter.result() == bare  # reading out does not change the state


@st.composite
def signal_and_blocks(draw: st.DrawFn) -> tuple[np.ndarray, int, list[int]]:
    fs = draw(st.sampled_from([8000, 44100, 48000]))
    seconds = draw(st.floats(0.01, 3.0))
    channels = draw(st.integers(1, 3))
    n = max(1, round(seconds * fs))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    x = rng.standard_normal((channels, n)) * np.linspace(0.001, 0.5, n)
    if channels > 1:
        mix = draw(st.floats(-1.0, 1.0))
        x[1] = mix * x[0] + (1 - abs(mix)) * x[1]
    sizes = draw(st.lists(st.integers(1, 30000), min_size=1, max_size=12))
    return x, fs, sizes


@settings(max_examples=20, deadline=None)
@given(signal_and_blocks())
def test_streaming_equals_whole_array(case) -> None:
    x, fs, sizes = case
    whole = StereoMeter(fs, x.shape[0])
    whole.feed(x)
    stream = StereoMeter(fs, x.shape[0])
    pos, i = 0, 0
    while pos < x.shape[1]:
        stream.feed(x[:, pos : pos + sizes[i % len(sizes)]])
        pos += sizes[i % len(sizes)]
        i += 1
    a, b = whole.result(), stream.result()
    assert a.flags == b.flags
    for field in (
        "correlation",
        "correlation_min",
        "correlation_p5",
        "correlation_below_zero_share",
        "side_to_mid_db",
        "mono_loss_lu",
        "balance_db",
    ):
        assert _close(getattr(a, field), getattr(b, field)), field


def _corpus_pass(corpus, corpus_analyses: dict) -> dict[str, tuple]:
    """Both meters over every corpus track, as recorded (the suite's one analysis of each,
    ``corpus_analyses``: the engine feeds these meters) and with the right channel flipped."""
    out = {}
    for path in sorted((corpus / "music").iterdir()):
        with open_audio(path) as src:
            fs, ch = src.info.sample_rate_hz, src.info.channels
            stereo, spectrum = StereoMeter(fs, ch), SpectrumMeter(fs, ch)
            for block in src.blocks():
                flipped = block.copy()
                flipped[1] *= -1
                stereo.feed(flipped)
                spectrum.feed(flipped)
        width, loss = spectrum.stereo_bands()
        flipped_result = stereo.result(width_per_band_db=width, mono_loss_per_band_lu=loss)
        out[path.name] = (corpus_analyses[path.name].stereo, flipped_result)
    return out


def test_corpus_tracks(corpus, corpus_analyses) -> None:
    """Every track: no error; only the chiptune is dual mono; flipping a channel is flagged."""
    got = _corpus_pass(corpus, corpus_analyses)
    assert len(got) >= 16
    for name, (s, flipped) in got.items():
        if name == "supertux--chipdisko.ogg":  # L = R exactly after decoding
            assert s.flags == ("dual_mono",)
            assert s.side_to_mid_db is None and s.correlation == pytest.approx(1.0)
            assert s.mono_loss_lu == 0.0
            assert all(v is None for v in s.width_per_band_db.values())
        else:
            assert s.flags == (), name
            assert 0.2 < s.correlation < 1.0, name
            assert -30.0 < s.side_to_mid_db < 0.0, name
            assert -2.5 < s.mono_loss_lu <= 0.0, name
            assert abs(s.balance_db) < 6.0, name
            # Bass is close to mono in a mix (the polarity rule relies on it).
            assert s.width_per_band_db["low"] < -3.0, name
        assert "polarity_inverted" in flipped.flags, name
        assert flipped.correlation == pytest.approx(-s.correlation, abs=1e-9)
        assert flipped.mono_loss_lu is None or flipped.mono_loss_lu < -4.0
    # The nearly mono drum-and-bass excerpt is narrow; the orchestra is wide.
    assert got["librosa--admiralbob77_-_Choice_-_Drum-bass.hq.ogg"][0].side_to_mid_db < -20
    assert got["wesnoth--journeys_end.ogg"][0].side_to_mid_db > -5
