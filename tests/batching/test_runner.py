"""Batch analysis: file discovery, executors (serial, local pool, Dask), errors that do not stop
the batch, the cache on re-runs, and results equal to single-file analysis."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from analyzer.batching.cache import with_path
from analyzer.batching.executors import BatchExecutor, DaskExecutor, LocalExecutor, SerialExecutor
from analyzer.batching.runner import find_batch_files, run_batch
from analyzer.batching.workers import analyze_job
from analyzer.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, UsageError
from analyzer.measure.engine import analyze_file
from analyzer.report.json import track_to_dict
from tests.signals import sine

FS = 44100


def _analyze_like_the_cli(paths: list[str]) -> list[Any]:
    """``analyze_file`` in a fresh process tuned as the CLI tunes itself (one OpenBLAS thread,
    the same allocator settings), one file per process, as ``mixanalyzer analyze`` runs."""
    import multiprocessing

    from analyzer.runtime import tune_process

    ctx = multiprocessing.get_context("spawn")
    out = []
    for path in paths:
        with ctx.Pool(1, initializer=tune_process) as pool:
            out.append(pool.apply(analyze_file, (path,)))
    return out


def _docs(analyses: Iterable[Any]) -> list[dict[str, Any]]:
    """What ``analyze`` writes of each analysis.

    Results made in different processes are compared here, not as dataclasses: the existing
    float32 true-peak path makes the PSR figures differ by about 1e-6 dB with the BLAS thread
    count and with what the process measured before (memory alignment), far below the printed
    precision.
    """
    return [track_to_dict(a) for a in analyses]


def _noise(seconds: float, level: float, seed: int, channels: int = 2) -> np.ndarray:
    return level * np.random.default_rng(seed).standard_normal((channels, round(seconds * FS)))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Four short files in a tree, plus things that are not taken."""
    root = tmp_path / "album"
    (root / "cd2").mkdir(parents=True)
    (root / ".hidden").mkdir()
    sf.write(root / "01 intro.wav", sine(3.5, FS, peak_dbfs=-12).T, FS, subtype="PCM_24")
    sf.write(root / "02, loud.flac", _noise(4.0, 0.3, 1).T, FS)
    sf.write(root / "cd2" / "03 mono.wav", _noise(3.2, 0.05, 2, channels=1).T, FS)
    sf.write(root / "cd2" / "04 quiet.WAV", _noise(3.0, 0.01, 3).T, FS, subtype="FLOAT")
    (root / "notes.txt").write_text("not audio")
    (root / ".hidden" / "x.wav").write_bytes(b"skipped")
    (root / ".skip.wav").write_bytes(b"skipped")
    return root


def test_find_files(folder: Path, tmp_path: Path) -> None:
    extra = tmp_path / "explicit.dat"
    extra.write_bytes(b"taken because named")
    found, errors = find_batch_files(
        [folder, folder / "01 intro.wav", extra, tmp_path / "nope.wav"]
    )
    assert found == [
        str(folder / "01 intro.wav"),
        str(folder / "02, loud.flac"),
        str(folder / "cd2" / "03 mono.wav"),
        str(folder / "cd2" / "04 quiet.WAV"),
        str(extra),
    ]
    assert [e.path for e in errors] == [str(tmp_path / "nope.wav")]
    assert "missing" in errors[0].message and errors[0].exit_code == EXIT_BAD_INPUT


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_equals_single_file_analysis(folder: Path, jobs: int) -> None:
    result = run_batch([folder], jobs=jobs, use_cache=False)
    found, _ = find_batch_files([folder])
    assert not result.errors
    assert [r.file.path for r in result.files] == found
    # Every field; jobs=1 runs in this process, jobs=2 in tuned worker processes.
    if jobs == 1:  # in this process, like analyze_file here: every field, exactly
        assert list(result.files) == [analyze_file(p) for p in found]
    assert _docs(result.files) == _docs(_analyze_like_the_cli(found))
    assert result.cache_hits == result.cache_misses == 0


def test_bad_and_silent_files_do_not_stop_the_batch(folder: Path) -> None:
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    sf.write(folder / "silent.wav", np.zeros((2, FS * 4)).T, FS)
    full = folder / "full.wav"
    sf.write(full, sine(2.0, FS).T, FS)
    (folder / "truncated.wav").write_bytes(full.read_bytes()[:3000])
    full.unlink()
    calls: list[tuple[int, int, str, str | None]] = []
    result = run_batch([folder], jobs=2, progress=lambda *a: calls.append(a))
    assert sorted(Path(e.path).name for e in result.errors) == ["broken.wav", "truncated.wav"]
    assert all(e.exit_code == EXIT_BAD_INPUT for e in result.errors)
    assert any("truncated" in e.message for e in result.errors)
    silent = [r for r in result.files if r.file.path.endswith("silent.wav")]
    assert len(silent) == 1
    lufs = silent[0].loudness.integrated_lufs
    assert lufs is None or np.isneginf(lufs)  # measured honestly: undefined, not an error
    assert any("silent" in w for w in silent[0].warnings)
    assert len(result.files) == 5
    # One progress call per file, the failures with their message.
    assert [c[0] for c in calls] == list(range(1, 8)) and {c[1] for c in calls} == {7}
    assert sum(1 for c in calls if c[3]) == 2


def test_rerun_reads_every_result_from_the_cache(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "cache.sqlite3"
    first = run_batch([folder], jobs=2, cache_path=db)
    assert (first.cache_hits, first.cache_misses) == (0, 4)
    again = run_batch([folder], jobs=2, cache_path=db)
    assert (again.cache_hits, again.cache_misses) == (4, 0)
    assert again.files == first.files and all(again.from_cache)
    assert again.executor == "cache only"  # no pool was started

    # Same content under a new name: a hit, reported under the new name.
    moved = tmp_path / "moved"
    shutil.copytree(folder, moved)
    (moved / "cd2" / "04 quiet.WAV").rename(moved / "renamed.wav")
    third = run_batch([moved], jobs=1, cache_path=db)
    assert (third.cache_hits, third.cache_misses) == (4, 0)
    renamed = [r for r in third.files if r.file.path == str(moved / "renamed.wav")]
    stored = next(r for r in first.files if r.file.path.endswith("04 quiet.WAV"))
    assert renamed == [with_path(stored, str(moved / "renamed.wav"))]  # exactly what was stored
    assert _docs(renamed) == _docs(_analyze_like_the_cli([str(moved / "renamed.wav")]))

    # A changed file is measured again.
    sf.write(moved / "01 intro.wav", sine(3.5, FS, peak_dbfs=-13).T, FS, subtype="PCM_24")
    fourth = run_batch([moved], jobs=1, cache_path=db)
    assert (fourth.cache_hits, fourth.cache_misses) == (3, 1)
    intro = next(r for r in fourth.files if r.file.path.endswith("01 intro.wav"))
    assert intro == analyze_file(moved / "01 intro.wav")  # jobs=1: measured in this process

    # keep_series is part of the key.
    series = run_batch([folder], jobs=1, cache_path=db, keep_series=True)
    assert series.cache_misses == 4 and series.files[0].loudness.momentary is not None


def test_unusable_cache_is_skipped_with_a_note(folder: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_batch([folder], jobs=1, cache_path=blocker / "c.sqlite3")
    assert len(result.files) == 4 and not result.errors
    assert result.notes and "cache" in result.notes[0]


class _Failing(BatchExecutor):
    """Runs jobs in this process but one of them raises, as a crashed worker would."""

    name = "failing"

    def __init__(self, bad: str) -> None:
        self.bad, self.inner = bad, SerialExecutor()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        if args[0].endswith(self.bad):
            return self.inner.submit(_raise)
        return self.inner.submit(fn, *args)

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return self.inner.as_completed(futures)


def _raise() -> None:
    raise RuntimeError("worker died")


def test_a_job_that_raises_becomes_an_internal_error(folder: Path) -> None:
    result = run_batch([folder], executor=_Failing("03 mono.wav"), use_cache=False)
    assert len(result.files) == 3
    (err,) = result.errors
    assert err.exit_code == EXIT_INTERNAL and "worker died" in err.message
    assert err.path.endswith("03 mono.wav")


def test_job_returns_errors_as_data(tmp_path: Path) -> None:
    bad = tmp_path / "x.wav"
    bad.write_text("text")
    outcome = analyze_job(str(bad))
    assert not outcome.ok and outcome.exit_code == EXIT_BAD_INPUT and "x.wav" in outcome.payload


def test_local_pool_map_yields_every_index(folder: Path) -> None:
    found, _ = find_batch_files([folder])
    with LocalExecutor(2) as ex:
        got = dict(ex.map(analyze_job, [(p, False, 1) for p in found]))
    assert sorted(got) == list(range(len(found)))
    assert all(v.ok for v in got.values())


@pytest.mark.slow
def test_batch_equals_analyze_on_corpus_files(corpus: Path, tmp_path: Path) -> None:
    """Two short corpus tracks (Vorbis, 5 s and 25 s), through the pool and then the cache."""
    names = [
        "librosa--sorohanro_-_solo-trumpet-06.hq.ogg",
        "librosa--admiralbob77_-_Choice_-_Drum-bass.hq.ogg",
    ]
    paths = [str(corpus / "music" / n) for n in names]
    db = tmp_path / "c.sqlite3"
    for run in range(2):
        result = run_batch(paths, jobs=2, cache_path=db)
        assert result.cache_hits == (2 if run else 0)
        assert _docs(result.files) == _docs(_analyze_like_the_cli(paths))


def test_dask_unreachable_scheduler_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot connect"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=2)


@pytest.mark.slow
def test_dask_local_cluster_equals_the_local_run(folder: Path) -> None:
    """A LocalCluster on loopback with 2 worker processes runs the same jobs through the same
    interface; the results equal the local pool's, field for field of the analyze output."""
    import distributed  # in the test extra: this test runs everywhere the suite runs

    local = run_batch([folder], jobs=2, use_cache=False)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with DaskExecutor(cluster.scheduler_address, run_timeout_s=120) as ex:
            result = run_batch([folder], executor=ex, use_cache=False)
            workers = ex._client.scheduler_info()["workers"]
            assert len(workers) == 2
        assert _docs(result.files) == _docs(local.files) and not result.errors
        via_address = run_batch([folder], scheduler=cluster.scheduler_address, use_cache=False)
        assert _docs(via_address.files) == _docs(local.files)
        assert via_address.executor == f"Dask cluster at {cluster.scheduler_address}"
