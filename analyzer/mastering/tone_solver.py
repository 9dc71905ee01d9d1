"""The least-squares machinery of the tone fit (:mod:`analyzer.mastering.tone_fit`): move
parameters as a vector, the residual the fit minimises (the band distances to the goal plus the
rules of :mod:`analyzer.mastering.tone_rules` as penalties) and the bounded solver
(trust-region reflective, :mod:`analyzer.mastering.trust_region`: scipy's
``least_squares(method="trf")`` step for step, without importing scipy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from analyzer.dsp.biquad import rbj_coefficients
from analyzer.mastering.eq import EqMove
from analyzer.mastering.tone_rules import (
    BELL_MAX_HZ,
    BELL_MIN_HZ,
    PLAIN_MAX_Q,
    SURGICAL_MAX_Q,
    out_of_band_room_db,
    response_grid,
    spacing_violations,
    third_octave_tolerance_db,
)
from analyzer.mastering.tone_target import (
    ToneTarget,
    band_grid,
    distance_to_range,
    k_power,
    predicted_levels,
)
from analyzer.mastering.trust_region import least_squares_trf

#: The bands the moves are fitted to.
FIT_MIN_HZ = 31.5
FIT_MAX_HZ = 16000.0
SHELF_Q = 0.7071
#: The widest bell the fit may use (the narrowest Q comes from :mod:`tone_rules`).
MIN_PEAK_Q = 0.4
#: Penalty per dB of move gain, so the fit prefers small moves when a large one buys nothing.
GAIN_PENALTY = 0.04
#: Weight of each dB by which a rule is broken (summed response over ``±max_gain`` per grid
#: point, out-of-band lift, missing spacing).
RESPONSE_PENALTY = 4.0
#: Move responses a fit keeps (each ~6 kB): the settings of a few solver iterations.
SECTION_CACHE = 512


class MoveFit:
    """Least-squares fit of a list of move kinds to the distance-to-range residual."""

    def __init__(
        self, target: ToneTarget, sample_rate_hz: float, max_gain_db: float,
        weights: np.ndarray, surgical: bool = False, room_db: np.ndarray | None = None,
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
        self._sections: dict[tuple[str, float, float, float], np.ndarray] = {}
        #: How much the moves may boost each band below 30 Hz / above 16 kHz (NaN elsewhere).
        self.room = (
            out_of_band_room_db(target.band_hz, target.mix_db, target.p90_db)
            if room_db is None else np.asarray(room_db, dtype=float)
        )  # fmt: skip
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
        return [EqMove(kind, float(f[0]), float(g[0]), float(q[0]))
                for kind, f, g, q in self._params(kinds, x[None, :])]  # fmt: skip

    def _params(self, kinds: Sequence[str], xs: np.ndarray) -> list[tuple[str, Any, Any, Any]]:
        """``(kind, frequencies, gains, Qs)`` of each move, one value per row of ``xs``
        (parameter vectors: log2 frequency, gain, and log2 Q for a bell)."""
        out, i = [], 0
        for kind in kinds:
            f, g = 2.0 ** xs[:, i], xs[:, i + 1]
            if kind == "peaking":
                q = 2.0 ** xs[:, i + 2]
                i += 3
            else:
                q = np.full(len(xs), SHELF_Q)
                i += 2
            out.append((kind, f, g, q))
        return out

    def gains(self, moves: Sequence[EqMove]) -> tuple[np.ndarray, np.ndarray]:
        """``(band power gains, summed response over the response grid)`` in dB, from one
        evaluation of the cascade on both grids (z precomputed: the fit calls this often)."""
        params = [(m.kind, np.array([m.frequency_hz]), np.array([m.gain_db]), np.array([m.q]))
                  for m in moves]  # fmt: skip
        band, summed = self._responses(params, 1)
        return band[0], summed[0]

    def _responses(self, params: Sequence[tuple], rows: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`gains` of ``rows`` cascades at once (``(rows, bands)``, ``(rows, grid)``)."""
        h = np.ones((rows, len(self.z1)), dtype=complex)
        for kind, f, g, q in params:
            rows_fgq = zip(f.tolist(), g.tolist(), q.tolist(), strict=True)
            h *= np.array([self._section(kind, *k) for k in rows_fgq])
        p = np.maximum(np.abs(h) ** 2, 1e-24)
        n = self.grid.size
        band = 10.0 * np.log10(p[:, :n].reshape(rows, *self.grid.shape).mean(axis=2))
        return band, 10.0 * np.log10(p[:, n:])

    def _section(self, kind: str, f: float, g: float, q: float) -> np.ndarray:
        """One move's complex response on both grids, kept for the settings it was asked for:
        a finite-difference row steps one parameter, so each other move's response repeats
        in every row (and the solver's next evaluation often repeats the row it stepped from).
        The values are the ones evaluating every row afresh gives: the same elementwise
        arithmetic, in the same order."""
        key = (kind, f, g, q)
        hit = self._sections.get(key)
        if hit is None:
            if len(self._sections) >= SECTION_CACHE:
                self._sections.clear()
            b, a = rbj_coefficients(kind, f, g, q, self.fs)
            z1, z2 = self.z1, self.z2
            hit = (b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2)
            self._sections[key] = hit
        return hit

    def levels(self, moves: Sequence[EqMove]) -> np.ndarray:
        return predicted_levels(self.t.mix_db, self.gains(moves)[0], self.kp)

    def residual(self, kinds: Sequence[str], x: np.ndarray) -> np.ndarray:
        return self.residuals(kinds, np.asarray(x, dtype=float)[None, :])[0]

    def residuals(self, kinds: Sequence[str], xs: np.ndarray) -> np.ndarray:
        """The residual of every row of ``xs`` (one vectorised evaluation: the solver's finite
        differences ask for one per parameter, see :class:`_Batched`)."""
        params = self._params(kinds, xs)
        band, summed = self._responses(params, len(xs))
        levels = predicted_levels(self.t.mix_db, band, self.kp)
        d = np.nan_to_num(distance_to_range(levels, self.goal), nan=0.0)
        gains = np.array([g for _, _, g, _ in params]).T.reshape(len(xs), len(params))
        over = np.maximum(np.abs(summed) - self.max_gain, 0.0)
        spacing = spacing_violations(kinds, np.array([f for _, f, _, _ in params]).T,
                                     np.array([g for _, _, g, _ in params]).T)  # fmt: skip
        rules = [over, self.lift_over_room(levels), spacing.reshape(len(xs), -1)]
        return np.concatenate([d * self.w, GAIN_PENALTY * gains,
                               *(RESPONSE_PENALTY * r for r in rules)], axis=1)  # fmt: skip

    def lift_over_room(self, levels: np.ndarray) -> np.ndarray:
        """The fit's penalty, stricter than :meth:`boost_over_room`: the level-matched rise of
        the bands below 30 Hz / above 16 kHz beyond the room (a loudness loss counted too), so
        the solver stays clear of the rule and the final hold rarely has to act."""
        lift = levels[..., self.out_sel] - self.t.mix_db[self.out_sel]
        return np.maximum(lift - self.room[self.out_sel], 0.0)

    def boost_over_room(self, band_gain_db: np.ndarray, levels: np.ndarray) -> np.ndarray:
        """How far the moves' boost of the bands below 30 Hz / above 16 kHz, less the loudness
        gain the moves cause (the level match lowers every band by it), exceeds the room the
        references leave there (0 where it does not). A loudness loss is not counted: a cut in
        the low mids that makes the top relatively brighter does not boost the top."""
        shifts = (band_gain_db + self.t.mix_db - levels)[np.isfinite(levels)]  # all alike
        gain = band_gain_db[self.out_sel] - (max(float(shifts[0]), 0.0) if shifts.size else 0.0)
        return np.maximum(gain - self.room[self.out_sel], 0.0)

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
        if not kinds:
            return np.zeros(0)
        lo, hi = self.bounds(kinds)
        lo = [a if a < b else b - 1e-6 for a, b in zip(lo, hi, strict=True)]
        x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
        # Tolerances far below what is shown: with scipy's defaults (1e-8) or looser, the
        # solver stops somewhere on a flat valley floor that moves with the last bits of the
        # arithmetic, so the same mix got other moves (200 vs 210 Hz, an extra shelf) on a CPU
        # with other SIMD kernels; converged, the moves are the same wherever they are fitted
        # (tests/mastering/test_tone_fit_stability.py).
        x = least_squares_trf(lambda x: self.residual(kinds, x), x0, np.array(lo), np.array(hi),
                              batch=_Batched(self, kinds), max_nfev=max_nfev, ftol=1e-10,
                              xtol=1e-10)  # fmt: skip
        return x if self.cost(kinds, x) <= self.cost(kinds, x0) else x0


class _Batched:
    """The residuals of the finite differences' stepped vectors (the solver still chooses every
    step, scipy's 2-point rule and bounds) from one vectorised :meth:`MoveFit.residuals`
    instead of a Python call each, which is most of the fit's time."""

    def __init__(self, fit: MoveFit, kinds: Sequence[str]) -> None:
        self.fit, self.kinds = fit, list(kinds)

    def __call__(self, rows: np.ndarray) -> list[np.ndarray]:
        rows = np.asarray(rows, dtype=float)
        return list(self.fit.residuals(self.kinds, rows)) if len(rows) else []


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


def usable_bands(target: ToneTarget, sample_rate_hz: float) -> np.ndarray:
    """The bands the moves are fitted to: defined on both sides, inside the fit range and well
    below Nyquist."""
    hz = target.band_hz
    return (
        np.isfinite(target.mix_db) & np.isfinite(target.median_db)
        & (hz >= FIT_MIN_HZ * 0.99) & (hz <= FIT_MAX_HZ * 1.01) & (hz < 0.45 * sample_rate_hz)
    )  # fmt: skip


def vector(moves: Sequence[EqMove]) -> np.ndarray:
    parts: list[float] = []
    for m in moves:
        parts += [math.log2(m.frequency_hz), m.gain_db]
        if m.kind == "peaking":
            parts.append(math.log2(m.q))
    return np.asarray(parts, dtype=float)


def subvector(kinds: Sequence[str], x: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    parts, i = [], 0
    for j, kind in enumerate(kinds):
        n = 3 if kind == "peaking" else 2
        if j in keep:
            parts.append(x[i : i + n])
        i += n
    return np.concatenate(parts) if parts else np.zeros(0)
