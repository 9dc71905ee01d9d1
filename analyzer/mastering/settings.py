"""What the user asks of a master, checked once: the dimensions and how much of each to match."""

from __future__ import annotations

import math

from analyzer.errors import UsageError

DIMENSIONS = ("tone", "width", "loudness")


def amounts_from(
    *, amount: float | None = None, tone: float | None = None, width: float | None = None,
    loudness: float | None = None, only: str | None = None,
) -> dict[str, float]:  # fmt: skip
    """Per-dimension amounts (0-1) from percentages: ``amount`` sets all, the named ones
    override it, ``only`` zeroes the others."""
    base = 100.0 if amount is None else amount
    out = {}
    for name, value in (("tone", tone), ("width", width), ("loudness", loudness)):
        pct = base if value is None else value
        if not 0.0 <= pct <= 100.0 or not math.isfinite(pct):
            raise UsageError(f"--amount for {name}: {pct:g} is not between 0 and 100 (%)")
        out[name] = pct / 100.0
    if only is not None:
        if only not in DIMENSIONS:
            raise UsageError(f"--only {only!r}: expected one of {', '.join(DIMENSIONS)}")
        out = {k: (v if k == only else 0.0) for k, v in out.items()}
    return out
