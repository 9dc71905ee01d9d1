"""The result cache: lossless round trip of an analysis, keys, renamed files, WAL with several
processes writing at once, clearing."""

from __future__ import annotations

import multiprocessing
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import analyzer.measure
from analyzer.batching.cache import (
    ResultCache,
    analysis_from_json,
    analysis_to_json,
    cache_key,
    clear_cache,
    with_path,
)
from analyzer.io.files import sha256_file
from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.paths import cache_dir
from analyzer.report.json import track_to_dict
from tests.signals import same_result, sine


def _noise(seconds: float, fs: int = 48000, channels: int = 2, seed: int = 0) -> np.ndarray:
    return 0.1 * np.random.default_rng(seed).standard_normal((channels, round(seconds * fs)))


CASES = {
    "stereo noise": _noise(4.0),
    "mono noise": _noise(4.0, channels=1),
    "silent": np.zeros((2, 48000 * 4)),
    "short": sine(0.2, 48000),
    "one second": sine(1.0, 48000),
    "polarity inverted": np.stack([_noise(4.0, channels=1)[0], -_noise(4.0, channels=1)[0]]),
}


@pytest.mark.parametrize("label", list(CASES))
@pytest.mark.parametrize("series", [False, True])
def test_round_trip_is_lossless(label: str, series: bool) -> None:
    """Every field, including -inf (silence), None (undefined), tuples, mappings and series,
    comes back equal; so does the report JSON made from it."""
    a = analyze_array(CASES[label], 48000, path=f"{label}.wav", keep_series=series)
    b = analysis_from_json(analysis_to_json(a))
    assert analysis_to_json(b) == analysis_to_json(a)
    # Series of silence hold NaN (undefined), and NaN != NaN: NaN counts as equal to NaN here.
    assert same_result(b, a)
    if label == "silent" and series:
        assert np.isnan(b.dynamics.psr.values).all() and np.isnan(a.dynamics.psr.values).all()
    assert track_to_dict(b, series=series) == track_to_dict(a, series=series)
    assert type(b.peaks.true_peak_per_channel_dbtp) is tuple
    if label == "silent":
        assert b.peaks.true_peak_dbtp == -np.inf


def test_round_trip_of_a_corpus_file(corpus: Path) -> None:
    a = analyze_file(corpus / "music" / "librosa--sorohanro_-_solo-trumpet-06.hq.ogg",
                     keep_series=True)  # fmt: skip
    assert same_result(analysis_from_json(analysis_to_json(a)), a)


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path / "own"))
    assert cache_dir() == tmp_path / "own"
    monkeypatch.delenv("MIXANALYZER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "mixanalyzer"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "mixanalyzer"


def test_key_depends_on_content_settings_and_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "c.wav"
    sf.write(a, sine(1.0, 48000).T, 48000)
    b.write_bytes(a.read_bytes())
    sf.write(c, sine(1.0, 48000, peak_dbfs=-20.01).T, 48000)
    assert sha256_file(a) == sha256_file(b) != sha256_file(c)
    key = cache_key(sha256_file(a), keep_series=False)
    assert key == cache_key(sha256_file(b), keep_series=False)
    assert key != cache_key(sha256_file(a), keep_series=True)
    monkeypatch.setattr(analyzer.measure, "ANALYSIS_SETTINGS_VERSION", 999)
    assert key != cache_key(sha256_file(a), keep_series=False)


def test_with_path_renames_the_file_and_its_warnings() -> None:
    a = analyze_array(np.zeros((2, 48000)), 48000, path="old/name.wav")
    assert a.warnings and a.warnings[0].startswith("old/name.wav: silent")
    b = with_path(a, "new, place/x.wav")
    assert b.file.path == "new, place/x.wav"
    assert b.warnings == tuple(w.replace("old/name.wav", "new, place/x.wav") for w in a.warnings)
    assert replace(b, file=a.file, warnings=a.warnings) == a


def test_put_get_and_wal(tmp_path: Path) -> None:
    a = analyze_array(_noise(1.0), 48000, path="x.wav")
    with ResultCache(tmp_path / "c.sqlite3") as cache:
        assert cache.journal_mode().lower() == "wal"
        assert cache.get("k") is None
        cache.put("k", "sha", a)
        assert cache.get("k") == a
        assert cache.stored_path("k") == "x.wav"
        assert cache.get("k", path="y.wav").file.path == "y.wav"
        assert cache.stored_path("k") == "y.wav"  # the row follows the file to its new name
        assert cache.get("k") == replace(a, file=replace(a.file, path="x.wav"))
        cache.put("k", "sha", replace(a, warnings=("changed",)))  # replaces, no duplicate
        assert cache.get("k").warnings == ("changed",) and cache.count() == 1


def test_a_damaged_row_is_a_miss(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    with ResultCache(db) as cache:
        cache.put_json("k", "sha", "x.wav", '{"file": 3}', settings_version=1)
        assert cache.get("k") is None


def _writer(db: str, worker: int, n: int) -> None:
    from analyzer.batching.cache import ResultCache, analysis_to_json

    base = analyze_array(_noise(0.5, seed=worker), 48000, path=f"w{worker}.wav")
    text = analysis_to_json(base)
    with ResultCache(db) as cache:
        for i in range(n):
            # Shared keys too: several processes replace the same rows at once.
            cache.put_json(f"w{worker}-{i}", "sha", f"w{worker}.wav", text, settings_version=1)
            cache.put_json(f"shared-{i % 5}", "sha", f"w{worker}.wav", text, settings_version=1)
            assert cache.get(f"w{worker}-{i}") is not None


def test_several_processes_writing_at_once(tmp_path: Path) -> None:
    """Four processes write (and read back) 60 rows each, plus 5 rows they all replace, at the
    same time: nothing is lost, nothing is corrupt, every value decodes to its writer's."""
    db = tmp_path / "c.sqlite3"
    ResultCache(db).close()  # created once, in WAL mode (which persists in the file)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(db), w, 60)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    with ResultCache(db) as cache:
        assert cache.integrity_ok()
        assert cache.count() == 4 * 60 + 5
        for w in range(4):
            expected = analyze_array(_noise(0.5, seed=w), 48000, path=f"w{w}.wav")
            assert cache.get(f"w{w}-59") == expected
        shared = cache.get("shared-0")
        assert shared is not None and shared.file.path in {f"w{w}.wav" for w in range(4)}
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_clear(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    assert clear_cache(db) == 0
    with ResultCache(db) as cache:
        for i in range(3):
            cache.put(f"k{i}", "sha", analyze_array(_noise(0.5), 48000))
    assert clear_cache(db) == 3
    assert not db.exists()
    db.write_bytes(b"not a database at all" * 100)
    assert clear_cache(db) == 0 and not db.exists()
