"""Reference statistics: per metric, the median and 10th/90th percentiles over a set of tracks.

What a genre profile holds and what a comparison or a per-device translation score is judged
against. Percentiles are numpy's default linear interpolation between order statistics
(Hyndman & Fan 1996, definition 7).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RangeStats:
    """Median and 10th/90th percentiles of a metric over the references (``n`` defined)."""

    median: float | None
    p10: float | None
    p90: float | None
    n: int


def range_stats(values: Sequence[float | None]) -> RangeStats:
    """Median and 10th/90th percentiles (linear interpolation) of the defined values; with one
    value all three are that value."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return RangeStats(None, None, None, 0)
    p10, med, p90 = np.percentile(v, [10, 50, 90])
    return RangeStats(float(med), float(p10), float(p90), int(v.size))


def metric_ranges(vectors: Iterable[Mapping[str, float | None]]) -> dict[str, RangeStats]:
    """:func:`range_stats` of every metric named by any of ``vectors`` (one metric vector per
    track; a metric missing from a track counts as undefined there), in first-seen order."""
    rows = list(vectors)
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return {k: range_stats([row.get(k) for row in rows]) for k in keys}
