"""`mixanalyzer batch` and `mixanalyzer cache clear`: outputs, exit codes, errors per file,
the cache counted in the output, and results equal to `analyze`."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli.test_cli import one_error_line, run, sigint_default
from tests.signals import sine

FS = 48000


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "album"
    (root / "b").mkdir(parents=True)
    sf.write(root / "a tone.wav", sine(3.5, FS, peak_dbfs=-20).T, FS, subtype="PCM_24")
    # A name the CSV must quote: comma, quote and a space.
    noise = 0.05 * np.random.default_rng(1).standard_normal((2, FS * 4))
    sf.write(root / "b" / 'loud, "noise".flac', noise.T, FS)
    return root


def test_json_keys_and_cache_hits_on_rerun(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run("batch", str(folder), "--json", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert set(doc) >= {"schema_version", "files", "errors", "cache"}
    assert "album" not in doc
    assert doc["errors"] == [] and doc["cache"] == {"hits": 0, "misses": 2}
    assert [f["file"]["path"] for f in doc["files"]] == [
        str(folder / "a tone.wav"),
        str(folder / "b" / 'loud, "noise".flac'),
    ]
    assert doc["files"][0]["loudness"]["integrated_lufs"] == pytest.approx(-20.0, abs=0.05)
    proc = run("batch", str(folder), "--json", str(out), "-q", "--force")
    again = json.loads(out.read_text())
    assert again["cache"] == {"hits": 2, "misses": 0}
    assert again["files"] == doc["files"]
    proc = run("batch", str(folder), "--json", str(out), "-q", "--force", "--no-cache")
    assert json.loads(out.read_text())["cache"] == {"hits": 0, "misses": 0}


def test_batch_files_equal_analyze_output(folder: Path, tmp_path: Path) -> None:
    """Each file object of the batch JSON equals what `analyze --json` writes for that file."""
    files = [str(folder / "a tone.wav"), str(folder / "b" / 'loud, "noise".flac')]
    proc = run("analyze", *files, "--json", str(tmp_path / "a.json"), "-q")
    assert proc.returncode == 0, proc.stderr
    analyzed = json.loads((tmp_path / "a.json").read_text())["files"]
    for jobs in ("1", "2"):
        out = tmp_path / f"b{jobs}.json"
        proc = run("batch", *files, "--json", str(out), "-q", "--jobs", jobs, "--no-cache")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(out.read_text())["files"] == analyzed


def test_bad_and_silent_files_exit_3_and_are_both_reported(folder: Path, tmp_path: Path) -> None:
    (folder / "broken.wav").write_text("this is not audio\n")
    sf.write(folder / "silent.wav", np.zeros((FS * 4, 2)), FS)
    out = tmp_path / "r.json"
    table = tmp_path / "r.csv"
    proc = run("batch", str(folder), "--json", str(out), "--csv", str(table), "--jobs", "2")
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("mixanalyzer: error: ")]
    assert len(errors) == 2
    assert "broken.wav" in errors[0] and "unsupported" in errors[0]
    assert errors[1] == "mixanalyzer: error: 1 of 4 files could not be measured"
    warnings = [ln for ln in proc.stderr.splitlines() if "warning" in ln]
    assert any("silent.wav" in w and "silent" in w for w in warnings)
    doc = json.loads(out.read_text())
    assert [Path(e["path"]).name for e in doc["errors"]] == ["broken.wav"]
    assert doc["errors"][0]["exit_code"] == 3
    silent = [f for f in doc["files"] if f["file"]["path"].endswith("silent.wav")]
    assert silent and silent[0]["loudness"]["integrated_lufs"] is None
    assert silent[0]["loudness"]["null_reasons"]["integrated_lufs"]
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert len(rows) == 4
    assert [r["error"] != "" for r in rows].count(True) == 1
    assert "3 measured, 1 failed" in proc.stdout  # the silent file is in the table


def test_csv_rows_columns_and_escaping(folder: Path, tmp_path: Path) -> None:
    table = tmp_path / "r.csv"
    proc = run("batch", str(folder), "--csv", str(table), "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    rows = list(csv.DictReader(io.StringIO(table.read_text(), newline="")))
    assert len(rows) == 2
    assert rows[1]["file.path"] == str(folder / "b" / 'loud, "noise".flac')
    for row, f in zip(rows, doc["files"], strict=True):
        lo = f["loudness"]
        assert float(row["loudness.integrated_lufs"]) == lo["integrated_lufs"]
        assert float(row["loudness.true_peak_dbtp"]) == lo["true_peak_dbtp"]
        assert (
            json.loads(row["loudness.true_peak_per_channel_dbtp"])
            == (lo["true_peak_per_channel_dbtp"])
        )
        assert (
            float(row["spectrum.tonal_balance_db.high"])
            == (f["spectrum"]["tonal_balance_db"]["high"])
        )
        assert row["cached"] == "false"


def test_album_and_reference_comparison(folder: Path, tmp_path: Path) -> None:
    sf.write(folder / "quiet.wav", sine(3.5, FS, peak_dbfs=-35).T, FS, subtype="PCM_24")
    ref = tmp_path / "ref.wav"
    sf.write(ref, sine(4.0, FS, peak_dbfs=-14).T, FS, subtype="PCM_24")
    out = tmp_path / "r.json"
    proc = run(
        "batch", str(folder), "--album", "--album-spread", "1", "--ref", str(ref),
        "--json", str(out), "--csv", str(tmp_path / "r.csv"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    album = doc["album"]
    assert set(album) >= {"loudness_spread_lu", "tonal_spread_db", "outliers", "gains_db"}
    paths = [f["file"]["path"] for f in doc["files"]]
    lufs = [f["loudness"]["integrated_lufs"] for f in doc["files"]]
    assert album["loudness_spread_lu"] == pytest.approx(max(lufs) - min(lufs), abs=0.01)
    assert set(album["gains_db"]) == set(paths)
    quiet = str(folder / "quiet.wav")
    assert any(o["path"] == quiet and "quieter" in o["reasons"][0] for o in album["outliers"])
    assert doc["references"] == [str(ref)]
    for f in doc["files"]:
        comp = f["comparison"]
        assert comp["references"] == [str(ref)]
        m = comp["metrics"]["integrated_lufs"]
        assert m["median"] == pytest.approx(-14.0, abs=0.05)  # the -14 dBFS reference sine
        assert m["delta"] == pytest.approx(f["loudness"]["integrated_lufs"] - m["median"], abs=0.01)
    tone = next(f for f in doc["files"] if f["file"]["path"].endswith("a tone.wav"))
    # The reference is the same 1 kHz tone 6 dB louder: 6 dB quieter, tonally identical.
    assert tone["comparison"]["metrics"]["integrated_lufs"]["delta"] == pytest.approx(-6, abs=0.05)
    assert tone["comparison"]["metrics"]["tonal.low_mid"]["delta"] == pytest.approx(0, abs=0.01)
    assert "outlier:" in proc.stdout and "suggested album gains" in proc.stdout


def test_refuses_to_overwrite_and_usage_errors(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    out.write_text("keep me")
    one_error_line(run("batch", str(folder), "--csv", str(out), "-q"), 4, "exists", "--force")
    assert out.read_text() == "keep me"
    one_error_line(run("batch", str(folder), "--jobs", "0"), 2, "--jobs")
    one_error_line(run("batch", str(folder), "--ref", "x.wav", "--profile", "p"), 2, "--ref")
    one_error_line(run("batch", str(tmp_path / "nothing")), 3, "nothing", "missing")
    (tmp_path / "empty").mkdir()
    one_error_line(run("batch", str(tmp_path / "empty")), 3, "no audio files")


def test_cache_clear(folder: Path) -> None:
    run("batch", str(folder), "-q")
    proc = run("cache", "clear")
    assert proc.returncode == 0 and proc.stdout.startswith("cleared 2 cached results")
    assert os.environ["MIXANALYZER_CACHE_DIR"] in proc.stdout  # the private test folder
    assert run("cache", "clear").stdout.startswith("cleared 0 cached results")


def test_profile_comparison(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run("batch", str(folder), "--profile", "electronic", "--json", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["references"][0].startswith("profile electronic")
    assert all("comparison" in f for f in doc["files"])


def test_html_report_with_the_album(folder: Path, tmp_path: Path) -> None:
    """--html writes the batch section (a row per file, the album figures) with the file names
    escaped as data, and refuses to overwrite without --force."""
    out = tmp_path / "batch.html"
    proc = run("batch", str(folder), "--album", "--html", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert 'id="batch"' in page and "batch-loudness" in page
    assert "a tone.wav" in page
    assert 'loud, "noise".flac' not in page.split("<script", 1)[0] or "&#34;" in page
    proc = run("batch", str(folder), "--html", str(out), "-q")
    one_error_line(proc, 4, "exists")


def test_ctrl_c_stops_cleanly_keeps_the_cache_and_names_what_finished(tmp_path: Path) -> None:
    """SIGINT to the whole process group (what a terminal's Ctrl-C does) once the first file is
    cached: exit 130, one summary line and the finished files, no traceback, no partial output;
    a re-run reads the finished files from the cache."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    root = tmp_path / "many"
    root.mkdir()
    for i in range(8):  # distinct contents: distinct cache keys
        noise = 0.05 * np.random.default_rng(i).standard_normal((2, FS * 30))
        sf.write(root / f"t{i}.wav", noise.T, FS, subtype="PCM_24")
    cache = tmp_path / "cache"
    env = {**os.environ, "MIXANALYZER_CACHE_DIR": str(cache), "COLUMNS": "100"}
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "batch", str(root), "--jobs", "2", "--json", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True, preexec_fn=sigint_default,
    )  # fmt: skip
    db = cache / "results.sqlite3"
    deadline = time.monotonic() + 120
    rows = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as con:
                    rows = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.Error:
                rows = 0
            if rows >= 1:
                break
        time.sleep(0.05)
    assert rows >= 1 and proc.poll() is None, "no file finished before the batch ended"
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    lines = [ln for ln in stderr.splitlines() if "interrupted:" in ln]
    assert len(lines) == 1 and "of 8 files finished" in lines[0], stderr
    finished = int(lines[0].split("interrupted: ")[1].split(" of")[0])
    assert 1 <= finished < 8
    assert stderr.count("  finished: ") == finished
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.json")]
    again = subprocess.run(
        [sys.executable, "-m", "analyzer", "batch", str(root), "--json", str(out), "-q"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(out.read_text())["cache"]["hits"] >= finished
