"""Safe renders (issue 15): ``translate --render`` writes 24-bit files at the mix's loudness
(or ``--render-lufs``) unless the true peak would pass -1 dBTP, mono devices as mono files,
WAV or FLAC, and refuses to overwrite. Loudness and true peak are re-measured on the files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyzer.app import TranslateSettings
from analyzer.app import translate as run_translate
from analyzer.errors import EXIT_OUTPUT, OutputError, UsageError
from analyzer.io import probe_info, read_audio, write_audio_atomic
from analyzer.measure.loudness import measure_loudness
from analyzer.measure.truepeak import measure_peaks
from tests.signals import db_to_amp, pink_noise

FS = 44100
NAMES = ("studio", "phone", "car", "club", "earbuds-sealed")


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    """3 s: pink noise with a wide side and a bass line, peaking near -3 dBFS."""
    t = np.arange(3 * FS) / FS
    mid = db_to_amp(-18.0) * pink_noise(3.0, FS, channels=1, seed=8)[0]
    side = db_to_amp(-26.0) * pink_noise(3.0, FS, channels=1, seed=9)[0]
    bass = db_to_amp(-12.0) * np.sin(2 * np.pi * 50 * t)
    x = np.stack([mid + side + bass, mid - side + bass])
    x *= db_to_amp(-3.0) / np.abs(x).max()
    path = tmp_path_factory.mktemp("mix") / "mix.wav"
    write_audio_atomic(path, x, FS, subtype="FLOAT")
    return path, x


def _render(mix, out, **kw):
    path, _ = mix
    settings = TranslateSettings(devices=NAMES, **kw)
    run = run_translate(path, settings, render_dir=out)
    return run, list(run.renders)


def _played_lufs(y: np.ndarray) -> float:
    """A mono file is played on both speakers (dual mono)."""
    return measure_loudness(np.vstack([y, y]) if y.shape[0] == 1 else y, FS).integrated_lufs


def test_renders_are_safe_and_levelled(mix, tmp_path) -> None:
    run, written = _render(mix, tmp_path / "out")
    mix_lufs = run.mix.loudness.integrated_lufs
    assert [w.path.name for w in written] == [f"mix.{n}.wav" for n in NAMES]
    for w in written:
        info = probe_info(w.path)
        assert info.subtype == "PCM_24" and info.format == "WAV"
        assert info.channels == (1 if w.name == "phone" else 2)  # the phone is mono
        y, _ = read_audio(w.path)
        tp = measure_peaks(y, FS).true_peak_dbtp
        assert tp <= -1.0 + 0.01
        change = next(d.loudness_change_lu for d in run.translation.devices if d.name == w.name)
        if w.name == "car":  # road noise adds its own loudness: only the ceiling is checked
            continue
        if tp < -1.05:  # not held down by the ceiling: at the mix's loudness
            assert _played_lufs(y) == pytest.approx(mix_lufs, abs=0.12)
        # rendered loudness = mix + change + gain (the JSON's promise)
        assert _played_lufs(y) == pytest.approx(mix_lufs + change + w.gain_db, abs=0.12)
    studio = next(w for w in written if w.name == "studio")
    assert studio.gain_db == pytest.approx(0.0, abs=0.01)  # peaks at -3 dBFS: nothing to do
    np.testing.assert_allclose(read_audio(studio.path)[0][:, : mix[1].shape[1]], mix[1],
                               atol=2e-6)  # fmt: skip


def test_render_lufs_and_flac(mix, tmp_path) -> None:
    _, written = _render(mix, tmp_path / "quiet", render_lufs=-30.0, render_format="flac")
    for w in written:
        assert w.path.suffix == ".flac" and probe_info(w.path).subtype == "PCM_24"
        if w.name != "car":
            assert _played_lufs(read_audio(w.path)[0]) == pytest.approx(-30.0, abs=0.12)


def test_refuses_overwrite_and_bad_settings(mix, tmp_path) -> None:
    out = tmp_path / "out"
    _render(mix, out)
    with pytest.raises(OutputError) as err:
        _render(mix, out)
    assert err.value.exit_code == EXIT_OUTPUT == 4
    for bad in (dict(render_lufs=5.0), dict(render_lufs=math.nan), dict(render_format="mp3")):
        with pytest.raises(UsageError):
            TranslateSettings(**bad)
