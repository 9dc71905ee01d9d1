"""``analyze`` with the codec check runs the check beside the analysis (analyzer.app.analysis):
the same answers as each pass alone, and an analysis that fails or is interrupted takes the
check down with it (no thread left, no temporary file)."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

import analyzer.app.analysis as analysis_mod
import analyzer.playback.codecs as codecs_mod
from analyzer.app import AnalyzeSettings, analyze
from analyzer.app.measuring import analyze_path
from analyzer.playback.codecs import codec_check_file


def _mix_file(tmp_path: Path, seconds: float) -> Path:
    import soundfile as sf

    rate = 44100
    t = np.arange(round(seconds * rate)) / rate
    rng = np.random.default_rng(5)
    x = np.clip(0.9 * np.sin(2 * np.pi * 220 * t) + 0.2 * rng.standard_normal((2, t.size)), -1, 1)
    path = tmp_path / "mix.wav"
    sf.write(path, x.T, rate, subtype="PCM_24")
    return path


def test_analysis_and_check_together_equal_each_alone(tmp_path: Path) -> None:
    path = _mix_file(tmp_path, 2.0)
    (track,) = analyze(path, AnalyzeSettings(codec_check=True)).tracks
    assert track.codec_check == tuple(codec_check_file(path))
    assert track.analysis == analyze_path(str(path), series=False, progress=None)


def _stray_threads() -> list[str]:
    names = ("mixanalyzer-lane", "mixanalyzer-codec-check")
    return [t.name for t in threading.enumerate() if t.name in names]


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError])
def test_a_failing_analysis_cancels_the_running_check(monkeypatch, tmp_path, failure) -> None:
    path = _mix_file(tmp_path, 3.0)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(codecs_mod, "BLOCK_FRAMES", 1024)  # many blocks: cancelled part-way
    check_started = threading.Event()
    codec_done: list[tuple[int, int]] = []

    def progress(label: str, done: int, total: int) -> None:
        if label.startswith("codec check"):
            codec_done.append((done, total))
            if done > 0:
                check_started.set()

    def failing_analysis(*args, **kwargs):
        assert check_started.wait(30)
        raise failure()

    monkeypatch.setattr(analysis_mod, "analyze_path", failing_analysis)
    with pytest.raises(failure):
        analyze(path, AnalyzeSettings(codec_check=True), progress=progress)
    assert not _stray_threads()
    assert list(scratch.iterdir()) == []
    assert codec_done[-1][0] < codec_done[-1][1]  # stopped before the end
