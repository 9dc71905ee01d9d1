"""Tables that fit the width they get (issue 15: "terminal tables adapt to the width they get").

rich shrinks the columns that may wrap, but a table whose unwrappable cells (numbers, bars,
short names kept on one line) need more than the console's width overflows it, and the console
crops every row at its edge: the last columns vanish without a sign. :func:`fit_width` gives the
table itself when it fits; else the same table without vertical borders and with one cell of
padding (about three cells per column saved); else its columns over several tables, stacked,
each beginning with the first column (the row's name), so every cell is still shown.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

#: The width a renderable cell is measured at (beyond any console): its natural size.
UNBOUNDED = 100_000

if TYPE_CHECKING:  # rich is imported where a table is drawn, not when this module is
    from rich.console import Console, RenderableType
    from rich.table import Table


def _cell_width(console: Console, cell: object, whole: bool) -> int:
    """Cells a cell needs: its longest line when it may not wrap (``whole``), else its longest
    word (rich's minimum measurement)."""
    from rich.cells import cell_len
    from rich.measure import Measurement
    from rich.text import Text

    if isinstance(cell, str):
        cell = console.render_str(cell)
    if whole and isinstance(cell, Text):
        return max((cell_len(line) for line in cell.plain.split("\n")), default=0)
    size = Measurement.get(console, console.options.update_width(UNBOUNDED), cell)  # type: ignore[arg-type]
    return size.maximum if whole else size.minimum


def _required(console: Console, table: Table) -> int:
    """The narrowest the table can be drawn with every cell whole: each column as wide as its
    widest unwrappable cell (``no_wrap``) or longest word (a folding column: its own minimum),
    plus padding and borders."""
    _, right, _, left = table.padding
    n = len(table.columns)
    total = (n - 1 + (2 if table.show_edge else 0)) if table.box is not None else 0
    for i, column in enumerate(table.columns):
        cells = [column.header, *column.cells] if table.show_header else list(column.cells)
        if column.overflow == "fold" and not column.no_wrap:
            need = column.min_width or 1  # long words are meant to fold (file names)
        else:
            need = max((_cell_width(console, c, column.no_wrap) for c in cells), default=0)
        need = max(need, column.min_width or 0, column.width or 0)
        pad = (0 if i == 0 and not table.pad_edge else left) + (
            0 if i == n - 1 and not table.pad_edge else right)  # fmt: skip
        total += need + pad
    return total


def _plain(console: Console, cell: object) -> str:
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.plain
    return console.render_str(cell).plain if isinstance(cell, str) else ""


def _fits(console: Console, table: Table) -> bool:
    """Whether the table fits the console's width with every cell whole (:func:`_required`),
    and rich's layout of it does too: no line wider than the console, no cell cut to "…"
    (rich may still narrow a column under its longest word)."""
    from rich.segment import Segment

    if _required(console, table) > console.width:
        return False
    segments = list(console.render(table, console.options))
    if any(Segment.get_line_length(line) > console.width
           for line in Segment.split_lines(segments)):  # fmt: skip
        return False
    drawn = sum(seg.text.count("…") for seg in segments)
    given = sum(_plain(console, c).count("…")
                for column in table.columns for c in (column.header, *column.cells))  # fmt: skip
    return drawn <= given


def _compact(table: Table) -> Table:
    """The table without vertical borders and edge padding (rows and header kept)."""
    from rich import box

    out = copy.copy(table)
    out.box = box.SIMPLE_HEAD
    out.show_edge = False
    out.pad_edge = False
    out.padding = (0, 1, 0, 0)  # with the space between columns: two cells apart
    return out


def _columns(table: Table, keep: Sequence[int]) -> Table:
    """The table's columns ``keep`` (in order) as a table of their own."""
    out = copy.copy(table)
    out.columns = []
    for i, index in enumerate(keep):
        column = copy.copy(table.columns[index])
        column._index = i  # rich's padding rules read a column's place from it
        out.columns.append(column)
    return out


def _split(console: Console, table: Table) -> list[list[int]]:
    """Columns in groups that each fit beside the first column (one column per group at least,
    which rich then wraps or crops as it can)."""
    groups: list[list[int]] = []
    current: list[int] = [0]
    for index in range(1, len(table.columns)):
        trial = [*current, index]
        if len(current) == 1 or _fits(console, _columns(table, trial)):
            current = trial
        else:
            groups.append(current)
            current = [0, index]
    groups.append(current)
    return groups


def _annotation(console: Console, text: object, style: str) -> RenderableType:
    """A title or caption drawn on its own, as wide as the console."""
    if isinstance(text, str):
        return console.render_str(text, style=style, highlight=False)
    return text  # type: ignore[return-value]


def fit_width(console: Console, table: Table) -> RenderableType:
    """``table`` as it fits ``console.width`` (see the module docstring)."""
    from rich.console import Group

    if _fits(console, table):
        return table
    compact = _compact(table)
    if _fits(console, compact) or len(table.columns) <= 2:
        return compact
    bare = copy.copy(compact)
    bare.title = bare.caption = None  # said once, above and under the parts
    parts: list[RenderableType] = [_columns(bare, g) for g in _split(console, bare)]
    if table.title is not None:
        parts.insert(0, _annotation(console, table.title, "table.title"))
    if table.caption is not None:
        parts.append(_annotation(console, table.caption, "table.caption"))
    return Group(*parts)
