"""The loudness plan: where the master goes and the limiting that takes.

The target integrated loudness (``--target-lufs``, a platform's target, or the references'
median loudness) and the true-peak ceiling; the gain into the limiter and, from the mix's true
peak, the peak reduction it will take (a warning above ``HEAVY_LIMITING_DB``). The limiter may
reach at most ``max_limiting_db`` of gain reduction: ``LIMITING_BOUND_DB`` unless the user
allows heavy limiting (then ``SAFETY_LIMITING_DB``, past which the output hardly gets louder).
The native engine measures what the limiter will do before it writes
(:func:`analyzer.mastering.chain.master_native`) and, when the target needs more than the bound,
plans the master to the loudest target reachable within it (:func:`capped`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from analyzer.types import DEFAULT_CEILING_DBTP

#: Peak reduction (dB) above which the plan warns of pumping and flattened transients.
HEAVY_LIMITING_DB = 6.0
#: The most gain reduction (dB) a master may take without ``--allow-heavy-limiting``.
LIMITING_BOUND_DB = 9.0
#: With ``--allow-heavy-limiting``: the hard bound of the loudness search (dB). Past it the
#: output hardly gets louder; without a bound the search toward an unreachable target ran away
#: (a full-scale square as the reference drove the gain to overflow and wrote NaN).
SAFETY_LIMITING_DB = 30.0


@dataclass(frozen=True)
class LoudnessPlan:
    """Where the master goes: the target, where it came from, the ceiling, the gain before the
    limiter (predicted from the mix) and the peak reduction that gain implies. ``asked_lufs``
    is the target asked when it took more than ``max_limiting_db`` (``target_lufs`` is then
    the loudest target reachable within that bound)."""

    target_lufs: float | None
    target_source: str
    ceiling_dbtp: float
    gain_db: float
    predicted_peak_reduction_db: float
    amount: float
    warnings: tuple[str, ...] = field(default_factory=tuple)
    max_limiting_db: float = LIMITING_BOUND_DB
    asked_lufs: float | None = None


def limiting_warnings(target_lufs: float, reduction_db: float, bound_db: float) -> list[str]:
    """Today's heavy-limiting warning (more than ``HEAVY_LIMITING_DB``), and the bound's note
    when ``reduction_db`` is over ``bound_db``."""
    out = []
    if reduction_db > bound_db:
        out.append(
            f"reaching {target_lufs:.1f} LUFS needs about {reduction_db:.1f} dB of peak limiting, "
            f"over the {bound_db:g} dB bound: the master is planned to the loudest target "
            f"reachable within it{_HEAVY_HINT if bound_db < SAFETY_LIMITING_DB else ''}"
        )
    elif reduction_db > HEAVY_LIMITING_DB:
        out.append(
            f"reaching {target_lufs:.1f} LUFS needs about {reduction_db:.1f} dB of peak limiting "
            f"(more than {HEAVY_LIMITING_DB:g} dB): expect audible pumping and flattened "
            "transients; consider a lower target or compression in the mix"
        )
    return out


_HEAVY_HINT = "; --allow-heavy-limiting to go further"


def plan_loudness(
    mix_lufs: float | None,
    mix_true_peak_dbtp: float | None,
    *,
    target_lufs: float | None,
    target_source: str,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    eq_loudness_change_db: float = 0.0,
    amount: float = 1.0,
    max_limiting_db: float = LIMITING_BOUND_DB,
) -> LoudnessPlan:
    """The gain that moves the (equalised) mix to ``target_lufs`` and the limiting it implies
    (its true peak after the gain minus the ceiling: an estimate, which the native engine
    replaces by the limiter's own detection before writing). ``amount`` scales the gain."""
    if target_lufs is None or mix_lufs is None or not math.isfinite(mix_lufs):
        return LoudnessPlan(target_lufs, target_source, ceiling_dbtp, 0.0, 0.0, amount,
                            ("no loudness target: the level is left as it is",),
                            max_limiting_db)  # fmt: skip
    gain = (target_lufs - (mix_lufs + eq_loudness_change_db)) * amount
    tp = mix_true_peak_dbtp if mix_true_peak_dbtp is not None else -math.inf
    reduction = max(0.0, tp + eq_loudness_change_db + gain - ceiling_dbtp)
    return LoudnessPlan(target_lufs, target_source, ceiling_dbtp, gain, reduction, amount,
                        tuple(limiting_warnings(target_lufs, reduction, max_limiting_db)),
                        max_limiting_db)  # fmt: skip


def with_bound(plan: LoudnessPlan, max_limiting_db: float) -> LoudnessPlan:
    """``plan`` with another limiting bound (its warnings redone)."""
    if plan.target_lufs is None or (plan.gain_db == 0.0 and not plan.predicted_peak_reduction_db):
        return replace(plan, max_limiting_db=max_limiting_db)
    warnings = limiting_warnings(plan.target_lufs, plan.predicted_peak_reduction_db,
                                 max_limiting_db)  # fmt: skip
    return replace(plan, max_limiting_db=max_limiting_db, warnings=tuple(warnings))


def measured(
    plan: LoudnessPlan, *, gain_db: float, reduction_db: float, reached_lufs: float | None
) -> LoudnessPlan:
    """The plan as the native engine will write it: the gain into the limiter and the
    limiter's maximum gain reduction measured on its own detection before the write pass; when
    the target was out of reach within the bound, ``reached_lufs`` (the loudest reachable) is
    the target and the asked target is kept in ``asked_lufs``."""
    asked = plan.target_lufs
    if asked is None:
        return plan
    notes: list[str] = []
    target = asked
    if reached_lufs is not None and plan.max_limiting_db < SAFETY_LIMITING_DB:
        target = reached_lufs
        notes.append(
            f"{asked:.1f} LUFS asked, {reached_lufs:.1f} LUFS planned: more would take over "
            f"{plan.max_limiting_db:g} dB of limiting{_HEAVY_HINT}"
        )
    notes += limiting_warnings(target, reduction_db, math.inf)
    return replace(
        plan, target_lufs=target, gain_db=gain_db, predicted_peak_reduction_db=reduction_db,
        warnings=tuple(notes), asked_lufs=asked if target != asked else None,
    )  # fmt: skip
