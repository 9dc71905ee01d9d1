"""The typer application: the top-level help and ``--version``, and one command per module of
:mod:`analyzer.cli.commands`, registered here (and only here)."""

from __future__ import annotations

from typing import Annotated

import typer

from analyzer.cli.commands import (
    analyze,
    batch,
    cache,
    compare,
    demo,
    master,
    reference,
    schema,
    translate,
)
from analyzer.version import __version__

HELP = (
    "Measure, compare, translate and master music mixes: BS.1770-4 / EBU R128 loudness, true "
    "peak, dynamics, stereo image and tonal balance (analyze); a mix against reference tracks "
    "or a genre profile (compare); how it plays on earbuds, phones, laptops, cars and clubs "
    "(translate); a proposed master applied and verified (master); many files and albums in "
    "parallel (batch); JSON, CSV and self-contained HTML reports."
)

app = typer.Typer(
    name="mixanalyzer",
    help=HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"mixanalyzer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Measure, compare, translate and master music mixes."""


app.command()(analyze.analyze)
app.command()(compare.compare)
app.command()(translate.translate)
app.command()(master.master)
app.command()(batch.batch)
app.command()(demo.demo)
app.command()(schema.schema)
reference.register(app)
cache.register(app)
