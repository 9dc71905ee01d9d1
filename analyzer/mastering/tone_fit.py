"""The tone fit: a few explainable EQ moves (and optionally a fine match curve) that bring the
mix's 1/3-octave balance into the references' range (:mod:`analyzer.mastering.tone_target`).

A small set of RBJ moves (low shelf, high shelf, up to four peaking bands) is fitted to the
distance-to-range residual by bounded nonlinear least squares (trust-region reflective, scipy's
``least_squares`` step for step: :mod:`analyzer.mastering.trust_region`), adding a peaking band
where the residual is largest as long as each one still pays for itself, and dropping moves
that end up negligible: the fewest moves that explain the difference.

``fine`` adds the smoothed residual as a linear-phase match curve on top of the moves (the way
Ozone's Match EQ smooths its curve, smoothing width in octaves), for the closest match rather
than the fewest moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analyzer.dsp.units import ratio_db
from analyzer.mastering.eq import EqMove
from analyzer.mastering.tone_rules import (
    PLAIN_MAX_Q,
    limit_summed_response,
    resolve_conflicts,
)
from analyzer.mastering.tone_solver import (
    MoveFit,
    deadband_target,
    subvector,
    usable_bands,
    vector,
)
from analyzer.mastering.tone_target import (
    ToneTarget,
    band_gain_db,
    band_grid,
    distance_to_range,
    k_power,
    predicted_levels,
    tonal_error_db,
)

DEFAULT_MAX_MOVES = 6
DEFAULT_MAX_GAIN_DB = 6.0
DEFAULT_SMOOTHING_OCTAVES = 1.0 / 3.0
#: Gains the fit would set smaller than this are dropped: inaudible, and one sentence less.
MIN_MOVE_DB = 0.3
#: A new peaking band must cut the remaining cost by this fraction to be kept.
MIN_IMPROVEMENT = 0.05


@dataclass(frozen=True)
class FineCurve:
    """A smoothed match-EQ curve (dB at ``frequencies_hz``, log-interpolated between them and
    tapered to 0 dB an octave beyond), applied as a linear-phase FIR."""

    frequencies_hz: tuple[float, ...]
    gain_db: tuple[float, ...]
    smoothing_octaves: float

    def gain_at(self, frequencies_hz: np.ndarray) -> np.ndarray:
        f = np.maximum(np.asarray(frequencies_hz, dtype=float), 1e-3)
        x = np.log2(f)
        xs = np.log2(np.asarray(self.frequencies_hz))
        g = np.interp(x, xs, np.asarray(self.gain_db))
        below = np.clip(1.0 - (xs[0] - x), 0.0, 1.0)  # linear fade over an octave
        above = np.clip(1.0 - (x - xs[-1]), 0.0, 1.0)
        return g * np.where(x < xs[0], below, 1.0) * np.where(x > xs[-1], above, 1.0)


@dataclass(frozen=True)
class ToneProposal:
    """Fitted moves, per-band before/after (signed distance to the references' range, dB) and
    their RMS over 40 Hz-16 kHz."""

    moves: tuple[EqMove, ...]
    fine: FineCurve | None
    band_hz: tuple[float, ...]
    before_db: tuple[float | None, ...]
    after_db: tuple[float | None, ...]
    error_before_db: float | None
    error_after_db: float | None
    amount: float
    notes: tuple[str, ...] = ()
    #: Predicted band levels after the EQ (dB re integrated loudness), for the correction.
    predicted_db: tuple[float | None, ...] = ()
    #: The gate's statistic (:func:`analyzer.mastering.tone_gate.far_statistic_db`) and whether
    #: it trips: the references are too far from this mix to match.
    far_db: float | None = None
    too_far: bool = False


def _region(hz: float) -> str:
    for top, name in ((60, "sub-bass"), (250, "low end"), (500, "low-mid body"),
                      (2000, "midrange"), (6000, "presence"), (12000, "top end")):  # fmt: skip
        if hz < top:
            return name
    return "air"


def explain(move: EqMove) -> str:
    """One sentence: what the move is and why."""
    kind = {"low_shelf": "low shelf", "high_shelf": "high shelf", "peaking": "bell"}[move.kind]
    where = f"{move.frequency_hz / 1000:.3g} kHz" if move.frequency_hz >= 1000 else (
        f"{move.frequency_hz:.0f} Hz"
    )  # fmt: skip
    if move.kind == "low_shelf":
        region = "low end"
    elif move.kind == "high_shelf":
        region = "air" if move.frequency_hz >= 9000 else "top end"
    else:
        region = _region(move.frequency_hz)
    reason = (
        f"the references have more {region}" if move.gain_db > 0
        else f"the mix has more {region} than the references"
    )  # fmt: skip
    return f"{move.gain_db:+.1f} dB {kind} at {where}, Q {move.q:.2g}: {reason}"


def fit_tone(
    target: ToneTarget,
    sample_rate_hz: float,
    *,
    max_moves: int = DEFAULT_MAX_MOVES,
    max_gain_db: float = DEFAULT_MAX_GAIN_DB,
    fine: bool = False,
    smoothing_octaves: float = DEFAULT_SMOOTHING_OCTAVES,
    amount: float = 1.0,
    surgical: bool = False,
    extremes_room_db: np.ndarray | None = None,
    start: Sequence[EqMove] = (),
) -> ToneProposal:
    """Fit at most ``max_moves`` moves to ``target`` under the rules of
    :mod:`analyzer.mastering.tone_rules` (summed response within ``±max_gain_db``, spacing,
    Q 2 at the narrowest unless ``surgical``, band limits, the tolerance left alone); with
    ``fine``, add the smoothed residual as a match curve. ``amount`` (0-1) scales every gain.
    The proposal says whether the references are too far to match
    (:func:`analyzer.mastering.tone_gate.far_statistic_db`). ``extremes_room_db``: how much the
    moves may boost each band below 30 Hz / above 16 kHz (default: the room the references
    leave above ``target.mix_db``, :func:`analyzer.mastering.tone_rules.out_of_band_room_db`).
    ``start``: the moves of an earlier fit of nearly the same target (the refit after heavy
    limiting, :func:`analyzer.mastering.apply.run_master`): their structure is kept and only
    their parameters refitted, instead of searching the structure again."""
    from analyzer.mastering.tone_gate import far_notes, far_statistic_db

    hz = target.band_hz
    usable = usable_bands(target, sample_rate_hz)
    before = distance_to_range(target.mix_db, target)
    err_before = tonal_error_db(before, hz)
    if not np.any(usable) or max_moves <= 0 or err_before is None:
        return ToneProposal((), None, tuple(hz), _opt(before), _opt(before), err_before,
                            err_before, amount, ("no tonal comparison possible",))  # fmt: skip
    if not far_statistic_db(target.mix_db, target):  # every band within the tolerance
        return ToneProposal((), None, tuple(hz), _opt(before), _opt(before), err_before,
                            err_before, amount, far_db=0.0)  # fmt: skip
    fit = MoveFit(
        target,
        sample_rate_hz,
        max_gain_db,
        usable.astype(float),
        surgical,
        room_db=extremes_room_db,
    )
    kinds, x = _structure(fit, start, usable, max_moves, max_gain_db)
    kinds, x = _drop_negligible(fit, kinds, x)
    x = fit.solve(kinds, x, max_nfev=300)
    fit.goal = deadband_target(target)  # a bell that only fills what the tolerance allows goes
    kinds, x = _keep_what_pays(fit, kinds, x)
    fit.goal = target  # the moves kept are fitted exactly (no drift inside the tolerance)
    kinds, x = _drop_negligible(fit, kinds, x)
    x = fit.solve(kinds, x, max_nfev=300)  # polish the final set
    kinds, x = _obey_spacing(fit, kinds, x)
    full = _final_moves(fit, fit.moves(kinds, x), 1.0)
    far_db = far_statistic_db(fit.levels(full), target)
    moves = _final_moves(fit, full, amount)
    levels = fit.levels(moves)
    curve = None
    if fine:
        curve, levels = _fine_curve(fit, target, moves, usable, smoothing_octaves, max_gain_db,
                                    amount)  # fmt: skip
    after = distance_to_range(levels, target)
    notes, too_far = far_notes(far_db, err_before)
    return ToneProposal(
        moves=tuple(moves),
        fine=curve,
        band_hz=tuple(float(h) for h in hz),
        before_db=_opt(before),
        after_db=_opt(after),
        error_before_db=err_before,
        error_after_db=tonal_error_db(after, hz),
        amount=amount,
        notes=notes,
        predicted_db=_opt(levels),
        far_db=far_db,
        too_far=too_far,
    )


def _structure(
    fit: MoveFit, start: Sequence[EqMove], usable: np.ndarray, max_moves: int,
    max_gain_db: float,
) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """The moves to refine: ``start``'s (inside the fit's bounds), or the shelves and the bells
    that pay for themselves."""
    if start:
        lo, hi = fit.bounds([m.kind for m in start])
        return [m.kind for m in start], np.clip(vector(start), lo, hi)
    kinds, x = _fit_shelves(fit, max_moves)
    return _add_peaks(fit, kinds, x, usable, max_moves, max_gain_db)


def _fit_shelves(fit: MoveFit, max_moves: int) -> tuple[list[str], np.ndarray]:
    """Start from a low and a high shelf (as many as ``max_moves`` allows), fitted together."""
    kinds: list[str] = []
    x = np.zeros(0)
    shelves = [("low_shelf", 100.0), ("high_shelf", 8000.0)][: max(max_moves, 0)]
    for kind, f0 in shelves:
        lo, hi = fit.f_bounds[kind]
        if lo < hi:
            kinds.append(kind)
            x = np.concatenate([x, [math.log2(min(max(f0, lo), hi)), 0.0]])
    return kinds, fit.solve(kinds, x)


def _add_peaks(
    fit: MoveFit, kinds: list[str], x: np.ndarray, usable: np.ndarray, max_moves: int,
    max_gain_db: float,
) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """Add peaking bands where the residual is largest while each still pays for itself (cuts
    the cost by ``MIN_IMPROVEMENT``)."""
    hz = fit.t.band_hz
    while len(kinds) < max_moves:
        d = np.nan_to_num(distance_to_range(fit.levels(fit.moves(kinds, x)), fit.t), nan=0.0)
        d = d * fit.w
        peak_zone = (hz >= 40.0) & (hz <= 12500.0)
        if not np.any(peak_zone & usable):
            break
        # the largest excess and the largest lack (level matching makes either the better
        # first bell, depending on where the shelves settled)
        zone = np.where(peak_zone, d, 0.0)
        centres = [i for i in {int(np.argmax(zone)), int(np.argmin(zone))}
                   if abs(d[i]) >= 2.0 * MIN_MOVE_DB]  # fmt: skip
        if not centres:
            break
        cost = fit.cost(kinds, x)
        best = min((_best_peak(fit, kinds, x, float(hz[i]), float(d[i]), max_gain_db)
                    for i in centres), key=lambda b: b[0])  # fmt: skip
        if best[0] > cost * (1.0 - MIN_IMPROVEMENT):
            break
        kinds = [*kinds, "peaking"]
        x = best[1]
    return kinds, x


def _best_peak(
    fit: MoveFit, kinds: list[str], x: np.ndarray, centre_hz: float, residual_db: float,
    max_gain_db: float,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """The cheapest refit with a new bell at ``centre_hz`` starting at Q 1 (and Q 2.5 when
    surgical)."""
    best: tuple[float, np.ndarray] | None = None
    f_lo, f_hi = fit.f_bounds["peaking"]
    for q in (1.0, 2.5) if fit.max_q > PLAIN_MAX_Q else (1.0,):
        trial = np.concatenate([x, [math.log2(min(max(centre_hz, f_lo), f_hi)),
                                    float(np.clip(-residual_db, -max_gain_db, max_gain_db)),
                                    math.log2(q)]])  # fmt: skip
        xs = fit.solve([*kinds, "peaking"], trial)
        c = fit.cost([*kinds, "peaking"], xs)
        if best is None or c < best[0]:
            best = (c, xs)
    assert best is not None
    return best


def _keep_what_pays(fit: MoveFit, kinds: list[str], x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Drop each bell (last first) that no longer pays for itself against the fit's goal:
    without it (the rest refitted) the cost rises by less than ``MIN_IMPROVEMENT``. A bell
    that only filled differences inside the tolerance goes."""
    for drop in reversed(range(len(kinds))):
        if drop >= len(kinds) or kinds[drop] != "peaking":  # the shelves are the frame
            continue
        keep = [i for i in range(len(kinds)) if i != drop]
        rest = [kinds[i] for i in keep]
        y = fit.solve(rest, subvector(kinds, x, keep))
        if fit.cost(kinds, x) > fit.cost(rest, y) * (1.0 - MIN_IMPROVEMENT):
            kinds, x = rest, y
    return kinds, x


def _drop_negligible(fit: MoveFit, kinds: list[str], x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Drop moves below ``MIN_MOVE_DB``, one at a time, refitting the rest."""
    while kinds:
        moves = fit.moves(kinds, x)
        small = [i for i, m in enumerate(moves) if abs(m.gain_db) < MIN_MOVE_DB]
        if not small:
            break
        drop = small[0]
        keep = [i for i in range(len(kinds)) if i != drop]
        x = subvector(kinds, x, keep)
        kinds = [kinds[i] for i in keep]
        x = fit.solve(kinds, x)
    return kinds, x


def _obey_spacing(fit: MoveFit, kinds: list[str], x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Merge same-type moves within 1/3 octave and drop the smaller of opposing moves within
    an octave (:func:`analyzer.mastering.tone_rules.resolve_conflicts`), refitting what is
    left, until the refit keeps to the rules (the last resort drops without refitting)."""
    for _ in range(4):
        moves = fit.moves(kinds, x)
        kept = resolve_conflicts(moves)
        if len(kept) == len(moves):
            return kinds, x
        kinds = [m.kind for m in kept]
        x = fit.solve(kinds, vector(kept), max_nfev=200)
    kept = resolve_conflicts(fit.moves(kinds, x))
    return [m.kind for m in kept], vector(kept)


def _hold_extremes(fit: MoveFit, moves: list[EqMove]) -> list[EqMove]:
    """Lower, by 0.1 dB steps, the boosting move that adds most to a band below 30 Hz / above
    16 kHz whose boost exceeds the room the references leave there (the rule the fit's penalty
    keeps to up to rounding)."""
    hz = fit.t.band_hz[fit.out_sel]
    for _ in range(400):
        band = fit.gains(moves)[0]
        over = fit.boost_over_room(band, predicted_levels(fit.t.mix_db, band, fit.kp)) > 0.05
        if not np.any(over):
            return moves
        worst = hz[over][0]
        boosts = [(float(band_gain_db([m], fit.fs, np.array([worst]))[0]), i)
                  for i, m in enumerate(moves) if m.gain_db > 0]  # fmt: skip
        if not boosts or max(boosts)[0] <= 0.0:
            return moves
        i = max(boosts)[1]
        moves[i] = replace(moves[i], gain_db=round(moves[i].gain_db - 0.1, 1))
        moves = [m for m in moves if m.gain_db != 0.0]
    return moves


def _final_moves(fit: MoveFit, fitted: Sequence[EqMove], amount: float) -> list[EqMove]:
    """The fitted moves rounded for display, scaled by ``amount``, held to the rules once
    more after rounding (summed response, shelf caps, spacing), none smaller than
    ``MIN_MOVE_DB`` (times ``amount``), each with its sentence."""
    moves = [
        EqMove(m.kind, _round_sig(m.frequency_hz), round(m.gain_db * amount, 1),
               min(round(m.q, 2), fit.max_q) if m.kind == "peaking" else round(m.q, 2))
        for m in fitted
    ]  # fmt: skip
    # The holds below only lower gains, and can leave a move too small to make (a shelf held
    # to 0.1 dB so that it stops lifting the extremes): such a move goes, and the rest is held
    # again (dropping it may uncover what it cancelled). Found on 3 of the corpus proposals.
    smallest = MIN_MOVE_DB * amount
    for _ in range(len(moves) + 1):
        moves = [m for m in moves if abs(m.gain_db) >= smallest and m.gain_db != 0.0]
        moves = resolve_conflicts(limit_summed_response(moves, fit.fs, fit.max_gain))
        moves = _hold_extremes(fit, limit_summed_response(moves, fit.fs, fit.max_gain))
        if all(abs(m.gain_db) >= smallest for m in moves):
            break
    return [EqMove(m.kind, m.frequency_hz, m.gain_db, m.q, explain(m)) for m in moves]


def _fine_curve(
    fit: MoveFit, target: ToneTarget, moves: Sequence[EqMove], usable: np.ndarray,
    smoothing_octaves: float, max_gain_db: float, amount: float,
) -> tuple[FineCurve, np.ndarray]:  # fmt: skip
    """The smoothed residual after ``moves`` as a curve; fixed-point iterations absorb the
    loudness shift the curve itself causes. Returns the curve and the predicted band levels."""
    hz = target.band_hz
    x = np.log2(hz)
    base = band_gain_db(moves, fit.fs, hz)
    extra = np.zeros(len(hz))
    for _ in range(4):
        levels = predicted_levels(target.mix_db, base + extra, fit.kp)
        d = np.nan_to_num(distance_to_range(levels, target), nan=0.0) * usable
        # the moves and the curve together stay within ±max_gain (the summed-response rule)
        extra = np.clip(extra - _smooth(d, x, usable, smoothing_octaves), -max_gain_db - base,
                        max_gain_db - base)  # fmt: skip
    sel = usable
    curve = FineCurve(
        tuple(float(h) for h in hz[sel]), tuple(float(g) * amount for g in extra[sel]),
        float(smoothing_octaves),
    )  # fmt: skip
    applied = curve.gain_at(fit.grid.ravel()).reshape(fit.grid.shape)
    fine_gain = 10.0 * np.log10(np.mean(10.0 ** (applied / 10.0), axis=1))
    return curve, predicted_levels(target.mix_db, base + fine_gain, fit.kp)


def _smooth(d: np.ndarray, x: np.ndarray, usable: np.ndarray, octaves: float) -> np.ndarray:
    """Moving average over ``octaves`` (centred, in log frequency) of the usable bands."""
    if octaves <= 1.0 / 3.0 + 1e-9:
        return d
    out = np.zeros_like(d)
    for i in range(len(d)):
        sel = usable & (np.abs(x - x[i]) <= octaves / 2.0 + 1e-9)
        out[i] = d[sel].mean() if np.any(sel) else 0.0
    return out


def _round_sig(f: float) -> float:
    digits = 2 if f < 1000 else 3
    return float(f"{f:.{digits}g}")


def _opt(a: np.ndarray) -> tuple[float | None, ...]:
    return tuple(float(v) if np.isfinite(v) else None for v in a)


def eq_loudness_change_db(tone: ToneProposal, target: ToneTarget, sample_rate_hz: float) -> float:
    """Predicted change of integrated loudness (LU) caused by the proposal's EQ."""
    hz = target.band_hz
    gain = band_gain_db(tone.moves, sample_rate_hz, hz)
    if tone.fine is not None:
        grid = band_grid(hz, sample_rate_hz)
        applied = tone.fine.gain_at(grid.ravel()).reshape(grid.shape)
        gain = gain + 10.0 * np.log10(np.mean(10.0 ** (applied / 10.0), axis=1))
    kp = k_power(hz, sample_rate_hz)
    p = np.where(np.isfinite(target.mix_db), 10.0 ** (np.nan_to_num(target.mix_db) / 10.0), 0.0)
    before, after = float(np.sum(p * kp)), float(np.sum(p * kp * 10.0 ** (gain / 10.0)))
    change = ratio_db(after, before)
    return 0.0 if change is None else change
