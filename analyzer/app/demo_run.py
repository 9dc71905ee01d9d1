"""The ``demo`` use case: the whole pipeline on synthesised audio (no files or network needed),
through the same use cases as the commands: compare, translate, propose and master."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.app.comparing import compare
from analyzer.app.mastering_run import apply_proposal, proposal_from
from analyzer.app.measuring import refuse_existing_output
from analyzer.app.results import DemoRun
from analyzer.app.settings import CompareSettings, MasterSettings, TranslateSettings
from analyzer.app.translating import translation_of

if TYPE_CHECKING:
    from analyzer.playback.listening import ListenSet

DEMO_NOTE = (
    "The demo mix is synthesised with a dull top end, a weak low end, too little level and side "
    "signal in the lows; the reference is the same arrangement balanced and mastered louder. "
    "Its faults go beyond what +-6 dB EQ moves can undo, so the proposal says the reference is "
    "too far to match; the demo applies the moves anyway (as --force-match does) to show them."
)


def demo_paths(folder: str | Path) -> dict[str, Path]:
    """The files the demo writes into ``folder``."""
    folder = Path(folder)
    return {
        "mix_wav": folder / "demo_mix.wav",
        "reference_wav": folder / "demo_reference.wav",
        "analysis_json": folder / "demo_mix.analysis.json",
        "master_wav": folder / "demo_mix.master.wav",
        "report_html": folder / "report.html",
    }


def run_demo(folder: str | Path, *, force: bool = False, listen: bool = True) -> DemoRun:
    """Write the faulty demo mix and its reference (:mod:`analyzer.demo`), compare them,
    translate the mix on every device, propose and apply a master (native engine, to the
    reference's loudness, verified while written), and write the JSON analysis and the HTML
    report, with the player (mix, reference and master through every device) unless
    ``listen`` is false. Refuses to overwrite any output unless ``force``, before writing
    anything."""
    from analyzer.app.listening import listen_clips, with_master_clip
    from analyzer.demo import (
        DEMO_FAULTS,
        DEMO_SAMPLE_RATE_HZ,
        synthesize_demo_mix,
        synthesize_demo_reference,
    )
    from analyzer.dsp import jit
    from analyzer.io import write_audio_atomic, write_text_atomic
    from analyzer.report.html import write_html
    from analyzer.report.json import analyses_to_json
    from analyzer.report.view import build_view, master_view_for

    start = time.perf_counter()
    jit.start_loading()  # the master's limiter loads numba: the meters' kernels come free
    paths = demo_paths(folder)
    for p in paths.values():  # all refusals before anything is written
        refuse_existing_output(p, force)
    mix_wav, ref_wav = str(paths["mix_wav"]), str(paths["reference_wav"])
    # The reference is made on the other core while the mix is (numpy's transforms and sines
    # release the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        ref_written = pool.submit(lambda: write_audio_atomic(
            ref_wav, synthesize_demo_reference(), DEMO_SAMPLE_RATE_HZ, force=force))  # fmt: skip
        write_audio_atomic(mix_wav, synthesize_demo_mix(**DEMO_FAULTS), DEMO_SAMPLE_RATE_HZ,
                           force=force)  # fmt: skip
        ref_written.result()
    # One proposal, fitted by proposal_from below (the fit is the costly step): compare and
    # translate skip their own default proposal, which is the same one.
    compared = compare(mix_wav, CompareSettings(references=(ref_wav,), series=True),
                       with_proposal=False)  # fmt: skip
    mix, refs = compared.mix, compared.references
    translated = translation_of(mix, refs, TranslateSettings(), with_proposal=False)
    # The demo's faults (a -10 dB low shelf, a top rolled off from 4 kHz) go beyond what
    # +-6 dB moves can undo, so the too-far gate trips on its pair; the demo forces the match
    # (as --force-match does: the gate is skipped) to show the EQ at work, and its note says so.
    mastering = MasterSettings(references=(ref_wav,), force_match=True)
    # The mix's and the reference's clips are encoded beside the fit (one core), and the
    # master's beside the refit, as soon as a master is written (again if the refit's is kept).
    with ThreadPoolExecutor(max_workers=1) as pool:
        early = pool.submit(listen_clips, mix_wav, [ref_wav]) if listen else None
        latest: list[Future[ListenSet]] = []

        def master_clip(path: str) -> None:
            if early is not None:
                latest.append(pool.submit(lambda: with_master_clip(early.result(), path)))

        proposed = proposal_from(mix_wav, mix, refs, mastering)
        mastered = apply_proposal(proposed, str(paths["master_wav"]), mastering, force=force,
                                  on_written=master_clip)  # fmt: skip
        clips = latest[-1].result() if latest else None
    platforms = list(compared.platforms)
    write_text_atomic(
        paths["analysis_json"],
        analyses_to_json([mix], series=True, extras=[{"platforms": platforms}]),
        force=force,
    )
    master = master_view_for(mastered.proposal, mix.file.sample_rate_hz, result=mastered.result,
                             verification=mastered.verification)  # fmt: skip
    view = build_view(
        "demo", [mix], platforms=[platforms], comparison=compared.comparison,
        references=list(refs), translation=translated.translation,
        reference_translations=list(translated.reference_translations), master=master,
        title="mixanalyzer demo: a faulty mix against a reference",
        notes=[DEMO_NOTE, *mastered.notes],
    )  # fmt: skip
    write_html(str(paths["report_html"]), view, force=force, listen=clips)
    return DemoRun(**paths, mix=mix, reference=refs[0], comparison=compared.comparison,
                   proposal=mastered.proposal, mastered=mastered.result,
                   verification=mastered.verification, translation=translated.translation,
                   platforms=platforms, view=view, seconds=time.perf_counter() - start)  # fmt: skip
