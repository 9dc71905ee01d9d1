"""The loudness plan: where the master goes and the limiting that takes.

The target integrated loudness (``--target-lufs``, a platform's target, or the references'
median loudness) and the true-peak ceiling; the gain into the limiter and, from the mix's true
peak, the peak reduction it will take (a warning above ``HEAVY_LIMITING_DB``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from analyzer.types import DEFAULT_CEILING_DBTP

HEAVY_LIMITING_DB = 6.0


@dataclass(frozen=True)
class LoudnessPlan:
    """Where the master goes: the target, where it came from, the ceiling, the gain before the
    limiter (predicted from the mix) and the peak reduction that gain implies."""

    target_lufs: float | None
    target_source: str
    ceiling_dbtp: float
    gain_db: float
    predicted_peak_reduction_db: float
    amount: float
    warnings: tuple[str, ...] = field(default_factory=tuple)


def plan_loudness(
    mix_lufs: float | None,
    mix_true_peak_dbtp: float | None,
    *,
    target_lufs: float | None,
    target_source: str,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    eq_loudness_change_db: float = 0.0,
    amount: float = 1.0,
) -> LoudnessPlan:
    """The gain that moves the (equalised) mix to ``target_lufs`` and the limiting it implies
    (its true peak after the gain minus the ceiling). ``amount`` scales the gain."""
    warnings: list[str] = []
    if target_lufs is None or mix_lufs is None or not math.isfinite(mix_lufs):
        return LoudnessPlan(target_lufs, target_source, ceiling_dbtp, 0.0, 0.0, amount,
                            ("no loudness target: the level is left as it is",))  # fmt: skip
    gain = (target_lufs - (mix_lufs + eq_loudness_change_db)) * amount
    tp = mix_true_peak_dbtp if mix_true_peak_dbtp is not None else -math.inf
    reduction = max(0.0, tp + eq_loudness_change_db + gain - ceiling_dbtp)
    if reduction > HEAVY_LIMITING_DB:
        warnings.append(
            f"reaching {target_lufs:g} LUFS needs about {reduction:.1f} dB of peak limiting "
            f"(more than {HEAVY_LIMITING_DB:g} dB): expect audible pumping and flattened "
            "transients; consider a lower target or compression in the mix"
        )
    return LoudnessPlan(target_lufs, target_source, ceiling_dbtp, gain, reduction, amount,
                        tuple(warnings))  # fmt: skip
