"""The width proposal: a mid/side move when the mix's stereo width is out of the references'
range.

When the side/mid ratio of the mix lies outside the references' range (widened by the
tolerance of :mod:`analyzer.comparison.metrics`) in most broad bands above 250 Hz, a broadband
side gain moves it back; when the low end (below 250 Hz) is wider than the references and wide
in itself, a "mono below X Hz" move (the side signal high-passed at X, Linkwitz-Riley
24 dB/octave, :mod:`analyzer.mastering.width`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.comparison.metrics import Comparison
from analyzer.mastering.tone_fit import DEFAULT_MAX_GAIN_DB

WIDTH_MIN_BANDS = 2
MONO_BELOW_HZ = 120.0
#: The low end counts as wide in itself above this side/mid ratio (dB).
WIDE_LOW_END_DB = -12.0


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
