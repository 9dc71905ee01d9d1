"""A mono file plays on both speakers (dual mono), so wherever tracks are compared, levelled or
played, a mono bounce and its two-channel copy (the same samples on both channels) must come out
the same: BS.1770 reads the mono file 3.01 LU quieter (one channel), which once made ``compare``
propose three -6 dB EQ moves and a +6 dB gain between a mono mix and its own stereo copy, made
every device of ``translate`` 3 LU louder, and made the player's level match 3 dB off.

The physics is the reference here: the two files are the same sound on a stereo player.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyzer.app import MasterSettings, TranslateSettings
from analyzer.app import master as run_master
from analyzer.app import translate as run_translate
from analyzer.comparison.album import album_report
from analyzer.comparison.metrics import compare
from analyzer.io import read_audio, write_audio_atomic
from analyzer.mastering.proposal import default_proposal
from analyzer.measure.engine import analyze_file
from analyzer.measure.loudness import DUAL_MONO_LU, as_played_lufs, measure_loudness
from analyzer.playback.listening import listen_set
from tests.signals import db_to_amp, pink_noise

FS = 44100
SECONDS = 4.0
DEVICES = ("studio", "earbuds-open", "phone", "laptop", "car", "club")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """``(mono path, dual-mono path)``: pink noise with a bass line and a kick (for the phone's
    limiter), peaking at -3 dBFS."""
    t = np.arange(round(SECONDS * FS)) / FS
    x = db_to_amp(-20.0) * pink_noise(SECONDS, FS, channels=1, seed=11)[0]
    x += db_to_amp(-14.0) * np.sin(2 * np.pi * 55.0 * t)
    x += db_to_amp(-8.0) * np.sin(2 * np.pi * 60.0 * t) * np.exp(-((t % 0.5) / 0.08))
    x *= db_to_amp(-3.0) / np.abs(x).max()
    folder = tmp_path_factory.mktemp("mono")
    mono, dual = folder / "mono.wav", folder / "dual.wav"
    write_audio_atomic(mono, x[None, :], FS, subtype="FLOAT")
    write_audio_atomic(dual, np.stack([x, x]), FS, subtype="FLOAT")
    return mono, dual


@pytest.fixture(scope="module")
def analyses(pair):
    return tuple(analyze_file(p, keep_series=True) for p in pair)


def test_the_rule_is_two_equal_channels() -> None:
    x = pink_noise(2.0, FS, channels=1, seed=2)
    one, two = (measure_loudness(v, FS).integrated_lufs for v in (x, np.vstack([x, x])))
    assert two - one == pytest.approx(DUAL_MONO_LU, abs=1e-9)  # BS.1770 eq. 2 on its own
    assert as_played_lufs(one, 1) == pytest.approx(two, abs=1e-9)
    assert as_played_lufs(two, 2) == two and as_played_lufs(None, 1) is None


def test_compare_finds_no_difference_and_proposes_nothing(analyses) -> None:
    mono, dual = analyses
    assert dual.loudness.integrated_lufs - mono.loudness.integrated_lufs == pytest.approx(
        DUAL_MONO_LU, abs=0.01)  # fmt: skip
    for mix, ref in ((mono, dual), (dual, mono)):
        comp = compare(mix, [ref])
        assert comp.top_differences == ()
        assert all(m.verdict in (None, "within") for m in comp.metrics.values())
        assert list(comp.reference_gains_db.values()) == [pytest.approx(0.0, abs=0.01)]
        proposal = default_proposal(mix, comp)
        assert proposal.tone.moves == ()
        assert proposal.loudness.gain_db == pytest.approx(0.0, abs=0.05)
    assert any("mono" in n for n in compare(mono, [dual]).notes)
    assert not any("mono" in n for n in compare(dual, [dual]).notes)


def test_album_hears_no_jump(analyses) -> None:
    report = album_report(list(analyses), spread_lu=0.0)
    assert report.loudness_spread_lu == pytest.approx(0.0, abs=0.01)
    assert report.outliers == ()
    assert [g.gain_db for g in report.gains] == [pytest.approx(0.0, abs=0.01)] * 2


def test_translate_and_renders_are_the_same(pair, tmp_path) -> None:
    settings = TranslateSettings(devices=DEVICES)
    runs = [run_translate(p, settings, render_dir=tmp_path / p.stem) for p in pair]
    mono, dual = ([(d.name, d.loudness_change_lu, d.score) for d in r.translation.devices]
                  for r in runs)  # fmt: skip
    for (name, change_m, score_m), (_, change_d, score_d) in zip(mono, dual, strict=True):
        assert change_m == pytest.approx(change_d, abs=0.02), name
        assert score_m == pytest.approx(score_d, abs=0.2), name
    assert dict((n, c) for n, c, _ in mono)["studio"] == pytest.approx(0.0, abs=1e-9)
    assert any("mono" in n for n in runs[0].notes)
    for a, b in zip(runs[0].renders, runs[1].renders, strict=True):
        assert a.gain_db == pytest.approx(b.gain_db, abs=0.02), a.name
        played = []
        for w in (a, b):  # measured on the files, each as a stereo player plays it
            y, _ = read_audio(w.path)
            played.append(measure_loudness(np.vstack([y, y]) if y.shape[0] == 1 else y,
                                           FS).integrated_lufs)  # fmt: skip
        assert played[0] == pytest.approx(played[1], abs=0.05), a.name
        if a.name != "car":  # the road noise is left out of the promise
            assert played[0] == pytest.approx(a.loudness_lufs, abs=0.12), a.name


def test_the_band_model_agrees_too(analyses) -> None:
    from analyzer.playback.devices import BUILTIN_DEVICES
    from analyzer.playback.translate import translate

    devices = [BUILTIN_DEVICES[n] for n in DEVICES]
    mono, dual = (translate(a, devices).devices for a in analyses)  # no measured effects
    for m, d in zip(mono, dual, strict=True):
        assert m.loudness_change_lu == pytest.approx(d.loudness_change_lu, abs=0.02), m.name
        assert m.score == pytest.approx(d.score, abs=0.2), m.name


def test_the_player_matches_them_at_the_same_level(pair) -> None:
    clips = listen_set([(str(p), "mix", None) for p in pair], [], clip_s=3.0)
    assert [c.channels for c in clips.clips] == [1, 2]
    levels = [c.integrated_lufs for c in clips.clips]
    assert all(v is not None and math.isfinite(v) for v in levels)
    assert levels[0] == pytest.approx(levels[1], abs=0.05)
    assert clips.matched_gains_db() == [pytest.approx(0.0, abs=0.05)] * 2


def test_a_mono_master_is_verified_in_its_own_reading(pair, tmp_path) -> None:
    """The target is the file's own reading (what ``analyze`` prints), so the verification's
    rows are too, and the references' column is taken to that reading: mastered to its own
    dual-mono copy, a mono mix must land on the copy in every row, and on an explicit target
    its "after" row must read the target."""
    mono, dual = pair
    run = run_master(str(mono), str(tmp_path / "m.wav"), MasterSettings(references=(str(dual),)))
    v, own = run.verification, run.result.analysis.loudness.integrated_lufs
    rows = {r.metric: r for r in v.rows}
    assert v.target_lufs == pytest.approx(rows["integrated"].reference, abs=1e-6)
    assert rows["integrated"].after == pytest.approx(own, abs=1e-9)
    assert v.checks["loudness_on_target"]
    assert rows["integrated"].before == pytest.approx(rows["integrated"].reference, abs=0.05)
    assert rows["PLR"].after == pytest.approx(rows["PLR"].reference, abs=0.1)
    plr_own = run.result.analysis.peaks.true_peak_dbtp - own
    assert rows["PLR"].after == pytest.approx(plr_own, abs=0.01)
    run = run_master(str(mono), str(tmp_path / "t.wav"), MasterSettings(target_lufs=-20.0))
    after = {r.metric: r for r in run.verification.rows}["integrated"].after
    assert after == pytest.approx(-20.0, abs=0.3)
    assert after == pytest.approx(run.result.analysis.loudness.integrated_lufs, abs=1e-9)
