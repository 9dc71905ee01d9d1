"""The DC offset taken out before the gain and the limiter (analyzer.mastering.dc): proposed by
the rule of the analysis' dc_offset finding, applied first in the chain as an exact subtraction,
and proved on the written master. A 0.3 offset once took 9 dB of limiting 100 % of the time and
still missed the target."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from analyzer.io.write import output_format
from analyzer.mastering import chain
from analyzer.mastering.apply import run_master
from analyzer.mastering.dc import DcRemover, peak_without_dc_dbtp, propose_dc_removal
from analyzer.mastering.proposal import build_proposal
from analyzer.mastering.settings import amounts_from
from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.report.findings import track_findings
from analyzer.report.json.master import proposal_to_dict
from analyzer.report.json_load import proposal_from_dict
from tests.signals import pink_noise

FS = 44100
OFFSETS = (0.05, -0.03)


@pytest.fixture(scope="module")
def mixes(tmp_path_factory):
    """``(music, music + offsets)`` as files: 8 s of pink noise at about -25 dBFS RMS,
    high-passed at 20 Hz as music is (pink noise reaches down to DC: 8 s of it has a mean of
    about 1 % of its RMS)."""
    d = tmp_path_factory.mktemp("dc")
    x = sosfiltfilt(butter(4, 20.0, "highpass", fs=FS, output="sos"),
                    0.05 * pink_noise(8.0, FS, seed=21), axis=1)  # fmt: skip
    paths = []
    for name, y in (("clean.wav", x), ("offset.wav", x + np.array(OFFSETS)[:, None])):
        sf.write(d / name, y.T, FS, subtype="FLOAT")
        paths.append(d / name)
    return d, x, paths


def test_proposed_by_the_findings_rule_only(mixes) -> None:
    _, x, (clean, offset) = mixes
    a_clean, a_off = analyze_file(clean), analyze_file(offset)
    assert propose_dc_removal(a_clean) is None
    removal = propose_dc_removal(a_off)
    assert removal is not None
    # The offsets are the measured means: the music's own mean is tiny beside them.
    assert removal.offsets == pytest.approx(np.array(OFFSETS) + x.mean(axis=1), abs=1e-9)
    assert any(f.code == "dc_offset" for f in track_findings(a_off))
    assert not any(f.code == "dc_offset" for f in track_findings(a_clean))
    # A whisper of offset (0.1 % of the power) is left alone, as the finding leaves it.
    whisper = x + 0.0015 * np.abs(x).std()
    assert propose_dc_removal(analyze_array(whisper, FS)) is None


def test_the_stage_subtracts_exactly() -> None:
    x = np.random.default_rng(3).standard_normal((2, 1000))
    a = analyze_array(x + np.array([[0.5], [-0.25]]), FS)
    removal = propose_dc_removal(a)
    assert removal is not None
    y = DcRemover(removal, 2).process(x + np.array([[0.5], [-0.25]]))
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.diff(y, axis=1), np.diff(x, axis=1), atol=1e-12)
    with pytest.raises(ValueError):
        DcRemover(removal, 1)


def _master(path, out, amounts=None, target=-12.0):
    a = analyze_file(path)
    p = build_proposal(a, None, target_lufs=target, target_source="test", amounts=amounts)
    return p, run_master(str(path), str(out), a, None, p, lambda s: p,
                         fmt=output_format(str(out), "24"))  # fmt: skip


def test_the_master_loses_the_offset_and_limits_like_the_clean_mix(mixes) -> None:
    d, _, (clean, offset) = mixes
    _, (_, res_clean, _) = _master(clean, d / "clean.master.wav")
    p, (_, res, ver) = _master(offset, d / "offset.master.wav")
    assert p.dc is not None
    assert max(abs(v) for v in res.analysis.dynamics.dc_offset) < 1e-4
    assert ver.checks["loudness_on_target"] and ver.checks["true_peak_within_ceiling"]
    # The same music: the same gain and about the same limiting, offset or not.
    assert res.limiter.input_gain_db == pytest.approx(res_clean.limiter.input_gain_db, abs=0.2)
    assert res.limiter.max_gain_reduction_db == pytest.approx(
        res_clean.limiter.max_gain_reduction_db, abs=0.5)  # fmt: skip
    y, _ = sf.read(res.path, always_2d=True)
    z, _ = sf.read(res_clean.path, always_2d=True)
    assert np.max(np.abs(y - z)) < 0.02


def test_the_plan_predicts_the_limiting_without_the_offset(mixes) -> None:
    _, _, (clean, offset) = mixes
    a = [analyze_file(p) for p in (clean, offset)]
    plans = [build_proposal(x, None, target_lufs=-8.0, target_source="test").loudness
             for x in a]  # fmt: skip
    assert plans[0].predicted_peak_reduction_db > 2.0  # the target takes limiting
    # Kept in the prediction, the offset would add its 2 dB of peak to the limiting.
    assert a[1].peaks.true_peak_dbtp - a[0].peaks.true_peak_dbtp > 1.5
    assert plans[1].predicted_peak_reduction_db == pytest.approx(
        plans[0].predicted_peak_reduction_db, abs=0.5)  # fmt: skip


def test_the_prediction_is_per_channel(mixes) -> None:
    """An offset on one channel lowers that channel's peak only: with the loudest peak on the
    other channel, the prediction (and its limiting) is the mix's own."""
    _, x, _ = mixes
    n = x / np.abs(x).max(axis=1, keepdims=True)
    y = np.stack([0.05 * n[0] + 0.15, 0.35 * n[1]])
    a = analyze_array(y, FS)
    removal = propose_dc_removal(a)
    assert removal is not None
    clean = analyze_array(y - np.array(removal.offsets)[:, None], FS)
    assert peak_without_dc_dbtp(a, removal) == pytest.approx(clean.peaks.true_peak_dbtp, abs=0.1)
    # Both channels offset: each loses its own offset, and the estimate follows the louder.
    both = analyze_array(x + np.array(OFFSETS)[:, None], FS)
    removal = propose_dc_removal(both)
    est = peak_without_dc_dbtp(both, removal)
    assert est == pytest.approx(analyze_array(x, FS).peaks.true_peak_dbtp, abs=0.5)
    for target in (-10.0, -5.0):
        p = build_proposal(a, None, target_lufs=target, target_source="test").loudness
        q = build_proposal(clean, None, target_lufs=target, target_source="test").loudness
        assert p.predicted_peak_reduction_db == pytest.approx(
            q.predicted_peak_reduction_db, abs=0.1
        )
        assert len(p.warnings) == len(q.warnings)


def test_amount_zero_only_tone_and_no_target_leave_it(mixes) -> None:
    _, _, (_, offset) = mixes
    a = analyze_file(offset)
    for amounts in (amounts_from(amount=0), amounts_from(only="tone")):
        p = build_proposal(a, None, target_lufs=-12.0, target_source="test", amounts=amounts)
        assert p.dc is None
    # No target, no gain: nothing for the removal to serve.
    assert build_proposal(a, None, target_lufs=None, target_source="test").dc is None


def test_a_long_file_measures_its_peak_after_the_removal(mixes, monkeypatch) -> None:
    """Files too long to record for replayed trials measure the processed peak in a pass of
    its own; that pass runs the DC stage too (with no EQ or width move), so the gain is not
    capped by the offset's peak and the limiter's figure is the limiter's."""
    d, _, (clean, offset) = mixes
    monkeypatch.setattr(chain, "PEAK_CACHE_FRAMES", 0)
    _, (_, res_clean, _) = _master(clean, d / "clean.long.wav", target=-8.0)
    p, (_, res, ver) = _master(offset, d / "offset.long.wav", target=-8.0)
    assert p.dc is not None and not p.tone.moves and not p.width.active
    assert ver.checks["loudness_on_target"]
    assert res.gain_db == pytest.approx(res_clean.gain_db, abs=0.3)
    assert res.pre_limiter_true_peak_dbtp == pytest.approx(
        res_clean.pre_limiter_true_peak_dbtp, abs=0.5)  # fmt: skip
    assert res.plan.predicted_peak_reduction_db == pytest.approx(
        res.limiter.max_gain_reduction_db, abs=1.0)  # fmt: skip


def test_json_round_trip(mixes) -> None:
    _, _, (_, offset) = mixes
    a = analyze_file(offset)
    p = build_proposal(a, None, target_lufs=-12.0, target_source="test")
    doc = json.loads(json.dumps(proposal_to_dict(p)))
    assert doc["dc_removal"]["offsets"] == pytest.approx(list(p.dc.offsets), abs=1e-6)
    back = proposal_from_dict(doc)
    assert back.dc is not None and back.dc.offsets == pytest.approx(p.dc.offsets, abs=1e-6)
    clean = build_proposal(analyze_array(np.zeros((2, FS)) + 1e-3 * np.eye(2, FS), FS), None,
                           target_lufs=None, target_source="test")  # fmt: skip
    assert proposal_to_dict(clean)["dc_removal"] is None


def test_matchering_says_it_keeps_the_offset(mixes) -> None:
    """Matchering has no DC stage: the master's notes say the offset stays (the native engine's
    rule decides when), and nothing is said for a clean mix."""
    from analyzer.app.mastering_run import matchering_dc_notes

    _, _, (clean, offset) = mixes
    assert matchering_dc_notes(analyze_file(clean)) == []
    (note,) = matchering_dc_notes(analyze_file(offset))
    assert "DC offset (+0.05" in note and "Matchering keeps" in note
