"""Numbers as every report writes them: finite and rounded, or ``None``.

JSON has no NaN or infinity, and neither has the view: an undefined value and digital silence
(minus infinity) both become ``None``; the reason is given where the report has one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import SupportsFloat


def finite(value: SupportsFloat | None) -> float | None:
    """``value`` as a float when finite; ``None`` for None, NaN and the infinities."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def rounded(value: SupportsFloat | None, digits: int = 4) -> float | None:
    """``value`` rounded to ``digits`` decimals when finite, else ``None``."""
    v = finite(value)
    return None if v is None else round(v, digits)


def rounded_mapping(
    values: Mapping[str, SupportsFloat | None], digits: int = 2
) -> dict[str, float | None]:
    """Every value of ``values`` :func:`rounded`, keys in order."""
    return {k: rounded(v, digits) for k, v in values.items()}
