"""``mixanalyzer master``: propose corrective mastering, apply it with the native or the
Matchering engine, and prove the result by measuring the written master."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from analyzer.cli.console import print_error, print_notes, print_warnings, stdout_console
from analyzer.cli.options import (
    ExportEq,
    ExportFormat,
    Force,
    Json,
    Listen,
    Profile,
    Ref,
    html_option,
    quiet_option,
)
from analyzer.cli.output import check_export, check_outputs, emit, emit_export, existing_files
from analyzer.cli.progress import progress_bar
from analyzer.errors import EXIT_CHECK_FAILED, UsageError
from analyzer.types import DEFAULT_CEILING_DBTP

MasterHtml = html_option("Write a self-contained HTML report.")
MasterQuiet = quiet_option("No tables on stdout.")


MixOption = Annotated[str, typer.Argument(help="The mix to master.", metavar="MIX")]
OutputOption = Annotated[
    str | None,
    typer.Option("--output", "-o", metavar="OUT", help="The master to write (.wav/.flac)."),
]
TargetLufsOption = Annotated[
    float | None,
    typer.Option("--target-lufs", metavar="LUFS", help="Integrated loudness to reach, -40 to -4."),
]
TargetOption = Annotated[
    str | None,
    typer.Option("--target", metavar="PLATFORM", help="A platform's target, e.g. spotify."),
]
CeilingOption = Annotated[
    float | None,
    typer.Option(
        "--ceiling",
        metavar="DBTP",
        help=f"True-peak ceiling (default {DEFAULT_CEILING_DBTP:g} dBTP).",
    ),
]
EngineOption = Annotated[
    str, typer.Option("--engine", metavar="native|matchering", help="Mastering engine.")
]
FineOption = Annotated[
    bool, typer.Option("--fine", help="Add a smoothed linear-phase match-EQ curve.")
]
SmoothingOption = Annotated[
    float,
    typer.Option("--smoothing", metavar="OCTAVES", help="Smoothing of the --fine curve."),
]
LinearPhaseOption = Annotated[
    bool, typer.Option("--linear-phase", help="Apply the EQ moves as a linear-phase FIR.")
]
MaxMovesOption = Annotated[
    int, typer.Option("--max-moves", metavar="N", help="At most N parametric moves.")
]
MaxGainOption = Annotated[
    float, typer.Option("--max-gain", metavar="DB", help="Largest gain of a move.")
]
AmountOption = Annotated[
    float | None,
    typer.Option("--amount", metavar="PCT", help="How much of the match, 0-100 (all)."),
]
AmountToneOption = Annotated[
    float | None, typer.Option("--amount-tone", metavar="PCT", help="Tone amount, 0-100.")
]
AmountWidthOption = Annotated[
    float | None, typer.Option("--amount-width", metavar="PCT", help="Width amount, 0-100.")
]
AmountLoudnessOption = Annotated[
    float | None,
    typer.Option("--amount-loudness", metavar="PCT", help="Loudness amount, 0-100."),
]
OnlyOption = Annotated[
    str | None,
    typer.Option("--only", metavar="tone|width|loudness", help="Match one dimension only."),
]
BitDepthOption = Annotated[
    str, typer.Option("--bit-depth", metavar="16|24|32f", help="Output bit depth.")
]
NoDitherOption = Annotated[bool, typer.Option("--no-dither", help="No TPDF dither at 16 bits.")]
HeavyOption = Annotated[
    bool,
    typer.Option(
        "--allow-heavy-limiting", help="Let the limiter take more than 9 dB of gain reduction."
    ),
]
RawMatcheringOption = Annotated[
    bool,
    typer.Option(
        "--raw-matchering",
        help="Keep Matchering's output as it is (no true-peak limiter after it).",
    ),
]
ForceMatchOption = Annotated[
    bool,
    typer.Option("--force-match", help="Match the tone even when the references are too far."),
]
SurgicalOption = Annotated[
    bool, typer.Option("--surgical", help="Allow bells narrower than Q 2 (up to Q 4).")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the proposal; write no audio.")]


_MATCHERING_DRY_RUN = (
    "Matchering decides its EQ, gain and limiting when it runs: they are measured on the "
    "master (drop --dry-run)"
)


def master(
    mix: MixOption,
    output: OutputOption = None,
    ref: Ref = None,
    profile: Profile = None,
    target_lufs: TargetLufsOption = None,
    target: TargetOption = None,
    ceiling: CeilingOption = None,
    engine: EngineOption = "native",
    fine: FineOption = False,
    smoothing: SmoothingOption = 1.0 / 3.0,
    linear_phase: LinearPhaseOption = False,
    max_moves: MaxMovesOption = 6,
    max_gain: MaxGainOption = 6.0,
    amount: AmountOption = None,
    amount_tone: AmountToneOption = None,
    amount_width: AmountWidthOption = None,
    amount_loudness: AmountLoudnessOption = None,
    only: OnlyOption = None,
    bit_depth: BitDepthOption = "24",
    no_dither: NoDitherOption = False,
    allow_heavy_limiting: HeavyOption = False,
    raw_matchering: RawMatcheringOption = False,
    force_match: ForceMatchOption = False,
    surgical: SurgicalOption = False,
    dry_run: DryRunOption = False,
    json_path: Json = None,
    html_path: MasterHtml = None,
    listen: Listen = False,
    export_eq: ExportEq = None,
    export_format: ExportFormat = "apo",
    force: Force = False,
    quiet: MasterQuiet = False,
) -> None:
    """Propose corrective mastering (EQ moves, width, limiter to a target), apply it on request
    and prove the result by measuring the written master."""
    from analyzer.app import MasterSettings, propose
    from analyzer.app import master as run_master
    from analyzer.report.terminal import render_proposal

    settings = MasterSettings(references=tuple(ref or ()), profile=profile, target_lufs=target_lufs,
        target=target, ceiling_dbtp=ceiling, engine=engine, fine=fine, smoothing_octaves=smoothing,
        linear_phase=linear_phase, max_moves=max_moves, max_gain_db=max_gain, amount=amount,
        amount_tone=amount_tone, amount_width=amount_width, amount_loudness=amount_loudness,
        only=only, bit_depth=bit_depth, dither=not no_dither,
        allow_heavy_limiting=allow_heavy_limiting, raw_matchering=raw_matchering,
        force_match=force_match, surgical=surgical,
    )  # fmt: skip
    _check_outputs(mix, None if dry_run else output, json_path, html_path,
                   (export_eq, export_format, engine),
                   inputs=[mix, *(ref or ()), *existing_files(profile)], dry_run=dry_run,
                   force=force, listen=listen)  # fmt: skip
    console = stdout_console()
    show_tables = not quiet and "-" not in (json_path, export_eq)  # stdout holds a document

    def shown(proposed: Any) -> None:
        if show_tables and engine == "native":  # Matchering's moves are measured afterwards
            render_proposal(console, proposed.proposal)

    with progress_bar(not quiet and sys.stderr.isatty()) as bar:
        step = bar.step if bar else None
        if dry_run:
            run: Any = propose(mix, settings, progress=step)
            shown(run)
            if engine == "matchering":
                print_notes([_MATCHERING_DRY_RUN])
        else:
            assert output is not None
            run = run_master(mix, output, settings, force=force, progress=step,
                             on_proposal=shown)  # fmt: skip
    if getattr(run, "result", None) is not None and show_tables:
        _written_tables(console, run)
    _documents(run, mix, engine, json_path, (export_eq, export_format), force=force)
    if html_path:
        _write_html(html_path, mix, run, engine, bool(profile), force, listen)
    _finish(run)


def _documents(
    run: Any, mix: str, engine: str, json_path: str | None, export: tuple[str | None, str], *,
    force: bool,
) -> None:  # fmt: skip
    """The JSON document and the exported EQ moves (``export``: path and format)."""
    from analyzer.report.json import master_document

    doc = master_document(
        mix=run.mix, proposal=run.proposal, engine=engine, result=getattr(run, "result", None),
        verification=getattr(run, "verification", None), references=list(run.reference_names),
        notes=list(run.notes),
    )  # fmt: skip
    emit(json_path, doc, force=force)
    emit_export(export[0], run.proposal, run.mix.file.sample_rate_hz, export[1], source=mix,
                force=force)  # fmt: skip


def _check_outputs(
    mix: str, output: str | None, json_path: str | None, html_path: str | None,
    export: tuple[str | None, str, str], *,
    inputs: list[str], dry_run: bool, force: bool, listen: bool,
) -> None:  # fmt: skip
    """The master needs -o OUT unless --dry-run; no output may replace an input or an existing
    file without --force; ``export`` is ``(--export-eq, --export-format, --engine)``: the
    moves exported are the native engine's."""
    export_eq, export_format, engine = export
    if output is None and not dry_run:
        raise UsageError("give the output with -o OUT (or --dry-run to only see the proposal)")
    check_export(export_eq, export_format, json_path)
    if export_eq and engine == "matchering":
        raise UsageError("--export-eq goes with --engine native (Matchering chooses its EQ)")
    check_outputs(json_path, output, export_eq, force=force, html=html_path, inputs=inputs,
                  listen=listen)  # fmt: skip


def _written_tables(console: Any, run: Any) -> None:
    """What Matchering did (its engine only), the verification and the file written."""
    from analyzer.io import display_path
    from analyzer.report.terminal import render_matchering, render_verification

    render_matchering(console, run.result)
    render_verification(console, run.verification, run.result)
    console.print(f"wrote {display_path(run.output)}", markup=False)


def _finish(run: Any) -> None:
    """Notes and warnings on stderr; a failed check: one line each, then exit 5 (the master
    is written and verified: the user decides what to do with it)."""
    result = getattr(run, "result", None)
    print_notes(run.notes)
    print_warnings(run.mix.warnings)
    if result is not None:
        print_warnings(result.warnings)
    failed = getattr(run, "failures", ())
    if failed:
        for line in failed:
            print_error(f"check failed: {line}")
        raise typer.Exit(EXIT_CHECK_FAILED)


def _write_html(
    path: str, mix: str, run: Any, engine: str, profiled: bool, force: bool, listen: bool
) -> None:
    from analyzer.io import read_tags
    from analyzer.report.html import write_html
    from analyzer.report.view import build_view, master_view_for

    result = getattr(run, "result", None)
    tracks = [run.mix] + ([result.analysis] if result is not None else [])
    view = build_view(
        "master", tracks, tags=[read_tags(mix)] + [None] * (len(tracks) - 1),
        comparison=run.comparison, references=list(run.references),
        reference_names=list(run.reference_names) if not profiled else [],
        master=master_view_for(run.proposal, run.mix.file.sample_rate_hz, engine=engine,
                               result=result, verification=getattr(run, "verification", None),
                               notes=list(run.notes)),
    )  # fmt: skip
    clips = None
    if listen:  # the mix and the master (same bars); a dry run: the mix and its references
        from analyzer.app.listening import listen_clips

        output = getattr(run, "output", None)
        refs = [] if profiled or output is not None else [r.file.path for r in run.references]
        clips = listen_clips(mix, refs, master=output)
    write_html(path, view, force=force, listen=clips)
