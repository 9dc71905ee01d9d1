"""Every report kind as a person sees it, in headless Chromium (Playwright driving Debian's
chromium): no graph without data, no axis title clipped or over its tick labels, frequency axes
ticked 20, 50, 100 ... 10k, 20k, one y-range over the device cards and no toolbar on them, the
batch chart's bars rising from a floor (the loudest track has the longest bar), the proposal on
the compare page and the before / after / reference overlay and checks on the master page.

With MIXANALYZER_SCREENSHOTS=1 each kind's full-page screenshot goes to
build/screenshots/<kind>.png (ignored by git) to be looked at; the checks below are what a look
would catch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import run
from tests.report.look import SCREENSHOTS, browser, chromium_path, inspect_page, look_problems

FREQ_TICKS = ["20", "50", "100", "200", "500", "1k", "2k", "5k", "10k", "20k"]


@pytest.fixture(scope="module")
def context() -> Any:
    with browser(chromium_path()) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, tracks: dict[str, Path]) -> Path:
    """The demo mix and reference, 6 s each (enough for every plot, cheap to analyse)."""
    import soundfile as sf

    d = tmp_path_factory.mktemp("look")
    (d / "album").mkdir()
    for name in ("mix", "ref"):
        x, fs = sf.read(tracks[name], frames=6 * 48000)
        sf.write(d / "album" / f"{name}.wav", x, fs, subtype="PCM_24")
    x, fs = sf.read(tracks["mix"], frames=48000)  # one second, the same on both channels
    sf.write(d / "dual-mono.wav", x[:, :1].repeat(2, axis=1), fs, subtype="PCM_24")
    x, fs = sf.read(tracks["silent"])
    sf.write(d / "silent.wav", x, fs, subtype="PCM_16")
    return d


def _report(folder: Path, kind: str) -> Path:
    mix, ref = str(folder / "album" / "mix.wav"), str(folder / "album" / "ref.wav")
    page = folder / f"{kind}.html"
    args = {
        "analyze": ["analyze", mix, "-q"],
        "compare": ["compare", mix, "--ref", ref, "-q"],
        "translate": ["translate", mix, "--ref", ref, "-q"],
        "master": ["master", mix, "--ref", ref, "-o", str(folder / "master.wav"), "-q"],
        "batch": ["batch", str(folder / "album"), "--album", "--no-cache", "--jobs", "1", "-q"],
        # nothing to draw in some charts: they are left out and the page says why
        "silent": ["translate", str(folder / "silent.wav"), "-q"],
        "dual-mono": ["analyze", str(folder / "dual-mono.wav"), "-q"],
    }[kind]
    proc = run(*args, "--html", str(page), "--force")
    assert proc.returncode == 0, proc.stderr
    return page


def _freq_graphs(graphs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in graphs if g["xtype"] == "log"]


@pytest.mark.parametrize(
    "kind", ["analyze", "compare", "translate", "master", "batch", "silent", "dual-mono"]
)
def test_report_looks_right(context: Any, folder: Path, kind: str) -> None:
    shot = SCREENSHOTS / f"{kind}.png" if SCREENSHOTS else None
    page = _report(folder, kind)
    seen = inspect_page(context, page, shot)
    graphs = seen["graphs"]
    assert seen["errors"] == []
    html = page.read_text(encoding="utf-8")
    if kind == "silent":  # a silent track's spectrum, balance, width and devices were empty
        assert graphs == [] and html.count('class="meta no-plot"') >= 4
    elif kind == "dual-mono":  # its width chart was empty: no band has side signal
        assert "No width to draw" in html and not any(g["id"] == "width-0" for g in graphs)
    else:
        assert graphs, "no graph on the page"
        assert 'class="meta no-plot"' not in html
    assert look_problems(graphs) == []
    # At 700 and 420 px (a tag without spaces, the platform table's numbers, the batch table)
    # the page once scrolled sideways by up to 324 px; now a wide table scrolls in itself,
    # and no table squeezes a file name or a number into a column narrower than the word
    # (a first fix broke them letter by letter).
    assert seen["sideways"] == {700: (0, []), 420: (0, [])}
    for g in _freq_graphs(graphs):
        assert [t["text"] for t in g["axes"]["x"]["ticks"]] == FREQ_TICKS, g["id"]
    ids = {g["id"] for g in graphs}
    if kind in ("compare", "translate"):
        assert "master-eq" in ids  # the proposed master, as the terminal shows it
    if kind == "master":
        overlay = next(g for g in graphs if g["id"] == "master-spectra")
        assert overlay["traces"] >= 4  # references band and median, before, after
        html = (folder / "master.html").read_text(encoding="utf-8")
        assert 'class="checks"' in html
    if kind == "translate":
        devices = [g for g in graphs if g["id"].startswith("device-")]
        assert len(devices) >= 8
        assert len({tuple(g["yrange"]) for g in devices}) == 1  # one scale for all cards
        assert not any(g["toolbar"] for g in devices)


def test_batch_bars_rise_from_a_floor(context: Any, folder: Path) -> None:
    """The louder track has the longer bar, and the verdict column is filled."""
    from analyzer.report.html import write_html
    from analyzer.report.view import batch_view, build_view

    rows = [{"name": "quiet.wav", "integrated_lufs": -23.0, "true_peak_dbtp": -6.0},
            {"name": "loud.wav", "integrated_lufs": -9.0, "true_peak_dbtp": 0.4,
             "verdict": "true peak over 0 dBTP", "note": "gain cut to keep -1 dBTP"}]  # fmt: skip
    page = folder / "bars.html"
    write_html(str(page), build_view("batch", [], batch=batch_view(rows)), force=True)
    p = context.new_page()
    try:
        p.goto(page.as_uri())
        p.wait_for_function("document.body.getAttribute('data-plots-rendered') !== null")
        heights = p.evaluate("""() => Array.from(document.querySelectorAll(
            '#batch-loudness .point path')).map((e) => e.getBoundingClientRect().height)""")
        text = p.inner_text("#batch")
    finally:
        p.close()
    assert len(heights) == 2 and heights[1] > heights[0] > 0
    assert "true peak over 0 dBTP" in text and "gain cut to keep -1 dBTP" in text


def test_the_checks_catch_a_clipped_title() -> None:
    """The look check itself: a title past the graph's edge, or over a tick label, is found."""
    graph = {"id": "g", "traces": 1, "box": {"x0": 0, "y0": 0, "x1": 100, "y1": 100},
             "axes": {"y2": {"title": {"text": "PSR", "box": {"x0": 95, "y0": 40, "x1": 110,
                                                               "y1": 60}},
                             "ticks": [{"text": "12", "box": {"x0": 90, "y0": 45, "x1": 99,
                                                              "y1": 55}}]}}}  # fmt: skip
    problems = look_problems([graph])
    assert any("clipped" in p for p in problems) and any("over tick" in p for p in problems)
    assert look_problems([{**graph, "traces": 0, "axes": {}}]) == ["g: empty chart (no trace "
                                                                   "with data)"]  # fmt: skip
