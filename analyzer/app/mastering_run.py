"""The ``propose`` and ``master`` use cases: what the mix needs to match its references, a
profile or a loudness target (``propose``), applied with the native or the Matchering engine and
proved by measuring the written master (``master``)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from analyzer.app.measuring import (
    load_profile,
    measure_with_references,
    refuse_existing_output,
)
from analyzer.app.results import MasterRun, Progress, ProposeRun
from analyzer.app.settings import MasterSettings
from analyzer.errors import InvalidAudioError
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    from analyzer.comparison.metrics import Comparison
    from analyzer.comparison.profiles import ReferenceProfile
    from analyzer.mastering.propose import Proposal
    from analyzer.types import TrackAnalysis


def refuse_unmasterable(
    mix_path: str, mix: TrackAnalysis, ref_paths: Sequence[str], refs: Sequence[TrackAnalysis]
) -> None:
    """Refuse (exit 3) a silent or too-short reference or mix (nothing to match, nothing to
    master), and a mix or reference that is mostly DC offset (see
    :func:`analyzer.measure.dynamics.mostly_dc`: the limiter would spend the ceiling on it)."""
    from analyzer.io import display_path
    from analyzer.measure.dynamics import mostly_dc

    for path, analysed in zip(ref_paths, refs, strict=True):
        lufs = analysed.loudness.integrated_lufs
        if lufs is None or not math.isfinite(lufs):
            raise InvalidAudioError(
                f"{display_path(path)}: the reference is silent or too short to measure: "
                "nothing to match",
                slug="silent-reference",
            )
    lufs = mix.loudness.integrated_lufs
    if lufs is None or not math.isfinite(lufs):
        raise InvalidAudioError(
            f"{display_path(mix_path)}: the mix is silent or shorter than 400 ms: nothing to "
            "master",
            slug="silent",
        )
    for path, analysed in zip([mix_path, *ref_paths], [mix, *refs], strict=True):
        if mostly_dc(analysed.dynamics.dc_offset, analysed.peaks.sample_peak_dbfs):
            dc = max(analysed.dynamics.dc_offset, key=abs, default=0.0)
            peak = 10.0 ** (analysed.peaks.sample_peak_dbfs / 20.0)
            raise InvalidAudioError(
                f"{display_path(path)}: mostly DC offset ({dc:+.3f} of a {peak:.3f} peak): "
                "nothing to master; remove the offset (high-pass) first",
                slug="dc",
            )


def _refuse_channels(mix: str) -> int:
    """The mix's sample rate; refuses more than two channels (exit 3)."""
    from analyzer.io import display_path, open_audio

    with open_audio(mix) as src:
        info = src.info
    if info.channels > 2:
        raise InvalidAudioError(
            f"{display_path(mix)}: {info.channels} channels: master handles mono and stereo "
            "mixes (fold a surround mix down first)",
            slug="channels",
        )
    return info.sample_rate_hz


def _loudness_goal(
    settings: MasterSettings, comparison: Comparison | None, mix: TrackAnalysis
) -> tuple[float | None, str, float]:
    """``(target LUFS, where it comes from, ceiling dBTP)``: the explicit target, a platform's
    (whose true-peak limit lowers the default ceiling), or the references' median."""
    from analyzer.mastering.proposal import reference_loudness

    ceiling = settings.effective_ceiling_dbtp
    if settings.target_lufs is not None:
        return float(settings.target_lufs), "--target-lufs", ceiling
    if settings.target is not None:
        from analyzer.playback.platforms import find_target
        from analyzer.playback.user_targets import load_targets

        t = find_target(settings.target, load_targets(None))
        if settings.ceiling_dbtp is None and t.true_peak_limit_dbtp is not None:
            ceiling = min(ceiling, t.true_peak_limit_dbtp)
        return t.target_lufs, t.display_label, ceiling
    goal = reference_loudness(comparison, mix) if comparison is not None else None
    source = "the references' median loudness" if settings.references else (
        "the profile's median loudness")  # fmt: skip
    return goal, source, ceiling


def _builder(
    mix: TrackAnalysis,
    comparison: Comparison | None,
    goal: tuple[float | None, str, float],
    settings: MasterSettings,
    amounts: Mapping[str, float] | None = None,
    first: Proposal | None = None,
) -> Callable[[Any], Proposal]:
    """``build(limiter_shift_db)``: the proposal for ``mix`` against ``comparison`` with the
    loudness ``goal`` (target LUFS, its source, ceiling) and the settings' amounts (or
    ``amounts``) and limits; ``build(None)`` is the first proposal, a shift refits it after a
    first master, starting from ``first``'s moves (when they were fitted at full amount: the
    refit keeps their structure and only moves their parameters)."""
    from dataclasses import replace

    from analyzer.mastering.loudness_plan import SAFETY_LIMITING_DB, with_bound
    from analyzer.mastering.proposal import build_proposal

    target_lufs, source, ceiling_dbtp = goal
    amounts = settings.amounts if amounts is None else amounts
    start = first.tone.moves if first is not None and first.tone.amount == 1.0 else ()

    def build(shift: Any = None) -> Proposal:
        proposal = build_proposal(
            mix, comparison, target_lufs=target_lufs, target_source=source,
            ceiling_dbtp=ceiling_dbtp, amounts=amounts, fine=settings.fine,
            smoothing_octaves=settings.smoothing_octaves, max_moves=settings.max_moves,
            max_gain_db=settings.max_gain_db, limiter_shift_db=shift,
            surgical=settings.surgical, start_moves=start if shift is not None else (),
        )  # fmt: skip
        if settings.allow_heavy_limiting:  # the hard safety bound instead of 9 dB
            proposal = replace(proposal, loudness=with_bound(proposal.loudness,
                                                             SAFETY_LIMITING_DB))  # fmt: skip
        return proposal

    return build


def proposal_from(
    mix_path: str,
    mix: TrackAnalysis,
    references: Sequence[TrackAnalysis],
    settings: MasterSettings,
    *,
    profile: ReferenceProfile | None = None,
    notes: Sequence[str] = (),
) -> ProposeRun:
    """The proposal for analyses already made: compare with the references or the profile,
    set the loudness goal and the ceiling, and fit the moves."""
    from analyzer.comparison.metrics import compare as compare_analyses
    from analyzer.io import display_path

    notes = list(notes)
    if references and mix.file.channels == 1 and any(r.file.channels == 2 for r in references):
        notes.append("the mix is mono: the references' stereo width is not matched")
    comparison = None
    if profile is not None:
        label = f"profile {profile.name}"
        comparison = compare_analyses(mix, profile_stats=profile.metrics,
                                      reference_names=[label], notes=notes)  # fmt: skip
    elif references:
        comparison = compare_analyses(mix, references, notes=notes)
    names = [display_path(r) for r in settings.references] or (
        [f"profile {profile.name}"] if profile else [])  # fmt: skip
    goal = _loudness_goal(settings, comparison, mix)
    return ProposeRun(
        mix_path=mix_path, mix=mix, references=tuple(references), reference_names=tuple(names),
        comparison=comparison, proposal=_builder(mix, comparison, goal, settings)(),
        target_lufs=goal[0], target_source=goal[1], ceiling_dbtp=goal[2],
        profile_stats=profile.metrics if profile else None, notes=tuple(notes),
    )  # fmt: skip


@one_blas_thread
def propose(
    mix: str | os.PathLike[str],
    settings: MasterSettings,
    *,
    progress: Progress | None = None,
) -> ProposeRun:
    """Measure ``mix`` and the references (both cores; references at the mix's rate), refuse
    what cannot be mastered, and propose: EQ moves, width, and the limiter to the goal (with
    the Matchering engine: none of these, see :func:`matchering_proposal`). Writes nothing
    (``master --dry-run``)."""
    mix = os.fspath(mix)
    profile = load_profile(settings.profile)
    _refuse_channels(mix)
    from analyzer.dsp import jit

    # Where the library has every meter kernel (and the limiter's), numba is not needed; its
    # load (~0.5 s of CPU, mostly under the GIL) would compete with the analyses.
    if settings.engine == "native" and not jit.meters_built():
        jit.start_loading()  # its limiter loads numba: the meters' kernels come free
    notes: list[str] = []
    mix_result, refs = measure_with_references(mix, settings.references, notes=notes,
                                               progress=progress, mix_series=True,
                                               series=True)  # fmt: skip
    refuse_unmasterable(mix, mix_result, settings.references, refs)
    run = proposal_from(mix, mix_result, refs, settings, profile=profile, notes=notes)
    if settings.engine == "matchering":  # not the native moves: Matchering decides its own
        from dataclasses import replace

        run = replace(run, proposal=matchering_proposal(run.proposal, run.ceiling_dbtp))
    return run


@one_blas_thread
def master(
    mix: str | os.PathLike[str],
    output: str | os.PathLike[str],
    settings: MasterSettings,
    *,
    force: bool = False,
    progress: Progress | None = None,
    on_proposal: Callable[[ProposeRun], None] | None = None,
) -> MasterRun:
    """:func:`propose`, then apply the proposal to ``output`` (.wav or .flac, never the input;
    refused when it exists unless ``force``, before any analysis) and verify the written file.
    ``on_proposal`` sees the proposal before the (longer) mastering starts."""
    from analyzer.io.write import check_distinct, check_paths, output_format

    mix, output = os.fspath(mix), os.fspath(output)
    output_format(output, settings.bit_depth, dither=settings.dither)
    check_paths(mix, output)
    check_distinct(settings.references, [output])
    refuse_existing_output(output, force)
    run = gate_tone(propose(mix, settings, progress=progress), settings)
    if on_proposal is not None:
        on_proposal(run)
    return apply_proposal(run, output, settings, force=force, progress=progress)


def gate_tone(run: ProposeRun, settings: MasterSettings) -> ProposeRun:
    """The run as ``master`` applies it: when the references are too far to match
    (:mod:`analyzer.mastering.tone_gate`) and the user did not say ``--force-match``, the
    native engine leaves the tone alone (loudness and width still applied) and a note says
    why in one line."""
    tone = run.proposal.tone
    if settings.force_match or settings.engine != "native" or not tone.too_far:
        return run
    goal = (run.target_lufs, run.target_source, run.ceiling_dbtp)
    amounts = {**settings.amounts, "tone": 0.0}
    proposal = _builder(run.mix, run.comparison, goal, settings, amounts)()
    note = (
        f"EQ not applied: the references are too far from this mix to match "
        f"({tone.far_db or 0:.1f} dB RMS would remain beyond their range after the moves); "
        "loudness and limiting are applied (--force-match applies the EQ too)"
    )
    return replace(run, proposal=proposal, notes=(*run.notes, note))


def apply_proposal(
    run: ProposeRun,
    output: str,
    settings: MasterSettings,
    *,
    force: bool = False,
    progress: Progress | None = None,
    on_written: Callable[[str], None] | None = None,
) -> MasterRun:
    """Write the master of ``run`` with the settings' engine and verify it. The native engine
    refits the EQ once when heavy limiting bent the tonal balance (the better master is kept);
    ``on_written(output)`` is called each time ``output`` holds a new master
    (:func:`analyzer.mastering.apply.run_master`; once for Matchering)."""
    from analyzer.io.write import output_format
    from analyzer.mastering.apply import run_master
    from analyzer.mastering.verify import failures, verify

    fmt = output_format(output, settings.bit_depth, dither=settings.dither)
    goal = (run.target_lufs, run.target_source, run.ceiling_dbtp)
    notes = list(run.notes)
    if settings.engine == "native":
        proposal, result, verification = run_master(
            run.mix_path, output, run.mix, run.comparison, run.proposal,
            _builder(run.mix, run.comparison, goal, settings, run.proposal.amounts,
                     first=run.proposal),
            references=run.references,
            profile_stats=run.profile_stats, fmt=fmt, linear_phase=settings.linear_phase,
            force=force, progress=progress, on_written=on_written,
        )  # fmt: skip
        if proposal.loudness.asked_lufs is not None:
            notes.append(proposal.loudness.warnings[0])
    else:
        from analyzer.mastering.matchering import master_matchering

        if progress:
            progress("Matchering", 0, 1)
        if len(settings.references) > 1:
            notes.append("Matchering matches one reference: the first one was used")
        notes.extend(matchering_dc_notes(run.mix))
        result = master_matchering(run.mix_path, settings.references[0], output, run.mix,
                                   fmt=fmt, ceiling_dbtp=run.ceiling_dbtp,
                                   true_peak_limit=not settings.raw_matchering,
                                   force=force)  # fmt: skip
        proposal = matchering_proposal(run.proposal, run.ceiling_dbtp)
        if on_written is not None:
            on_written(output)
        verification = verify(run.mix, result.analysis, comparison=run.comparison,
                              references=run.references, profile_stats=run.profile_stats,
                              plan=proposal.loudness)  # fmt: skip
    return MasterRun(
        mix=run.mix, references=run.references, reference_names=run.reference_names,
        comparison=run.comparison, proposal=proposal, engine=settings.engine, output=output,
        result=result, verification=verification, notes=tuple(notes),
        failures=tuple(failures(verification, run.mix, result.analysis)),
    )  # fmt: skip


def matchering_dc_notes(mix: TrackAnalysis) -> list[str]:
    """A note when ``mix`` carries a DC offset the native engine would take out first
    (:func:`analyzer.mastering.dc.propose_dc_removal`): Matchering keeps it, and its limiter
    spends headroom on it."""
    from analyzer.mastering.dc import propose_dc_removal

    removal = propose_dc_removal(mix)
    if removal is None:
        return []
    worst = max(removal.offsets, key=abs)
    return [
        f"the mix carries a DC offset ({worst:+.4f}, {100 * removal.share_of_power:.1f} % of "
        "its power) that Matchering keeps: remove it first, or use the native engine, which "
        "takes it out before the gain"
    ]


def matchering_proposal(native: Proposal, ceiling_dbtp: float) -> Proposal:
    """What the Matchering engine was asked to do, without the native proposal it never
    applied (no EQ moves, no width move, no loudness target or limiter gain: Matchering sets the
    level from the reference's RMS). The tonal difference before is the measured one; what
    Matchering did is measured on the master (``MasterResult.matchering``)."""
    from analyzer.mastering.loudness_plan import LoudnessPlan
    from analyzer.mastering.propose import Proposal, ToneProposal, WidthProposal

    tone = native.tone
    return Proposal(
        tone=ToneProposal((), None, tone.band_hz, tone.before_db, (), tone.error_before_db,
                          None, 1.0),
        width=WidthProposal(None, None, ()),
        loudness=LoudnessPlan(None, "Matchering (the reference's RMS)", ceiling_dbtp, 0.0, 0.0,
                              1.0),
        amounts={"tone": 1.0, "width": 1.0, "loudness": 1.0},
    )  # fmt: skip
