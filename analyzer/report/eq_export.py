"""The proposal's EQ moves as text a DAW or a system equaliser loads (``--export-eq``).

* ``apo``: Equalizer APO's parametric configuration, as AutoEq writes it
  (``Preamp: -4.0 dB``, then ``Filter 1: ON LSC Fc 120 Hz Gain 4.0 dB Q 0.71``). Equalizer APO's
  ``PK``, ``LSC`` and ``HSC`` filters with a Q are R. Bristow-Johnson's cookbook peaking EQ and
  shelves (``alpha = sin(w0) / (2 Q)``, the shelf's ``Fc`` its midpoint), the very sections of
  :mod:`analyzer.dsp.biquad` the proposal is fitted and applied with, so the file reproduces the
  proposed response (Equalizer APO's documentation, "Configuration reference", Filter command).
  The preamp is minus the summed response's largest boost (rounded up to 0.1 dB), so the EQ
  alone never clips a full-scale signal.
* ``moves-csv``: one row per move (type, frequency, gain, Q, why).
* ``response-csv``: the summed response of the moves, dB on a 1/24-octave grid from 20 Hz.

The ``--fine`` match curve (a linear-phase FIR) and the width move (mid/side) are not parametric
filters; they are left out and a comment line (``#``) says so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from analyzer.report.csv import formula_safe

if TYPE_CHECKING:
    from analyzer.mastering.eq import EqMove
    from analyzer.mastering.propose import Proposal

#: ``--export-format`` values.
EXPORT_FORMATS = ("apo", "moves-csv", "response-csv")
#: Equalizer APO's filter types for the cookbook sections the proposal can hold.
APO_TYPES = {
    "peaking": "PK",
    "low_shelf": "LSC",
    "high_shelf": "HSC",
    "high_pass": "HP",
    "low_pass": "LP",
}


def response_grid(sample_rate_hz: float) -> np.ndarray:
    """1/24-octave frequencies from 20 Hz to 20 kHz (or just under Nyquist)."""
    top = min(20000.0, 0.49 * float(sample_rate_hz))
    n = int(np.floor(24 * np.log2(top / 20.0))) + 1
    return 20.0 * 2.0 ** (np.arange(n) / 24.0)


def summed_response_db(
    moves: Sequence[EqMove], sample_rate_hz: float, frequencies_hz: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(frequencies, dB)`` of the cascade of ``moves`` at ``sample_rate_hz``."""
    from analyzer.mastering.eq import response_db

    f = response_grid(sample_rate_hz) if frequencies_hz is None else frequencies_hz
    if not moves:
        return f, np.zeros(len(f))
    return f, response_db(moves, sample_rate_hz, f)


def preamp_db(moves: Sequence[EqMove], sample_rate_hz: float) -> float:
    """Minus the summed response's largest boost, rounded up to 0.1 dB (0 when nothing boosts)."""
    _, db = summed_response_db(moves, sample_rate_hz)
    peak = float(np.max(db)) if len(db) else 0.0
    return -float(np.ceil(peak * 10.0 - 1e-9) / 10.0) if peak > 0 else 0.0


def _number(value: float, decimals: int = 1) -> str:
    """The shortest of ``decimals``..4 decimals that holds ``value`` to 1e-4 (``0.7071`` stays
    ``0.7071``, ``4.0`` stays ``4.0``): the file carries the proposal, not a rounding of it."""
    for d in range(decimals, 5):
        text = f"{value:.{d}f}"
        if abs(float(text) - value) < 5e-5:
            break
    return text.lstrip("-") if float(text) == 0 else text


def left_out(proposal: Proposal) -> list[str]:
    """What the file cannot hold, one sentence each."""
    notes = []
    if proposal.tone.fine is not None:
        notes.append(
            "the --fine match curve (a linear-phase FIR) is left out: it is no parametric filter"
        )
    if proposal.width.active:
        notes.append("the width move (mid/side) is left out: a parametric EQ cannot express it")
    return notes


def _safe_comment(text: str) -> str:
    """One comment line: no control character can start a new (active) line."""
    return "".join(c if c.isprintable() else "?" for c in text)


def apo_text(proposal: Proposal, sample_rate_hz: float, *, source: str = "") -> str:
    """Equalizer APO / AutoEq parametric text of the proposal's moves."""
    moves = proposal.tone.moves
    lines = [_safe_comment(f"# mixanalyzer EQ moves{' for ' + source if source else ''} "
                           f"(cookbook biquads, fitted at {sample_rate_hz:g} Hz)")]  # fmt: skip
    lines += [f"# {_safe_comment(n)}" for n in left_out(proposal)]
    lines.append(f"Preamp: {_number(preamp_db(moves, sample_rate_hz))} dB")
    for i, m in enumerate(moves, start=1):
        kind = APO_TYPES[m.kind]
        gain = "" if kind in ("HP", "LP") else f" Gain {_number(m.gain_db)} dB"
        lines.append(
            f"Filter {i}: ON {kind} Fc {_number(m.frequency_hz, 0)} Hz{gain} Q {_number(m.q, 2)}"
        )
    return "\n".join(lines) + "\n"


def moves_csv(proposal: Proposal, sample_rate_hz: float) -> str:
    """One row per move: ``type,frequency_hz,gain_db,q,why`` (a ``#`` line first for what is
    left out)."""
    out = io.StringIO()
    for note in left_out(proposal):
        out.write(f"# {_safe_comment(note)}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["type", "frequency_hz", "gain_db", "q", "why"])
    for m in proposal.tone.moves:
        writer.writerow([APO_TYPES[m.kind], _number(m.frequency_hz, 0), _number(m.gain_db),
                         _number(m.q, 2), formula_safe(m.why)])  # fmt: skip
    return out.getvalue()


def response_csv(proposal: Proposal, sample_rate_hz: float) -> str:
    """The summed response of the moves: ``frequency_hz,gain_db`` (0.01 dB)."""
    out = io.StringIO()
    for note in left_out(proposal):
        out.write(f"# {_safe_comment(note)}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["frequency_hz", "gain_db"])
    f, db = summed_response_db(proposal.tone.moves, sample_rate_hz)
    for hz, g in zip(f, db, strict=True):
        writer.writerow([f"{hz:.2f}", f"{g:.2f}"])
    return out.getvalue()


def export_text(proposal: Proposal, sample_rate_hz: float, fmt: str, *, source: str = "") -> str:
    """The text of ``--export-eq`` in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    if fmt == "apo":
        return apo_text(proposal, sample_rate_hz, source=source)
    if fmt == "moves-csv":
        return moves_csv(proposal, sample_rate_hz)
    if fmt == "response-csv":
        return response_csv(proposal, sample_rate_hz)
    raise ValueError(f"unknown export format {fmt!r}")
