"""The options several commands share, declared once (``Annotated`` types for typer). A command
whose wording differs builds its variant with the same function."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def force_option(help: str = "Overwrite existing outputs.") -> Any:
    return Annotated[bool, typer.Option("--force", help=help)]


def quiet_option(help: str = "No table on stdout.") -> Any:
    return Annotated[bool, typer.Option("--quiet", "-q", help=help)]


def stream_alias(value: str | None) -> str | None:
    """``/dev/stdout`` (and its other names) means ``-``: written to the stream, never renamed
    over (as root that would replace the system's link)."""
    from analyzer.io.write import stream_of

    return "-" if value and value != "-" and stream_of(value) == 1 else value


def json_option(help: str = "Write JSON to this path ('-' for stdout).") -> Any:
    return Annotated[
        str | None, typer.Option("--json", metavar="PATH", help=help, callback=stream_alias)
    ]


def html_option(help: str = "Write a self-contained HTML report with plots.") -> Any:
    return Annotated[
        str | None, typer.Option("--html", metavar="PATH", help=help, callback=stream_alias)
    ]


def ref_option(help: str = "A reference track (repeatable).") -> Any:
    return Annotated[list[str] | None, typer.Option("--ref", metavar="FILE", help=help)]


def profile_option(help: str = "A genre profile instead.") -> Any:
    return Annotated[str | None, typer.Option("--profile", metavar="NAME_OR_PATH", help=help)]


def targets_option(help: str = "Extra or overriding loudness targets.") -> Any:
    return Annotated[str | None, typer.Option("--targets", metavar="PATH", help=help)]


Force = force_option()
Quiet = quiet_option()
Json = json_option()
Html = html_option()
Ref = ref_option()
Profile = profile_option()
Targets = targets_option()
Listen = Annotated[
    bool,
    typer.Option(
        "--listen",
        help="Put a player in the --html report: the loudest 30 s of each track (Ogg Opus, "
        "~0.6 MB each), loudness-matched A/B through every device.",
    ),
]
Jobs = Annotated[
    int | None,
    typer.Option("--jobs", "-j", metavar="N", help="Files analysed in parallel (default: cores)."),
]
Series = Annotated[
    bool, typer.Option("--series", help="Include momentary and short-term series (10 Hz).")
]
ExportEq = Annotated[
    str | None,
    typer.Option(
        "--export-eq",
        metavar="PATH",
        help="Write the proposed EQ moves for a DAW or Equalizer APO ('-' for stdout).",
        callback=stream_alias,
    ),
]
ExportFormat = Annotated[
    str,
    typer.Option(
        "--export-format",
        metavar="apo|moves-csv|response-csv",
        help="--export-eq as Equalizer APO/AutoEq text, a CSV of the moves or of their response.",
    ),
]
