"""The native mastering engine: the proposal applied in streaming passes, written atomically and
verified while it is written.

Signal path (:mod:`analyzer.mastering.signal_chain`): EQ moves (minimum-phase biquads,
:mod:`analyzer.mastering.eq`) or, with ``linear_phase``, the moves' magnitude as a linear-phase
FIR; the fine match curve (linear-phase FIR, :mod:`analyzer.mastering.fir`); the width move
(:mod:`analyzer.mastering.width`); the gain and the true-peak limiter
(:mod:`analyzer.mastering.limiter`); quantisation to the output format (TPDF dither for 16-bit).

Passes, each streaming in blocks (memory stays flat whatever the length):

1. *Measure* (only when the chain changes the sound before the limiter): the processed signal's
   integrated loudness and true peak, so the gain to the target is exact before limiting.
2. *Write*: the whole chain, the output written to a temporary file and every meter of
   :class:`analyzer.measure.engine.TrackMeters` fed with exactly the samples written (the
   verification costs no second read). When the limiter pulled the integrated loudness off the
   target by more than ``LOUDNESS_TOLERANCE_LU`` (the limiter takes loudness away where it
   works), the gain is corrected (secant steps) and the pass repeated, at most
   ``MAX_WRITE_PASSES`` times. The file appears under its name only when it is complete.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from analyzer.dsp.units import amplitude_to_db
from analyzer.io import AtomicWavWriter
from analyzer.io.write import OutputFormat, Quantizer
from analyzer.mastering.guard import MasterGuard
from analyzer.mastering.limiter import (
    LimiterStats,
    TruePeakLimiter,
    detection_margin_db,
    gain_reduction_db,
)
from analyzer.mastering.loudness_plan import LoudnessPlan, measured
from analyzer.mastering.loudness_search import limited_segment_sums, segment_sums
from analyzer.mastering.propose import Proposal
from analyzer.mastering.signal_chain import Chain, processed_blocks
from analyzer.measure.engine import TrackMeters, run_meters
from analyzer.measure.loudness import LoudnessMeter
from analyzer.measure.truepeak import TruePeakMeter
from analyzer.types import AudioInfo, TrackAnalysis

if TYPE_CHECKING:
    from analyzer.mastering.matchering import MatcheringEffect

LOUDNESS_TOLERANCE_LU = 0.1
MAX_WRITE_PASSES = 2
#: Trial passes are made when the gain drives the peaks this far over the ceiling (dB).
LIMITING_SEARCH_DB = 0.5
#: Files up to this many samples (frames x channels) keep the limiter's detection and the
#: K-weighted power in memory (8 bytes per frame) for the loudness trials and the final pass.
PEAK_CACHE_FRAMES = 64_000_000
MAX_TRIALS = 8
TRIAL_TOLERANCE_LU = 0.04

StageProgress = Callable[[str, int, int], None]
"""``progress(stage, frames_done, frames_total)``."""


@dataclass(frozen=True)
class MasterResult:
    """The written master and what it took."""

    path: str
    analysis: TrackAnalysis
    gain_db: float
    pre_limiter_lufs: float | None
    pre_limiter_true_peak_dbtp: float | None
    limiter: LimiterStats | None
    write_passes: int
    warnings: tuple[str, ...]
    #: The loudness plan as written (None: as proposed): the gain and the limiter's maximum
    #: gain reduction measured before writing, the target reachable within the bound.
    plan: LoudnessPlan | None = None
    #: What the Matchering engine did, measured (None for the native engine).
    matchering: MatcheringEffect | None = None


def master_native(
    mix_path: str,
    out_path: str,
    proposal: Proposal,
    mix: TrackAnalysis,
    *,
    fmt: OutputFormat,
    linear_phase: bool = False,
    force: bool = False,
    progress: StageProgress | None = None,
) -> MasterResult:
    """Apply ``proposal`` to the file ``mix_path`` (analysed as ``mix``) and write ``out_path``."""
    job = _Job(mix_path, proposal, mix.file, linear_phase, progress or (lambda *_: None))
    plan = proposal.loudness
    warnings: list[str] = []
    limit = plan.amount > 0 and plan.target_lufs is not None
    record, pre_lufs, pre_tp = _pre_limiter(job, mix, limit)
    gain = 0.0
    if limit and pre_lufs is not None and math.isfinite(pre_lufs):
        gain = (plan.target_lufs - pre_lufs) * plan.amount  # type: ignore[operator]
    elif limit:
        warnings.append("the mix has no measurable loudness: no gain applied")
    target = None if not limit or pre_lufs is None else pre_lufs + gain
    fs = job.info.sample_rate_hz
    max_gain = math.inf
    if pre_tp is not None and math.isfinite(pre_tp):
        # the gain at which the limiter reaches the plan's bound on its detection's peak
        max_gain = plan.max_limiting_db + plan.ceiling_dbtp - detection_margin_db(fs) - pre_tp
    aim = target
    if (
        target is not None and pre_tp is not None
        and pre_tp + gain > plan.ceiling_dbtp + LIMITING_SEARCH_DB
    ):  # fmt: skip
        gain, reached = _limited_gain(job, record, gain, target, max_gain)
        aim = reached if reached is not None else target
    analysis, stats, gain, passes = _write_on_target(
        job, out_path, fmt, force, limit, gain, aim, max_gain,
        record.peaks if record is not None else None,
    )  # fmt: skip
    out_lufs = analysis.loudness.integrated_lufs
    applied = plan
    if target is not None and pre_tp is not None:
        # at the bound and short of the target: the loudest reachable is what was written
        capped = (
            out_lufs is not None and gain >= max_gain - 1e-9
            and out_lufs < target - LOUDNESS_TOLERANCE_LU
        )  # fmt: skip
        reduction = gain_reduction_db(pre_tp + gain, plan.ceiling_dbtp, fs)
        applied = measured(plan, gain_db=gain, reduction_db=reduction,
                           reached_lufs=out_lufs if capped else None)  # fmt: skip
        if applied.asked_lufs is not None:
            target = applied.target_lufs
    if target is not None and out_lufs is not None and abs(out_lufs - target) > 0.3:
        warnings.append(
            f"the master reads {out_lufs:.1f} LUFS, not {target:.1f}: the limiter could not "
            f"reach the target within the {plan.ceiling_dbtp:g} dBTP ceiling"
        )
    if not limit and analysis.peaks.true_peak_dbtp > plan.ceiling_dbtp:
        warnings.append(
            f"true peak {analysis.peaks.true_peak_dbtp:+.2f} dBTP is above the "
            f"{plan.ceiling_dbtp:g} dBTP ceiling: the loudness amount is 0, so nothing limits it"
        )
    return MasterResult(
        path=out_path, analysis=analysis, gain_db=gain if limit else 0.0,
        pre_limiter_lufs=pre_lufs, pre_limiter_true_peak_dbtp=pre_tp, limiter=stats,
        write_passes=passes, warnings=tuple(warnings), plan=applied,
    )  # fmt: skip


@dataclass(frozen=True)
class _Job:
    """What every pass of one master shares: the input, the proposal, the file's format and
    the progress report."""

    mix_path: str
    proposal: Proposal
    info: AudioInfo
    linear_phase: bool
    report: StageProgress


def _pre_limiter(
    job: _Job, mix: TrackAnalysis, limit: bool
) -> tuple[_Recording | None, float | None, float | None]:
    """The loudness and true peak going into the limiter: the mix's own, or measured on the
    processed signal when the chain changes the sound (recorded for replayed trials when the
    limiter will work and the file fits in memory)."""
    proposal, info, plan = job.proposal, job.info, job.proposal.loudness
    fs, channels, total = info.sample_rate_hz, info.channels, info.frames
    tone_or_width = bool(  # any stage before the limiter that changes its peak
        proposal.dc or proposal.tone.moves or proposal.tone.fine or proposal.width.active
    )
    pre_lufs, pre_tp = mix.loudness.integrated_lufs, mix.peaks.true_peak_dbtp
    limits_mix = (
        pre_lufs is not None and math.isfinite(pre_lufs) and plan.target_lufs is not None
        and pre_tp + plan.target_lufs - pre_lufs > plan.ceiling_dbtp
    )  # fmt: skip
    if limit and (tone_or_width or limits_mix) and total * channels <= PEAK_CACHE_FRAMES:
        record = _record_pass(
            job.mix_path, proposal, fs, channels, job.linear_phase, plan.ceiling_dbtp,
            lambda d: job.report("measuring", d, total),
        )  # fmt: skip
        return record, record.lufs, record.true_peak_dbtp
    if tone_or_width and limit:
        pre_lufs, pre_tp = _measure_processed(
            job.mix_path, proposal, fs, channels, job.linear_phase,
            lambda d: job.report("measuring", d, total),
        )  # fmt: skip
    return None, pre_lufs, pre_tp


def _limited_gain(
    job: _Job, record: _Recording | None, gain: float, target: float, max_gain: float
) -> tuple[float, float | None]:
    """The limiter takes loudness away where it works: find the gain that lands on the target
    with loudness-only trials before writing (replayed from the recorded detection when it fits
    in memory, else full passes), never past ``max_gain`` (the plan's limiting bound).
    Returns the gain and, when the target is out of reach within the bound, the loudness
    reached there (else None)."""
    info, ceiling = job.info, job.proposal.loudness.ceiling_dbtp
    fs, total = info.sample_rate_hz, info.frames
    gain = min(gain, max_gain)
    if record is not None:
        rec = record

        def measure(_: int, g: float) -> float | None:
            return _replay_lufs(rec, fs, g, ceiling)
    else:

        def measure(trial: int, g: float) -> float | None:
            return _trial_lufs(
                job.mix_path, job.proposal, fs, info.channels, job.linear_phase, ceiling, g,
                lambda d: job.report(f"finding the limiter gain (trial {trial})", d, total),
            )  # fmt: skip

    return _search_gain(measure, gain, target, max_gain)


def _write_on_target(
    job: _Job, out_path: str, fmt: OutputFormat, force: bool, limit: bool, gain: float,
    target: float | None, max_gain: float, replay: list[np.ndarray] | None,
) -> tuple[TrackAnalysis, LimiterStats | None, float, int]:  # fmt: skip
    """Write the master; when the limiter pulled the loudness off ``target`` by more than
    ``LOUDNESS_TOLERANCE_LU``, correct the gain (never past ``max_gain``) and write again (at
    most ``MAX_WRITE_PASSES``). Returns the analysis, the limiter's statistics, the gain and
    the passes made."""
    ceiling = job.proposal.loudness.ceiling_dbtp
    passes = 0
    while True:
        passes += 1
        label = "writing" if passes == 1 else f"writing (pass {passes}, loudness correction)"
        analysis, stats = _write_pass(
            job.mix_path, out_path, job.proposal, job.info, fmt=fmt,
            linear_phase=job.linear_phase, gain_db=gain if limit else None,
            ceiling_dbtp=ceiling, limit=limit, force=force or passes > 1,
            on_read=lambda d, lab=label: job.report(lab, d, job.info.frames),
            replay_peaks=replay,
        )  # fmt: skip
        out_lufs = analysis.loudness.integrated_lufs
        if (
            target is None or out_lufs is None or not math.isfinite(out_lufs)
            or abs(out_lufs - target) <= LOUDNESS_TOLERANCE_LU or passes >= MAX_WRITE_PASSES
            or stats is None or stats.max_gain_reduction_db <= 0.0
        ):  # fmt: skip
            return analysis, stats, gain, passes
        corrected = min(gain + target - out_lufs, max_gain)
        if corrected == gain:  # already at the limiting bound: another pass changes nothing
            return analysis, stats, gain, passes
        gain = corrected


def _measure_processed(
    path: str, proposal: Proposal, fs: int, channels: int, linear_phase: bool,
    on_read: Callable[[int], None],
) -> tuple[float | None, float | None]:  # fmt: skip
    chain = Chain(proposal, fs, channels, linear_phase=linear_phase)
    loud = LoudnessMeter(fs, channels)
    peaks = TruePeakMeter(fs, channels)
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n
        on_read(done)

    run_meters(processed_blocks(path, chain, count), [loud, peaks])
    lufs = loud.result().integrated_lufs
    tp = peaks.result().true_peak_dbtp
    return lufs, (tp if math.isfinite(tp) else None)


@dataclass
class _Recording:
    """One pass of the processed (pre-limiter) signal: the limiter's detection at unity gain,
    the block sizes it was fed, and the K-weighted power per frame (BS.1770-4 weights)."""

    peaks: list[np.ndarray]
    blocks: list[int]
    k_power: np.ndarray
    lufs: float | None
    true_peak_dbtp: float | None
    segments: np.ndarray | None = None  # 100 ms sums of k_power (the trials' base)


def _record_pass(
    path: str, proposal: Proposal, fs: int, channels: int, linear_phase: bool,
    ceiling_dbtp: float, on_read: Callable[[int], None],
) -> _Recording:  # fmt: skip
    from analyzer.dsp.kweighting import KWeightingFilter
    from analyzer.measure.loudness import channel_weights

    chain = Chain(proposal, fs, channels, linear_phase=linear_phase)
    # One detector per channel, each in a meter thread of its own: the detection is most of
    # this pass (15 interpolated phases a sample) and its kernel releases the GIL, so the
    # channels run on both cores. The stereo link is the maximum over channels, taken per
    # chunk below: the same float32 values as one linked detector's (rounding is monotonic).
    lims = [
        TruePeakLimiter(fs, 1, ceiling_dbtp=ceiling_dbtp, record_peaks=True, detect_only=True)
        for _ in range(channels)
    ]
    kw = KWeightingFilter(fs, channels)
    weights = channel_weights(channels)[:, None]

    class _KPower:
        relative_cost = 0.06  # CPU s per 4-minute stereo file (engine.meter_groups)

        def __init__(self) -> None:
            self.data = np.empty(0, dtype=np.float32)
            self.filled = 0

        def feed(self, y: np.ndarray) -> None:
            k = kw.process(y)
            end = self.filled + y.shape[1]
            if end > self.data.size:  # grows rarely: doubling
                self.data = np.resize(self.data, max(2 * self.data.size, end, 1 << 20))
            self.data[self.filled : end] = np.sum(weights * k * k, axis=0)
            self.filled = end

        def result(self) -> np.ndarray:
            return self.data[: self.filled]

    class _Detect:
        relative_cost = 0.2  # per channel: each on a core of its own

        def __init__(self, c: int) -> None:
            self.lim, self.c = lims[c], c

        def feed(self, y: np.ndarray) -> None:
            self.lim.process(y[self.c : self.c + 1])

    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n
        on_read(done)

    kp = _KPower()
    run_meters(processed_blocks(path, chain, count),
               [kp, *(_Detect(c) for c in range(channels))])  # fmt: skip
    for lim in lims:
        lim.flush()
    k_power = kp.result()
    per_channel = [lim.recorded_peaks or [] for lim in lims]
    peaks = [functools.reduce(np.maximum, chunk) for chunk in zip(*per_channel, strict=True)]
    top = max((float(p.max()) for p in peaks if p.size), default=0.0)
    return _Recording(
        peaks=peaks, blocks=lims[0].recorded_blocks, k_power=k_power,
        lufs=_integrated_from_power(k_power, fs),
        true_peak_dbtp=amplitude_to_db(top, floor_db=-math.inf) if top > 0 else None,
    )  # fmt: skip


def _integrated_from_power(p: np.ndarray, fs: int) -> float | None:
    """Gated integrated loudness (BS.1770-4 clause 2.5-2.6: 400 ms blocks every 100 ms,
    -70 LUFS absolute and -10 LU relative gates) from K-weighted power per frame."""
    hop = round(0.1 * fs)
    n = p.size // hop
    return _integrated_from_segments(p[: n * hop].reshape(n, hop).sum(axis=1, dtype=np.float64),
                                     hop)  # fmt: skip


def _integrated_from_segments(seg: np.ndarray, hop: int) -> float | None:
    if seg.size < 4:
        return None
    blocks = (seg[:-3] + seg[1:-2] + seg[2:-1] + seg[3:]) / (4 * hop)
    above = blocks[blocks > 10.0 ** ((-70.0 + 0.691) / 10.0)]
    if above.size == 0:
        return None
    gate = np.mean(above) * 0.1
    kept = above[above > gate]
    return -0.691 + 10.0 * math.log10(float(np.mean(kept)))


def _replay_lufs(rec: _Recording, fs: int, gain: float, ceiling_dbtp: float) -> float | None:
    """Loudness of the limited output at ``gain``, from the recording alone (no pass over the
    file, :mod:`analyzer.mastering.loudness_search`)."""
    hop = round(0.1 * fs)
    if rec.segments is None:
        rec.segments = segment_sums(rec.k_power, hop)
    seg = limited_segment_sums(rec.peaks, rec.k_power, rec.segments, hop, fs, gain,
                               ceiling_dbtp)  # fmt: skip
    return _integrated_from_segments(seg, hop)


def _trial_lufs(
    path: str, proposal: Proposal, fs: int, channels: int, linear_phase: bool,
    ceiling_dbtp: float, gain: float, on_read: Callable[[int], None],
) -> float | None:  # fmt: skip
    """Loudness of the limited output at ``gain`` by a full pass (no writing, no other meter):
    for files too long to keep the recording."""
    chain = Chain(proposal, fs, channels, linear_phase=linear_phase, gain_db=gain,
                  ceiling_dbtp=ceiling_dbtp)  # fmt: skip
    meter = LoudnessMeter(fs, channels)
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n
        on_read(done)

    for block in processed_blocks(path, chain, count):
        meter.feed(block)
    return meter.result().integrated_lufs


def _search_gain(
    measure: Callable[[int, float], float | None], gain: float, target: float,
    max_gain: float = math.inf,
) -> tuple[float, float | None]:  # fmt: skip
    """The limiter input gain whose output reads ``target`` LUFS; ``measure(trial, gain)``
    gives the loudness of one trial. Secant steps (loudness rises monotonically with the gain,
    more slowly the more it is limited), kept inside the bracket found so far, and never past
    ``max_gain``. Returns the gain and, when even ``max_gain`` reads below the target, the
    loudness it reads (the loudest reachable within the bound; else None)."""
    lo: float | None = None  # a gain that read below the target
    hi: float | None = None
    last: list[tuple[float, float]] = []
    for trial in range(1, MAX_TRIALS + 1):
        lufs = measure(trial, gain)
        if lufs is None or not math.isfinite(lufs):
            return gain, None
        err = target - lufs
        if abs(err) <= TRIAL_TOLERANCE_LU:
            return gain, None
        if err > 0 and gain >= max_gain:
            return gain, lufs  # as loud as the limiter may make it
        if err > 0:
            lo = gain
        else:
            hi = gain
        last.append((gain, lufs))
        slope = 1.0
        if len(last) >= 2 and last[-1][1] != last[-2][1] and last[-1][0] != last[-2][0]:
            (g0, l0), (g1, l1) = last[-2], last[-1]
            slope = min(max((l1 - l0) / (g1 - g0), 0.05), 1.0)
        step = gain + err / slope
        if lo is not None and hi is not None and not lo < step < hi:
            step = 0.5 * (lo + hi)
        gain = min(step, max_gain)
    if gain >= max_gain:  # the last step went to the bound: how loud is it there?
        lufs = measure(MAX_TRIALS + 1, gain)
        if lufs is not None and math.isfinite(lufs) and lufs < target - TRIAL_TOLERANCE_LU:
            return gain, lufs
    return gain, None


def _write_pass(
    path: str, out_path: str, proposal: Proposal, info: object, *, fmt: OutputFormat,
    linear_phase: bool, gain_db: float | None, ceiling_dbtp: float, limit: bool, force: bool,
    on_read: Callable[[int], None], replay_peaks: list[np.ndarray] | None = None,
) -> tuple[TrackAnalysis, LimiterStats | None]:  # fmt: skip
    fs, channels = info.sample_rate_hz, info.channels  # type: ignore[attr-defined]
    chain = Chain(proposal, fs, channels, linear_phase=linear_phase, gain_db=gain_db,
                  ceiling_dbtp=ceiling_dbtp, limit=limit, replay_peaks=replay_peaks)  # fmt: skip
    quantize = Quantizer(fmt)
    meters = TrackMeters(fs, channels)
    guard = MasterGuard(out_path)
    done = 0
    frames = 0

    def count(n: int) -> None:
        nonlocal done
        done += n
        on_read(done)

    with AtomicWavWriter(out_path, fs, channels, subtype=fmt.subtype, force=force,
                         container=fmt.container, create_parents=False) as writer:  # fmt: skip

        def written() -> Iterator[np.ndarray]:
            nonlocal frames
            for y in processed_blocks(path, chain, count):
                values, raw = quantize(y)
                guard.block(y, values)
                writer.write(raw)
                frames += values.shape[1]
                yield values

        run_meters(written(), meters.all)
        guard.finish()
    out_info = replace(info, path=out_path, frames=frames, format=fmt.container,  # type: ignore
                       subtype=fmt.subtype)  # fmt: skip
    analysis = meters.result(out_info, keep_series=True)
    return analysis, (chain.limiter.stats if chain.limiter else None)
