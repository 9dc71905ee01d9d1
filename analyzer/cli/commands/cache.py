"""``mixanalyzer cache clear``: the result cache of ``batch``."""

from __future__ import annotations

import typer


def clear() -> None:
    """Delete every cached result."""
    from analyzer.batching.cache import clear_cache, default_cache_path
    from analyzer.io import display_path

    held = clear_cache()
    print(f"cleared {held} cached result{'s' if held != 1 else ''} "
          f"({display_path(default_cache_path())})")  # fmt: skip


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The result cache.", no_args_is_help=True, rich_markup_mode=None)
    group.command("clear")(clear)
    app.add_typer(group, name="cache")
