"""Terminal tables fit the width they get (issue 15): drawn as they are when they fit, more
compactly or in stacked parts when they do not, never cropped at the console's edge and never
with a cell cut to "…" or to nothing (found at 40-70 columns: the translation table lost its last
three columns, the batch table its file names)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from analyzer.report.terminal.fit import fit_width

DEVICES = ["studio", "bluetooth-speaker", "earbuds-sealed", "car"]
HEADERS = ["Score", "Refs", "Loud\nLU", "Bass\nkept", "Harm\ndB", "Mono\nLU", "Under\nnoise"]


def _table() -> Table:
    t = Table(title="Translation to playback systems", title_justify="left",
              caption="spread 16 points over the devices")  # fmt: skip
    t.add_column("Device", no_wrap=True)
    for h in HEADERS:
        t.add_column(h, justify="right", no_wrap=True)
    for i, name in enumerate(DEVICES):
        t.add_row(name, f"█████ {90 + i}", f"{80 + i}", f"-{i}.5", f"{10 * i} %", "-4.5",
                  "n/a", str(i))  # fmt: skip
    return t


def _draw(width: int) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, highlight=False)
    console.print(fit_width(console, _table()))
    return buf.getvalue()


@pytest.mark.parametrize("width", [32, 40, 50, 60, 70, 80, 100, 160])
def test_every_cell_is_shown_whole_within_the_width(width: int) -> None:
    out = _draw(width)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "…" not in out
    for i, name in enumerate(DEVICES):  # each row's cells, whole, on that row's lines
        rows = [line for line in lines
                if line.replace("│", " ").split()[:1] == [name]]  # fmt: skip
        text = " ".join(rows)
        for cell in (f"{90 + i}", f"{80 + i}", f"-{i}.5", f"{10 * i} %", "-4.5", "n/a"):
            assert cell in text, (width, name, cell, rows)
    for h in HEADERS:  # every header word
        for word in h.split("\n"):
            assert word in out, (width, word)
    assert "spread 16 points" in " ".join(out.split())  # the caption, once
    assert out.count("Translation to playback systems") == 1


def test_a_table_that_fits_is_drawn_as_it_is() -> None:
    buf = io.StringIO()
    console = Console(file=buf, width=120, color_system=None)
    table = _table()
    assert fit_width(console, table) is table


def test_narrow_tables_get_compact_then_parts() -> None:
    """80 columns: the bordered table; 70: one borderless table; 40: parts, each beginning
    with the device names."""
    assert "┃" in _draw(80)
    assert "┃" not in _draw(70) and _draw(70).count("bluetooth-speaker") == 1
    narrow = _draw(40)
    assert narrow.count("bluetooth-speaker") >= 2 and narrow.count("Device") >= 2
