"""The rules an EQ proposal obeys, as a mastering engineer would hold it to them, and the
"too far to match" gate.

Rules (every proposal, enforced in :func:`analyzer.mastering.tone_fit.fit_tone` and checked
independently by tests/mastering/test_proposal_rules.py):

- the summed response of all moves stays within ``±max_gain`` dB at every frequency from 20 Hz
  to 20 kHz (stacked moves must not get round the per-move limit);
- no two moves of the same type within 1/3 octave (they are merged into one);
- no two moves of opposite sign within an octave (a see-saw: one undoes the other);
- bells no narrower than Q 2 unless the user asks for surgical moves;
- no bell centred below 30 Hz or above 16 kHz, and no move whose boost of the bands below
  30 Hz or above 16 kHz, less the loudness the moves add, goes further than the references'
  own level there plus the tolerance (lossy references are empty above ~16 kHz: their absence
  of energy is not a target; a loudness loss is not counted, since a cut elsewhere does not
  boost these bands);
- a band inside the references' 10-90 % range widened by the comparison's tolerance
  (:data:`analyzer.comparison.metrics.KINDS`, 1.5 dB for 1/3-octave bands) is not corrected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from analyzer.comparison.metrics import metric_kind
from analyzer.mastering.eq import EqMove, response

#: Moves of the same type closer than this (octaves) are one move.
SAME_TYPE_OCTAVES = 1.0 / 3.0
#: Moves of opposite sign closer than this (octaves) cancel each other.
OPPOSING_OCTAVES = 1.0
#: The widest Q a bell may have without ``--surgical``, and with it.
PLAIN_MAX_Q = 2.0
SURGICAL_MAX_Q = 4.0
#: Where bells may be centred.
BELL_MIN_HZ = 30.0
BELL_MAX_HZ = 16000.0
#: The regions a shelf may lift only as far as the references are above the mix there.
OUT_LOW_HZ = 30.0
OUT_HIGH_HZ = 16000.0
#: The span over which the summed response is held within ``±max_gain``.
RESPONSE_MIN_HZ = 20.0
RESPONSE_MAX_HZ = 20000.0
RESPONSE_POINTS = 97  # 1/10 octave over 20 Hz-20 kHz


def third_octave_tolerance_db() -> float:
    """The comparison's tolerance around the references' range for 1/3-octave bands."""
    return float(metric_kind("third_octave.1000").tolerance)


def response_grid(sample_rate_hz: float) -> np.ndarray:
    """Log-spaced frequencies over 20 Hz-20 kHz (kept below Nyquist)."""
    top = min(RESPONSE_MAX_HZ, 0.499 * sample_rate_hz)
    return np.geomspace(RESPONSE_MIN_HZ, top, RESPONSE_POINTS)


def summed_response_db(
    moves: Sequence[EqMove], sample_rate_hz: float, frequencies_hz: np.ndarray
) -> np.ndarray:
    """Magnitude (dB) of all moves together."""
    if not moves:
        return np.zeros(len(frequencies_hz))
    h = np.abs(response(moves, sample_rate_hz, frequencies_hz))
    return 20.0 * np.log10(np.maximum(h, 1e-12))


def octaves_apart(a: EqMove, b: EqMove) -> float:
    return abs(math.log2(a.frequency_hz / b.frequency_hz))


def conflicts(moves: Sequence[EqMove]) -> list[tuple[int, int, str]]:
    """Pairs ``(i, j, why)`` breaking the spacing rules: ``"same"`` (same type within 1/3
    octave) or ``"opposing"`` (opposite signs within an octave)."""
    out = []
    for i, a in enumerate(moves):
        for j in range(i + 1, len(moves)):
            b = moves[j]
            apart = octaves_apart(a, b)
            if a.kind == b.kind and apart < SAME_TYPE_OCTAVES:
                out.append((i, j, "same"))
            elif a.gain_db * b.gain_db < 0 and apart < OPPOSING_OCTAVES:
                out.append((i, j, "opposing"))
    return out


def spacing_violation(moves: Sequence[EqMove]) -> np.ndarray:
    """One value per pair of moves for the fit's penalty (0 when the pair keeps the spacing
    rules): the octaves missing to the rule's spacing times the smaller gain (dB·octave), so
    the fit moves such pairs apart or shrinks one rather than meeting the hard rule later."""
    return spacing_violations(
        [m.kind for m in moves],
        np.array([[m.frequency_hz for m in moves]]),
        np.array([[m.gain_db for m in moves]]),
    )[0]


def spacing_violations(kinds: Sequence[str], hz: np.ndarray, gain_db: np.ndarray) -> np.ndarray:
    """:func:`spacing_violation` of many sets of moves of the same ``kinds`` at once: ``hz``
    and ``gain_db`` shaped ``(sets, moves)``, the result ``(sets, pairs)`` (the fit's finite
    differences evaluate one set per parameter; math's log2 per pair, as
    :func:`octaves_apart`, so the values do not depend on numpy's SIMD kernels)."""
    hz, gain_db = np.asarray(hz, dtype=float), np.asarray(gain_db, dtype=float)
    n = len(kinds)
    pairs = [(i, j, kinds[i] == kinds[j]) for i in range(n) for j in range(i + 1, n)]
    log2 = math.log2
    rows = []
    for fs, gs in zip(hz.tolist(), gain_db.tolist(), strict=True):
        row = []
        for i, j, same in pairs:
            value = 0.0
            if same or gs[i] * gs[j] < 0:
                apart = abs(log2(fs[i] / fs[j]))
                small = min(abs(gs[i]), abs(gs[j]))
                if same:
                    value = max(SAME_TYPE_OCTAVES - apart, 0.0) * small * 3.0
                else:
                    value = max(OPPOSING_OCTAVES - apart, 0.0) * small
            row.append(value)
        rows.append(row)
    return np.array(rows, dtype=float).reshape(hz.shape[0], len(pairs))


def out_of_band_room_db(band_hz: np.ndarray, mix_db: np.ndarray, p90_db: np.ndarray) -> np.ndarray:
    """Per band below 30 Hz / above 16 kHz: how far the references' top (90th percentile,
    plus the comparison's tolerance, inside which a band counts as matched) is above the mix
    there (at least 0; no room where the references have nothing: a lossy reference's empty
    top stays far below any mix); NaN for the other bands and where the mix is undefined.
    After level matching, the moves may lift those bands by this much at most."""
    out = (band_hz < OUT_LOW_HZ * 0.99) | (band_hz > OUT_HIGH_HZ * 1.01)
    top = p90_db + third_octave_tolerance_db()
    room = np.where(np.isfinite(p90_db), np.maximum(top - mix_db, 0.0), 0.0)
    return np.where(out & np.isfinite(mix_db), room, np.nan)


def merged(a: EqMove, b: EqMove) -> EqMove:
    """One move for two of the same type: the gain-weighted centre (log frequency), the
    larger gain in the common direction plus the other, the wider Q."""
    wa, wb = abs(a.gain_db) + 1e-9, abs(b.gain_db) + 1e-9
    f = 2.0 ** ((wa * math.log2(a.frequency_hz) + wb * math.log2(b.frequency_hz)) / (wa + wb))
    return EqMove(a.kind, f, a.gain_db + b.gain_db, min(a.q, b.q))


def resolve_conflicts(moves: Sequence[EqMove]) -> list[EqMove]:
    """Merge same-type pairs and drop the smaller of opposing pairs until none is left."""
    out = list(moves)
    while True:
        found = conflicts(out)
        if not found:
            return out
        i, j, why = found[0]
        a, b = out[i], out[j]
        rest = [m for k, m in enumerate(out) if k not in (i, j)]
        if why == "same":
            out = [*rest, merged(a, b)]
        else:
            out = [*rest, a if abs(a.gain_db) >= abs(b.gain_db) else b]


def limit_summed_response(
    moves: Sequence[EqMove], sample_rate_hz: float, max_gain_db: float
) -> list[EqMove]:
    """Scale every gain down (and round to 0.1 dB) until the summed response is within
    ``±max_gain_db`` at every frequency of :func:`response_grid`."""
    grid = response_grid(sample_rate_hz)
    out = list(moves)
    for _ in range(60):
        peak = float(np.max(np.abs(summed_response_db(out, sample_rate_hz, grid)), initial=0.0))
        if peak <= max_gain_db:
            return out
        scale = min(0.98, (max_gain_db - 0.05) / peak)
        out = [replace(m, gain_db=math.trunc(m.gain_db * scale * 10.0) / 10.0) for m in out]
        out = [m for m in out if m.gain_db != 0.0]
    return []
