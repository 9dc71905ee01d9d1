"""The codec check's codecs run side by side on one read of the source
(analyzer.playback.codecs with analyzer.playback.lanes): the same answers as running each
round trip alone, one after another, and a clean stop on failure or Ctrl-C."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

import analyzer.playback.codecs as codecs_mod
from analyzer.io.codec import EncodedFile, encode_blocks, unavailable_reason
from analyzer.measure.truepeak import TruePeakMeter
from analyzer.playback.codecs import CODECS, codec_check, codec_check_file, lossy_encoding
from analyzer.playback.lanes import fan_out


def _loud_mix(sample_rate_hz: int, seconds: float) -> np.ndarray:
    """A stereo mix pushed over full scale and clipped (so the round trips raise its peaks),
    deterministic."""
    rng = np.random.default_rng(17)
    t = np.arange(round(seconds * sample_rate_hz)) / sample_rate_hz
    tones = sum(np.sin(2 * np.pi * f * t + p) for f, p in [(110, 0.0), (997, 1.0), (5003, 2.0)])
    noise = rng.standard_normal((2, t.size)) * 0.2
    return np.clip(0.6 * tones + noise, -1.0, 1.0)


def _serial_round_trip(x: np.ndarray, rate_hz: int, codec: str, tmp: Path, block_frames: int):
    """One codec alone, with the io primitives: encode every block, decode, measure."""
    enc = lossy_encoding(codec, rate_hz)
    if unavailable_reason(enc) is not None:
        return None
    out = tmp / f"serial-{codec}.{enc.extension}"
    blocks = (x[:, i : i + block_frames] for i in range(0, x.shape[1], block_frames))
    encode_blocks(blocks, enc, rate_hz, x.shape[0], out)
    kbps = out.stat().st_size * 8 / (x.shape[1] / rate_hz) / 1000
    with EncodedFile(out, enc) as f:
        meter = TruePeakMeter(f.sample_rate_hz, f.channels, track_windows=True)
        for block in f.blocks(block_frames):
            meter.feed(block)
    return meter.result().true_peak_dbtp, meter.intersample_overs, f"measured {kbps:.0f} kbps"


@pytest.mark.parametrize("sample_rate_hz", [44100, 48000])
def test_parallel_results_equal_each_codec_run_alone(sample_rate_hz: int, tmp_path: Path) -> None:
    x = _loud_mix(sample_rate_hz, 1.6)  # a 65536-frame block and a part
    results = codec_check(x, sample_rate_hz)
    assert [r.codec for r in results] == list(CODECS)
    before = TruePeakMeter(sample_rate_hz, 2)
    before.feed(x)
    for r in results:
        alone = _serial_round_trip(x, sample_rate_hz, r.codec, tmp_path, codecs_mod.BLOCK_FRAMES)
        if alone is None:
            assert r.error and "not available" in r.error
            continue
        assert r.error is None, r.error
        assert r.true_peak_before_dbtp == before.result().true_peak_dbtp
        assert (r.true_peak_after_dbtp, r.intersample_overs_after) == alone[:2]  # bit for bit
        assert r.bitrate_note.endswith(alone[2])


def test_file_and_array_give_identical_results(tmp_path: Path) -> None:
    import soundfile as sf

    x = _loud_mix(44100, 1.6)
    path = tmp_path / "mix.wav"
    sf.write(path, x.T, 44100, subtype="DOUBLE")
    assert codec_check_file(path) == codec_check(x, 44100)


def _lane_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mixanalyzer-lane"]


def test_a_codec_failing_part_way_is_its_own_error_and_the_others_finish(monkeypatch) -> None:
    monkeypatch.setattr(codecs_mod, "BLOCK_FRAMES", 2048)  # 24 blocks: more than a queue holds
    real = codecs_mod.encode_blocks

    def failing(blocks, enc, *args, **kwargs):
        if enc.codec == "vorbis":
            for i, _ in enumerate(blocks):
                if i == 1:
                    raise RuntimeError("Error : disk full")
        return real(blocks, enc, *args, **kwargs)

    monkeypatch.setattr(codecs_mod, "encode_blocks", failing)
    results = codec_check(_loud_mix(48000, 1.0), 48000)
    assert [r.codec for r in results] == list(CODECS)
    vorbis = results[1]
    assert vorbis.error == "OGG/VORBIS round trip failed: Error : disk full"
    assert vorbis.true_peak_after_dbtp is None
    for r in (results[0], results[2]):
        assert r.error is None or "not available" in r.error
    assert not _lane_threads()


def test_ctrl_c_stops_every_codec_and_removes_the_temporary_files(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(codecs_mod, "BLOCK_FRAMES", 2048)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        codec_check(_loud_mix(48000, 2.0), 48000, progress=interrupt)
    assert not _lane_threads()
    assert list(tmp_path.iterdir()) == []


def test_progress_is_monotonic_from_the_calling_thread_and_ends_at_the_total(monkeypatch) -> None:
    monkeypatch.setattr(codecs_mod, "BLOCK_FRAMES", 4096)
    caller = threading.get_ident()
    seen: list[tuple[int, int, int]] = []
    x = _loud_mix(44100, 1.0)
    codec_check(x, 44100, progress=lambda d, n: seen.append((d, n, threading.get_ident())))
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones) and dones[0] == 0
    assert seen[-1][0] == seen[-1][1] == x.shape[1] * (1 + 2 * len(CODECS))
    assert {ident for _, _, ident in seen} == {caller}


# --- the fan-out itself -------------------------------------------------------------------


def _blocks(n: int):
    return (np.full((1, 3), float(i)) for i in range(n))


def test_fan_out_gives_every_worker_every_block_in_order() -> None:
    def total(feed) -> float:
        return sum(float(b.sum()) for b in feed)

    def first(feed) -> float:
        return float(next(iter(feed))[0, 0])  # stops after one block: the rest is drained

    seen: list[float] = []
    out = fan_out(_blocks(50), [total, first, total], on_block=lambda b: seen.append(b[0, 0]))
    assert out == [3.0 * sum(range(50)), 0.0, 3.0 * sum(range(50))]
    assert seen == list(range(50))


def test_fan_out_reraises_a_worker_failure_after_every_worker_stopped() -> None:
    def broken(feed) -> None:
        for _ in feed:
            raise ValueError("bad block")

    def counting(feed) -> int:
        return sum(1 for _ in feed)

    with pytest.raises(ValueError, match="bad block"):
        fan_out(_blocks(20), [counting, broken], depth=2)
    assert not _lane_threads()


# --- which libsndfile ---------------------------------------------------------------------


def test_the_bundled_library_is_used_when_asked_and_named_in_the_note(monkeypatch) -> None:
    import soundfile as sf

    from analyzer.io.codec import LIBRARY_ENV

    monkeypatch.setenv(LIBRARY_ENV, "bundled")
    (r,) = codec_check(_loud_mix(48000, 0.5), 48000, codecs=("vorbis",))
    assert f"libsndfile {sf.__libsndfile_version__} (soundfile's bundled)" in r.bitrate_note


def test_the_system_library_gives_the_same_kind_of_answer(monkeypatch) -> None:
    """Both libraries encode to the same settings: the measured bitrates and peaks agree
    within what two builds of one codec differ by (the true peak after the trip is above the
    clipped input's in both)."""
    import sys

    import soundfile as sf

    from analyzer.io.codec import LIBRARY_ENV, _system_soundfile

    system = _system_soundfile()
    if system is None:
        pytest.skip("no system libsndfile")
    assert system is not sf and sys.modules["soundfile"] is sf  # the original is untouched
    x = _loud_mix(44100, 1.0)
    answers = {}
    for choice in ("bundled", "system"):
        monkeypatch.setenv(LIBRARY_ENV, choice)
        answers[choice] = codec_check(x, 44100)
    for a, b in zip(answers["bundled"], answers["system"], strict=True):
        if a.error or b.error:
            continue
        assert f"libsndfile {system.__libsndfile_version__} (system)" in b.bitrate_note
        assert abs(a.true_peak_after_dbtp - b.true_peak_after_dbtp) < 0.5, (a, b)
        assert b.true_peak_after_dbtp > b.true_peak_before_dbtp


def test_fan_out_stops_on_a_cancel_from_another_thread_while_a_queue_is_full() -> None:
    """A worker that stops taking blocks on cancel leaves its queue full: the reader must not
    wait on it for ever (found with Ctrl-C on analyze --codec-check, where the analysis thread
    cancels the check)."""
    import time

    from analyzer.playback.lanes import Cancelled

    cancel = threading.Event()
    outcome: list[BaseException] = []

    def stuck(feed) -> None:
        for _ in feed:
            while True:  # busy with its first block until cancelled
                feed.check()
                time.sleep(0.01)

    def run() -> None:
        try:
            fan_out(_blocks(1000), [stuck], depth=2, cancel=cancel)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=run, daemon=True)
    reader.start()
    threading.Timer(0.3, cancel.set).start()
    reader.join(60)  # a liveness bound, not a timing: without the fix it never ends
    assert not reader.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    assert not _lane_threads()
