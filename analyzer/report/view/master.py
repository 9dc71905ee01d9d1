"""The report's ``master`` section: the proposed EQ moves, the response of everything the EQ
does and the before/after table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.numbers import number, rounded
from analyzer.report.view.model import BeforeAfterRow, EqMoveView, MasterView, ResponseCurve

if TYPE_CHECKING:  # the mastering stack loads only when a master section is built
    from analyzer.mastering.chain import MasterResult
    from analyzer.mastering.propose import Proposal
    from analyzer.mastering.verify import Verification

_MOVE_KEYS = {"kind", "freq_hz", "gain_db"}
#: The EQ response is drawn on a 1/24-octave grid from 20 Hz (240 points: 10 octaves).
RESPONSE_POINTS_PER_OCTAVE = 24
RESPONSE_LOW_HZ = 20.0
RESPONSE_HIGH_HZ = 20000.0


def master_view(
    moves: Sequence[Mapping[str, Any]],
    *,
    engine: str = "",
    response: Mapping[str, Sequence[float | None]] | None = None,
    before_after: Sequence[Mapping[str, Any]] = (),
    output: str | None = None,
    notes: Sequence[str] = (),
    checks: Mapping[str, bool | None] | None = None,
    proposed_only: bool = False,
) -> MasterView:
    """The ``master`` section from plain data: ``moves`` as {kind, freq_hz, gain_db, q, reason},
    ``response`` as {hz, db}, ``before_after`` as {label, unit, before, after}. Raises
    ``ValueError`` on a move without kind, freq_hz or gain_db."""
    clean_moves = []
    for m in moves:
        missing = _MOVE_KEYS - set(m)
        if missing:
            raise ValueError(f"an EQ move needs {', '.join(sorted(missing))}")
        clean_moves.append(
            EqMoveView(str(m["kind"]), rounded(m["freq_hz"], 1), rounded(m["gain_db"], 2),
                       rounded(m.get("q"), 3), str(m.get("reason", "")))
        )  # fmt: skip
    resp = None
    if response is not None:
        resp = ResponseCurve(tuple(rounded(f, 2) for f in response["hz"]),
                             tuple(rounded(v, 2) for v in response["db"]))  # fmt: skip
    return MasterView(
        engine=engine,
        moves=tuple(clean_moves),
        response=resp,
        before_after=tuple(
            BeforeAfterRow(
                str(r["label"]),
                str(r.get("unit", "")),
                rounded(r.get("before"), 2),
                rounded(r.get("after"), 2),
            )
            for r in before_after
        ),
        output=output,
        notes=tuple(notes),
        checks=tuple((str(k), v) for k, v in (checks or {}).items()),
        proposed_only=proposed_only,
    )


def master_view_for(
    proposal: Proposal, sample_rate_hz: int, *, engine: str = "native",
    result: MasterResult | None = None, verification: Verification | None = None,
    notes: list[str] | None = None, proposed_only: bool = False,
) -> MasterView:  # fmt: skip
    """The ``master`` section of a proposal (and, when written, its result and verification):
    the moves, the response of everything the EQ does (moves and fine curve, 1/24-octave grid
    20 Hz-20 kHz) and the before/after table."""
    import numpy as np

    from analyzer.mastering.eq import response_db

    steps = np.arange(0, 10 * RESPONSE_POINTS_PER_OCTAVE) / RESPONSE_POINTS_PER_OCTAVE
    hz = RESPONSE_LOW_HZ * 2.0**steps
    hz = hz[hz < min(RESPONSE_HIGH_HZ, 0.49 * sample_rate_hz)]
    tone = proposal.tone
    effect = None if result is None else result.matchering
    if effect is not None:  # what Matchering did, measured (1/3-octave bands)
        known = [(f, v) for f, v in zip(effect.band_hz, effect.eq_change_db, strict=True)
                 if v is not None and f < 0.49 * sample_rate_hz]  # fmt: skip
        hz = np.array([f for f, _ in known])
        db = np.array([v for _, v in known])
    else:
        db = response_db(tone.moves, sample_rate_hz, hz) if tone.moves else np.zeros(hz.size)
    if tone.fine is not None and effect is None:
        db = db + tone.fine.gain_at(hz)
    rows = []
    if verification is not None:
        rows = [{"label": r.metric, "unit": r.unit, "before": r.before, "after": r.after}
                for r in verification.rows]  # fmt: skip
    return master_view(
        [{"kind": m.kind, "freq_hz": m.frequency_hz, "gain_db": m.gain_db, "q": m.q,
          "reason": m.why.partition(": ")[2]} for m in tone.moves],
        engine=engine,
        response={"hz": [float(f) for f in hz], "db": [float(v) for v in db]},
        before_after=rows,
        output=None if result is None else result.path,
        checks=None if verification is None else verification.checks,
        proposed_only=proposed_only,
        notes=list(dict.fromkeys([*([proposal.dc.why] if proposal.dc else []),
                                  *proposal.notes, *proposal.width.why,
                                  *(result.warnings if result else ()), *(notes or []),
                                  *_matchering_notes(effect)])),
    )  # fmt: skip


def _matchering_notes(effect: Any) -> list[str]:
    """What Matchering did besides its EQ (drawn as the response): its gain and limiting."""
    if effect is None:
        return []
    gain = "unknown" if effect.gain_db is None else f"{number(effect.gain_db, '+.1f')} dB"
    tail = "" if effect.true_peak_limited else "; no true-peak limiter after it (--raw-matchering)"
    return [
        "the EQ curve is what Matchering did, measured: the master's 1/3-octave levels minus the "
        "mix's, each re its own loudness",
        f"Matchering: level {gain} (integrated), its limiter took "
        f"{effect.peak_reduction_db:.1f} dB off the sample peaks{tail}",
    ]
