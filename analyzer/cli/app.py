"""The typer application: the top-level help and ``--version``, and one command per module of
:mod:`analyzer.cli.commands`, registered here (and only here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

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
    watch,
)
from analyzer.untrusted import terminal_safe
from analyzer.version import __version__

HELP = (
    "Measure, compare, translate and master music mixes: BS.1770-4 / EBU R128 loudness, true "
    "peak, dynamics, stereo image and tonal balance (analyze); a mix against reference tracks "
    "or a genre profile (compare); how it plays on earbuds, phones, laptops, cars and clubs "
    "(translate); a proposed master applied and verified (master); many files and albums in "
    "parallel (batch); JSON, CSV and self-contained HTML reports."
)


#: click's base exception, from the click that typer runs on (typer 0.29 ships its own copy).
_CLICK_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


@contextmanager
def _escaped_usage_errors() -> Iterator[None]:
    """click echoes what the user typed (``No such option: --X``, ``'X' is not a valid
    float``) raw: its message goes through :func:`terminal_safe` before click shows it."""
    try:
        yield
    except _CLICK_ERROR as exc:
        exc.message = terminal_safe(exc.message)
        raise


class _SafeGroup(TyperGroup):
    """The root command: parsing and invoking (every sub-command and sub-group is parsed inside
    :meth:`invoke`) with :func:`_escaped_usage_errors`."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _escaped_usage_errors():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _escaped_usage_errors():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_SafeGroup,
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
app.command()(watch.watch)
app.command()(demo.demo)
app.command()(schema.schema)
reference.register(app)
cache.register(app)
