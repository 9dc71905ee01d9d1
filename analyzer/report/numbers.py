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


#: Decimals a metric is written with where one decimal would hide what matters: a correlation
#: of 0.97 is not "1.0", and a tilt of -0.04 dB/oct is not "-0.0".
METRIC_DECIMALS = {"correlation": 2, "correlation_p5": 2, "tilt_db_per_octave": 2}


def metric_decimals(metric: str, default: int = 1) -> int:
    """The decimals ``metric`` (a comparison metric name, e.g. ``correlation``) is written with."""
    return METRIC_DECIMALS.get(metric.rsplit(".", 1)[-1], default)


def number(value: SupportsFloat | None, spec: str = ".1f", none: str = "n/a") -> str:
    """``format(value, spec)`` as every report writes a number: ``none`` when undefined,
    "-inf" / "inf" for the infinities, and never a negative zero ("-0.0" is "0.0", "+0.0" with a
    sign spec): a value that rounds to zero has no sign worth showing."""
    if value is None:
        return none
    v = float(value)
    if math.isnan(v):
        return none
    if math.isinf(v):
        return "-inf" if v < 0 else "inf"
    text = format(v, spec)
    core = text.lstrip()
    if core.startswith("-") and not any(c in "123456789" for c in core.split("e")[0]):
        sign = "+" if "+" in spec else " " if core != text else ""
        text = text.replace("-", sign, 1)
    return text
