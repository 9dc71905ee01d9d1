"""The native mastering chain: the proposal's processors in order, streamed.

The DC offset taken out (:mod:`analyzer.mastering.dc`), when the proposal has one; EQ moves
(minimum-phase biquads, :mod:`analyzer.mastering.eq`) or, with ``linear_phase``, the moves'
magnitude as a linear-phase FIR; the fine match curve (linear-phase FIR,
:mod:`analyzer.mastering.fir`); the width move (:mod:`analyzer.mastering.width`); the gain and
the true-peak limiter (:mod:`analyzer.mastering.limiter`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from analyzer.dsp.units import db_to_amplitude
from analyzer.io import open_audio
from analyzer.mastering.dc import DcRemover
from analyzer.mastering.eq import EqChain, response
from analyzer.mastering.fir import LinearPhaseFir, design_linear_phase
from analyzer.mastering.limiter import TruePeakLimiter
from analyzer.mastering.propose import Proposal
from analyzer.mastering.width import WidthProcessor
from analyzer.types import DEFAULT_CEILING_DBTP

BLOCK_FRAMES = 1 << 17


class Chain:
    """The processors in order, streamed: ``process`` returns what is ready, ``flush`` the rest
    (latencies are compensated: the output is as long as the input and aligned with it)."""

    def __init__(
        self, proposal: Proposal, sample_rate_hz: int, channels: int, *,
        linear_phase: bool = False, gain_db: float | None = None,
        ceiling_dbtp: float = DEFAULT_CEILING_DBTP, limit: bool = True,
        replay_peaks: list[np.ndarray] | None = None,
    ) -> None:  # fmt: skip
        self.stages: list[object] = []
        if proposal.dc is not None:  # first: every later stage and the limiter see no offset
            self.stages.append(DcRemover(proposal.dc, channels))
        tone = proposal.tone
        moves = list(tone.moves)
        if moves and not linear_phase:
            self.stages.append(EqChain(moves, sample_rate_hz, channels))
        fir_moves = moves if linear_phase else []
        if fir_moves or tone.fine is not None:
            fine = tone.fine

            def magnitude(f: np.ndarray) -> np.ndarray:
                m = np.abs(response(fir_moves, sample_rate_hz, f)) if fir_moves else np.ones(
                    f.shape
                )  # fmt: skip
                if fine is not None:
                    m = m * 10.0 ** (fine.gain_at(f) / 20.0)
                return m

            h = design_linear_phase(magnitude, sample_rate_hz)
            self.stages.append(LinearPhaseFir(h, channels))
        if proposal.width.active and channels == 2:
            self.stages.append(WidthProcessor(
                sample_rate_hz, side_gain_db=proposal.width.side_gain_db,
                mono_below_hz=proposal.width.mono_below_hz,
            ))  # fmt: skip
        self.limiter: TruePeakLimiter | None = None
        if gain_db is not None:
            if limit:
                self.limiter = TruePeakLimiter(
                    sample_rate_hz,
                    channels,
                    ceiling_dbtp=ceiling_dbtp,
                    input_gain_db=gain_db,
                    replay_peaks=replay_peaks,
                )
                self.stages.append(self.limiter)
            elif gain_db != 0.0:
                self.stages.append(_Gain(gain_db))

    def process(self, block: np.ndarray) -> np.ndarray:
        return self._through(block, 0)

    def _through(self, x: np.ndarray, start: int) -> np.ndarray:
        for stage in self.stages[start:]:
            x = stage.process(x)  # type: ignore[attr-defined]
        return x

    def flush(self) -> np.ndarray:
        parts = []
        for i, stage in enumerate(self.stages):
            if hasattr(stage, "flush"):
                parts.append(self._through(stage.flush(), i + 1))
        return np.concatenate(parts, axis=1) if parts else None  # type: ignore[return-value]


class _Gain:
    def __init__(self, gain_db: float) -> None:
        self.g = db_to_amplitude(gain_db)

    def process(self, x: np.ndarray) -> np.ndarray:
        return x * self.g


def processed_blocks(
    path: str, chain: Chain, on_read: Callable[[int], None]
) -> Iterator[np.ndarray]:
    """The file at ``path`` through ``chain``, block by block (``on_read(frames)`` per block
    read), with the chain's flushed tail last."""
    with open_audio(path) as src:
        for block in src.blocks(BLOCK_FRAMES):
            on_read(block.shape[1])
            y = chain.process(block)
            if y.shape[1]:
                yield y
    rest = chain.flush()
    if rest is not None and rest.shape[1]:
        yield rest
