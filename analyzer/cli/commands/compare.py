"""``mixanalyzer compare``: the mix against references or a genre profile, level-matched, with
the platform preview and the proposed master."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from analyzer.cli.console import PROPOSAL_TITLE, print_warnings, stdout_console
from analyzer.cli.options import (
    ExportEq,
    ExportFormat,
    Force,
    Html,
    Json,
    Listen,
    Profile,
    Quiet,
    Ref,
    Targets,
)
from analyzer.cli.output import check_export, check_outputs, emit, emit_export, existing_files
from analyzer.cli.progress import progress_bar


def compare(
    mix: Annotated[str, typer.Argument(help="The mix to compare.", metavar="MIX")],
    ref: Ref = None,
    profile: Profile = None,
    section: Annotated[
        str,
        typer.Option(
            "--section",
            metavar="whole|loudest",
            help="Compare whole tracks, or the loudest 30 s of each (chorus against chorus).",
        ),
    ] = "whole",
    json_path: Json = None,
    targets: Targets = None,
    html_path: Html = None,
    listen: Listen = False,
    export_eq: ExportEq = None,
    export_format: ExportFormat = "apo",
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Compare a mix with reference tracks or a genre profile, level-matched."""
    from analyzer.app import CompareSettings
    from analyzer.app import compare as run_compare
    from analyzer.report.json import compare_document, proposal_to_dict
    from analyzer.report.terminal import (
        render_comparison,
        render_platforms,
        render_proposal,
        render_tonal_bars,
    )

    settings = CompareSettings(references=tuple(ref or ()), profile=profile, section=section,
                               targets=targets, series=bool(html_path))  # fmt: skip
    inputs = [mix, *(ref or ()), *existing_files(profile, targets)]
    check_export(export_eq, export_format, json_path)
    check_outputs(json_path, export_eq, force=force, html=html_path, inputs=inputs, listen=listen)
    with progress_bar(sys.stderr.isatty()) as bar:
        run = run_compare(mix, settings, progress=bar.step if bar else None)
    for r_result in run.references:
        print_warnings(r_result.warnings)
    mix_result, comp, platforms = run.mix, run.comparison, list(run.platforms)
    doc = compare_document(
        mix_result, comp, section=section, platforms=platforms,
        proposal=proposal_to_dict(run.proposal),
    )  # fmt: skip
    emit(json_path, doc, force=force)
    emit_export(export_eq, run.proposal, mix_result.file.sample_rate_hz, export_format,
                source=mix, force=force)  # fmt: skip
    if html_path:
        from analyzer.io import read_tags
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view, master_view_for

        proposed = master_view_for(run.proposal, mix_result.file.sample_rate_hz,
                                   proposed_only=True)  # fmt: skip
        view = build_view(
            "compare", [mix_result], platforms=[platforms], tags=[read_tags(mix)],
            comparison=comp, references=list(run.references), section=section, master=proposed,
        )  # fmt: skip
        clips = None
        if listen:
            from analyzer.app.listening import listen_clips

            clips = listen_clips(mix, [] if profile else list(ref or ()))
        write_html(html_path, view, force=force, listen=clips)
    if not quiet and "-" not in (json_path, export_eq):
        from analyzer.report.view import comparison_view

        console = stdout_console()
        render_comparison(console, comp)
        render_tonal_bars(console, comparison_view(comp).tonal)
        render_platforms(console, platforms)
        render_proposal(console, run.proposal, title=PROPOSAL_TITLE)
    print_warnings(mix_result.warnings)
