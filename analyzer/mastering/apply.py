"""Apply a proposal with the native engine and prove it; refit once after heavy limiting."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from analyzer.comparison.metrics import Comparison
from analyzer.io.write import OutputFormat
from analyzer.mastering.chain import MasterResult, StageProgress, master_native
from analyzer.mastering.propose import Proposal
from analyzer.mastering.verify import Verification, verify
from analyzer.types import TrackAnalysis

#: A second master is made when the limiter moved the tonal balance this much (dB RMS) beyond
#: the EQ's prediction.
TONAL_CORRECTION_DB = 0.2


def run_master(
    mix_path: str,
    out_path: str,
    mix: TrackAnalysis,
    comparison: Comparison | None,
    proposal: Proposal,
    rebuild: Callable[[np.ndarray], Proposal],
    *,
    references: Sequence[TrackAnalysis] = (),
    profile_stats: Mapping | None = None,
    fmt: OutputFormat,
    linear_phase: bool = False,
    force: bool = False,
    progress: StageProgress | None = None,
    on_written: Callable[[str], None] | None = None,
) -> tuple[Proposal, MasterResult, Verification]:
    """Master, verify, and when heavy limiting bent the tonal balance away from the prediction,
    refit the EQ to include what the limiter did (``rebuild(shift_db)``), master again and keep
    the better of the two (by the measured tonal error). ``on_written(out_path)`` is called each
    time ``out_path`` holds a new master (the first one, and the second when it is kept), so a
    caller may read it while a refit runs (the demo encodes its clip)."""
    res = master_native(mix_path, out_path, proposal, mix, fmt=fmt, linear_phase=linear_phase,
                        force=force, progress=progress)  # fmt: skip
    if on_written is not None:
        on_written(out_path)
    applied = proposal.amounts.get("tone", 1.0) > 0
    ver = verify(mix, res.analysis, comparison=comparison, references=references,
                 profile_stats=profile_stats, plan=res.plan or proposal.loudness,
                 tone_applied=applied)  # fmt: skip
    tone = proposal.tone
    proposal = _as_applied(proposal, res)
    if (
        comparison is None or not (tone.moves or tone.fine) or res.limiter is None
        or ver.tonal_error_after_db is None or tone.error_after_db is None
        or ver.tonal_error_after_db <= tone.error_after_db + TONAL_CORRECTION_DB
        or len(ver.after_levels_db) != len(tone.predicted_db)
    ):  # fmt: skip
        return proposal, res, ver
    measured = np.array([np.nan if v is None else v for v in ver.after_levels_db])
    predicted = np.array([np.nan if v is None else v for v in tone.predicted_db])
    second = rebuild(measured - predicted)
    second = replace(second, tone=replace(
        second.tone, before_db=tone.before_db, error_before_db=tone.error_before_db,
    ))  # fmt: skip
    folder, name = os.path.split(os.path.abspath(out_path))
    retry = os.path.join(folder, f".{name}.second{os.path.splitext(name)[1]}")
    try:
        res2 = master_native(mix_path, retry, second, mix, fmt=fmt, linear_phase=linear_phase,
                             force=True, progress=progress)  # fmt: skip
        ver2 = verify(mix, res2.analysis, comparison=comparison, references=references,
                      profile_stats=profile_stats, plan=res2.plan or second.loudness,
                      tone_applied=applied)  # fmt: skip
        if (ver2.tonal_error_after_db or math.inf) < ver.tonal_error_after_db:
            os.replace(retry, out_path)
            if on_written is not None:
                on_written(out_path)
            res2 = replace(res2, path=out_path, analysis=replace(
                res2.analysis, file=replace(res2.analysis.file, path=out_path)))  # fmt: skip
            return _as_applied(second, res2), res2, ver2
        return proposal, res, ver
    finally:
        with contextlib.suppress(OSError):
            os.unlink(retry)


def _as_applied(proposal: Proposal, result: MasterResult) -> Proposal:
    """The proposal with the loudness plan as the engine wrote it (measured gain and limiting,
    the target reachable within the limiting bound)."""
    return proposal if result.plan is None else replace(proposal, loudness=result.plan)
