"""Limits on what ``master`` obeys and exit codes that mean something: the loudness target's
range, the 9 dB limiting bound (and ``--allow-heavy-limiting``), exit 5 on a failed check after
writing (only the dimensions applied are checked), and the Matchering engine's output (what it
did, measured; the true-peak limiter after it unless ``--raw-matchering``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.app import MasterSettings
from analyzer.errors import OutputError, UsageError
from analyzer.mastering.guard import MasterGuard
from analyzer.mastering.loudness_plan import LIMITING_BOUND_DB
from tests.cli.test_cli import one_error_line, run
from tests.signals import pink_noise

FS = 44100


def _doc(path: Path) -> dict:
    return json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), -200.0, 14.0,
                                   -40.5, -3.9])  # fmt: skip
def test_target_lufs_outside_minus_40_to_minus_4_is_refused(value):
    with pytest.raises(UsageError, match="expected -40 to -4 LUFS"):
        MasterSettings(target_lufs=value)
    assert MasterSettings(target_lufs=-40.0).target_lufs == -40.0  # the range's ends are valid
    assert MasterSettings(target_lufs=-4.0).target_lufs == -4.0


def test_engine_options_that_would_be_ignored_are_refused():
    with pytest.raises(UsageError, match="--engine matchering"):
        MasterSettings(references=("r.wav",), raw_matchering=True)
    with pytest.raises(UsageError, match="reference's RMS"):
        MasterSettings(references=("r.wav",), engine="matchering", target_lufs=-14.0)
    assert MasterSettings(references=("r.wav",), engine="matchering", raw_matchering=True)


@pytest.mark.parametrize("value", ["14", "nan", "-inf", "inf", "-200"])
def test_cli_target_lufs_out_of_range_exits_2_and_writes_nothing(tmp_path, value):
    mix = tmp_path / "mix.wav"
    sf.write(mix, (0.05 * pink_noise(1.0, FS, seed=1)).T, FS)
    out = tmp_path / "o.wav"
    proc = run("master", str(mix), f"--target-lufs={value}", "-o", str(out))
    one_error_line(proc, 2, "-40 to -4 LUFS", "--target-lufs")
    assert not out.exists()


@pytest.fixture(scope="module")
def spiky(tmp_path_factory) -> Path:
    """Quiet pink noise with a decaying 60 Hz kick every 0.5 s, 18 dB over the noise's peaks:
    the kicks take the limiting, so a loud target needs far more than 9 dB of it while more
    limiting still makes the master louder."""
    x = 0.02 * pink_noise(8.0, FS, seed=3)
    t = np.arange(int(0.08 * FS)) / FS
    kick = 0.9 * np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.02)
    for k in range(16):
        i = int(k * 0.5 * FS)
        x[:, i : i + kick.size] += kick
    path = tmp_path_factory.mktemp("limits") / "spiky.wav"
    sf.write(path, x.T, FS, subtype="FLOAT")
    return path


def _max_reduction_db(mix: Path, out: Path, gain_db: float) -> float:
    """The limiter's largest gain reduction, independently: the output (time-aligned, 32-bit
    float) divided by the input times the gain, where the input is not near a zero crossing."""
    x, _ = sf.read(mix, always_2d=True)
    y, _ = sf.read(out, always_2d=True)
    g = 10 ** (gain_db / 20)
    big = np.abs(x) > 0.05 * np.abs(x).max()
    return float(-20 * np.log10(np.min(np.abs(y[big]) / (g * np.abs(x[big])))))


def test_heavy_limiting_is_planned_within_9_db_unless_allowed(spiky, tmp_path):
    out, js = tmp_path / "m.wav", tmp_path / "m.json"
    proc = run("master", str(spiky), "--target-lufs", "-12", "-o", str(out), "--json", str(js),
               "--bit-depth", "32f", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = _doc(js)
    plan = doc["proposal"]["loudness"]
    reduction = _max_reduction_db(spiky, out, doc["output"]["gain_db"])
    assert reduction == pytest.approx(LIMITING_BOUND_DB, abs=0.1)  # as far as the bound, no more
    assert doc["output"]["limiter"]["max_gain_reduction_db"] == pytest.approx(reduction, abs=0.1)
    assert plan["asked_lufs"] == -12.0 and plan["target_lufs"] < -14.0
    assert plan["predicted_peak_reduction_db"] == pytest.approx(LIMITING_BOUND_DB, abs=0.02)
    lufs = doc["output"]["analysis"]["loudness"]["integrated_lufs"]
    assert lufs == pytest.approx(plan["target_lufs"], abs=0.3)  # checked against the plan
    assert doc["verification"]["target_lufs"] == plan["target_lufs"]
    assert doc["verification"]["checks"]["loudness_on_target"] is True
    assert "-12.0 LUFS asked" in proc.stderr and "--allow-heavy-limiting" in proc.stderr
    # allowed: the limiter goes further and the master gets (much) louder
    heavy, hjs = tmp_path / "h.wav", tmp_path / "h.json"
    proc = run("master", str(spiky), "--target-lufs", "-12", "-o", str(heavy), "--json",
               str(hjs), "--bit-depth", "32f", "-q", "--allow-heavy-limiting")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    hdoc = _doc(hjs)
    assert _max_reduction_db(spiky, heavy, hdoc["output"]["gain_db"]) > LIMITING_BOUND_DB + 3
    assert hdoc["output"]["analysis"]["loudness"]["integrated_lufs"] == pytest.approx(-12, abs=0.3)
    assert hdoc["proposal"]["loudness"]["asked_lufs"] is None


def test_a_moderate_target_keeps_todays_plan(spiky, tmp_path):
    js = tmp_path / "m.json"
    proc = run("master", str(spiky), "--target-lufs", "-19", "-o", str(tmp_path / "m.wav"),
               "--json", str(js), "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = _doc(js)
    plan, limiter = doc["proposal"]["loudness"], doc["output"]["limiter"]
    assert plan["asked_lufs"] is None and plan["target_lufs"] == -19.0
    assert 0 < limiter["max_gain_reduction_db"] < LIMITING_BOUND_DB
    # the plan knew the limiter's maximum reduction before writing (its own detection)
    assert plan["predicted_peak_reduction_db"] == pytest.approx(
        limiter["max_gain_reduction_db"], abs=0.02
    )
    assert "planned" not in proc.stderr


@pytest.fixture(scope="module")
def hot(tmp_path_factory) -> tuple[Path, Path]:
    """A mix whose true peak is over -1 dBTP (sample peak -0.3 dBFS) and a brighter reference."""
    d = tmp_path_factory.mktemp("hot")
    x = pink_noise(6.0, FS, seed=5)
    x *= 10 ** (-0.3 / 20) / np.abs(x).max()
    mix, ref = d / "mix.wav", d / "ref.wav"
    sf.write(mix, x.T, FS, subtype="FLOAT")
    sf.write(ref, (0.3 * pink_noise(6.0, FS, seed=6)).T, FS, subtype="PCM_24")
    return mix, ref


@pytest.mark.parametrize("how", [["--amount-loudness", "0"], ["--only", "tone"]])
def test_a_failed_ceiling_check_exits_5_after_writing(hot, tmp_path, how):
    mix, ref = hot
    out, js = tmp_path / "m.wav", tmp_path / "m.json"
    proc = run("master", str(mix), "--ref", str(ref), *how, "-o", str(out), "--json", str(js),
               "-q")  # fmt: skip
    assert proc.returncode == 5, proc.stderr
    assert out.exists() and js.exists()  # written and verified: the user decides
    doc = _doc(js)
    checks = doc["verification"]["checks"]
    tp = doc["output"]["analysis"]["loudness"]["true_peak_dbtp"]
    assert tp > -1.0
    assert checks["loudness_on_target"] is None  # loudness was not applied: not checked
    assert checks["true_peak_within_ceiling"] is False
    failed = [ln for ln in proc.stderr.splitlines() if "check failed" in ln]
    assert len(failed) == 1 and "dBTP above the -1.0 dBTP ceiling" in failed[0]
    assert failed[0] == (
        f"mixanalyzer: error: check failed: true peak {tp:+.1f} dBTP above the -1.0 dBTP ceiling"
    )
    assert "loudness" not in failed[0]


def test_only_loudness_does_not_check_the_tone(hot, tmp_path):
    mix, ref = hot
    js = tmp_path / "m.json"
    proc = run("master", str(mix), "--ref", str(ref), "--only", "loudness", "-o",
               str(tmp_path / "m.wav"), "--json", str(js), "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    checks = _doc(js)["verification"]["checks"]
    assert checks["tonal_error_not_worse"] is None and checks["true_peak_within_ceiling"]


def test_a_non_finite_or_silent_master_is_refused(tmp_path):
    guard = MasterGuard(str(tmp_path / "m.wav"))
    with pytest.raises(OutputError, match="NaN or infinite"):
        guard.block(np.array([[0.1, np.nan]]), np.array([[0.1, 0.0]]))
    for y, values in ((np.zeros((2, 8)), np.zeros((2, 8))),  # digital silence
                      (np.zeros((2, 8)), np.full((2, 8), 2.0**-15)),  # nothing but dither
                      (np.full((2, 8), 1e-9), np.zeros((2, 8)))):  # quantised away  # fmt: skip
        guard = MasterGuard(str(tmp_path / "m.wav"))
        guard.block(y, values)
        with pytest.raises(OutputError, match="silent"):
            guard.finish()
    guard = MasterGuard(str(tmp_path / "m.wav"))
    guard.block(np.full((2, 8), 0.1), np.full((2, 8), 0.1))
    guard.finish()  # music passes


@pytest.fixture(scope="module")
def excerpts(corpus, tmp_path_factory) -> tuple[Path, Path]:
    from analyzer.io import read_audio

    d = tmp_path_factory.mktemp("mg")
    x, fs = read_audio(corpus / "music" / "nexuiz--digital-pursuit.ogg")
    r, rfs = read_audio(corpus / "music" / "supertux--chipdisko.ogg")
    mix, ref = d / "mix.wav", d / "ref.wav"
    sf.write(mix, x[:, 30 * fs : 50 * fs].T, fs, subtype="PCM_24")
    # a loud, brickwalled reference (+8 dB over full scale, clipped): matching it drives
    # Matchering's limiter to its sample-peak threshold
    loud = r[:, 30 * rfs : 50 * rfs] / np.abs(r).max() * 10 ** (8 / 20)
    sf.write(ref, np.clip(loud, -0.99, 0.99).T, rfs, subtype="PCM_24")
    return mix, ref


@pytest.mark.slow
def test_matchering_output_shows_what_matchering_did(excerpts, tmp_path):
    mix, ref = excerpts
    out, js = tmp_path / "mg.wav", tmp_path / "mg.json"
    proc = run("master", str(mix), "--ref", str(ref), "--engine", "matchering", "-o", str(out),
               "--json", str(js), "--html", str(tmp_path / "mg.html"))  # fmt: skip
    assert proc.returncode in (0, 5), proc.stderr
    doc = _doc(js)
    assert doc["verification"]["checks"]["true_peak_within_ceiling"] is True  # limited after it
    assert doc["output"]["analysis"]["loudness"]["true_peak_dbtp"] <= -1.0
    prop = doc["proposal"]
    assert prop["eq"]["moves"] == [] and prop["eq"]["fine"] is None  # no native moves
    assert prop["width"]["side_gain_db"] is None and prop["width"]["mono_below_hz"] is None
    assert prop["loudness"]["target_lufs"] is None and prop["loudness"]["gain_db"] == 0
    assert doc["verification"]["checks"]["loudness_on_target"] is None
    eff = doc["output"]["matchering"]
    assert eff["true_peak_limited"] is True and eff["peak_reduction_db"] >= 0
    # the measured EQ change is the master's band levels minus the mix's, level-matched
    mix_a, out_a = doc["mix"], doc["output"]["analysis"]
    lm, lo = mix_a["loudness"]["integrated_lufs"], out_a["loudness"]["integrated_lufs"]
    hz = mix_a["spectrum"]["third_octave_hz"]
    i = hz.index(min(hz, key=lambda f: abs(f - 1000)))
    expected = (out_a["spectrum"]["third_octave_db"][i] - lo) - (
        mix_a["spectrum"]["third_octave_db"][i] - lm)  # fmt: skip
    j = eff["band_hz"].index(min(eff["band_hz"], key=lambda f: abs(f - 1000)))
    assert eff["eq_change_db"][j] == pytest.approx(expected, abs=0.02)
    assert "what Matchering did" in proc.stdout and "high shelf" not in proc.stdout
    assert "mono below" not in proc.stdout + json.dumps(prop)
    html = (tmp_path / "mg.html").read_text()
    assert "EQ, measured (master minus mix" in html and "<th>Move</th>" not in html
    # raw: Matchering's limiter holds sample peaks only; the missed ceiling exits 5
    raw, rjs = tmp_path / "raw.wav", tmp_path / "raw.json"
    proc = run("master", str(mix), "--ref", str(ref), "--engine", "matchering",
               "--raw-matchering", "-o", str(raw), "--json", str(rjs), "-q")  # fmt: skip
    rdoc = _doc(rjs)
    assert rdoc["output"]["analysis"]["loudness"]["true_peak_dbtp"] > -1.0
    assert proc.returncode == 5, proc.stderr
    assert "check failed: true peak" in proc.stderr and raw.exists()
    assert rdoc["output"]["matchering"]["true_peak_limited"] is False
