"""``mixanalyzer reference build|list``: genre reference profiles."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from analyzer.cli.console import print_warnings, stdout_console
from analyzer.cli.options import Jobs, force_option, quiet_option
from analyzer.cli.progress import progress_bar
from analyzer.report.terminal.fit import fit_width

ProfileForce = force_option("Overwrite an existing profile.")
MessageQuiet = quiet_option("No message on stdout.")


def build(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Reference tracks, or folders searched recursively for audio files.",
            show_default=False,
            metavar="FILES_OR_DIRS",
        ),
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="Profile name (letters, digits, . _ -).")
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the profile here (default: the user's profile folder, NAME.json).",
        ),
    ] = None,
    jobs: Jobs = None,
    description: Annotated[
        str, typer.Option("--description", metavar="TEXT", help="One line saved in the profile.")
    ] = "",
    force: ProfileForce = False,
    quiet: MessageQuiet = False,
) -> None:
    """Analyse reference tracks in parallel and write a genre profile (statistics, names and
    hashes only; never audio)."""
    from analyzer.app import ProfileSettings, build_profile
    from analyzer.io import display_path

    settings = ProfileSettings(name=name, description=description, jobs=jobs)
    with progress_bar(sys.stderr.isatty() and not quiet, files=True) as bar:
        run = build_profile(paths, settings, output=output, force=force,
                            progress=bar.file if bar else None)  # fmt: skip
    print_warnings((*run.notes, *run.profile.warnings))
    if quiet:
        return
    n = run.profile.n_tracks
    stdout_console().print(
        f"wrote {display_path(run.path)}: profile {run.profile.name!r} from {n} "
        f"track{'s' if n != 1 else ''}",
        markup=False,
    )


def list_profiles() -> None:
    """Show the profiles in the user's profile folder and those shipped with mixanalyzer."""
    from rich.markup import escape
    from rich.table import Table

    from analyzer.comparison.profiles import ReferenceProfile, list_profiles, profile_dirs
    from analyzer.io import display_path
    from analyzer.report.terminal.cells import name_room, two_line_names

    table = Table(title="reference profiles", title_justify="left")
    for col in ("name", "tracks", "integrated (median)", "built"):
        table.add_column(col, no_wrap=True)
    table.add_column("file", overflow="fold")
    rows = list(list_profiles())
    console = stdout_console()
    widest = [["name", *(f"{n} (shadowed)" for n, _, _ in rows)], ["tracks", "999"],
              ["unusable (see below)"], ["built", "2026-01-01"]]  # fmt: skip
    names, table.columns[-1].min_width = two_line_names(
        [display_path(path) for _, path, _ in rows], name_room(console.width, widest)
    )
    seen: set[str] = set()
    problems: list[str] = []
    for (name, _, loaded), shown in zip(rows, names, strict=True):
        label = f"{name} (shadowed)" if name in seen else name
        seen.add(name)
        if isinstance(loaded, ReferenceProfile):
            lufs = loaded.metrics.get("integrated_lufs")
            med = f"{lufs.median:.1f} LUFS" if lufs and lufs.median is not None else "-"
            table.add_row(
                escape(label), str(loaded.n_tracks), med, loaded.created_utc[:10], escape(shown),
            )  # fmt: skip
        else:
            table.add_row(escape(label), "-", "unusable (see below)", "", escape(shown))
            problems.append(loaded)
    if not table.row_count:
        folders = ", ".join(display_path(d) for d in profile_dirs())
        console.print(f"no profiles found (looked in {folders})", markup=False)
        return
    console.print(fit_width(console, table))
    for message in problems:
        console.print(f"unusable: {message}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Build and list genre reference profiles.", no_args_is_help=True,
                        rich_markup_mode=None)  # fmt: skip
    group.command("build")(build)
    group.command("list")(list_profiles)
    app.add_typer(group, name="reference")
