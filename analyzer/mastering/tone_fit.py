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
from dataclasses import dataclass

import numpy as np

from analyzer.dsp.units import ratio_db
from analyzer.mastering.eq import EqMove, response
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
PEAK_Q_RANGE = (0.4, 4.0)
#: Gains the fit would set smaller than this are dropped: inaudible, and one sentence less.
MIN_MOVE_DB = 0.3
#: A new peaking band must cut the remaining cost by this fraction to be kept.
MIN_IMPROVEMENT = 0.05
#: Penalty per dB of move gain, so the fit prefers small moves when a large one buys nothing.
GAIN_PENALTY = 0.04
#: Above these the references are "too far away to match sensibly" (RMS dB over the bands).
FAR_BEFORE_DB = 6.0
FAR_AFTER_DB = 2.5


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
        weights: np.ndarray,
    ) -> None:  # fmt: skip
        self.t = target
        self.fs = float(sample_rate_hz)
        self.max_gain = float(max_gain_db)
        self.w = weights
        self.kp = k_power(target.band_hz, self.fs)
        self.grid = band_grid(target.band_hz, self.fs)
        nyq_cap = 0.45 * self.fs
        self.f_bounds = {
            "low_shelf": (30.0, min(400.0, nyq_cap)),
            "high_shelf": (min(1500.0, nyq_cap * 0.5), min(16000.0, nyq_cap)),
            "peaking": (35.0, min(16000.0, nyq_cap)),
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

    def levels(self, moves: Sequence[EqMove]) -> np.ndarray:
        if moves:
            power = np.abs(response(moves, self.fs, self.grid.ravel())) ** 2
            gain = 10.0 * np.log10(power.reshape(self.grid.shape).mean(axis=1))
        else:
            gain = np.zeros(len(self.t.band_hz))
        return predicted_levels(self.t.mix_db, gain, self.kp)

    def residual(self, kinds: Sequence[str], x: np.ndarray) -> np.ndarray:
        moves = self.moves(kinds, x)
        d = np.nan_to_num(distance_to_range(self.levels(moves), self.t), nan=0.0)
        gains = np.array([m.gain_db for m in moves])
        return np.concatenate([d * self.w, GAIN_PENALTY * gains])

    def cost(self, kinds: Sequence[str], x: np.ndarray) -> float:
        return float(np.sum(self.residual(kinds, x) ** 2))

    def bounds(self, kinds: Sequence[str]) -> tuple[list[float], list[float]]:
        lo, hi = [], []
        for kind in kinds:
            f0, f1 = self.f_bounds[kind]
            lo += [math.log2(f0), -self.max_gain]
            hi += [math.log2(f1), self.max_gain]
            if kind == "peaking":
                lo.append(math.log2(PEAK_Q_RANGE[0]))
                hi.append(math.log2(PEAK_Q_RANGE[1]))
        return lo, hi

    def solve(self, kinds: Sequence[str], x0: np.ndarray, max_nfev: int = 60) -> np.ndarray:
        from scipy.optimize import least_squares

        if not kinds:
            return np.zeros(0)
        lo, hi = self.bounds(kinds)
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
) -> ToneProposal:
    """Fit at most ``max_moves`` moves (gains within ``±max_gain_db``) to ``target``; with
    ``fine``, add the smoothed residual as a match curve. ``amount`` (0-1) scales every gain."""
    hz = target.band_hz
    usable = _usable_bands(target, sample_rate_hz)
    before = distance_to_range(target.mix_db, target)
    err_before = tonal_error_db(before, hz)
    if not np.any(usable) or max_moves <= 0 or err_before is None:
        return ToneProposal((), None, tuple(hz), _opt(before), _opt(before), err_before,
                            err_before, amount, ("no tonal comparison possible",))  # fmt: skip
    weights = usable.astype(float)
    fit = _Fit(target, sample_rate_hz, max_gain_db, weights)
    kinds, x = _fit_shelves(fit, max_moves)
    kinds, x = _add_peaks(fit, kinds, x, usable, max_moves, max_gain_db)
    kinds, x = _drop_negligible(fit, kinds, x)
    x = fit.solve(kinds, x, max_nfev=300)  # polish the final set
    moves = _final_moves(fit.moves(kinds, x), amount)
    levels = fit.levels(moves)
    curve = None
    if fine:
        curve, levels = _fine_curve(fit, target, moves, usable, smoothing_octaves, max_gain_db,
                                    amount)  # fmt: skip
    after = distance_to_range(levels, target)
    err_after = tonal_error_db(after, hz)
    return ToneProposal(
        moves=tuple(moves),
        fine=curve,
        band_hz=tuple(float(h) for h in hz),
        before_db=_opt(before),
        after_db=_opt(after),
        error_before_db=err_before,
        error_after_db=err_after,
        amount=amount,
        notes=_far_notes(err_before, err_after, moves, max_gain_db, amount),
        predicted_db=_opt(levels),
    )


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
        i = int(np.argmax(np.where(peak_zone, np.abs(d), 0.0)))
        if abs(d[i]) < 2.0 * MIN_MOVE_DB:
            break
        cost = fit.cost(kinds, x)
        best = _best_peak(fit, kinds, x, float(hz[i]), float(d[i]), max_gain_db)
        if best[0] > cost * (1.0 - MIN_IMPROVEMENT):
            break
        kinds = [*kinds, "peaking"]
        x = best[1]
    return kinds, x


def _best_peak(
    fit: _Fit, kinds: list[str], x: np.ndarray, centre_hz: float, residual_db: float,
    max_gain_db: float,
) -> tuple[float, np.ndarray]:  # fmt: skip
    """The cheaper of two refits with a new bell at ``centre_hz`` (Q 1 and Q 2.5)."""
    best: tuple[float, np.ndarray] | None = None
    f_lo, f_hi = fit.f_bounds["peaking"]
    for q in (1.0, 2.5):
        trial = np.concatenate([x, [math.log2(min(max(centre_hz, f_lo), f_hi)),
                                    float(np.clip(-residual_db, -max_gain_db, max_gain_db)),
                                    math.log2(q)]])  # fmt: skip
        xs = fit.solve([*kinds, "peaking"], trial)
        c = fit.cost([*kinds, "peaking"], xs)
        if best is None or c < best[0]:
            best = (c, xs)
    assert best is not None
    return best


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


def _final_moves(fitted: Sequence[EqMove], amount: float) -> list[EqMove]:
    """The fitted moves rounded for display, scaled by ``amount``, each with its sentence."""
    moves = [
        EqMove(m.kind, _round_sig(m.frequency_hz), round(m.gain_db * amount, 1), round(m.q, 2))
        for m in fitted
    ]
    moves = [m for m in moves if m.gain_db != 0.0]
    return [EqMove(m.kind, m.frequency_hz, m.gain_db, m.q, explain(m)) for m in moves]


def _far_notes(
    err_before: float, err_after: float | None, moves: Sequence[EqMove], max_gain_db: float,
    amount: float,
) -> tuple[str, ...]:  # fmt: skip
    """A note when the references are too far away to match sensibly."""
    limits = sum(1 for m in moves if abs(m.gain_db) >= max_gain_db * amount - 0.05)
    if (
        err_before > FAR_BEFORE_DB
        or (err_after is not None and err_after > FAR_AFTER_DB)
        or (limits >= 2)
    ):
        return (
            f"the references are too far away to match sensibly (tonal difference "
            f"{err_before:.1f} dB RMS, {err_after or 0:.1f} dB left after the moves"
            f"{f', {limits} moves at the ±{max_gain_db:g} dB limit' if limits else ''}): "
            "check that they suit this mix",
        )
    return ()


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
        extra = np.clip(extra - _smooth(d, x, usable, smoothing_octaves), -max_gain_db,
                        max_gain_db)  # fmt: skip
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
