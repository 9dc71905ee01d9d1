"""The tone fit: a few explainable EQ moves (and optionally a fine match curve) that bring the
mix's 1/3-octave balance into the references' range (:mod:`analyzer.mastering.tone_target`).

A small set of RBJ moves (low shelf, high shelf, up to four peaking bands) is fitted to the
distance-to-range residual by bounded nonlinear least squares (``scipy.optimize.least_squares``,
trust-region reflective), adding a peaking band where the residual is largest as long as each one
still pays for itself, and dropping moves that end up negligible: the fewest moves that explain
the difference.

``fine`` adds the smoothed residual as a linear-phase match curve on top of the moves (the way
Ozone's Match EQ smooths its curve, smoothing width in octaves), for the closest match rather
than the fewest moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analyzer.dsp.biquad import rbj_coefficients
from analyzer.dsp.units import ratio_db
from analyzer.mastering.eq import EqMove
from analyzer.mastering.tone_rules import (
    BELL_MAX_HZ,
    BELL_MIN_HZ,
    PLAIN_MAX_Q,
    SURGICAL_MAX_Q,
    limit_summed_response,
    out_of_band_room_db,
    resolve_conflicts,
    response_grid,
    spacing_violation,
    third_octave_tolerance_db,
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

#: The bands the moves are fitted to.
FIT_MIN_HZ = 31.5
FIT_MAX_HZ = 16000.0
DEFAULT_MAX_MOVES = 6
DEFAULT_MAX_GAIN_DB = 6.0
DEFAULT_SMOOTHING_OCTAVES = 1.0 / 3.0
SHELF_Q = 0.7071
#: The widest bell the fit may use (the narrowest Q comes from :mod:`tone_rules`).
MIN_PEAK_Q = 0.4
#: Gains the fit would set smaller than this are dropped: inaudible, and one sentence less.
MIN_MOVE_DB = 0.3
#: A new peaking band must cut the remaining cost by this fraction to be kept.
MIN_IMPROVEMENT = 0.05
#: Penalty per dB of move gain, so the fit prefers small moves when a large one buys nothing.
GAIN_PENALTY = 0.04
#: Weight of each dB by which the summed response exceeds ``±max_gain`` (per grid point).
RESPONSE_PENALTY = 4.0


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


class _Fit:
    """Least-squares fit of a list of move kinds to the distance-to-range residual."""

    def __init__(
        self, target: ToneTarget, sample_rate_hz: float, max_gain_db: float,
        weights: np.ndarray, surgical: bool = False,
    ) -> None:  # fmt: skip
        self.t = target
        self.fs = float(sample_rate_hz)
        self.max_gain = float(max_gain_db)
        self.w = weights
        self.max_q = SURGICAL_MAX_Q if surgical else PLAIN_MAX_Q
        self.kp = k_power(target.band_hz, self.fs)
        self.grid = band_grid(target.band_hz, self.fs)
        self.rgrid = response_grid(self.fs)
        self.z1 = np.exp(-2j * np.pi * np.concatenate([self.grid.ravel(), self.rgrid]) / self.fs)
        self.z2 = self.z1 * self.z1
        self.room = out_of_band_room_db(target.band_hz, target.mix_db, target.p90_db)
        self.out_sel = np.isfinite(self.room)
        #: What the residual measures against: the plain range while the structure is found
        #: (exact on real differences), the tolerance-widened one for the final moves.
        self.goal = target
        nyq_cap = 0.45 * self.fs
        self.f_bounds = {
            "low_shelf": (30.0, min(400.0, nyq_cap)),
            "high_shelf": (min(1500.0, nyq_cap * 0.5), min(16000.0, nyq_cap)),
            "peaking": (BELL_MIN_HZ, min(BELL_MAX_HZ, nyq_cap)),
        }

    def moves(self, kinds: Sequence[str], x: np.ndarray) -> list[EqMove]:
        out, i = [], 0
        for kind in kinds:
            f, g = 2.0 ** x[i], float(x[i + 1])
            if kind == "peaking":
                q = 2.0 ** x[i + 2]
                i += 3
            else:
                q = SHELF_Q
                i += 2
            out.append(EqMove(kind, float(f), g, float(q)))
        return out

    def gains(self, moves: Sequence[EqMove]) -> tuple[np.ndarray, np.ndarray]:
        """``(band power gains, summed response over the response grid)`` in dB, from one
        evaluation of the cascade on both grids (z precomputed: the fit calls this often)."""
        h = np.ones(len(self.z1), dtype=complex)
        for m in moves:
            b, a = rbj_coefficients(m.kind, m.frequency_hz, m.gain_db, m.q, self.fs)
            h *= (b[0] + b[1] * self.z1 + b[2] * self.z2) / (a[0] + a[1] * self.z1 + a[2] * self.z2)
        p = np.maximum(np.abs(h) ** 2, 1e-24)
        band = 10.0 * np.log10(p[: self.grid.size].reshape(self.grid.shape).mean(axis=1))
        return band, 10.0 * np.log10(p[self.grid.size :])

    def levels(self, moves: Sequence[EqMove]) -> np.ndarray:
        return predicted_levels(self.t.mix_db, self.gains(moves)[0], self.kp)

    def residual(self, kinds: Sequence[str], x: np.ndarray) -> np.ndarray:
        moves = self.moves(kinds, x)
        band, summed = self.gains(moves)
        levels = predicted_levels(self.t.mix_db, band, self.kp)
        d = np.nan_to_num(distance_to_range(levels, self.goal), nan=0.0)
        gains = np.array([m.gain_db for m in moves])
        over = np.maximum(np.abs(summed) - self.max_gain, 0.0)
        return np.concatenate([d * self.w, GAIN_PENALTY * gains, RESPONSE_PENALTY * over,
                               RESPONSE_PENALTY * self.lift_over_room(levels),
                               RESPONSE_PENALTY * spacing_violation(moves)])  # fmt: skip

    def lift_over_room(self, levels: np.ndarray) -> np.ndarray:
        """How far the moves lift the bands below 30 Hz / above 16 kHz (level-matched) beyond
        the references' own level there (0 where they do not)."""
        lift = levels[self.out_sel] - self.t.mix_db[self.out_sel]
        return np.maximum(lift - self.room[self.out_sel], 0.0)

    def cost(self, kinds: Sequence[str], x: np.ndarray) -> float:
        return float(np.sum(self.residual(kinds, x) ** 2))

    def bounds(self, kinds: Sequence[str]) -> tuple[list[float], list[float]]:
        lo, hi = [], []
        for kind in kinds:
            f0, f1 = self.f_bounds[kind]
            lo += [math.log2(f0), -self.max_gain]
            hi += [math.log2(f1), self.max_gain]
            if kind == "peaking":
                lo.append(math.log2(MIN_PEAK_Q))
                hi.append(math.log2(self.max_q))
        return lo, hi

    def solve(self, kinds: Sequence[str], x0: np.ndarray, max_nfev: int = 60) -> np.ndarray:
        from scipy.optimize import least_squares

        if not kinds:
            return np.zeros(0)
        lo, hi = self.bounds(kinds)
        lo = [a if a < b else b - 1e-6 for a, b in zip(lo, hi, strict=True)]
        x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
        res = least_squares(
            lambda x: self.residual(kinds, x), x0, bounds=(lo, hi), method="trf",
            x_scale="jac", max_nfev=max_nfev, ftol=1e-6, xtol=1e-6,
        )  # fmt: skip
        return res.x if self.cost(kinds, res.x) <= self.cost(kinds, x0) else x0


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
) -> ToneProposal:
    """Fit at most ``max_moves`` moves to ``target`` under the rules of
    :mod:`analyzer.mastering.tone_rules` (summed response within ``±max_gain_db``, spacing,
    Q 2 at the narrowest unless ``surgical``, band limits, the tolerance left alone); with
    ``fine``, add the smoothed residual as a match curve. ``amount`` (0-1) scales every gain.
    The proposal says whether the references are too far to match
    (:func:`analyzer.mastering.tone_gate.far_statistic_db`)."""
    from analyzer.mastering.tone_gate import far_notes, far_statistic_db

    hz = target.band_hz
    usable = _usable_bands(target, sample_rate_hz)
    before = distance_to_range(target.mix_db, target)
    err_before = tonal_error_db(before, hz)
    if not np.any(usable) or max_moves <= 0 or err_before is None:
        return ToneProposal((), None, tuple(hz), _opt(before), _opt(before), err_before,
                            err_before, amount, ("no tonal comparison possible",))  # fmt: skip
    fit = _Fit(target, sample_rate_hz, max_gain_db, usable.astype(float), surgical)
    kinds, x = _fit_shelves(fit, max_moves)
    kinds, x = _add_peaks(fit, kinds, x, usable, max_moves, max_gain_db)
    kinds, x = _drop_negligible(fit, kinds, x)
    x = fit.solve(kinds, x, max_nfev=300)
    fit.goal = deadband_target(target)  # what is inside the tolerance is not corrected
    kinds, x = _keep_what_pays(fit, kinds, x)
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


def deadband_target(target: ToneTarget) -> ToneTarget:
    """The target the moves are fitted to: a band whose difference lies inside the references'
    10-90 % range widened by the comparison's tolerance (one reference: the tolerance alone)
    is not corrected, so there the moves may only keep it inside that widened range; the other
    bands are fitted to the range itself (exact where the difference is real)."""
    tol = third_octave_tolerance_db()
    lo = np.fmin(target.p10_db, target.p90_db)
    hi = np.fmax(target.p10_db, target.p90_db)
    quiet = (target.mix_db >= lo - tol) & (target.mix_db <= hi + tol)
    return replace(target, p10_db=np.where(quiet, lo - tol, lo),
                   p90_db=np.where(quiet, hi + tol, hi))  # fmt: skip


def _usable_bands(target: ToneTarget, sample_rate_hz: float) -> np.ndarray:
    """The bands the moves are fitted to: defined on both sides, inside the fit range and well
    below Nyquist."""
    hz = target.band_hz
    return (
        np.isfinite(target.mix_db) & np.isfinite(target.median_db)
        & (hz >= FIT_MIN_HZ * 0.99) & (hz <= FIT_MAX_HZ * 1.01) & (hz < 0.45 * sample_rate_hz)
    )  # fmt: skip


def _fit_shelves(fit: _Fit, max_moves: int) -> tuple[list[str], np.ndarray]:
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
    fit: _Fit, kinds: list[str], x: np.ndarray, usable: np.ndarray, max_moves: int,
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
    fit: _Fit, kinds: list[str], x: np.ndarray, centre_hz: float, residual_db: float,
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


def _keep_what_pays(fit: _Fit, kinds: list[str], x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Drop each bell (last first) that no longer pays for itself against the fit's goal:
    without it (the rest refitted) the cost rises by less than ``MIN_IMPROVEMENT``. A bell
    that only filled differences inside the tolerance goes."""
    for drop in reversed(range(len(kinds))):
        if drop >= len(kinds) or kinds[drop] != "peaking":  # the shelves are the frame
            continue
        keep = [i for i in range(len(kinds)) if i != drop]
        rest = [kinds[i] for i in keep]
        y = fit.solve(rest, _subvector(kinds, x, keep))
        if fit.cost(kinds, x) > fit.cost(rest, y) * (1.0 - MIN_IMPROVEMENT):
            kinds, x = rest, y
    return kinds, x


def _drop_negligible(fit: _Fit, kinds: list[str], x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Drop moves below ``MIN_MOVE_DB``, one at a time, refitting the rest."""
    while kinds:
        moves = fit.moves(kinds, x)
        small = [i for i, m in enumerate(moves) if abs(m.gain_db) < MIN_MOVE_DB]
        if not small:
            break
        drop = small[0]
        keep = [i for i in range(len(kinds)) if i != drop]
        x = _subvector(kinds, x, keep)
        kinds = [kinds[i] for i in keep]
        x = fit.solve(kinds, x)
    return kinds, x


def _obey_spacing(fit: _Fit, kinds: list[str], x: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Merge same-type moves within 1/3 octave and drop the smaller of opposing moves within
    an octave (:func:`analyzer.mastering.tone_rules.resolve_conflicts`), refitting what is
    left, until the refit keeps to the rules (the last resort drops without refitting)."""
    for _ in range(4):
        moves = fit.moves(kinds, x)
        kept = resolve_conflicts(moves)
        if len(kept) == len(moves):
            return kinds, x
        kinds = [m.kind for m in kept]
        x = fit.solve(kinds, _vector(kept), max_nfev=200)
    kept = resolve_conflicts(fit.moves(kinds, x))
    return [m.kind for m in kept], _vector(kept)


def _hold_shelves(fit: _Fit, moves: list[EqMove]) -> list[EqMove]:
    """Lower boosting shelves by 0.1 dB steps while the moves lift the bands below 30 Hz /
    above 16 kHz beyond the references' own level there (the rule the fit's penalty keeps to
    up to rounding)."""
    low = fit.t.band_hz[fit.out_sel] < 1000.0
    for _ in range(200):
        over = fit.lift_over_room(fit.levels(moves)) > 0.05
        sides = {"low_shelf": bool(np.any(over & low)), "high_shelf": bool(np.any(over & ~low))}
        shelves = [i for i, m in enumerate(moves) if sides.get(m.kind) and m.gain_db > 0]
        if not shelves:
            return moves
        i = shelves[0]
        moves[i] = replace(moves[i], gain_db=round(moves[i].gain_db - 0.1, 1))
        moves = [m for m in moves if m.gain_db != 0.0]
    return moves


def _vector(moves: Sequence[EqMove]) -> np.ndarray:
    parts: list[float] = []
    for m in moves:
        parts += [math.log2(m.frequency_hz), m.gain_db]
        if m.kind == "peaking":
            parts.append(math.log2(m.q))
    return np.asarray(parts, dtype=float)


def _final_moves(fit: _Fit, fitted: Sequence[EqMove], amount: float) -> list[EqMove]:
    """The fitted moves rounded for display, scaled by ``amount``, held to the rules once
    more after rounding (summed response, shelf caps, spacing), each with its sentence."""
    moves = [
        EqMove(m.kind, _round_sig(m.frequency_hz), round(m.gain_db * amount, 1),
               min(round(m.q, 2), fit.max_q) if m.kind == "peaking" else round(m.q, 2))
        for m in fitted
    ]  # fmt: skip
    moves = [m for m in moves if m.gain_db != 0.0]
    moves = resolve_conflicts(limit_summed_response(moves, fit.fs, fit.max_gain))
    moves = _hold_shelves(fit, limit_summed_response(moves, fit.fs, fit.max_gain))
    return [EqMove(m.kind, m.frequency_hz, m.gain_db, m.q, explain(m)) for m in moves]


def _fine_curve(
    fit: _Fit, target: ToneTarget, moves: Sequence[EqMove], usable: np.ndarray,
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


def _subvector(kinds: Sequence[str], x: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    parts, i = [], 0
    for j, kind in enumerate(kinds):
        n = 3 if kind == "peaking" else 2
        if j in keep:
            parts.append(x[i : i + n])
        i += n
    return np.concatenate(parts) if parts else np.zeros(0)


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
