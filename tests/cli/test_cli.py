"""The command line: outputs, exit codes, and one clear line for every bad input (no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli_runner import run_cli
from tests.signals import sine

EXE = [sys.executable, "-m", "analyzer"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m analyzer ARGS`` in a process of its own (forked from a server that has the
    imports done: :mod:`tests.cli_runner`), 100 columns."""
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    env["COLUMNS"] = "100"
    return run_cli(args, cwd=cwd, env=env, timeout=120)


def sigint_default() -> None:
    """``preexec_fn`` for a command a test interrupts: a test run started in the background
    inherits SIGINT ignored, which the CLI rightly keeps (as for ``nohup``); the command is
    given SIGINT's default as a terminal's foreground job has it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def one_error_line(proc: subprocess.CompletedProcess, code: int, *needles: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("mixanalyzer: error: ")
    assert "Traceback" not in proc.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    p = tmp_path / "tone.wav"
    sf.write(p, sine(5.0, 48000, peak_dbfs=-23.0).T, 48000, subtype="PCM_24")
    return p


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("mixanalyzer ")


def test_analyze_json_has_the_fixed_keys(tone: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run("analyze", str(tone), "--json", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 1
    assert doc["file"]["path"] == str(tone)
    assert doc["file"]["sample_rate_hz"] == 48000
    assert doc["file"]["channels"] == 2
    assert doc["file"]["duration_s"] == pytest.approx(5.0)
    lo = doc["loudness"]
    assert lo["integrated_lufs"] == pytest.approx(-23.0, abs=0.05)
    assert lo["momentary_max_lufs"] == pytest.approx(-23.0, abs=0.05)
    assert lo["short_term_max_lufs"] == pytest.approx(-23.0, abs=0.05)
    assert lo["lra_lu"] == pytest.approx(0.0, abs=0.05)
    assert lo["true_peak_dbtp"] == pytest.approx(-23.0, abs=0.05)
    assert lo["sample_peak_dbfs"] == pytest.approx(-23.0, abs=0.05)
    assert len(lo["true_peak_per_channel_dbtp"]) == 2


def test_series_to_stdout(tone: Path) -> None:
    proc = run("analyze", str(tone), "--json", "-", "--series")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    m = doc["loudness"]["momentary_series_lufs"]
    assert m["rate_hz"] == 10.0 and m["start_s"] == 0.4
    assert len(m["values"]) == 47  # windows ending at 0.4, 0.5, ..., 5.0 s
    assert len(doc["loudness"]["short_term_series_lufs"]["values"]) == 21
    hold = doc["loudness"]["momentary_hold_series_lufs"]["values"]
    assert len(hold) == 47 and all(h >= v - 1e-3 for h, v in zip(hold, m["values"], strict=True))


def test_terminal_table(tone: Path) -> None:
    proc = run("analyze", str(tone))
    assert proc.returncode == 0
    assert "Integrated" in proc.stdout and "-23.0 LUFS" in proc.stdout
    assert "\x1b[" not in proc.stdout  # plain text when piped


def test_refuses_to_overwrite_output(tone: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("keep me")
    one_error_line(run("analyze", str(tone), "--json", str(out), "-q"), 4, "exists", "--force")
    assert out.read_text() == "keep me"
    assert run("analyze", str(tone), "--json", str(out), "-q", "--force").returncode == 0
    assert json.loads(out.read_text())["schema_version"] == 1


def test_unwritable_output(tone: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("analyze", str(tone), "--json", str(blocker / "r.json"), "-q")
    one_error_line(proc, 4, "cannot write")


def test_fail_on(tone: Path) -> None:
    assert run("analyze", str(tone), "-q", "--fail-on", "true-peak>-1").returncode == 0
    one_error_line(run("analyze", str(tone), "-q", "--fail-on", "integrated<-20"), 5, "integrated")
    proc = run("analyze", str(tone), "-q", "--fail-on", "nonsense")
    one_error_line(proc, 2, "--fail-on")


def test_usage_error_exit_code() -> None:
    assert run("analyze").returncode == 2
    assert run("analyze", "x.wav", "--no-such-option").returncode == 2


def _write(path: Path, data: np.ndarray, fs: int = 48000, subtype: str = "PCM_24") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data.T, fs, subtype=subtype)
    return path


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    cases: dict[str, tuple[Path, str]] = {}
    cases["missing"] = (tmp / "nope.wav", "missing")
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    cases["empty file"] = (empty, "empty")
    text = tmp / "text.wav"
    text.write_text("this is not audio\n")
    cases["text renamed .wav"] = (text, "unsupported")
    png = tmp / "image.wav"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    cases["png renamed .wav"] = (png, "unsupported")
    folder = tmp / "folder.wav"
    folder.mkdir()
    cases["directory"] = (folder, "directory")
    full = _write(tmp / "full.wav", sine(2.0, 48000))
    trunc = tmp / "truncated.wav"
    trunc.write_bytes(full.read_bytes()[: 44 + 3000])
    cases["truncated wav"] = (trunc, "truncated")
    rf64 = tmp / "full.rf64"
    sf.write(rf64, sine(2.0, 48000).T, 48000, format="RF64", subtype="PCM_24")
    trf64 = tmp / "truncated.rf64"
    trf64.write_bytes(rf64.read_bytes()[:100000])
    cases["truncated rf64"] = (trf64, "truncated")
    flac = tmp / "full.flac"
    sf.write(
        flac,
        sine(3.0, 48000, freq_hz=1234.5).T
        + 0.01 * np.random.default_rng(0).standard_normal((144000, 2)),
        48000,
    )
    tflac = tmp / "truncated.flac"
    tflac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    cases["truncated flac"] = (tflac, "truncated")
    nan = sine(1.0, 48000)
    nan[1, 1000] = np.nan
    cases["NaN"] = (_write(tmp / "nan.wav", nan, subtype="FLOAT"), "NaN")
    inf = sine(1.0, 48000)
    inf[0, 5] = np.inf
    cases["Inf"] = (_write(tmp / "inf.wav", inf, subtype="DOUBLE"), "NaN or infinite")
    header_only = tmp / "noframes.wav"
    sf.write(header_only, np.zeros((0, 2)), 48000)
    cases["no frames"] = (header_only, "empty")
    return cases


def test_every_bad_input_gives_one_line_and_exit_3(tmp_path: Path) -> None:
    for label, (path, needle) in _bad_inputs(tmp_path).items():
        proc = run("analyze", str(path), "-q")
        try:
            one_error_line(proc, 3, path.name, needle)
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from None


def test_bad_file_among_good_ones_still_measures_the_rest(tone: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run("analyze", str(tone), str(tmp_path / "missing.wav"), "--json", str(out), "-q")
    assert proc.returncode == 3
    doc = json.loads(out.read_text())
    assert len(doc["files"]) == 1 and doc["files"][0]["file"]["path"] == str(tone)
    assert doc["errors"][0]["exit_code"] == 3 and "missing" in doc["errors"][0]["message"]
    assert "1 of 2 files" in proc.stderr


@pytest.mark.parametrize(
    ("label", "data", "warning", "null_key"),
    [
        ("silent", np.zeros((2, 48000 * 4)), "silent", "integrated_lufs"),
        ("short", sine(0.2, 48000), "shorter than 400 ms", "integrated_lufs"),
        ("one second", sine(1.0, 48000), "shorter than 3 s", "short_term_max_lufs"),
    ],
)
def test_degenerate_audio_is_measured_with_a_warning(
    tmp_path: Path, label: str, data: np.ndarray, warning: str, null_key: str
) -> None:
    path = _write(tmp_path / f"{label}.wav", data)
    proc = run("analyze", str(path), "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    warn = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(warn) == 1 and warning in warn[0] and warn[0].startswith("mixanalyzer: warning:")
    doc = json.loads(proc.stdout)
    assert doc["loudness"][null_key] is None
    assert null_key in doc["loudness"]["null_reasons"]
    assert "NaN" not in proc.stdout


def test_markup_in_file_names_is_printed_as_text(tmp_path: Path) -> None:
    path = _write(tmp_path / "mix [bold]v2[red].wav", sine(1.0, 48000))
    proc = run("analyze", str(path))
    assert proc.returncode == 0
    assert "mix [bold]v2[red].wav" in proc.stdout.replace("\n", "")


def test_demo_writes_mix_and_report(demo_run) -> None:
    proc = demo_run.proc
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((demo_run.out / "demo_mix.analysis.json").read_text())
    assert -30 < doc["loudness"]["integrated_lufs"] < -8
    assert doc["loudness"]["true_peak_dbtp"] < 0
    assert "report: demo/report.html" in proc.stdout.replace(os.sep, "/")
    html = (demo_run.out / "report.html").read_text()
    assert 'id="comparison"' in html and 'id="translation"' in html
    # A second run without --force refuses and leaves the files alone.
    before = {p.name: p.stat().st_mtime_ns for p in demo_run.out.iterdir()}
    one_error_line(run("demo", "--out", "demo", cwd=demo_run.cwd), 4, "exists")
    assert {p.name: p.stat().st_mtime_ns for p in demo_run.out.iterdir()} == before


def test_level_spectrum(tone: Path) -> None:
    plain = json.loads(run("analyze", str(tone), "--json", "-").stdout)
    lev = json.loads(run("analyze", str(tone), "--json", "-", "--level-spectrum").stdout)
    integrated = plain["loudness"]["integrated_lufs"]
    assert plain["spectrum"]["levelled_to_lufs"] is None
    assert lev["spectrum"]["levelled_to_lufs"] == pytest.approx(integrated, abs=1e-3)
    i = plain["spectrum"]["third_octave_hz"].index(1000)
    got = lev["spectrum"]["third_octave_db"][i]
    assert got == pytest.approx(plain["spectrum"]["third_octave_db"][i] - integrated, abs=0.02)


def test_reference_build_and_list(tmp_path: Path) -> None:
    for i in range(2):
        _write(tmp_path / "refs" / f"r{i}.wav", sine(3.0, 48000, peak_dbfs=-20.0 - 3 * i))
    out = tmp_path / "p.json"
    proc = run("reference", "build", str(tmp_path / "refs"), "--name", "test-genre", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["n_tracks"] == 2 and doc["metrics"]["integrated_lufs"]["median"] < -20
    again = run(
        "reference", "build", str(tmp_path / "refs"), "--name", "test-genre", "-o", str(out)
    )
    one_error_line(again, 4, "exists")
    listed = run("reference", "list")
    assert listed.returncode == 0 and "electronic" in listed.stdout
    mix = _write(tmp_path / "mix.wav", sine(3.0, 48000, peak_dbfs=-10.0))
    comp = run("compare", str(mix), "--profile", str(out), "--json", "-")
    assert comp.returncode == 0, comp.stderr
    assert json.loads(comp.stdout)["comparison"]["metrics"]["integrated_lufs"]["verdict"] == "above"
    assert doc["metrics"]["translation.phone.score"]["median"] is not None
    tr = run("translate", str(mix), "--profile", str(out), "--devices", "phone", "--json", "-")
    assert tr.returncode == 0, tr.stderr
    device = json.loads(tr.stdout)["translation"]["devices"][0]
    assert device["reference_score"] == doc["metrics"]["translation.phone.score"]["median"]


def test_mono_file_longer_than_a_block_is_stable(tmp_path: Path) -> None:
    """Blocks handed to meter threads must not share the reader's reused buffer."""
    p = _write(tmp_path / "mono.wav", sine(12.0, 48000, peak_dbfs=-10.0, channels=1), 48000)
    readings = set()
    for _ in range(3):
        proc = run("analyze", str(p), "--json", "-")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        readings.add((doc["loudness"]["integrated_lufs"], doc["loudness"]["sample_peak_dbfs"]))
    assert len(readings) == 1
    integrated, peak = readings.pop()
    assert peak == pytest.approx(-10.0, abs=0.01)
    assert integrated == pytest.approx(-13.0, abs=0.05)  # mono sine: RMS -13 dBFS, weight 1


@pytest.mark.parametrize("check", ["true-peak>1.2.3", "true-peak>.", "loudness>1", "file.path>1"])
def test_bad_fail_on_is_a_usage_error(tone: Path, tmp_path: Path, check: str) -> None:
    out = tmp_path / "r.json"
    proc = run("analyze", str(tone), "-q", "--json", str(out), "--fail-on", check)
    one_error_line(proc, 2, "--fail-on")
    assert not out.exists()


def test_non_utf8_file_name(tmp_path: Path) -> None:
    p = tmp_path / os.fsdecode(b"mix-\xff.wav")
    with open(p, "wb") as fh:  # soundfile itself cannot open such a name
        sf.write(fh, sine(1.0, 48000).T, 48000, format="WAV", subtype="PCM_16")
    proc = run("analyze", str(p), "-q", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["loudness"]["integrated_lufs"] is not None


def test_short_file_has_no_mono_loss(tmp_path: Path) -> None:
    p = _write(tmp_path / "short.wav", sine(0.2, 48000))
    doc = json.loads(run("analyze", str(p), "--json", "-").stdout)
    assert doc["stereo"]["mono_loss_lu"] is None


def test_translate_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    mix = _write(tmp_path / "mix.wav", rng.standard_normal((2, 48000 * 5)) * 0.05)
    inverted = np.vstack([sine(5.0, 48000)[0], -sine(5.0, 48000)[0]])
    ref = _write(tmp_path / "ref.wav", inverted)
    proc = run("translate", str(mix), "--ref", str(ref), "--devices", "phone,car", "--json", "-")
    assert proc.returncode == 0, proc.stderr
    devices = json.loads(proc.stdout)["translation"]["devices"]
    assert [d["name"] for d in devices] == ["phone", "car"]
    keys = {"name", "score", "loudness_change_lu", "bass_survival", "mono_loss_lu"}
    keys |= {"masked_bands", "tonal_balance_db", "reference_score", "findings"}
    assert keys <= set(devices[0])
    assert devices[0]["reference_score"] < devices[0]["score"]  # the inverted reference collapses
    bad = run("translate", str(mix), "--devices", "walkman")
    one_error_line(bad, 2, "walkman")


def test_translate_render(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    mix = _write(tmp_path / "mix.wav", rng.standard_normal((2, 48000 * 3)) * 0.05)
    out = tmp_path / "render"
    proc = run("translate", str(mix), "--devices", "phone,studio", "--render", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    phone, _ = sf.read(out / "mix.phone.wav", always_2d=True)
    assert phone.shape[1] == 1  # the phone is mono: a mono file
    studio, _ = sf.read(out / "mix.studio.wav", always_2d=True)
    assert studio.shape[0] == 48000 * 3
    again = run("translate", str(mix), "--devices", "phone", "--render", str(out), "-q")
    one_error_line(again, 4, "exists")
