"""Device rendering: minimum-phase FIRs reproduce the models, streaming is block-size
independent, channel handling, level dependence, road noise, and WAV output."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure.engine import analyze_array
from analyzer.playback.device_fir import device_fir, fir_response_db
from analyzer.playback.devices import BUILTIN_DEVICES, magnitude_db
from analyzer.playback.render import DeviceRenderer

RATES = (44100, 48000)

#: Each model's stated figures (frequency in Hz) checked through the FIR.
STATED = {
    "phone": (220.0, 3000.0),  # -3 dB at the high-pass corner, presence peak
    "car": (30.0, 45.0, 80.0),  # +10 dB at 30 Hz, cap reached at 45 Hz, corner
    "earbuds-cheap": (200.0, 238.0, 392.0, 2300.0),
    "earbuds-open": (68.0, 2020.0),
    "laptop": (300.0, 12000.0),
    "bluetooth-speaker": (90.0,),
    "tv": (120.0, 2500.0),
    "club": (30.0, 100.0),
}


def _render(device, x, fs, block, **kw):
    kw.setdefault("integrated_lufs", -14.0)
    r = DeviceRenderer(device, fs, x.shape[0], **kw)
    parts = [r.process(x[:, i : i + block]) for i in range(0, x.shape[1], block)]
    parts.append(r.flush())
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("name", sorted(BUILTIN_DEVICES))
def test_fir_matches_model(name: str, fs: int) -> None:
    device = BUILTIN_DEVICES[name]
    h = device_fir(device, fs)
    f = np.concatenate([np.geomspace(100.0, 10000.0, 120), STATED.get(name, ())])
    want = magnitude_db(device, f)
    got = fir_response_db(h, fs, f)
    audible = want > -40.0
    assert np.max(np.abs(got - want)[audible]) < 1.0
    if name == "phone":
        assert got[-2] == pytest.approx(-3.01, abs=1.0)
    if name == "car":
        assert got[-3] == pytest.approx(10.0, abs=1.0)
    # Minimum phase: the energy is at the start of the filter.
    energy = np.cumsum(h**2) / np.sum(h**2)
    assert energy[max(h.size // 10 - 1, 0)] >= 0.9


def test_fir_is_minimum_phase_not_just_short() -> None:
    h = device_fir(BUILTIN_DEVICES["phone"], 48000)
    # A minimum-phase filter has the largest partial energy of all filters with its magnitude;
    # its time reverse (maximum phase, same magnitude) holds far less at the start.
    e_min = np.cumsum(h**2)[50]
    e_max = np.cumsum(h[::-1] ** 2)[50]
    assert e_min > 10 * e_max


@pytest.mark.parametrize("name", ["phone", "car", "club", "bluetooth-speaker", "laptop"])
def test_streaming_equals_whole_array(name: str) -> None:
    fs = 44100
    x = np.random.default_rng(3).standard_normal((2, fs)) * 0.2
    device = BUILTIN_DEVICES[name]
    whole = _render(device, x, fs, x.shape[1], level_db_spl=95.0)
    for block in (1000, 4097, 16384):
        np.testing.assert_allclose(
            _render(device, x, fs, block, level_db_spl=95.0), whole, rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("name", ["phone", "bluetooth-speaker"])
def test_mono_devices_fold(name: str) -> None:
    fs = 48000
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, fs // 2)) * 0.1
    y = _render(BUILTIN_DEVICES[name], x, fs, 8192)
    np.testing.assert_array_equal(y[0], y[1])
    inverted = np.stack([x[0], -x[0]])
    z = _render(BUILTIN_DEVICES["phone"], inverted, fs, 8192)
    rms_in = np.sqrt(np.mean(x[0] ** 2))
    assert np.sqrt(np.mean(z**2)) < 1e-6 * rms_in


def test_narrow_and_club_channel_handling() -> None:
    fs = 48000
    t = np.arange(fs) / fs
    side = np.sin(2 * np.pi * 40.0 * t) * 0.1
    x = np.stack([side, -side])  # pure side at 40 Hz
    club = _render(BUILTIN_DEVICES["club"], x, fs, 8192)[:, fs // 4 : fs]
    # The club folds the sub to mono: a 40 Hz side signal mostly disappears.
    assert np.sqrt(np.mean(club**2)) < 0.2 * 0.1
    # The laptop keeps width 0.4 of the side: a 1 kHz side signal comes out 0.4 x the mid one.
    tone = np.sin(2 * np.pi * 1000.0 * t) * 0.1
    laptop = BUILTIN_DEVICES["laptop"]
    side_out = _render(laptop, np.stack([tone, -tone]), fs, 8192)[:, fs // 4 : fs]
    mid_out = _render(laptop, np.stack([tone, tone]), fs, 8192)[:, fs // 4 : fs]
    ratio = np.sqrt(np.mean(side_out**2) / np.mean(mid_out**2))
    assert ratio == pytest.approx(0.4, abs=0.01)


@pytest.mark.parametrize("fs", RATES)
def test_car_image_balance_and_delay(fs: int) -> None:
    x = np.zeros((2, fs // 4))
    x[:, 1000] = 0.5
    car = BUILTIN_DEVICES["car"]
    y = _render(car, x, fs, 3000, integrated_lufs=None)  # no noise: the image only
    lag = int(np.argmax(np.abs(y[1]))) - int(np.argmax(np.abs(y[0])))
    assert lag == round(car.right_delay_ms * 1e-3 * fs)
    level_db = 10 * np.log10(np.sum(y[0] ** 2) / np.sum(y[1] ** 2))
    assert level_db == pytest.approx(car.balance_db, abs=0.01)


def _spl_out(device, x, fs, level):
    integrated = analyze_array(x, fs).loudness.integrated_lufs
    y = _render(device, x, fs, x.shape[1], integrated_lufs=integrated, level_db_spl=level)
    y = y[:, fs // 2 : x.shape[1]]  # skip the envelope's settling
    return 10 * np.log10(2 * np.mean(y**2)) - integrated + level


def test_phone_limiter_is_level_dependent() -> None:
    fs = 44100
    x = np.random.default_rng(5).standard_normal((2, 2 * fs)) * 0.1
    phone = BUILTIN_DEVICES["phone"]
    low = [_spl_out(phone, x, fs, lev) for lev in (40.0, 50.0)]
    high = [_spl_out(phone, x, fs, lev) for lev in (85.0, 100.0)]
    assert low[1] - low[0] == pytest.approx(10.0, abs=0.1)  # linear below threshold
    assert high[1] - high[0] < 0.5 * 15.0  # limited: grows much less than the 15 dB input


def test_limiter_is_transparent_below_threshold() -> None:
    fs = 48000
    x = np.random.default_rng(6).standard_normal((2, fs // 2)) * 0.1
    for name in ("phone", "bluetooth-speaker"):
        device = BUILTIN_DEVICES[name]
        linear = _render(device, x, fs, 5000, integrated_lufs=None)
        quiet = _render(device, x, fs, 5000, level_db_spl=20.0)
        n = x.shape[1]
        np.testing.assert_allclose(quiet[:, :n], linear[:, :n], atol=1e-9)


def test_car_noise_grows_with_speed() -> None:
    fs = 48000
    silent = np.zeros((2, fs))
    car = BUILTIN_DEVICES["car"]

    def noise_db(speed):
        y = _render(car, silent, fs, 10000, speed_kmh=speed)
        return 10 * np.log10(np.mean(y**2))

    slow, fast = noise_db(50.0), noise_db(130.0)
    assert fast - slow == pytest.approx(30 * np.log10(130 / 50), abs=0.5)
    # Deterministic (seeded) and absent without a loudness to place it.
    np.testing.assert_array_equal(
        _render(car, silent, fs, 7000, seed=1), _render(car, silent, fs, 7000, seed=1)
    )
    assert not _render(car, silent, fs, 7000, integrated_lufs=None).any()


def _band_limiter_by_sample(band: np.ndarray, lim) -> np.ndarray:
    """The band limiter's documented rule, one sample at a time (independent of its
    vectorised form): per chunk of ``c`` samples the mean power feeds the attack/release
    envelope; chunk ``j`` ramps linearly from the gain after chunk ``j - 2`` to the gain after
    chunk ``j - 1`` (1 before the first two)."""
    c = lim.chunk
    p = np.mean(band * band, axis=0)
    env, gains = 0.0, [1.0, 1.0]
    for j in range(p.size // c):
        m = float(np.sum(p[j * c : (j + 1) * c])) / c
        env += (lim.a_att if m > env else lim.a_rel) * (m - env)
        over = 10.0 * np.log10(2.0 * env) - lim.threshold_db if env > 0 else -1.0
        gains.append(10.0 ** (over * lim.slope / 20.0) if over > 0 else 1.0)
    out = np.empty_like(band)
    for i in range(p.size):
        j, t = divmod(i, c)
        out[:, i] = band[:, i] * (gains[j] + (gains[j + 1] - gains[j]) * (t + 1) / c)
    return out


@pytest.mark.parametrize("rows", [1, 2])
def test_band_limiter_follows_its_rule_in_any_blocks(rows: int) -> None:
    """The vectorised band limiter (its chunk tables shared between blocks) against the
    sample-by-sample rule, fed in uneven blocks, driven 20 dB into gain reduction and out."""
    from analyzer.playback.render import _BandLimiter

    rng = np.random.default_rng(5)
    n = 30000
    level = np.where(np.arange(n) < n // 2, 1.0, 0.05)
    band = rng.standard_normal((rows, n)) * level
    lim = _BandLimiter(-20.0, 4.0, 5.0, 80.0, 44, 44100.0)
    want = _band_limiter_by_sample(band, _BandLimiter(-20.0, 4.0, 5.0, 80.0, 44, 44100.0))
    got, start = [], 0
    for size in (1, 43, 44, 1000, 65536):
        got.append(lim.process(band[:, start : start + size]))
        start += size
    y = np.concatenate(got, axis=1)
    assert y.shape == band.shape
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-15)
    loud = slice(n // 4, n // 2)  # 23 dB over the threshold at ratio 4: about 17 dB down
    assert np.std(y[:, loud]) < 0.2 * np.std(band[:, loud])
