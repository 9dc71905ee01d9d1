"""Mid/side width moves on a stereo signal: a broadband side gain and "mono below X Hz".

``M = (L + R) / 2``, ``S = (L - R) / 2``; ``L = M + S``, ``R = M - S``. The side gain scales
``S``; mono-below high-passes ``S`` with a 4th-order Linkwitz-Riley high-pass (two cascaded
Butterworth biquads, RBJ cookbook, minimum phase), so everything below the corner is mono and the
mid, hence the mono fold-down ``(L + R) / 2``, is untouched. Streams with carried state.
"""

from __future__ import annotations

import numpy as np

from analyzer.dsp.units import db_to_amplitude
from analyzer.mastering.eq import EqChain, EqMove


class WidthProcessor:
    """Streaming M/S processor for ``(2, frames)`` blocks (no latency)."""

    def __init__(
        self, sample_rate_hz: int, *, side_gain_db: float | None = None,
        mono_below_hz: float | None = None,
    ) -> None:  # fmt: skip
        self.side_gain = db_to_amplitude(side_gain_db or 0.0)
        self._hp = None
        if mono_below_hz is not None:
            hp = EqMove("high_pass", float(mono_below_hz), 0.0, 0.7071)
            self._hp = EqChain([hp, hp], sample_rate_hz, 1)

    def process(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, dtype=np.float64)
        if x.shape[0] != 2:
            raise ValueError("width moves need a stereo signal")
        mid = 0.5 * (x[0] + x[1])
        side = 0.5 * (x[0] - x[1])
        if self._hp is not None:
            side = self._hp.process(side[None, :])[0]
        side = side * self.side_gain
        return np.stack([mid + side, mid - side])
