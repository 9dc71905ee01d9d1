"""Proposals for corrective mastering: a few explainable EQ moves, an optional fine match curve,
a mid/side width move and the limiter settings that reach a loudness target.

**Tone.** The target is the level-matched difference between the mix's 1/3-octave band levels
and the references' (both in dB re their own integrated loudness, as
:mod:`analyzer.comparison.metrics`
measures them). Inside the references' 10-90 % range a band counts as matched: the residual of a
band is its distance to that range (with one reference, to its level). A small set of RBJ moves
(low shelf, high shelf, up to four peaking bands) is fitted to it by bounded nonlinear least
squares (``scipy.optimize.least_squares``, trust-region reflective), adding a peaking band where
the residual is largest as long as each one still pays for itself, and dropping moves that end up
negligible: the fewest moves that explain the difference. The effect of a move on a measured band
is predicted as the band's mean power gain ``|H|^2`` (the band is assumed flat inside); the change
of integrated loudness the moves cause is predicted from the band powers weighted by the
K-weighting filter (BS.1770-4 clause 2.1), since after mastering both tracks are compared at equal
loudness again. So the prediction is of the very numbers the verification measures.

``fine`` adds the smoothed residual as a linear-phase match curve on top of the moves (the way
Ozone's Match EQ smooths its curve, smoothing width in octaves), for the closest match rather
than the fewest moves.

**Width.** When the side/mid ratio of the mix lies outside the references' range (widened by the
tolerance of :mod:`analyzer.comparison.metrics`)
in most broad bands above 250 Hz, a broadband side gain
moves it back; when the low end (below 250 Hz) is wider than the references and wide in itself, a
"mono below X Hz" move (the side signal high-passed at X, Linkwitz-Riley 24 dB/octave).

**Loudness.** The target integrated loudness (``--target-lufs``, a platform's target, or the
references' median loudness) and the true-peak ceiling; the gain into the limiter and, from the
mix's true peak, the peak reduction it will take (a warning above ``HEAVY_LIMITING_DB``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from analyzer.comparison.metrics import Comparison
from analyzer.dsp.kweighting import kweighting_response
from analyzer.mastering.eq import EqMove, response
from analyzer.types import DEFAULT_CEILING_DBTP

#: The bands the moves are fitted to, and the range of the reported tonal error (the standard
#: mastering view: the extreme bands are dominated by rumble and codec cut-offs).
FIT_MIN_HZ = 31.5
FIT_MAX_HZ = 16000.0
ERROR_MIN_HZ = 40.0
ERROR_MAX_HZ = 16000.0
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
HEAVY_LIMITING_DB = 6.0
WIDTH_MIN_BANDS = 2
MONO_BELOW_HZ = 120.0
#: The low end counts as wide in itself above this side/mid ratio (dB).
WIDE_LOW_END_DB = -12.0
_POINTS_PER_BAND = 9


# ---------------------------------------------------------------------------------------------
# Tone
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToneTarget:
    """Per 1/3-octave band (dB re integrated loudness): the mix and the references' median and
    10-90 % range; NaN where a side is undefined."""

    band_hz: np.ndarray
    mix_db: np.ndarray
    median_db: np.ndarray
    p10_db: np.ndarray
    p90_db: np.ndarray


def tone_target(comparison: Comparison) -> ToneTarget:
    """The 1/3-octave part of a comparison as arrays (band order as measured)."""
    hz, mix, med, p10, p90 = [], [], [], [], []
    for name, m in comparison.metrics.items():
        if not name.startswith("third_octave."):
            continue
        hz.append(float(name.split(".", 1)[1]))
        for out, v in ((mix, m.mix), (med, m.median), (p10, m.p10), (p90, m.p90)):
            out.append(np.nan if v is None else float(v))
    order = np.argsort(hz)
    arrays = [np.asarray(a, dtype=float)[order] for a in (hz, mix, med, p10, p90)]
    return ToneTarget(*arrays)


def band_gain_db(moves: Sequence[EqMove], sample_rate_hz: float, band_hz: np.ndarray) -> np.ndarray:
    """Power gain (dB) of ``moves`` averaged over each 1/3-octave band (flat spectrum inside)."""
    if not moves:
        return np.zeros(len(band_hz))
    grid = _band_grid(np.asarray(band_hz, dtype=float), sample_rate_hz)
    power = np.abs(response(moves, sample_rate_hz, grid.ravel())) ** 2
    return 10.0 * np.log10(power.reshape(grid.shape).mean(axis=1))


def _band_grid(band_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    half = 10.0 ** (0.3 / 6.0)  # half a base-ten third octave (IEC 61260-1)
    steps = np.linspace(-1.0, 1.0, _POINTS_PER_BAND)
    grid = band_hz[:, None] * half ** steps[None, :]
    return np.minimum(grid, 0.499 * sample_rate_hz)


def k_power(band_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    grid = _band_grid(band_hz, sample_rate_hz)
    k = np.abs(kweighting_response(sample_rate_hz, grid.ravel())) ** 2
    return k.reshape(grid.shape).mean(axis=1)


def predicted_levels(mix_db: np.ndarray, gain_db: np.ndarray, k_power: np.ndarray) -> np.ndarray:
    """Band levels re integrated loudness after a linear filter with band gains ``gain_db``:
    every band moves by its gain, and all of them by minus the change of K-weighted power
    (the loudness change, BS.1770-4 without the gate) that the filter causes."""
    p = np.where(np.isfinite(mix_db), 10.0 ** (np.nan_to_num(mix_db, nan=-300.0) / 10.0), 0.0)
    g = 10.0 ** (gain_db / 10.0)
    before = float(np.sum(p * k_power))
    after = float(np.sum(p * k_power * g))
    shift = 10.0 * math.log10(after / before) if before > 0 and after > 0 else 0.0
    return mix_db + gain_db - shift


def distance_to_range(levels: np.ndarray, target: ToneTarget) -> np.ndarray:
    """Signed distance (dB) of each band to the references' 10-90 % range; 0 inside, NaN where
    undefined."""
    lo = np.fmin(target.p10_db, target.p90_db)
    hi = np.fmax(target.p10_db, target.p90_db)
    return levels - np.clip(levels, lo, hi)


def tonal_error_db(
    deltas_db: np.ndarray,
    band_hz: np.ndarray,
    lo_hz: float = ERROR_MIN_HZ,
    hi_hz: float = ERROR_MAX_HZ,
) -> float | None:
    """RMS (dB) of level-matched band differences over ``lo_hz``-``hi_hz`` (defined bands)."""
    sel = (band_hz >= lo_hz * 0.99) & (band_hz <= hi_hz * 1.01) & np.isfinite(deltas_db)
    if not np.any(sel):
        return None
    return float(np.sqrt(np.mean(deltas_db[sel] ** 2)))


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
        self.grid = _band_grid(target.band_hz, self.fs)
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
    usable = (
        np.isfinite(target.mix_db) & np.isfinite(target.median_db)
        & (hz >= FIT_MIN_HZ * 0.99) & (hz <= FIT_MAX_HZ * 1.01) & (hz < 0.45 * sample_rate_hz)
    )  # fmt: skip
    before = distance_to_range(target.mix_db, target)
    err_before = tonal_error_db(before, hz)
    notes: list[str] = []
    if not np.any(usable) or max_moves <= 0 or err_before is None:
        return ToneProposal((), None, tuple(hz), _opt(before), _opt(before), err_before,
                            err_before, amount, ("no tonal comparison possible",))  # fmt: skip
    weights = usable.astype(float)
    fit = _Fit(target, sample_rate_hz, max_gain_db, weights)
    kinds: list[str] = []
    x = np.zeros(0)
    shelves = [("low_shelf", 100.0), ("high_shelf", 8000.0)][: max(max_moves, 0)]
    for kind, f0 in shelves:
        lo, hi = fit.f_bounds[kind]
        if lo < hi:
            kinds.append(kind)
            x = np.concatenate([x, [math.log2(min(max(f0, lo), hi)), 0.0]])
    x = fit.solve(kinds, x)
    while len(kinds) < max_moves:
        d = np.nan_to_num(distance_to_range(fit.levels(fit.moves(kinds, x)), target), nan=0.0)
        d = d * weights
        peak_zone = (hz >= 40.0) & (hz <= 12500.0)
        if not np.any(peak_zone & usable):
            break
        i = int(np.argmax(np.where(peak_zone, np.abs(d), 0.0)))
        if abs(d[i]) < 2.0 * MIN_MOVE_DB:
            break
        cost = fit.cost(kinds, x)
        best: tuple[float, np.ndarray] | None = None
        f_lo, f_hi = fit.f_bounds["peaking"]
        for q in (1.0, 2.5):
            trial = np.concatenate([x, [math.log2(min(max(hz[i], f_lo), f_hi)),
                                        float(np.clip(-d[i], -max_gain_db, max_gain_db)),
                                        math.log2(q)]])  # fmt: skip
            xs = fit.solve([*kinds, "peaking"], trial)
            c = fit.cost([*kinds, "peaking"], xs)
            if best is None or c < best[0]:
                best = (c, xs)
        assert best is not None
        if best[0] > cost * (1.0 - MIN_IMPROVEMENT):
            break
        kinds.append("peaking")
        x = best[1]
    # Drop negligible moves (one at a time, refitting the rest).
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
    x = fit.solve(kinds, x, max_nfev=300)  # polish the final set
    moves = [
        EqMove(m.kind, _round_sig(m.frequency_hz), round(m.gain_db * amount, 1), round(m.q, 2))
        for m in fit.moves(kinds, x)
    ]
    moves = [m for m in moves if m.gain_db != 0.0]
    moves = [EqMove(m.kind, m.frequency_hz, m.gain_db, m.q, explain(m)) for m in moves]
    levels = fit.levels(moves)
    curve = None
    if fine:
        curve, levels = _fine_curve(fit, target, moves, usable, smoothing_octaves, max_gain_db,
                                    amount)  # fmt: skip
    after = distance_to_range(levels, target)
    err_after = tonal_error_db(after, hz)
    limits = sum(1 for m in moves if abs(m.gain_db) >= max_gain_db * amount - 0.05)
    if (
        err_before > FAR_BEFORE_DB
        or (err_after is not None and err_after > FAR_AFTER_DB)
        or (limits >= 2)
    ):
        notes.append(
            f"the references are too far away to match sensibly (tonal difference "
            f"{err_before:.1f} dB RMS, {err_after or 0:.1f} dB left after the moves"
            f"{f', {limits} moves at the ±{max_gain_db:g} dB limit' if limits else ''}): "
            "check that they suit this mix"
        )
    return ToneProposal(
        moves=tuple(moves),
        fine=curve,
        band_hz=tuple(float(h) for h in hz),
        before_db=_opt(before),
        after_db=_opt(after),
        error_before_db=err_before,
        error_after_db=err_after,
        amount=amount,
        notes=tuple(notes),
        predicted_db=_opt(levels),
    )


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


# ---------------------------------------------------------------------------------------------
# Width
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WidthProposal:
    """Side gain (dB, broadband) and/or mono below a frequency; ``None`` fields do nothing."""

    side_gain_db: float | None
    mono_below_hz: float | None
    why: tuple[str, ...]

    @property
    def active(self) -> bool:
        return bool(self.side_gain_db) or self.mono_below_hz is not None


def propose_width(
    comparison: Comparison, *, channels: int, max_gain_db: float = DEFAULT_MAX_GAIN_DB,
    amount: float = 1.0,
) -> WidthProposal:  # fmt: skip
    """A width move when the mix's side/mid ratio is outside the references' range."""
    if channels != 2 or amount <= 0:
        return WidthProposal(None, None, ())
    why: list[str] = []
    upper = []
    for band in ("low_mid", "high_mid", "high"):
        m = comparison.metrics.get(f"width.{band}")
        if m is None or m.verdict is None or m.p10 is None or m.p90 is None or m.mix is None:
            continue
        if m.verdict == "within":  # inside the range widened by the tolerance
            upper.append(0.0)
        else:  # to the nearest edge of the references' own range
            edge = m.p90 if m.verdict == "above" else m.p10
            upper.append(edge - m.mix)
    side = None
    moved = [u for u in upper if u != 0.0]
    if len(moved) >= WIDTH_MIN_BANDS and all(np.sign(u) == np.sign(moved[0]) for u in moved):
        gain = float(np.clip(np.median(moved), -max_gain_db, max_gain_db)) * amount
        if abs(gain) >= 0.5:
            side = round(gain, 1)
            word = "narrower" if side < 0 else "wider"
            why.append(
                f"side {side:+.1f} dB: the mix is {abs(side):.1f} dB "
                f"{'wider' if side < 0 else 'narrower'} (side/mid) than the references above "
                f"250 Hz; this makes it {word}"
            )
    mono = None
    for band in ("sub", "low"):
        m = comparison.metrics.get(f"width.{band}")
        if (
            m is not None and m.verdict == "above" and m.mix is not None
            and m.mix > WIDE_LOW_END_DB
        ):  # fmt: skip
            mono = MONO_BELOW_HZ
            why.append(
                f"mono below {MONO_BELOW_HZ:g} Hz: the low end is wide "
                f"({m.mix:.1f} dB side/mid in the {band} band, references "
                f"{m.median:.1f} dB); a mono low end survives mono playback, club systems "
                "and vinyl"
            )
            break
    return WidthProposal(side, mono, tuple(why))


# ---------------------------------------------------------------------------------------------
# Loudness
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoudnessPlan:
    """Where the master goes: the target, where it came from, the ceiling, the gain before the
    limiter (predicted from the mix) and the peak reduction that gain implies."""

    target_lufs: float | None
    target_source: str
    ceiling_dbtp: float
    gain_db: float
    predicted_peak_reduction_db: float
    amount: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


def plan_loudness(
    mix_lufs: float | None,
    mix_true_peak_dbtp: float | None,
    *,
    target_lufs: float | None,
    target_source: str,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    eq_loudness_change_db: float = 0.0,
    amount: float = 1.0,
) -> LoudnessPlan:
    """The gain that moves the (equalised) mix to ``target_lufs`` and the limiting it implies
    (its true peak after the gain minus the ceiling). ``amount`` scales the gain."""
    warnings: list[str] = []
    if target_lufs is None or mix_lufs is None or not math.isfinite(mix_lufs):
        return LoudnessPlan(target_lufs, target_source, ceiling_dbtp, 0.0, 0.0, amount,
                            ("no loudness target: the level is left as it is",))  # fmt: skip
    gain = (target_lufs - (mix_lufs + eq_loudness_change_db)) * amount
    tp = mix_true_peak_dbtp if mix_true_peak_dbtp is not None else -math.inf
    reduction = max(0.0, tp + eq_loudness_change_db + gain - ceiling_dbtp)
    if reduction > HEAVY_LIMITING_DB:
        warnings.append(
            f"reaching {target_lufs:g} LUFS needs about {reduction:.1f} dB of peak limiting "
            f"(more than {HEAVY_LIMITING_DB:g} dB): expect audible pumping and flattened "
            "transients; consider a lower target or compression in the mix"
        )
    return LoudnessPlan(target_lufs, target_source, ceiling_dbtp, gain, reduction, amount,
                        tuple(warnings))  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    """Everything a master would do, with the amounts applied."""

    tone: ToneProposal
    width: WidthProposal
    loudness: LoudnessPlan
    amounts: Mapping[str, float]

    @property
    def notes(self) -> tuple[str, ...]:
        return (*self.tone.notes, *self.loudness.warnings)


def eq_loudness_change_db(tone: ToneProposal, target: ToneTarget, sample_rate_hz: float) -> float:
    """Predicted change of integrated loudness (LU) caused by the proposal's EQ."""
    hz = target.band_hz
    gain = band_gain_db(tone.moves, sample_rate_hz, hz)
    if tone.fine is not None:
        grid = _band_grid(hz, sample_rate_hz)
        applied = tone.fine.gain_at(grid.ravel()).reshape(grid.shape)
        gain = gain + 10.0 * np.log10(np.mean(10.0 ** (applied / 10.0), axis=1))
    kp = k_power(hz, sample_rate_hz)
    p = np.where(np.isfinite(target.mix_db), 10.0 ** (np.nan_to_num(target.mix_db) / 10.0), 0.0)
    before, after = float(np.sum(p * kp)), float(np.sum(p * kp * 10.0 ** (gain / 10.0)))
    return 10.0 * math.log10(after / before) if before > 0 and after > 0 else 0.0
