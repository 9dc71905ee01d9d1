"""Prediction equals render (issue 15): each built-in device's predicted ``loudness_change_lu``
and level-matched 1/3-octave curve against what the device itself does to the mix, measured
independently on its render (the whole array through :class:`DeviceRenderer`, no road noise,
no output gain; BS.1770 integrated loudness and the spectrum meter on the result): within
0.1 LU and 0.3 dB (bands within 30 dB of the loudest)."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.app import TranslateSettings
from analyzer.app import translate as run_translate
from analyzer.io import read_audio, write_audio_atomic
from analyzer.measure.loudness import measure_loudness
from analyzer.measure.spectrum import measure_spectrum
from analyzer.playback.devices import BUILTIN_DEVICES
from analyzer.playback.render import DeviceRenderer
from tests.signals import db_to_amp, pink_noise

DEVICES = [d for d in BUILTIN_DEVICES.values() if d.kind != "reference"]
EXCERPT_S = 8.0


def _synthetic(fs: int) -> np.ndarray:
    """Pink noise with a wide side, a bass line with harmonics and a loud kick every 0.5 s
    (the limiters act on the kicks, not on the long-term level)."""
    n = round(4.0 * fs)
    t = np.arange(n) / fs
    mid = db_to_amp(-24.0) * pink_noise(4.0, fs, channels=1, seed=5)[0]
    side = db_to_amp(-30.0) * pink_noise(4.0, fs, channels=1, seed=6)[0]
    k = np.arange(1, 9)[:, None]
    bass = db_to_amp(-18.0) * np.sum(np.sin(2 * np.pi * 55.0 * k * t) / k, axis=0)
    kick = db_to_amp(-6.0) * np.sin(2 * np.pi * 60 * t) * np.exp(-((t % 0.5) / 0.08))
    return np.stack([mid + side + bass + kick, mid - side + bass + kick])


@pytest.fixture(scope="module", params=["synthetic", "excerpt"])
def case(request, corpus_or_none, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pred")
    if request.param == "synthetic":
        fs, x = 44100, _synthetic(44100)
    else:
        if corpus_or_none is None:
            pytest.skip("corpus not found")
        src = corpus_or_none / "music" / "librosa--admiralbob77_-_Choice_-_Drum-bass.hq.ogg"
        x, fs = read_audio(src)
        start = x.shape[1] // 3
        x = x[:, start : start + round(EXCERPT_S * fs)]
    path = folder / "mix.wav"
    write_audio_atomic(path, x, fs, subtype="FLOAT")
    run = run_translate(path, TranslateSettings(devices=tuple(d.name for d in DEVICES)))
    return x, fs, run


@pytest.fixture(scope="module")
def corpus_or_none():
    from tests.conftest import _find_corpus

    return _find_corpus()


def _render(device, x, fs, integrated):
    r = DeviceRenderer(device, fs, x.shape[0], integrated_lufs=integrated, noise=False)
    return np.concatenate([r.process(x), r.flush()], axis=1)


@pytest.mark.parametrize("device", DEVICES, ids=lambda d: d.name)
def test_prediction_equals_render(case, device) -> None:
    x, fs, run = case
    mix_lufs = run.mix.loudness.integrated_lufs
    y = _render(device, x, fs, mix_lufs)
    predicted = next(d for d in run.translation.devices if d.name == device.name)
    rendered_lu = measure_loudness(y, fs).integrated_lufs - measure_loudness(x, fs).integrated_lufs
    assert predicted.loudness_change_lu == pytest.approx(rendered_lu, abs=0.1)
    bands = np.array([np.nan if v is None else v for v in measure_spectrum(y, fs).third_octave_db])
    p = np.where(np.isnan(bands), 0.0, 10 ** (bands / 10))
    curve = 10 * np.log10(np.maximum(p, 1e-30) / p.sum())
    pred = np.array([np.nan if v is None else v for v in predicted.tonal_curve_db])
    shown = (curve > curve.max() - 30.0) & ~np.isnan(pred)
    err = np.abs(pred[shown] - curve[shown])
    assert err.max() <= 0.3, f"{device.name}: worst band error {err.max():.2f} dB"
