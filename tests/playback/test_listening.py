"""The player's clips (issue 18): Ogg Opus at 48 kHz through libsndfile, the loudest 30 s,
the matched gains from the decoded clips, at most four references, the master on the mix's
bars, the size budget; and ``--listen`` refused without ``--html``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.app.listening import listen_clips, loudest_start_s, with_master_clip
from analyzer.io import decode_opus, encode_opus
from analyzer.io.codec import LIBRARY_ENV
from analyzer.measure.loudness import measure_loudness
from tests.cli.test_cli import one_error_line, run
from tests.signals import pink_noise


@pytest.mark.parametrize("library", ["auto", "bundled"])
def test_opus_round_trip_resamples_to_48k_and_keeps_length_and_loudness(
    library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With either libsndfile (the system's, chosen when it has Opus, or soundfile's own)."""
    monkeypatch.setenv(LIBRARY_ENV, library)
    x = pink_noise(3.0, 44100, seed=1) * 0.2
    y, rate = decode_opus(encode_opus(x, 44100))
    assert rate == 48000 and y.shape[0] == 2
    assert abs(y.shape[1] - 3.0 * 48000) <= 1  # pre-skip honoured, nothing added
    before = measure_loudness(x, 44100).integrated_lufs
    after = measure_loudness(y, 48000).integrated_lufs
    assert abs(before - after) < 0.2


def test_thirty_seconds_of_stereo_fit_the_budget() -> None:
    """Five clips add at most ~4 MB as base64: one 30 s stereo clip <= 600 kB of Opus."""
    x = np.random.default_rng(2).standard_normal((2, 30 * 48000)) * 0.1  # white: the worst case
    assert len(encode_opus(x, 48000)) <= 600_000


def _write(path: Path, x: np.ndarray, rate: int) -> Path:
    sf.write(path, x.T, rate, subtype="PCM_16")
    return path


def test_the_loudest_section_is_found_and_the_master_shares_the_mix_bars(tmp_path: Path) -> None:
    rate = 8000  # cheap: the meter's work scales with the rate
    x = pink_noise(20.0, rate, seed=3) * 0.05
    x[:, 8 * rate : 14 * rate] *= 4.0  # the loud 6 s start at 8 s
    mix = _write(tmp_path / "mix.wav", x, rate)
    start = loudest_start_s(mix, 6.0)
    assert start is not None and abs(start - 8.0) <= 0.5
    short = _write(tmp_path / "short.wav", pink_noise(2.0, rate, channels=1, seed=4) * 0.3, rate)
    assert loudest_start_s(short, 6.0) is None  # not longer than the clip: played whole
    master = _write(tmp_path / "master.wav", x * 2.0, rate)
    refs = [short] * 5
    ls = listen_clips(mix, refs, master=master, devices=[], clip_s=6.0)
    assert [c.role for c in ls.clips] == ["mix"] + ["reference"] * 4 + ["master"]
    assert ls.clips[0].start_s == ls.clips[-1].start_s == start
    assert ls.clips[0].duration_s == 6.0 and ls.clips[1].duration_s == 2.0
    assert ls.clips[1].channels == 1
    assert any("at most 4 references" in n for n in ls.notes)
    assert any("resampled 8000 -> 48000 Hz" in n for n in ls.notes)
    assert [d["name"] for d in ls.devices] == ["studio"]
    # Gains bring every clip to the quietest decoded clip's loudness (none above 0 dB).
    gains = ls.matched_gains_db()
    levels = [c.integrated_lufs for c in ls.clips]
    for g, lufs in zip(gains, levels, strict=True):
        assert g <= 0.0 and abs(lufs + g - min(levels)) < 1e-9
    assert abs(gains[-1] - gains[0] + 20 * np.log10(2.0)) < 0.2  # the master is 6 dB louder
    y, _ = decode_opus(ls.clips[0].opus)
    assert abs(measure_loudness(y, 48000).integrated_lufs - levels[0]) < 1e-9


def test_the_master_clip_added_later_equals_the_clips_made_together(tmp_path: Path) -> None:
    """The demo encodes the mix's and the reference's clips while the master is made, then adds
    the master's (:func:`with_master_clip`): the same set as :func:`listen_clips` with it."""
    rate = 8000
    x = pink_noise(12.0, rate, seed=6) * 0.05
    x[:, 5 * rate : 9 * rate] *= 3.0
    mix = _write(tmp_path / "mix.wav", x, rate)
    ref = _write(tmp_path / "ref.wav", pink_noise(8.0, rate, seed=7) * 0.1, rate)
    master = _write(tmp_path / "master.wav", x * 1.5, rate)
    together = listen_clips(mix, [ref], master=master, devices=[], clip_s=3.0)
    later = with_master_clip(listen_clips(mix, [ref], devices=[], clip_s=3.0), master, clip_s=3.0)
    # Equal but for the Ogg stream's serial number, which libsndfile draws at random.
    assert replace(later, clips=()) == replace(together, clips=())
    for a, b in zip(later.clips, together.clips, strict=True):
        assert replace(a, opus=b"") == replace(b, opus=b"")
        assert np.array_equal(decode_opus(a.opus)[0], decode_opus(b.opus)[0])
    assert later.clips[-1].role == "master" and later.clips[-1].start_s == later.clips[0].start_s


def test_listen_needs_html(tmp_path: Path) -> None:
    mix = _write(tmp_path / "mix.wav", pink_noise(2.0, 8000, seed=5) * 0.1, 8000)
    proc = run("compare", str(mix), "--ref", str(mix), "--listen")  # refused before any work
    one_error_line(proc, 2, "--listen needs --html")
