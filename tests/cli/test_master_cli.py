"""``mixanalyzer master`` through the CLI: outputs, JSON, dry runs, the Matchering engine and one
clear line for every bad input (no traceback, no file left behind)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.mastering.eq import EqMove, apply_eq
from tests.cli.test_cli import one_error_line, run
from tests.signals import pink_noise

FS = 44100


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("mastercli")
    x = 0.05 * pink_noise(8.0, FS, seed=11)
    ref, mix = d / "ref.wav", d / "mix.wav"
    sf.write(ref, x.T, FS, subtype="PCM_24")
    dull = apply_eq(x, [EqMove("high_shelf", 5000.0, -6.0)], FS) * 0.5
    sf.write(mix, dull.T, FS, subtype="PCM_24")
    return d, mix, ref


def _no_partial_files(folder: Path) -> None:
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and "part" in p.name]


def test_master_writes_verifies_and_reports_json(pair, tmp_path):
    _, mix, ref = pair
    out, js = tmp_path / "m.wav", tmp_path / "m.json"
    proc = run("master", str(mix), "--ref", str(ref), "--target-lufs", "-16", "-o", str(out),
               "--json", str(js))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "high shelf" in proc.stdout and "verification" in proc.stdout
    doc = json.loads(js.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert doc["engine"] == "native"
    moves = doc["proposal"]["eq"]["moves"]
    assert any(m["type"] == "high_shelf" and m["gain_db"] > 3 for m in moves)
    assert doc["output"]["analysis"]["loudness"]["integrated_lufs"] == pytest.approx(-16, abs=0.3)
    assert doc["verification"]["checks"]["true_peak_within_ceiling"] is True
    assert sf.info(out).samplerate == FS and sf.info(out).subtype == "PCM_24"
    # refuses to overwrite without --force, and leaves the file as it was
    before = out.read_bytes()
    proc = run("master", str(mix), "--ref", str(ref), "-o", str(out))
    one_error_line(proc, 4, "exists")
    assert out.read_bytes() == before


def test_dry_run_writes_no_audio(pair, tmp_path):
    _, mix, ref = pair
    proc = run("master", str(mix), "--ref", str(ref), "--dry-run", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert "output" not in doc and doc["proposal"]["eq"]["moves"]
    assert doc["proposal"]["loudness"]["target_source"] == "the references' median loudness"


def test_platform_target_and_flac_16_bit(pair, tmp_path):
    _, mix, _ = pair
    out = tmp_path / "m.flac"
    proc = run("master", str(mix), "--target", "spotify", "-o", str(out), "--bit-depth", "16",
               "--json", "-", "-q")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["proposal"]["loudness"]["target_lufs"] == -14.0
    assert doc["proposal"]["eq"]["moves"] == []  # no reference: loudness only
    info = sf.info(out)
    assert info.format == "FLAC" and info.subtype == "PCM_16"


def test_mono_mix_with_a_stereo_reference(pair, tmp_path):
    _d, mix, ref = pair
    x, _ = sf.read(mix)
    mono = tmp_path / "mono.wav"
    sf.write(mono, x.mean(axis=1), FS, subtype="PCM_24")
    out = tmp_path / "o.wav"
    proc = run("master", str(mono), "--ref", str(ref), "-o", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert "width is not matched" in proc.stderr
    assert sf.info(out).channels == 1


def test_bad_inputs(pair, tmp_path):
    d, mix, ref = pair
    eight = tmp_path / "eight.wav"
    sf.write(eight, np.zeros((FS, 8)) + 0.01, FS)
    one_error_line(run("master", str(eight), "--target-lufs", "-14", "-o",
                       str(tmp_path / "x.wav")), 3, "8 channels")  # fmt: skip
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((FS * 2, 2)), FS)
    one_error_line(run("master", str(mix), "--ref", str(silent), "-o", str(tmp_path / "y.wav")),
                   3, "silent", "silent.wav")  # fmt: skip
    one_error_line(run("master", str(mix), "--ref", str(ref), "-o",
                       str(tmp_path / "missing" / "z.wav")), 4, "does not exist")  # fmt: skip
    one_error_line(run("master", str(mix), "--ref", str(ref), "-o", str(mix), "--force"), 4,
                   "input")  # fmt: skip
    one_error_line(run("master", str(mix), "-o", str(tmp_path / "w.wav")), 2, "--ref")
    one_error_line(run("master", str(mix), "--ref", str(ref), "-o", str(tmp_path / "w.mp3")),
                   2, ".wav or .flac")  # fmt: skip
    one_error_line(run("master", str(mix), "--ref", str(ref), "--amount", "150", "-o",
                       str(tmp_path / "v.wav")), 2, "150")  # fmt: skip
    one_error_line(run("master", str(tmp_path / "nope.wav"), "--target-lufs", "-14", "-o",
                       str(tmp_path / "u.wav")), 3, "nope.wav")  # fmt: skip
    for f in ("x.wav", "y.wav", "w.wav", "v.wav", "u.wav"):
        assert not (tmp_path / f).exists()
    _no_partial_files(tmp_path)
    _no_partial_files(d)


@pytest.mark.slow
def test_matchering_engine_on_a_corpus_pair(corpus, tmp_path):
    from analyzer.io import read_audio

    x, fs = read_audio(corpus / "music" / "nexuiz--digital-pursuit.ogg")
    r, rfs = read_audio(corpus / "music" / "supertux--chipdisko.ogg")
    mix, ref = tmp_path / "mix.wav", tmp_path / "ref.wav"
    sf.write(mix, x[:, 30 * fs : 50 * fs].T, fs, subtype="PCM_24")
    sf.write(ref, r[:, 30 * rfs : 50 * rfs].T, rfs, subtype="PCM_24")
    out = tmp_path / "mg.wav"
    proc = run("master", str(mix), "--ref", str(ref), "--engine", "matchering", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "verification" in proc.stdout and "before" in proc.stdout
    assert sf.info(out).samplerate == fs
    if "above the -1 dBTP ceiling" in proc.stderr:
        assert "sample peaks" in proc.stderr


@pytest.fixture(scope="module")
def far_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A mix whose top is gone (eighth-order low-pass at 700 Hz) against the full-range noise:
    no moves within ±6 dB can explain that."""
    d = tmp_path_factory.mktemp("farcli")
    x = 0.05 * pink_noise(8.0, FS, seed=12)
    ref, mix = d / "ref.wav", d / "mix.wav"
    sf.write(ref, x.T, FS, subtype="PCM_24")
    sf.write(mix, apply_eq(x, [EqMove("low_pass", 700.0, 0.0, 0.7071)] * 4, FS).T, FS,
             subtype="PCM_24")  # fmt: skip
    return mix, ref


def test_too_far_leaves_the_tone_alone_unless_forced(far_pair, tmp_path):
    mix, ref = far_pair
    proc = run("master", str(mix), "--ref", str(ref), "--dry-run", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    eq = json.loads(proc.stdout)["proposal"]["eq"]
    assert eq["too_far"] is True and eq["moves"]
    assert any("too far from this mix" in n for n in eq["notes"])
    out, js = tmp_path / "m.wav", tmp_path / "m.json"
    proc = run("master", str(mix), "--ref", str(ref), "--target-lufs", "-16", "-o", str(out),
               "--json", str(js))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "EQ not applied" in line]
    assert len(notes) == 1 and "--force-match" in notes[0]
    doc = json.loads(js.read_text())
    assert doc["proposal"]["eq"]["moves"] == []
    assert doc["output"]["analysis"]["loudness"]["integrated_lufs"] == pytest.approx(-16, abs=0.3)
    forced = tmp_path / "f.json"
    proc = run("master", str(mix), "--ref", str(ref), "--target-lufs", "-16", "-o",
               str(tmp_path / "f.wav"), "--json", str(forced), "--force-match")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "EQ not applied" not in proc.stderr
    assert json.loads(forced.read_text())["proposal"]["eq"]["moves"]


def test_surgical_allows_bells_narrower_than_q_2(tmp_path):
    x = 0.05 * pink_noise(8.0, FS, seed=13)
    ref, mix = tmp_path / "ref.wav", tmp_path / "mix.wav"
    sf.write(ref, x.T, FS, subtype="PCM_24")
    notch = [EqMove("peaking", 1000.0, -8.0, 5.0), EqMove("peaking", 4000.0, 7.0, 5.0)]
    sf.write(mix, apply_eq(x, notch, FS).T, FS, subtype="PCM_24")
    qs = {}
    for flag in ((), ("--surgical",)):
        proc = run("master", str(mix), "--ref", str(ref), "--dry-run", "--json", "-", *flag)
        assert proc.returncode == 0, proc.stderr
        moves = json.loads(proc.stdout)["proposal"]["eq"]["moves"]
        qs[bool(flag)] = [m["q"] for m in moves if m["type"] == "peaking"]
    assert qs[False] and max(qs[False]) <= 2.0
    assert qs[True] and max(qs[True]) > 2.0
