"""``watch`` (issue 18, part 2): bounces written into a folder, one of them slowly in pieces
with pauses longer than the settle time, are each analysed exactly once and never while
incomplete; a bad bounce gives its error and the watch goes on; the history has one whole JSON
line per bounce; an existing page that no watch wrote is refused without --force.

The ordering checks use events, not clocks: a bounce written in pieces must be reported after
its last piece was written (a flag the writer sets), with all its frames.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.app.watching import WatchCallbacks, WatchSettings, history_path, watch
from analyzer.errors import OutputError
from analyzer.io.history import append_json_line, read_json_lines
from tests.signals import pink_noise

FS = 48000


def _wav_bytes(seconds: float, seed: int, gain: float = 0.05) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, (gain * pink_noise(seconds, FS, seed=seed)).T, FS, format="WAV",
             subtype="PCM_16")  # fmt: skip
    return buf.getvalue()


@pytest.fixture(scope="module")
def ref(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("watchref") / "ref.wav"
    p.write_bytes(_wav_bytes(3.0, 1))
    return p


class Recorder:
    def __init__(self) -> None:
        self.bounces: list = []
        self.errors: list[tuple[str, str]] = []
        self.started = threading.Event()
        self.seen = threading.Condition()

    def callbacks(self) -> WatchCallbacks:
        def on_bounce(b) -> None:
            with self.seen:
                self.bounces.append(b)
                self.seen.notify_all()

        def on_error(path: str, message: str) -> None:
            with self.seen:
                self.errors.append((path, message))
                self.seen.notify_all()

        return WatchCallbacks(on_bounce, on_error, lambda _s: self.started.set())

    def wait_for(self, count: int) -> None:
        with self.seen:
            assert self.seen.wait_for(lambda: len(self.bounces) + len(self.errors) >= count, 60)


def _run(folder: Path, settings: WatchSettings, rec: Recorder, **kw):
    result: dict = {}
    stop = threading.Event()

    def target() -> None:
        result["run"] = watch(folder, settings, callbacks=rec.callbacks(), stop=stop, **kw)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    assert rec.started.wait(60)
    time.sleep(0.3)  # the watcher's inotify set-up runs just after on_start
    return t, stop, result


def test_each_bounce_once_never_incomplete_and_a_bad_one_goes_on(ref, tmp_path):
    bounces, html = tmp_path / "bounces", tmp_path / "out" / "watch.html"
    bounces.mkdir()
    html.parent.mkdir()
    rec = Recorder()
    settings = WatchSettings(references=[str(ref)], settle_s=0.1, give_up_s=5.0, max_bounces=4)
    thread, stop, result = _run(bounces, settings, rec, html=html)

    (bounces / "a.wav").write_bytes(_wav_bytes(2.0, 2))
    rec.wait_for(1)
    # b.wav in pieces: the header declares all its frames from the first piece; the pauses are
    # longer than the settle time, so only the header check keeps it from being analysed early.
    whole, done = _wav_bytes(3.0, 3), threading.Event()
    with open(bounces / "b.wav", "wb") as fh:
        for i in range(0, len(whole), len(whole) // 4 + 1):
            fh.write(whole[i : i + len(whole) // 4 + 1])
            fh.flush()
            time.sleep(0.35)
        done.set()
    rec.wait_for(2)
    (bounces / "bad.wav").write_bytes(b"not audio at all, " * 20)
    (bounces / "notes.txt").write_text("not a bounce")  # not audio by its name: ignored
    rec.wait_for(3)
    (bounces / "c.wav").write_bytes(_wav_bytes(1.5, 4))
    thread.join(60)
    stop.set()
    assert not thread.is_alive()

    assert result["run"].analysed == 3 and result["run"].failed == 1
    names = [Path(b.path).name for b in rec.bounces]
    assert names == ["a.wav", "b.wav", "c.wav"]  # each exactly once, in order
    b = rec.bounces[1]
    assert done.is_set()
    assert b.mix.file.duration_s == pytest.approx(3.0, abs=1e-6)  # all its frames
    assert [Path(p).name for p, _ in rec.errors] == ["bad.wav"]
    assert "bad.wav" in rec.errors[0][1]
    # the history: one whole JSON line per bounce, numbered, the bad one with its error
    text = Path(history_path(html)).read_text()
    assert text.endswith("\n")
    entries = [json.loads(line) for line in text.splitlines()]
    assert [e["bounce"] for e in entries] == [1, 2, 3, 4]
    assert [Path(e["path"]).name for e in entries] == ["a.wav", "b.wav", "bad.wav", "c.wav"]
    assert "error" in entries[2] and "figures" not in entries[2]
    # the changes since the previous bounce are the differences of the figures
    got = entries[1]["vs_previous"]["integrated_lufs"]
    want = entries[1]["figures"]["integrated_lufs"] - entries[0]["figures"]["integrated_lufs"]
    assert got == pytest.approx(want, abs=1e-3)
    assert entries[0]["vs_previous"] is None
    # the page shows the last bounce and carries the marker
    page = html.read_text()
    assert 'data-bounce="4"' in page and "c.wav" in page and "mixanalyzer watch" in page


def test_an_existing_page_not_written_by_watch_needs_force(ref, tmp_path):
    html = tmp_path / "page.html"
    html.write_text("<html>someone's notes</html>")
    settings = WatchSettings(references=[str(ref)], max_bounces=1)
    with pytest.raises(OutputError, match="--force"):
        watch(tmp_path, settings, html=html)
    assert html.read_text() == "<html>someone's notes</html>"


def test_a_watch_page_is_resumed_and_its_history_continued(ref, tmp_path):
    bounce = tmp_path / "mix.wav"
    bounce.write_bytes(_wav_bytes(1.0, 5))
    html = tmp_path / "w.html"
    settings = WatchSettings(references=[str(ref)], settle_s=0.05, max_bounces=1)
    watch(bounce, settings, html=html)  # the existing file is the baseline bounce
    watch(bounce, settings, html=html)  # a second session: no --force needed, numbering goes on
    entries = read_json_lines(history_path(html))
    assert [e["bounce"] for e in entries] == [1, 2]
    assert entries[1]["vs_previous"]["integrated_lufs"] == pytest.approx(0.0, abs=1e-4)


def test_a_history_without_a_page_is_kept_and_continued(ref, tmp_path):
    """``--history PATH`` without ``--html``: each bounce appended there, a later session goes
    on numbering; no page is written."""
    bounce = tmp_path / "mix.wav"
    bounce.write_bytes(_wav_bytes(1.0, 6))
    hist = tmp_path / "log" / "bounces.jsonl"  # its folder is made, as for every output
    settings = WatchSettings(references=[str(ref)], settle_s=0.05, max_bounces=1)
    rec = Recorder()
    watch(bounce, settings, history=hist, callbacks=rec.callbacks())
    watch(bounce, settings, history=hist)
    entries = read_json_lines(hist)
    assert [e["bounce"] for e in entries] == [1, 2]
    assert rec.bounces[0].entry == entries[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bounces.jsonl", "log", "mix.wav"]


def test_a_history_file_watch_did_not_write_needs_force(ref, tmp_path):
    bounce = tmp_path / "mix.wav"
    bounce.write_bytes(_wav_bytes(1.0, 7))
    hist = tmp_path / "notes.jsonl"
    hist.write_text('{"bounce": 1, "mine": true}\nmy own notes\n')
    settings = WatchSettings(references=[str(ref)], settle_s=0.05, max_bounces=1)
    for html in (None, tmp_path / "w.html"):  # with a page of its own too: the history is checked
        with pytest.raises(OutputError, match=r"not a mixanalyzer watch history.*--force"):
            watch(bounce, settings, html=html, history=hist)
        assert hist.read_text() == '{"bounce": 1, "mine": true}\nmy own notes\n'
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(OutputError, match="is a directory"):  # not "give --force": never
        watch(bounce, settings, history=folder)
    watch(bounce, settings, history=hist, force=True)  # replaced by a new history
    assert [e["bounce"] for e in read_json_lines(hist)] == [1]
    assert "my own notes" not in hist.read_text()


def test_history_lines_stay_whole_after_a_torn_line(tmp_path):
    path = tmp_path / "h.jsonl"
    append_json_line(path, {"bounce": 1, "path": "a", "time": "t", "error": "x"})
    with open(path, "ab") as fh:
        fh.write(b'{"bounce": 2, "path": "b", "fig')  # a crash mid-line (not our writer)
    big = {"bounce": 3, "path": "c", "time": "t", "figures": {f"k{i}": 0.5 for i in range(5000)}}
    append_json_line(path, big)
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 4
    assert [e["bounce"] for e in read_json_lines(path)] == [1, 3]
    assert json.loads(lines[2]) == big


def test_settings_are_checked():
    from analyzer.errors import UsageError

    with pytest.raises(UsageError, match="--ref"):
        WatchSettings()
    with pytest.raises(UsageError, match="--settle"):
        WatchSettings(references=["r.wav"], settle_s=float("nan"))
    with pytest.raises(UsageError, match="--max-bounces"):
        WatchSettings(references=["r.wav"], max_bounces=0)
    assert np.isfinite(WatchSettings(profile="electronic").settle_s)


def test_a_watch_measures_with_the_compiled_meters_and_the_same_figures(ref, tmp_path):
    """A watch session measures with the compiled K-weighting (built ahead of time, or numba's,
    loaded once for every bounce); its figures are those of a fresh ``analyze`` (within 1e-9 LU,
    the kernels' own tests hold the rest)."""
    from analyzer.app.analysis import analyze
    from analyzer.app.settings import AnalyzeSettings
    from analyzer.dsp import jit

    bounce = tmp_path / "mix.wav"
    bounce.write_bytes(_wav_bytes(4.0, 7))
    hist = tmp_path / "bounces.jsonl"
    settings = WatchSettings(references=[str(ref)], settle_s=0.05, max_bounces=1)
    rec = Recorder()
    watch(bounce, settings, history=hist, callbacks=rec.callbacks())
    # the session opted in to numba unless the recursions were built ahead of time
    assert (jit._loader is not None) == (jit.enabled() and not jit.recursions_built())
    watched = rec.bounces[0].mix
    jit._loader = None  # a fresh `analyze`: no numba load (the fixture resets it too)
    plain = analyze([str(bounce)], AnalyzeSettings()).tracks[0].analysis
    assert watched.loudness.integrated_lufs == pytest.approx(
        plain.loudness.integrated_lufs, abs=1e-9
    )
    assert watched.peaks.true_peak_dbtp == pytest.approx(plain.peaks.true_peak_dbtp, abs=1e-9)
