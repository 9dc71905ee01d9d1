"""Comparison: level matching, ranges and verdicts, ranking in words, sample-rate independence,
and the CLI's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from analyzer.comparison.metrics import compare, track_metrics
from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.measure.stats import range_stats
from tests.cli_runner import run_cli
from tests.signals import pink_noise


def _tilted(x: np.ndarray, fs: int, db_per_octave: float) -> np.ndarray:
    n = x.shape[1]
    f = np.fft.rfftfreq(n, 1 / fs)
    f[0] = f[1]
    gain = (f / 1000.0) ** (db_per_octave / (20 * np.log10(2)))
    return np.fft.irfft(np.fft.rfft(x, axis=1) * gain, n=n, axis=1)


@pytest.fixture(scope="module")
def mix() -> tuple[np.ndarray, int]:
    fs = 48000
    return pink_noise(20.0, fs, seed=11) * 0.05, fs


def test_track_against_itself(mix) -> None:
    x, fs = mix
    a = analyze_array(x, fs)
    comp = compare(a, [a])
    for name, m in comp.metrics.items():
        if m.mix is None:
            continue
        assert m.delta == pytest.approx(0.0, abs=1e-9), name
        assert m.verdict == "within", name
    assert comp.top_differences == ()


def test_plus_6_db_is_level_matched(mix) -> None:
    x, fs = mix
    a, b = analyze_array(x, fs), analyze_array(x * 10 ** (6 / 20), fs)
    comp = compare(b, [a])
    assert comp.metrics["integrated_lufs"].delta == pytest.approx(6.0, abs=0.01)
    assert comp.metrics["true_peak_dbtp"].delta == pytest.approx(6.0, abs=0.01)
    for name, m in comp.metrics.items():
        if (
            name.startswith(("tonal.", "third_octave.", "width.", "mono_loss."))
            and m.mix is not None
        ):
            assert m.delta == pytest.approx(0.0, abs=0.01), name
    gain = comp.reference_gains_db[a.file.path]
    assert gain == pytest.approx(6.0, abs=0.01)


def test_brighter_mix_is_reported_with_high_bands_on_top(mix) -> None:
    x, fs = mix
    ref = analyze_array(_tilted(x, fs, -1.5), fs)
    comp = compare(analyze_array(x, fs), [ref])
    assert comp.metrics["tilt_db_per_octave"].verdict == "above"
    assert comp.metrics["tilt_db_per_octave"].delta == pytest.approx(1.5, abs=0.15)
    top = [d.metric for d in comp.top_differences]
    assert top[0] in {"tonal.air", "tonal.high", "tilt_db_per_octave"}, top
    assert "brighter" in comp.top_differences[0].text
    assert len({"tonal.air", "tonal.high", "tilt_db_per_octave"} & set(top[:3])) >= 2, top
    assert comp.metrics["tonal.low"].verdict == "below"


def _band_tones(seconds: float, fs: int, seed: int = 0) -> np.ndarray:
    """One sine per 1/3-octave band centre, random phases, -1 dB/oct: every band's power is
    deterministic (noise would leave ~0.2 dB of estimation scatter in the 20 Hz band)."""
    from analyzer.dsp.bands import THIRD_OCTAVE_EXACT_HZ

    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * fs)) / fs
    x = np.zeros_like(t)
    for f in THIRD_OCTAVE_EXACT_HZ[:-1]:
        amp = (f / 1000.0) ** (-1.0 / (20 * np.log10(2)))
        x += amp * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    x *= 0.05 / np.sqrt(np.mean(x**2))
    return np.vstack([x, np.roll(x, 1000)])


def test_reference_at_another_rate(tmp_path: Path, mix) -> None:
    x, fs = mix
    ref48 = tmp_path / "ref48.wav"
    ref44 = tmp_path / "ref44.wav"
    y = _band_tones(20.0, fs)
    sf.write(ref48, y.T, fs, subtype="FLOAT")
    sf.write(ref44, soxr.resample(y.T, fs, 44100, quality="VHQ"), 44100, subtype="FLOAT")
    m = analyze_array(x, fs)
    a = compare(m, [analyze_file(ref48)])
    b = compare(m, [analyze_file(ref44, resample_to_hz=fs)])
    # Up to 16 kHz: the 20 kHz band (17.8-22.4 kHz) straddles 44.1 kHz's Nyquist frequency, so a
    # 44.1 kHz file cannot hold all of it.
    checked = 0
    for name, ma in a.metrics.items():
        if name.startswith("third_octave.") and float(name.split(".")[1]) > 16000:
            continue
        if name.startswith(("tonal.", "third_octave.")) and ma.delta is not None:
            assert b.metrics[name].delta == pytest.approx(ma.delta, abs=0.1), name
            checked += 1
    assert checked >= 35


def test_range_stats() -> None:
    assert range_stats([3.0]).median == 3.0 and range_stats([3.0]).p90 == 3.0
    rs = range_stats([1.0, 2.0, None, 3.0, 4.0, 5.0])
    assert rs.median == 3.0 and rs.n == 5
    assert rs.p10 == pytest.approx(1.4) and rs.p90 == pytest.approx(4.6)
    assert range_stats([None]).median is None


def test_metric_vector_is_level_independent(mix) -> None:
    x, fs = mix
    a, b = track_metrics(analyze_array(x, fs)), track_metrics(analyze_array(x * 0.25, fs))
    for key in a:
        if key.startswith(("tonal.", "third_octave.", "width.", "mono_loss.")) and a[key]:
            assert b[key] == pytest.approx(a[key], abs=0.01), key


def test_cli_compare_json(tmp_path: Path, mix) -> None:
    x, fs = mix
    m, r = tmp_path / "mix.wav", tmp_path / "ref.wav"
    sf.write(m, x.T, fs, subtype="FLOAT")
    sf.write(r, _tilted(x, fs, -1.5).T, fs, subtype="FLOAT")
    proc = run_cli(["compare", str(m), "--ref", str(r), "--json", "-"], timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    comp = doc["comparison"]
    assert comp["references"] == [str(r)]
    entry = comp["metrics"]["tonal.air"]
    assert set(entry) == {"mix", "median", "p10", "p90", "delta", "verdict", "deviation"}
    assert entry["verdict"] == "above"
    assert comp["top_differences"] and "text" in comp["top_differences"][0]
    assert doc["mix"]["loudness"]["integrated_lufs"] is not None


def test_cli_compare_needs_references(tmp_path: Path, mix) -> None:
    x, fs = mix
    m = tmp_path / "mix.wav"
    sf.write(m, x.T, fs, subtype="FLOAT")
    proc = run_cli(["compare", str(m)])
    assert proc.returncode == 2 and "--ref" in proc.stderr


def test_platforms_in_json(tmp_path: Path, mix) -> None:
    x, fs = mix
    m = tmp_path / "mix.wav"
    sf.write(m, (x * 0.1).T, fs, subtype="FLOAT")
    for args in (["analyze", str(m)], ["compare", str(m), "--ref", str(m)]):
        proc = run_cli([*args, "--json", "-"], timeout=120)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        platforms = doc["platforms"]
        by_name = {p["name"]: p for p in platforms}
        keys = {"name", "target_lufs", "gain_db", "result_lufs", "result_true_peak_dbtp"}
        assert keys | {"limited_by"} <= set(by_name["spotify"])
        lufs = (doc.get("mix") or doc)["loudness"]["integrated_lufs"]
        assert by_name["youtube"]["gain_db"] == pytest.approx(min(0.0, -14.0 - lufs), abs=0.01)


def _song(fs: int, intro_s: float, chorus_s: float, outro_s: float, tilt: float) -> np.ndarray:
    """Quiet, dull intro and outro around a loud chorus with its own spectral tilt."""
    quiet = _tilted(pink_noise(intro_s + outro_s, fs, seed=3), fs, -3.0) * 0.015
    chorus = _tilted(pink_noise(chorus_s, fs, seed=4), fs, tilt) * 0.05
    n_in = round(intro_s * fs)
    return np.concatenate([quiet[:, :n_in], chorus, quiet[:, n_in:]], axis=1)


def test_loudest_section_is_found() -> None:
    from analyzer.measure.engine import loudest_section_s

    fs = 44100
    x = _song(fs, 25.0, 35.0, 20.0, 0.0)
    start = loudest_section_s(analyze_array(x, fs, keep_series=True), 30.0)
    assert start is not None and 25.0 <= start <= 30.0  # the 30 s window inside the chorus


def test_section_loudest_compares_chorus_with_chorus(tmp_path: Path) -> None:
    """Mix and reference share the chorus but not the arrangement (long quiet intro, no outro):
    whole tracks differ in LRA and tone; the loudest sections agree."""
    fs = 44100
    mix, ref = tmp_path / "mix.wav", tmp_path / "ref.wav"
    sf.write(mix, _song(fs, 10.0, 40.0, 5.0, 0.0).T, fs, subtype="FLOAT")
    sf.write(ref, _song(fs, 40.0, 40.0, 0.0, 0.0).T, fs, subtype="FLOAT")
    docs = {}
    for section in ("whole", "loudest"):
        proc = run_cli(["compare", str(mix), "--ref", str(ref), "--section", section, "--json",
                        "-"], timeout=180)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        docs[section] = json.loads(proc.stdout)
    loud = docs["loudest"]["comparison"]["metrics"]
    whole = docs["whole"]["comparison"]["metrics"]
    assert abs(whole["integrated_lufs"]["delta"]) > 1.0
    assert abs(loud["integrated_lufs"]["delta"]) < 0.2
    assert abs(loud["tonal.air"]["delta"]) < 0.5
    assert docs["loudest"]["section"] == "loudest"
    assert any("loudest 30 s" in n for n in docs["loudest"]["comparison"]["notes"])
