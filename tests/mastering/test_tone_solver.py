"""The tone fit's vectorised residuals (every finite-difference step in one evaluation) equal
the one-vector residual bit for bit, so the solver's path, and with it the proposal, is the same
as with one call per step; and scipy really hands the steps to the batch."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.mastering.eq import EqMove
from analyzer.mastering.tone_solver import MoveFit, vector
from analyzer.mastering.tone_target import ToneTarget

BANDS = 1000.0 * 2.0 ** (np.arange(-15, 15) / 3.0)


def _fit(fs: float = 48000.0) -> MoveFit:
    rng = np.random.default_rng(7)
    mix = -20.0 - 3.0 * np.log2(BANDS / 1000.0) + rng.normal(0.0, 2.0, BANDS.size)
    median = -20.0 - 2.0 * np.log2(BANDS / 1000.0)
    mix[0] = np.nan  # an undefined band
    target = ToneTarget(BANDS, mix, median, median - 1.5, median + 1.5)
    return MoveFit(target, fs, 6.0, np.ones(BANDS.size))


KINDS = ["low_shelf", "peaking", "peaking", "high_shelf"]
MOVES = [
    EqMove("low_shelf", 90.0, 2.5, 0.7071),
    EqMove("peaking", 400.0, -3.0, 0.9),
    EqMove("peaking", 520.0, -1.0, 2.0),
    EqMove("high_shelf", 7000.0, 4.0, 0.7071),
]


def test_kept_move_responses_give_the_values_of_a_fresh_evaluation(monkeypatch) -> None:
    """The fit keeps each move's response for the settings it was asked for; a warm fit (its
    cache full, and cleared on the way when it is small) gives every residual bit for bit as a
    new fit evaluating everything afresh."""
    from analyzer.mastering import tone_solver

    rng = np.random.default_rng(11)
    x = vector(MOVES)
    points = [x + rng.normal(0.0, 0.3, x.size) for _ in range(6)]
    batches = [np.repeat(p[None, :], x.size, axis=0) + np.eye(x.size) * 1e-6 for p in points]
    for size in (512, 3):
        monkeypatch.setattr(tone_solver, "SECTION_CACHE", size)
        warm = _fit()
        for p, steps in zip(points, batches, strict=True):
            for _ in range(2):  # the second time every response comes from the cache
                assert np.array_equal(warm.residual(KINDS, p), _fit().residual(KINDS, p))
                assert np.array_equal(warm.residuals(KINDS, steps),
                                      _fit().residuals(KINDS, steps))  # fmt: skip
        assert len(warm._sections) <= max(size, len(KINDS) * (x.size + 1))


def test_batched_residuals_equal_single_ones_bit_for_bit() -> None:
    fit = _fit()
    x = vector(MOVES)
    rng = np.random.default_rng(3)
    xs = x + rng.normal(0.0, 0.3, (12, x.size))
    batch = fit.residuals(KINDS, xs)
    for row, xi in zip(batch, xs, strict=True):
        single = fit.residual(KINDS, xi)
        assert np.array_equal(row, single)
    # the residual is what its parts say: the gain penalty holds each move's gain
    gains = fit.residual(KINDS, x)[BANDS.size : BANDS.size + len(KINDS)]
    assert gains == pytest.approx([0.04 * m.gain_db for m in MOVES], abs=1e-12)


def test_the_solver_uses_the_batch_and_reaches_the_same_point(monkeypatch) -> None:
    from analyzer.mastering import tone_solver

    fit = _fit()
    x0 = vector(MOVES)
    rows: list[int] = []
    real = tone_solver.MoveFit.residuals

    def counted(self, kinds, xs):
        rows.append(len(xs))
        return real(self, kinds, xs)

    monkeypatch.setattr(tone_solver.MoveFit, "residuals", counted)
    batched = fit.solve(KINDS, x0)
    assert max(rows) == x0.size  # one call holds every parameter's step

    class OneByOne:  # scipy's own way: the residual called once per step
        def __init__(self, fit: MoveFit, kinds: list[str]) -> None:
            self.fit, self.kinds = fit, kinds

        def __call__(self, rows):
            return [self.fit.residual(self.kinds, x) for x in rows]

    monkeypatch.setattr(tone_solver, "_Batched", OneByOne)
    rows.clear()
    plain = fit.solve(KINDS, x0)
    assert max(rows) == 1
    assert np.array_equal(batched, plain)
    assert fit.cost(KINDS, batched) < fit.cost(KINDS, x0)


def test_spacing_penalty_by_hand_and_batched_equals_one_set_at_a_time() -> None:
    """The fit's spacing penalty: same kind closer than 1/3 octave costs the missing octaves x
    the smaller gain x 3; opposite signs closer than an octave the missing octaves x the smaller
    gain; anything else nothing. The batched form (one set per finite-difference step) gives
    each set's values exactly."""
    from analyzer.mastering.tone_rules import spacing_violation, spacing_violations

    moves = [
        EqMove("peaking", 1000.0, 2.0, 1.0),
        EqMove("peaking", 1000.0 * 2 ** (1 / 6), 3.0, 1.0),  # same kind, 1/6 octave apart
        EqMove("high_shelf", 1000.0 * 2**0.5, -4.0, 0.7071),  # opposing, 1/2 and 1/3 octave
        EqMove("low_shelf", 100.0, 5.0, 0.7071),  # far from all
    ]
    got = spacing_violation(moves)
    want = [(1 / 3 - 1 / 6) * 2.0 * 3.0, 0.5 * 2.0, 0.0, (1 - 1 / 3) * 3.0, 0.0, 0.0]
    assert np.allclose(got, want, rtol=0, atol=1e-12)
    rng = np.random.default_rng(5)
    kinds = [m.kind for m in moves]
    hz = 1000.0 * 2.0 ** rng.uniform(-2, 2, (7, len(moves)))
    gains = rng.uniform(-6, 6, (7, len(moves)))
    batched = spacing_violations(kinds, hz, gains)
    for row in range(7):
        one = [EqMove(k, f, g) for k, f, g in zip(kinds, hz[row], gains[row], strict=True)]
        assert np.array_equal(batched[row], spacing_violation(one))


@pytest.mark.parametrize("amount", [1.0, 0.5, 0.25])
def test_no_final_move_is_too_small_to_make(amount: float) -> None:
    """A move the final rounding and holds leave under MIN_MOVE_DB (times the amount) goes:
    three corpus proposals kept a shelf held to 0.1-0.2 dB."""
    from analyzer.mastering.tone_fit import MIN_MOVE_DB, _final_moves

    fit = _fit()
    fitted = [*MOVES, EqMove("peaking", 2500.0, 0.25, 1.0), EqMove("low_shelf", 40.0, -0.4, 0.7071)]
    got = _final_moves(fit, fitted, amount)
    assert got and all(abs(m.gain_db) >= MIN_MOVE_DB * amount for m in got), got
    # the moves big enough stay (none of them breaks another rule here)
    assert {(m.kind, m.frequency_hz) for m in got} >= {
        (m.kind, m.frequency_hz)
        for m in MOVES
        if abs(round(m.gain_db * amount, 1)) >= MIN_MOVE_DB * amount
    } - {("peaking", 520.0)}  # within 1/3 octave of the 400 Hz bell: resolve_conflicts merges
