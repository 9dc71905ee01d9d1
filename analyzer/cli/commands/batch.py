"""``mixanalyzer batch``: many files in parallel through the result cache, optionally compared
with references or a profile, with an album consistency check."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from analyzer.cli import EXIT_INTERRUPTED
from analyzer.cli.console import print_error, print_warnings, stdout_console
from analyzer.cli.options import (
    Force,
    Jobs,
    Json,
    Quiet,
    Series,
    html_option,
    profile_option,
    ref_option,
    stream_alias,
)
from analyzer.cli.output import check_outputs, emit, existing_files
from analyzer.cli.progress import progress_bar
from analyzer.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, ReferencesFailedError, UsageError
from analyzer.types import DEFAULT_CEILING_DBTP
from analyzer.untrusted import terminal_safe

BatchRef = ref_option("Compare every file with these references.")
BatchProfile = profile_option("Or with a genre profile.")
BatchHtml = html_option("Write a self-contained HTML report.")


PathsOption = Annotated[
    list[str],
    typer.Argument(
        help="Audio files, or folders searched recursively for audio files.",
        show_default=False,
        metavar="PATHS",
    ),
]
AlbumOption = Annotated[
    bool,
    typer.Option("--album", help="Album consistency: spreads, outliers, suggested gains."),
]
AlbumSpreadOption = Annotated[
    float,
    typer.Option(
        "--album-spread",
        metavar="LU",
        help="Loudness window around the album median that the gains aim for "
        "(0: every track at the median).",
    ),
]
CeilingOption = Annotated[
    float,
    typer.Option(
        "--ceiling", metavar="DBTP", help="True-peak ceiling that a suggested gain respects."
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Run the jobs on a Dask cluster, e.g. tcp://host:8786 "
        "(pip install 'mixanalyzer[dask]').",
    ),
]
CsvPathOption = Annotated[
    str | None,
    typer.Option(
        "--csv",
        metavar="PATH",
        help="Write one CSV row per file ('-' for stdout).",
        callback=stream_alias,
    ),
]
NoCacheOption = Annotated[
    bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")
]


def batch(
    paths: PathsOption,
    ref: BatchRef = None,
    profile: BatchProfile = None,
    album: AlbumOption = False,
    album_spread: AlbumSpreadOption = 2.0,
    ceiling: CeilingOption = DEFAULT_CEILING_DBTP,
    jobs: Jobs = None,
    scheduler: SchedulerOption = None,
    csv_path: CsvPathOption = None,
    json_path: Json = None,
    html_path: BatchHtml = None,
    series: Series = False,
    no_cache: NoCacheOption = False,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Analyse many files in parallel (through the result cache), optionally compare each with
    references or a profile, and check an album's consistency."""
    from analyzer.app import BatchSettings
    from analyzer.app import batch as run_batch
    from analyzer.report.csv import batch_csv
    from analyzer.report.json import batch_document, file_documents

    settings = BatchSettings(
        references=tuple(ref or ()), profile=profile, album=album, album_spread_lu=album_spread,
        ceiling_dbtp=ceiling, jobs=jobs, scheduler=scheduler, series=series,
        use_cache=not no_cache,
    )  # fmt: skip
    if json_path == "-" and csv_path == "-":
        raise UsageError("--json - and --csv -: only one of them can go to stdout")
    inputs = [*paths, *(ref or ()), *existing_files(profile)]
    check_outputs(json_path, csv_path, force=force, html=html_path, inputs=inputs)
    with progress_bar(sys.stderr.isatty() and not quiet, files=True) as bar:

        def progress(done: int, total: int, name: str, error: str | None) -> None:
            if error:
                bar.print_error(error) if bar else print_error(error)
            if bar:
                bar.file(done, total, name)

        try:
            run = run_batch(paths, settings, progress=progress, on_measured=_measured)
        except ReferencesFailedError as exc:
            for message in exc.earlier:
                print_error(message)
            raise
    result = run.result
    if result.interrupted:
        _interrupted(result, quiet)
    comparisons = list(run.comparisons) if run.comparisons is not None else None
    names = list(run.reference_names) if run.reference_names is not None else None
    platforms = [list(p) for p in run.platforms]
    docs = file_documents(result, series=series, platforms=platforms, comparisons=comparisons)
    if json_path:
        emit(json_path, batch_document(result, docs, album=run.album, references=names),
             force=force)  # fmt: skip
    if csv_path:
        emit(csv_path, batch_csv(result, docs, album=run.album), force=force)
    if html_path:
        _write_html(html_path, run, comparisons, force)
    if not quiet and "-" not in (json_path, csv_path):
        from analyzer.report.terminal import render_album, render_batch

        console = stdout_console()
        render_batch(console, result, comparisons=comparisons)
        if run.album is not None:
            render_album(console, run.album)
    if result.errors:
        total = len(result.files) + len(result.errors)
        if total > 1:
            print_error(f"{len(result.errors)} of {total} files could not be measured")
        internal = any(e.exit_code == EXIT_INTERNAL for e in result.errors)
        raise typer.Exit(EXIT_INTERNAL if internal else EXIT_BAD_INPUT)


def _write_html(path: str, run: Any, comparisons: list[Any] | None, force: bool) -> None:
    """The batch's self-contained HTML page."""
    from analyzer.report.html import write_html
    from analyzer.report.view import batch_view_for, build_view

    result = run.result
    view = build_view(
        "batch", [], batch=batch_view_for(result, run.album, comparisons),
        notes=list(result.notes), title=f"mixanalyzer batch: {len(result.files)} files",
    )  # fmt: skip
    write_html(path, view, force=force)


def _measured(result: Any) -> None:
    """The batch's notes and each file's warnings, as soon as the files are measured."""
    print_warnings(result.notes)
    for analysis in result.files:
        print_warnings(analysis.warnings)


def _interrupted(result: Any, quiet: bool) -> None:
    """Ctrl-C: what finished (kept in the cache), and exit 130 without writing any output."""
    from analyzer.io import display_path
    from analyzer.report.terminal import render_batch

    if not quiet and result.files:
        render_batch(stdout_console(), result)
    print(
        f"mixanalyzer: interrupted: {len(result.files)} of {result.total_files} files "
        "finished (kept in the cache); no --json/--csv/--html written",
        file=sys.stderr,
    )
    for analysis in result.files:
        print(f"  finished: {terminal_safe(display_path(analysis.file.path))}", file=sys.stderr)
    raise typer.Exit(result.interrupted_exit_code or EXIT_INTERRUPTED)
