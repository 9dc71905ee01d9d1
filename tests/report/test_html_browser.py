"""The demo report in a real browser (headless Chromium): no console errors, no blocked
request, every section present, every plot drawn with data, and a screenshot that is not blank.

Chromium comes from Debian (`.ci/run` installs it when missing). Outside CI the test is skipped,
with the reason, when there is no chromium; under CI=true a missing chromium fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from analyzer.report.html import write_html
from analyzer.report.view import batch_view, build_view, master_view
from tests.cli.test_cli import run
from tests.report.png import read_png

SECTIONS = (
    "findings", "summary-0", "spectrum-section-0", "tonal-section-0", "dynamics-section-0",
    "stereo-section-0", "comparison", "translation", "listen",
)  # fmt: skip
# Flags that keep Chromium off the network (no sync, updates, field trials, QUIC probes).
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
)  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium); the HTML report's "
                "browser test needs it")  # fmt: skip


def _browse(chromium: str, page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{time.monotonic_ns()}"
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
         *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _dom(chromium: str, page: Path, tmp: Path) -> str:
    proc = _browse(chromium, page, tmp, "--enable-logging=stderr", "--v=0", "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Page console messages, when Chromium logs them to stderr, must hold no error.
    console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and "ERROR" in ln.upper()]
    assert not console, console
    return proc.stdout


def _attr(dom: str, name: str) -> str:
    m = re.search(rf'{name}="([^"]*)"', dom)
    assert m, f"{name} missing from the rendered page"
    return m.group(1).replace("&quot;", '"')


def _check_rendered(dom: str) -> int:
    errors = json.loads(_attr(dom, "data-errors"))
    assert errors == [], errors
    expected = int(_attr(dom, "data-plots-expected"))
    assert expected > 0
    assert int(_attr(dom, "data-plots-rendered")) == expected
    # Every plot element became a Plotly graph with drawn traces.
    assert dom.count('class="plot js-plotly-plot"') == expected
    assert dom.count('class="main-svg"') >= expected
    return expected


@pytest.mark.xdist_group("demo")
def test_demo_report_in_chromium(chromium: str, tmp_path: Path, demo_run) -> None:
    assert demo_run.proc.returncode == 0, demo_run.proc.stderr
    report = demo_run.out / "report.html"

    dom = _dom(chromium, report, tmp_path)
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    plots = _check_rendered(dom)
    assert plots >= 6 + 8  # six track plots and a grid of at least eight devices

    shot = tmp_path / "report.png"
    proc = _browse(chromium, report, tmp_path, "--window-size=1280,2400", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    pixels = read_png(shot)
    assert pixels.shape[:2] == (2400, 1280)
    colours = np.unique(pixels.reshape(-1, pixels.shape[2]), axis=0)
    assert len(colours) > 200  # text, plot lines, fills: far from a blank page
    assert pixels.std() > 20


def test_hostile_names_stay_text_in_the_browser(chromium: str, tmp_path: Path) -> None:
    """A file named <script>alert(1)</script>.wav with an HTML title tag: in the rendered page
    neither becomes an element, nothing runs and nothing is blocked (an injected <img> would be
    refused by the page's Content-Security-Policy and recorded as an error)."""
    import soundfile as sf

    from tests.signals import pink_noise

    folder = tmp_path / "<script>alert(1)<"  # the name's "</" is a folder boundary on POSIX
    folder.mkdir()
    wav = folder / "script>.wav"
    with sf.SoundFile(wav, "w", samplerate=48000, channels=2, subtype="PCM_16") as f:
        f.title = "<img src=x onerror=alert(2)>"
        f.write((pink_noise(4.0, 48000, seed=9) * 0.1).T)
    page = tmp_path / "evil.html"
    proc = run("analyze", str(wav), "--html", str(page), "-q")
    assert proc.returncode == 0, proc.stderr
    dom = _dom(chromium, page, tmp_path)
    _check_rendered(dom)
    assert "<script>alert(1)" not in dom and "<img src" not in dom.lower()
    assert "&lt;img src=x onerror=alert(2)&gt;" in dom  # shown as the title, as text


def test_master_and_batch_sections_render(chromium: str, tmp_path: Path) -> None:
    """The hooks the master and batch commands will fill render as sections with their plots."""
    hz = [20.0 * 2 ** (k / 6) for k in range(60)]
    master = master_view(
        [{"kind": "high_shelf", "freq_hz": 8000, "gain_db": 2.5, "q": 0.7, "reason": "dull"},
         {"kind": "peaking", "freq_hz": 120, "gain_db": -1.5, "q": 1.0, "reason": "<b>x</b>"}],
        engine="mixanalyzer", response={"hz": hz, "db": [2.5 * (f > 8000) for f in hz]},
        before_after=[{"label": "Integrated", "unit": "LUFS", "before": -20.0, "after": -14.0}],
        output="master.wav", notes=["turned up 6 dB"],
    )  # fmt: skip
    batch = batch_view(
        [{"name": "one.wav", "integrated_lufs": -14.2, "true_peak_dbtp": -1.1},
         {"name": "two.wav", "integrated_lufs": -16.0, "true_peak_dbtp": -2.0}],
        album={"median_lufs": -15.0, "loudness_spread_lu": 4.0,
               "loudness_spread_after_lu": 2.0},
    )  # fmt: skip
    page = tmp_path / "hooks.html"
    write_html(str(page), build_view("master", [], master=master, batch=batch))
    html = page.read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    dom = _dom(chromium, page, tmp_path)
    assert 'id="master"' in dom and 'id="batch"' in dom
    assert _check_rendered(dom) == 2
