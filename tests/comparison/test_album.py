"""Album consistency: spreads, outliers in words, suggested gains and their true-peak safety."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analyzer.comparison.album import album_report
from analyzer.measure.engine import analyze_array
from analyzer.types import TrackAnalysis

BANDS = ("sub", "low", "low_mid", "high_mid", "high", "air")


@pytest.fixture(scope="module")
def base() -> TrackAnalysis:
    noise = 0.1 * np.random.default_rng(0).standard_normal((2, 48000 * 4))
    return analyze_array(noise, 48000, path="base.wav")


def _track(
    base: TrackAnalysis, name: str, lufs: float | None, tp: float, tonal: dict | None = None
) -> TrackAnalysis:
    """A track with chosen integrated loudness, true peak and tonal balance (the album report
    reads nothing else)."""
    balance = dict.fromkeys(BANDS, -10.0) | (tonal or {})
    return replace(
        base,
        file=replace(base.file, path=name),
        loudness=replace(base.loudness, integrated_lufs=lufs),
        peaks=replace(base.peaks, true_peak_dbtp=tp),
        spectrum=replace(base.spectrum, tonal_balance_db=balance),
    )


def test_spreads_outliers_and_gains(base: TrackAnalysis) -> None:
    tracks = [
        _track(base, "1.wav", -14.0, -1.5),
        _track(base, "2.wav", -14.5, -2.0, {"high": -6.0}),  # 4 dB brighter
        _track(base, "3.wav", -13.5, -1.2, {"low": -12.5}),  # 2.5 dB lighter: within 3 dB
        _track(base, "4.wav", -20.0, -9.0),  # 6 LU quiet, room for +5 dB
        _track(base, "5.wav", -8.0, 0.5),  # 6 LU loud
    ]
    rep = album_report(tracks, spread_lu=2.0, ceiling_dbtp=-1.0)
    assert rep.median_lufs == -14.0
    assert rep.loudness_spread_lu == pytest.approx(12.0)
    assert rep.tonal_spread_db["high"] == pytest.approx(4.0)
    assert rep.tonal_spread_db["low"] == pytest.approx(2.5)
    assert rep.tonal_spread_db["air"] == 0.0
    by_path = {o.path: o for o in rep.outliers}
    assert set(by_path) == {"2.wav", "4.wav", "5.wav"}
    assert by_path["5.wav"].reasons == ("6.0 LU louder",)
    assert by_path["5.wav"].text == "track 5 (5.wav) is 6.0 LU louder than the album median"
    assert by_path["4.wav"].reasons == ("6.0 LU quieter",)
    assert by_path["2.wav"].reasons == ("4.0 dB brighter (6k-12k Hz)",)
    # Window [-15, -13]: tracks inside keep their level; the others move to its edge.
    gains = {g.path: g for g in rep.gains}
    assert [gains[p].gain_db for p in ("1.wav", "2.wav", "3.wav")] == [0.0, 0.0, 0.0]
    assert gains["4.wav"].gain_db == pytest.approx(5.0) and gains["4.wav"].reason is None
    assert gains["4.wav"].true_peak_after_dbtp == pytest.approx(-4.0)
    assert gains["5.wav"].gain_db == pytest.approx(-5.0)
    assert rep.loudness_spread_after_lu == pytest.approx(2.0)


def test_true_peak_cuts_a_gain_and_says_why(base: TrackAnalysis) -> None:
    tracks = [
        _track(base, "a.wav", -14.0, -1.0),
        _track(base, "b.wav", -14.0, -1.0),
        _track(base, "quiet.wav", -22.0, -4.0),  # wants +7 dB: the peak allows +3
    ]
    rep = album_report(tracks, spread_lu=2.0, ceiling_dbtp=-1.0)
    g = next(g for g in rep.gains if g.path == "quiet.wav")
    assert g.wanted_gain_db == pytest.approx(7.0)
    assert g.gain_db == pytest.approx(3.0)
    assert g.true_peak_after_dbtp == pytest.approx(-1.0)
    assert "true peak" in g.reason and "+3.0 dBTP" in g.reason and "-1.0 dBTP" in g.reason
    # A peak already above the ceiling allows no boost at all, never a cut in level.
    over = album_report([*tracks[:2], _track(base, "hot.wav", -20.0, -0.5)], ceiling_dbtp=-1.0)
    assert next(g for g in over.gains if g.path == "hot.wav").gain_db == 0.0


def test_spread_zero_matches_every_track_to_the_median(base: TrackAnalysis) -> None:
    levels = [-9.0, -12.0, -14.0, -15.5, -18.0]
    tracks = [_track(base, f"{i}.wav", v, -30.0) for i, v in enumerate(levels)]
    rep = album_report(tracks, spread_lu=0.0)
    assert [g.integrated_after_lufs for g in rep.gains] == pytest.approx([-14.0] * 5)
    assert rep.loudness_spread_after_lu == pytest.approx(0.0)


def test_silent_tracks_are_left_out_with_a_note(base: TrackAnalysis) -> None:
    tracks = [
        _track(base, "a.wav", -14.0, -1.0),
        _track(base, "silent.wav", float("-inf"), float("-inf")),
        _track(base, "short.wav", None, -3.0),
    ]
    rep = album_report(tracks)
    assert rep.n_tracks == 1 and [g.path for g in rep.gains] == ["a.wav"]
    assert len(rep.notes) == 2 and "silent.wav" in rep.notes[0]
    assert album_report([tracks[1]]).n_tracks == 0


@pytest.mark.slow
def test_corpus_album_names_the_loud_master_and_the_quiet_chiptune(corpus_analyses) -> None:
    """Over all corpus music: the loudest electronic master (nexuiz--brokenlight, about -8 LUFS)
    and the quietest chiptune (supertux) are loudness outliers, louder and quieter. (The
    analyses are the suite's shared ones; that ``batch`` gives the same for these files is
    ``tests/batching/test_runner.py::test_batch_equals_analyze_on_corpus_files``.)"""
    files = list(corpus_analyses.values())
    assert len(files) == 16
    rep = album_report(files)
    loud = {
        Path(o.path).name: o
        for o in rep.outliers
        if o.reasons and o.reasons[0].endswith(("LU louder", "LU quieter"))
    }
    electronic = max(
        (f for f in files if Path(f.file.path).name.startswith("nexuiz--")),
        key=lambda f: f.loudness.integrated_lufs,
    )
    chiptune = min(
        (f for f in files if Path(f.file.path).name.startswith("supertux--")),
        key=lambda f: f.loudness.integrated_lufs,
    )
    assert Path(electronic.file.path).name == "nexuiz--brokenlight.ogg"
    assert loud["nexuiz--brokenlight.ogg"].reasons[0].endswith("LU louder")
    assert loud[Path(chiptune.file.path).name].reasons[0].endswith("LU quieter")
    assert "LU louder" in loud["nexuiz--brokenlight.ogg"].text
    # The loud master is brought down to the window's top edge; nothing crosses the ceiling
    # because of a suggested gain.
    gains = {Path(g.path).name: g for g in rep.gains}
    top = rep.median_lufs + rep.target_spread_lu / 2
    assert gains["nexuiz--brokenlight.ogg"].integrated_after_lufs == pytest.approx(top)
    for g, f in zip(rep.gains, files, strict=True):
        if g.gain_db > 0:
            assert g.true_peak_after_dbtp <= rep.ceiling_dbtp + 1e-9, g
            assert g.true_peak_after_dbtp == pytest.approx(f.peaks.true_peak_dbtp + g.gain_db)
