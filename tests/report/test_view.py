"""The view: frozen typed data, the comparison merged into the mix's rows, findings ranked by
source, the master / batch sections validated, and the verdicts the terminal and the HTML
share."""

from __future__ import annotations

import dataclasses
import json

import pytest

from analyzer.comparison.metrics import compare
from analyzer.measure.engine import analyze_array
from analyzer.playback.platforms import preview
from analyzer.playback.translate import translate
from analyzer.report.verdicts import above_ceiling, score_grade, true_peak_verdict
from analyzer.report.view import ReportView, batch_view, build_view, master_view
from analyzer.types import DEFAULT_CEILING_DBTP
from tests.signals import pink_noise

FS = 48000


@pytest.fixture(scope="module")
def view() -> ReportView:
    x = pink_noise(5.0, FS, seed=31) * 0.05
    mix = analyze_array(x, FS, path="mix.wav", keep_series=True)
    ref = analyze_array(pink_noise(5.0, FS, seed=32) * 0.2, FS, path="ref.wav", keep_series=True)
    platforms = preview(mix.loudness.integrated_lufs, mix.peaks.true_peak_dbtp)
    return build_view(
        "compare", [mix], platforms=[platforms],
        comparison=compare(mix, [ref]), references=[ref],
        translation=translate(mix, references=[ref]), reference_translations=[translate(ref)],
    )  # fmt: skip


def test_rows_carry_the_comparison(view: ReportView) -> None:
    rows = view.tracks[0].tonal_balance
    assert [r.band for r in rows] == ["sub", "low", "low_mid", "high_mid", "high", "air"]
    for r in rows:
        assert r.compared
        assert r.delta == pytest.approx(r.mix_db - r.median, abs=0.02)
        assert r.verdict in ("within", "above", "below")
    band = view.comparison.reference_spectrum
    assert band.resolution == "1/6 octave" and len(band.hz) == len(band.median)
    curve = view.translation.devices[0].curve
    assert len(curve.hz) == len(curve.mix) == len(curve.ref_median) == 31


def test_findings_order_and_json(view: ReportView) -> None:
    sources = [f.source for f in view.findings]
    # comparison first, then translation, then platforms: never interleaved
    order = {"compare": 0, "translate": 1, "findings": 2, "platforms": 3, "analysis": 4}
    assert [order[s] for s in sources] == sorted(order[s] for s in sources)
    json.dumps(dataclasses.asdict(view), allow_nan=False)
    assert view.master is None and view.batch is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.title = "changed"  # type: ignore[misc]


def test_master_and_batch_sections() -> None:
    with pytest.raises(ValueError, match="gain_db"):
        master_view([{"kind": "peaking", "freq_hz": 100.0}])
    m = master_view(
        [{"kind": "peaking", "freq_hz": 100.04, "gain_db": float("nan"), "q": 1.0}],
        response={"hz": [20.0, 20000.0], "db": [0.0, float("inf")]},
        before_after=[{"label": "Integrated", "before": -20.0, "after": None}],
    )
    move = m.moves[0]
    assert (move.kind, move.freq_hz, move.gain_db, move.q, move.reason) == (
        "peaking", 100.0, None, 1.0, "")  # fmt: skip
    assert m.response.db == (0.0, None)  # infinities and NaN become None
    b = batch_view([{"name": "a.wav", "integrated_lufs": -14.04}], album=None)
    assert b.tracks[0].integrated_lufs == -14.04 and b.tracks[0].lra_lu is None
    v = build_view("batch", [], batch=b, master=m)
    assert v.batch == b and v.master == m
    json.dumps(dataclasses.asdict(v), allow_nan=False)


def test_one_true_peak_rule() -> None:
    """The summary card's class and the terminal's colour come from the same verdict, at the
    default ceiling."""
    assert true_peak_verdict(0.1) == "bad"
    assert true_peak_verdict(DEFAULT_CEILING_DBTP + 0.1) == "warn"
    assert true_peak_verdict(DEFAULT_CEILING_DBTP) == "good"
    assert true_peak_verdict(float("-inf")) is None and true_peak_verdict(None) is None
    assert true_peak_verdict(-1.5, ceiling_dbtp=-2.0) == "warn"
    assert above_ceiling(DEFAULT_CEILING_DBTP + 0.1) and not above_ceiling(None)
    assert [score_grade(s) for s in (75.0, 74.9, 50.0, 10.0, None)] == [
        "good", "warn", "warn", "bad", None]  # fmt: skip


def test_batch_verdicts_say_why_a_track_has_no_loudness() -> None:
    """A silent track and one shorter than a gating block read "ok" in the batch table's
    Verdict column; they say they have no integrated loudness, and why."""
    from types import SimpleNamespace

    import numpy as np

    from analyzer.report.view.batch import batch_view_for

    music = analyze_array(pink_noise(5.0, FS, seed=33) * 0.05, FS, path="music.wav")
    silent = analyze_array(np.zeros((2, 5 * FS)), FS, path="silent.wav")
    short = analyze_array(pink_noise(5.0, FS, seed=34)[:, :2000] * 0.05, FS, path="short.wav")
    result = SimpleNamespace(files=[music, silent, short], errors=[])
    verdicts = [t.verdict for t in batch_view_for(result, None, None).tracks]
    assert verdicts[0] == "ok"
    assert verdicts[1].startswith("no integrated loudness (silent")
    assert verdicts[2] == "no integrated loudness (shorter than one 400 ms gating block)"
