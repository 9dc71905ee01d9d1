"""``mixanalyzer demo``: the whole pipeline on synthesised audio, with an HTML report."""

from __future__ import annotations

from typing import Annotated

import typer

from analyzer.cli.console import print_warnings, stdout_console
from analyzer.cli.options import Force, quiet_option

DemoQuiet = quiet_option("Only the report's path.")


def demo(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="Folder for the demo files and report.")
    ] = "reports/demo",
    force: Force = False,
    listen: Annotated[
        bool,
        typer.Option("--listen/--no-listen", help="The player in the report (on by default)."),
    ] = True,
    quiet: DemoQuiet = False,
) -> None:
    """Synthesise a faulty mix and a reference, run the whole pipeline (analyse, compare,
    translate, master) and write an HTML report; no files or network needed."""
    from analyzer.app import run_demo
    from analyzer.io import display_path
    from analyzer.report.terminal import (
        render_character,
        render_comparison,
        render_findings,
        render_platforms,
        render_proposal,
        render_tonal_bars,
        render_track,
        render_translation,
        render_verification,
    )

    run = run_demo(out, force=force, listen=listen)
    console = stdout_console()
    if not quiet:
        render_track(console, run.mix)
        render_character(console, run.mix)
        render_comparison(console, run.comparison)
        render_tonal_bars(console, run.view.comparison.tonal)
        render_translation(console, run.translation)
        render_platforms(console, run.platforms)
        render_findings(console, run.view.findings)
        render_proposal(console, run.proposal, title="master (applied, as with --force-match)")
        render_verification(console, run.verification, run.mastered)
        print_warnings(run.mix.warnings)
        console.print(
            f"wrote {display_path(run.mix_wav)}, {display_path(run.reference_wav)}, "
            f"{display_path(run.master_wav)} and {display_path(run.analysis_json)} "
            f"in {run.seconds:.1f} s",
            markup=False,
        )
    console.print(f"report: {display_path(run.report_html)}", markup=False, soft_wrap=True)
