"""The proposal: fitted EQ moves recover a known detuning, respect their limits, leave matched
bands alone, and say when the references are too far away."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.comparison.metrics import compare
from analyzer.mastering.eq import EqMove, apply_eq
from analyzer.mastering.loudness_plan import plan_loudness
from analyzer.mastering.proposal import build_proposal
from analyzer.mastering.settings import amounts_from
from analyzer.mastering.tone_fit import fit_tone
from analyzer.mastering.tone_target import distance_to_range, tonal_error_db, tone_target
from analyzer.measure.engine import analyze_array
from tests.signals import pink_noise

FS = 44100
DETUNE = [
    EqMove("low_shelf", 120.0, -4.0),
    EqMove("high_shelf", 6000.0, -5.0),
    EqMove("peaking", 400.0, 4.0, 1.0),
]


@pytest.fixture(scope="module")
def pair():
    x = 0.1 * pink_noise(20.0, FS, seed=3)
    ref = analyze_array(x, FS)
    mix = analyze_array(apply_eq(x, DETUNE, FS) * 10 ** (-8 / 20), FS)
    return mix, ref


def test_fit_recovers_the_inverse_of_a_known_detuning(pair):
    mix, ref = pair
    tone = fit_tone(tone_target(compare(mix, [ref])), FS)
    assert not tone.too_far
    assert 2.0 < tone.error_before_db < 5.0
    assert tone.error_after_db < 0.2 * tone.error_before_db
    kinds = {m.kind: m for m in tone.moves}
    assert kinds["low_shelf"].gain_db == pytest.approx(4.0, abs=0.6)
    assert kinds["high_shelf"].gain_db == pytest.approx(5.0, abs=0.8)
    bell = kinds["peaking"]
    assert bell.gain_db == pytest.approx(-4.0, abs=0.8)
    assert 300 < bell.frequency_hz < 520
    for m in tone.moves:
        assert m.why.startswith(f"{m.gain_db:+.1f} dB")
        assert "references" in m.why


def test_moves_stay_within_their_limits_and_number(pair):
    mix, ref = pair
    tone = fit_tone(tone_target(compare(mix, [ref])), FS, max_moves=3, max_gain_db=2.0)
    assert 0 < len(tone.moves) <= 3
    assert all(abs(m.gain_db) <= 2.0 + 1e-9 for m in tone.moves)
    assert tone.error_after_db <= tone.error_before_db


def test_identical_tracks_need_no_move(pair):
    _, ref = pair
    tone = fit_tone(tone_target(compare(ref, [ref])), FS)
    assert tone.moves == ()
    assert tone.error_before_db == pytest.approx(0.0, abs=1e-9)


def test_differences_inside_the_references_range_are_ignored(pair):
    mix, ref = pair
    t = tone_target(compare(mix, [ref]))
    lo, hi = np.fmin(t.mix_db, t.median_db) - 0.1, np.fmax(t.mix_db, t.median_db) + 0.1
    wide = type(t)(t.band_hz, t.mix_db, t.median_db, lo, hi)
    assert np.nanmax(np.abs(distance_to_range(wide.mix_db, wide))) == 0.0
    assert fit_tone(wide, FS).moves == ()


def test_amount_scales_every_gain(pair):
    mix, ref = pair
    t = tone_target(compare(mix, [ref]))
    full, half = fit_tone(t, FS), fit_tone(t, FS, amount=0.5)
    assert [m.kind for m in full.moves] == [m.kind for m in half.moves]
    for a, b in zip(full.moves, half.moves, strict=True):
        assert b.gain_db == pytest.approx(a.gain_db / 2, abs=0.051)


def test_fine_curve_gets_closer_than_the_moves():
    x = 0.1 * pink_noise(20.0, FS, seed=5)
    # A ragged difference no six moves can follow: alternating +-2 dB per octave.
    moves = [EqMove("peaking", f, 2.0 * (-1) ** i, 3.0) for i, f in enumerate(
        [63, 125, 250, 500, 1000, 2000, 4000, 8000])]  # fmt: skip
    ref = analyze_array(x, FS)
    mix = analyze_array(apply_eq(x, moves, FS), FS)
    t = tone_target(compare(mix, [ref]))
    coarse, fine = fit_tone(t, FS), fit_tone(t, FS, fine=True)
    assert fine.fine is not None
    assert fine.error_after_db < 0.5 * coarse.error_after_db
    assert coarse.error_after_db <= coarse.error_before_db


def test_far_references_are_named(pair):
    _, ref = pair
    x = 0.1 * pink_noise(20.0, FS, seed=3)
    dull = analyze_array(apply_eq(x, [EqMove("low_pass", 700.0, 0.0, 0.7071)] * 4, FS), FS)
    tone = fit_tone(tone_target(compare(dull, [ref])), FS)
    assert tone.too_far
    assert any("too far from this mix" in n for n in tone.notes)
    assert all(abs(m.gain_db) <= 6.0 for m in tone.moves)
    assert tone.error_after_db <= tone.error_before_db


def test_tonal_error_is_rms_over_40_hz_to_16_khz():
    hz = np.array([31.5, 40.0, 1000.0, 16000.0, 20000.0])
    d = np.array([9.0, 3.0, -4.0, 0.0, 9.0])
    assert tonal_error_db(d, hz) == pytest.approx(np.sqrt((9 + 16 + 0) / 3))


def test_loudness_plan_gain_and_heavy_limiting_warning():
    plan = plan_loudness(-20.0, -1.0, target_lufs=-14.0, target_source="test")
    assert plan.gain_db == pytest.approx(6.0)
    assert plan.predicted_peak_reduction_db == pytest.approx(6.0)
    assert plan.warnings == ()
    loud = plan_loudness(-20.0, -1.0, target_lufs=-8.0, target_source="test")
    assert loud.predicted_peak_reduction_db == pytest.approx(12.0)
    assert any("limiting" in w for w in loud.warnings)
    half = plan_loudness(-20.0, -1.0, target_lufs=-14.0, target_source="t", amount=0.5)
    assert half.gain_db == pytest.approx(3.0)


def test_amounts_and_only():
    assert amounts_from() == {"tone": 1.0, "width": 1.0, "loudness": 1.0}
    assert amounts_from(amount=50, width=0) == {"tone": 0.5, "width": 0.0, "loudness": 0.5}
    assert amounts_from(only="loudness") == {"tone": 0.0, "width": 0.0, "loudness": 1.0}
    from analyzer.errors import UsageError

    with pytest.raises(UsageError):
        amounts_from(amount=120)
    with pytest.raises(UsageError):
        amounts_from(only="bass")


def test_width_move_for_a_wide_mix_and_a_wide_low_end():
    rng = np.random.default_rng(1)
    n = FS * 20
    mid = rng.standard_normal(n) * 0.05
    ref = analyze_array(np.stack([mid + 0.2 * mid, mid - 0.2 * mid]), FS)  # narrow-ish
    side = rng.standard_normal(n) * 0.05  # uncorrelated side: wide at every frequency
    wide = analyze_array(np.stack([mid + side, mid - side]), FS)
    p = build_proposal(wide, compare(wide, [ref]), target_lufs=None, target_source="none")
    assert p.width.side_gain_db is not None and p.width.side_gain_db < -3.0
    assert p.width.mono_below_hz is not None
    assert any("mono below" in w for w in p.width.why)
    mono = analyze_array(mid[None, :], FS)
    p_mono = build_proposal(mono, compare(mono, [ref]), target_lufs=None, target_source="none")
    assert not p_mono.width.active
