"""How a report looks in headless Chromium, driven by Playwright (from PyPI) through Debian's
/usr/bin/chromium (``executable_path``: Playwright's own browser download cannot work offline).

:func:`inspect_page` measures every Plotly graph of a page in the browser: the traces that carry
data, each axis title's box against the graph's box and against its axis' tick labels, the tick
labels of the frequency axes, the y-range of every graph and whether a toolbar is shown.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

#: Flags that keep Chromium off the network and out of the user's profile.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
#: Where the screenshots go when ``MIXANALYZER_SCREENSHOTS`` asks for them (a folder, or "1" for
#: build/screenshots, ignored by git); a full-page screenshot costs seconds, so only on request.
_ASKED = os.environ.get("MIXANALYZER_SCREENSHOTS", "")
SCREENSHOTS: Path | None = (
    None if not _ASKED
    else Path(__file__).resolve().parents[2] / "build" / "screenshots" if _ASKED == "1"
    else Path(_ASKED)
)  # fmt: skip

#: Measured in the page: per graph, its box, its traces with data, its axis titles and tick
#: labels (text and box), its y-range and whether a toolbar is visible.
_MEASURE = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const axes = [["x", ".g-xtitle", ".xtick"], ["y", ".g-ytitle", ".ytick"],
                ["y2", ".g-y2title", ".y2tick"]];
  return Array.from(document.querySelectorAll(".js-plotly-plot")).map((el) => {
    const traces = (el.data || []).filter((t) =>
      ["x", "y"].every((k) => Array.from(t[k] || []).some((v) => v !== null && v !== undefined)));
    const out = {id: el.id, box: box(el), traces: traces.length, axes: {},
                 yrange: el._fullLayout && el._fullLayout.yaxis ? el._fullLayout.yaxis.range : null,
                 xtype: el._fullLayout && el._fullLayout.xaxis ? el._fullLayout.xaxis.type : null,
                 toolbar: Array.from(el.querySelectorAll(".modebar")).some(
                   (m) => getComputedStyle(m).display !== "none")};
    for (const [name, titleSel, tickSel] of axes) {
      const title = el.querySelector(titleSel + " text");
      const ticks = Array.from(el.querySelectorAll(tickSel + " text"))
        .filter((t) => t.textContent.trim() !== "" && t.getBBox().width > 0);
      out.axes[name] = {
        title: title && title.textContent.trim()
          ? {text: title.textContent, box: box(title)} : null,
        ticks: ticks.map((t) => ({text: t.textContent, box: box(t)})),
      };
    }
    return out;
  });
}"""


def chromium_path() -> str:
    """Debian's chromium; skipped (failed under CI=true) when it or Playwright is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium or playwright is missing: .ci/run installs both")
    pytest.skip("needs Debian's chromium and playwright (pip install -e '.[test]')")


@contextmanager
def browser(executable: str) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with (tempfile.TemporaryDirectory(prefix="mixanalyzer-chromium-") as profile,
          sync_playwright() as pw):  # fmt: skip
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=list(FLAGS),
            viewport={"width": 1280, "height": 900},
        )  # fmt: skip
        try:
            yield context
        finally:
            context.close()


def inspect_page(context: Any, page_path: Path, screenshot: Path | None) -> dict[str, Any]:
    """Open ``page_path``, wait for every plot, measure the graphs; a full-page screenshot to
    ``screenshot`` when given. Returns {"errors", "graphs"}."""
    page = context.new_page()
    try:
        page.goto(page_path.as_uri())
        page.wait_for_function(
            "document.body.getAttribute('data-plots-rendered') !== null", timeout=30_000
        )
        graphs = page.evaluate(_MEASURE)
        errors = page.evaluate("JSON.parse(document.documentElement.dataset.errors || '[]')")
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        return {"errors": errors, "graphs": graphs, "sideways": _sideways(page)}
    finally:
        page.close()


#: Narrow windows the page must fit without scrolling sideways (half a laptop screen, a phone).
NARROW_WIDTHS = (700, 420)


#: True once no graph's drawing is wider than the window (after a resize).
_GRAPHS_FIT = """() => Array.from(document.querySelectorAll('.js-plotly-plot .main-svg')).every(
  (el) => el.getBoundingClientRect().right <= document.documentElement.clientWidth + 1)"""


#: Table cells (the tags table's free text excepted) whose longest word (up to a space, a
#: slash or a dash) is wider than the cell: a name or a number squeezed over lines, letter by
#: letter at worst.
_BROKEN_WORDS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  const out = [];
  for (const cell of document.querySelectorAll('td, th')) {
    if (cell.closest('table.tags')) continue;
    // words as a browser may break them: at spaces, after a slash or a dash
    const words = cell.textContent.split(/\\s+|(?<=[\\/\\-–])/).filter((w) => w);
    if (!words.length) continue;
    const st = getComputedStyle(cell);
    ctx.font = st.font;
    const room = cell.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
    const widest = Math.max(...words.map((w) => ctx.measureText(w).width));
    if (widest > room + 1) out.push(cell.textContent.trim().slice(0, 40));
  }
  return out;
}"""


def _sideways(page: Any) -> dict[int, Any]:
    """Per narrow window width: how far the page is wider than the window (px; 0 when it fits:
    a wide table scrolls inside itself, not the page) and the table cells whose words were
    broken to fit (see ``_BROKEN_WORDS``). The viewport is set back after."""
    size = page.viewport_size
    out = {}
    for width in NARROW_WIDTHS:
        page.set_viewport_size({"width": width, "height": size["height"]})
        # Plotly redraws its graphs for the new width after a short debounce; measured below
        # whether or not they got there.
        with contextlib.suppress(Exception):
            page.wait_for_function(_GRAPHS_FIT, timeout=5_000)
        wider = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        out[width] = (wider, page.evaluate(_BROKEN_WORDS))
    page.set_viewport_size(size)
    return out


def inside(inner: dict[str, float], outer: dict[str, float], slack: float = 0.5) -> bool:
    o, i = outer, inner
    return (i["x0"] >= o["x0"] - slack and i["x1"] <= o["x1"] + slack
            and i["y0"] >= o["y0"] - slack and i["y1"] <= o["y1"] + slack)  # fmt: skip


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]


def look_problems(graphs: list[dict[str, Any]]) -> list[str]:
    """What a person would see as broken: a graph with no data, an axis title outside its graph
    (clipped) or over its tick labels, a tick label outside its graph."""
    problems = []
    for g in graphs:
        if g["traces"] == 0:
            problems.append(f"{g['id']}: empty chart (no trace with data)")
        for name, axis in g["axes"].items():
            title = axis["title"]
            if title and not inside(title["box"], g["box"]):
                problems.append(f"{g['id']}: {name} axis title {title['text']!r} clipped")
            for tick in axis["ticks"]:
                if not inside(tick["box"], g["box"]):
                    problems.append(f"{g['id']}: {name} tick {tick['text']!r} clipped")
                if title and overlap(title["box"], tick["box"]):
                    problems.append(f"{g['id']}: {name} axis title over tick {tick['text']!r}")
    return problems
