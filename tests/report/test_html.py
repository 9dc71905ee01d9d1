"""The HTML report as a file: self-contained (no external resource), Plotly embedded once, text
escaped (file names and tags are data), sections only where there is data, and a bounded size."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.comparison.metrics import compare
from analyzer.measure.engine import analyze_array
from analyzer.playback.platforms import preview
from analyzer.playback.translate import translate
from analyzer.report.html import PLOTLY_TRACE_TYPES, figures, plotly_js, render_html, script_json
from analyzer.report.view import MAX_SERIES_POINTS, ReportView, build_view
from tests.cli.test_cli import one_error_line, run
from tests.signals import pink_noise

EVIL_TITLE = "<img src=x onerror=alert(2)>"


def test_script_json_cannot_close_its_element() -> None:
    text = script_json({"name": "</script><!-- <script>alert(1)</script>", "amp": "a&b\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!-- <script>alert(1)</script>",
                                "amp": "a&b\u2028"}  # fmt: skip
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


@pytest.fixture
def evil_wav(tmp_path: Path) -> Path:
    # '/' cannot be part of a file name on POSIX, so the name's "</" is a folder boundary: the
    # path reads .../<script>alert(1)</script>.wav
    folder = tmp_path / "<script>alert(1)<"
    folder.mkdir()
    path = folder / "script>.wav"
    x = pink_noise(4.0, 48000, seed=2) * 0.1
    with sf.SoundFile(path, "w", samplerate=48000, channels=2, subtype="PCM_16") as f:
        f.title = EVIL_TITLE
        f.artist = "Tom & Jerry"
        f.write(x.T)
    assert str(path).endswith("<script>alert(1)</script>.wav")
    return path


def _assert_inert(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.wav" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # the title tag, shown as text
    assert "Tom &amp; Jerry" in html


def test_file_name_and_tags_are_escaped(evil_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    proc = run("analyze", str(evil_wav), "--html", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    _assert_inert(out.read_text())
    out = tmp_path / "c.html"
    proc = run("compare", str(evil_wav), "--ref", str(evil_wav), "--html", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    _assert_inert(out.read_text())


def test_html_refuses_to_overwrite(evil_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    out.write_text("keep me")
    one_error_line(run("translate", str(evil_wav), "--html", str(out), "-q"), 4, "exists")
    assert out.read_text() == "keep me"
    assert run("translate", str(evil_wav), "--html", str(out), "-q", "--force").returncode == 0
    assert "Translation to playback devices" in out.read_text()
    one_error_line(run("analyze", str(evil_wav), "--html", "-", "-q"), 2, "--html")


@pytest.fixture(scope="module")
def long_view() -> ReportView:
    """A 5-minute stereo track against a reference, translated on every device."""
    fs = 44100
    x = pink_noise(300.0, fs, seed=5) * 0.1
    x[1] = 0.7 * x[1] + 0.3 * x[0]
    mix = analyze_array(x, fs, path="five-minutes.wav", keep_series=True)
    ref = analyze_array(x[:, : 60 * fs] * 0.5, fs, path="ref.wav", keep_series=True)
    platforms = preview(mix.loudness.integrated_lufs, mix.peaks.true_peak_dbtp)
    return build_view(
        "compare", [mix], platforms=[platforms], comparison=compare(mix, [ref]),
        references=[ref], translation=translate(mix, references=[ref]),
        reference_translations=[translate(ref)],
    )  # fmt: skip


def test_size_of_a_five_minute_report(long_view: ReportView) -> None:
    html = render_html(long_view)
    js = len(plotly_js().encode())
    size = len(html.encode())
    assert size - js <= 2_000_000, f"{(size - js) / 1e6:.2f} MB besides plotly.js"
    # Plotly's library is embedded exactly once, and nothing is fetched from anywhere.
    assert html.count(plotly_js()[:4096]) == 1
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html, re.I)
    assert "default-src 'none'" in html
    # Long series are decimated: 3000 short-term values become at most MAX_SERIES_POINTS.
    series = long_view.tracks[0].loudness_series
    assert series is not None and series.short_term is not None and series.momentary is not None
    assert len(series.short_term.values) <= MAX_SERIES_POINTS
    assert series.momentary.values


def test_decimation_keeps_the_peaks() -> None:
    from analyzer.report.view import decimate

    n = 10 * MAX_SERIES_POINTS + 7
    values: list[float | None] = [0.0] * n
    values[1234] = 9.0
    values[5000:5100] = [None] * 100
    t = [i / 10 for i in range(n)]
    ts, vs = decimate(t, values, "max")
    assert len(vs) <= MAX_SERIES_POINTS and max(v for v in vs if v is not None) == 9.0
    assert ts == sorted(ts)
    assert None in vs  # an undefined stretch stays a gap


def test_sections_follow_the_data(long_view: ReportView) -> None:
    html = render_html(long_view)
    for section in ('id="comparison"', 'id="translation"', 'id="spectrum-0"', 'id="device-0"',
                    'id="correlation-0"', 'id="peaks-0"', "Platform gains"):  # fmt: skip
        assert section in html, section
    assert 'id="master"' not in html and 'id="batch"' not in html
    # A mono file without series or references: no stereo, no time plots, no comparison.
    mono = analyze_array(pink_noise(4.0, 48000, channels=1) * 0.1, 48000, path="mono.wav")
    html = render_html(build_view("analyze", [mono]))
    assert 'id="spectrum-0"' in html and 'id="tonal-0"' in html
    for absent in ('id="stereo-section-0"', 'id="loudness-0"', 'id="comparison"',
                   'id="translation"'):  # fmt: skip
        assert absent not in html, absent


def test_view_is_plain_strict_json(long_view: ReportView) -> None:
    text = json.dumps(asdict(long_view), allow_nan=False)  # raises on NaN / infinity
    assert json.loads(text)["tracks"][0]["name"] == "five-minutes.wav"


def test_silent_track_renders(tmp_path: Path) -> None:
    silent = analyze_array(np.zeros((2, 48000 * 4)), 48000, path="silent.wav", keep_series=True)
    view = build_view("analyze", [silent], platforms=[preview(None, None)])
    json.dumps(asdict(view), allow_nan=False)
    html = render_html(view)
    assert "silent" in html and "n/a" in html


VENDOR = Path(__file__).parents[2] / "analyzer" / "report" / "vendor"


def test_the_vendored_plotly_is_the_recorded_bundle() -> None:
    """The inlined library is the npm package's file, byte for byte (the hash its README gives),
    and the page carries it as read."""
    import hashlib

    recorded = re.search(r"`([0-9a-f]{64})`", (VENDOR / "README.md").read_text()).group(1)
    data = (VENDOR / "plotly-basic.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded
    assert data.startswith(b"/**\n* plotly.js (basic - minified) v4.1.1\n")
    assert plotly_js() == data.decode("utf-8")
    assert (VENDOR / "plotly-LICENSE.txt").read_text().startswith("MIT License")


def _bundle_traces() -> set[str]:
    """The trace modules the vendored bundle registers (read from the library itself)."""
    return set(re.findall(r'moduleType:"trace",name:"([a-z0-9]+)"', plotly_js()))


def test_every_figure_is_a_trace_the_bundle_draws(long_view: ReportView, demo_run) -> None:
    """Every trace of every figure (a compare with a translation; the demo's report with its
    master) is of a type the partial bundle has: another type would leave an empty graph."""
    assert _bundle_traces() == PLOTLY_TRACE_TYPES
    found = re.search(r'<script type="application/json" id="mixanalyzer-figures">(.*?)</script>',
                      (demo_run.out / "report.html").read_text(encoding="utf-8"), re.S)  # fmt: skip
    docs = [figures(long_view), json.loads(found.group(1))["figures"]]
    types = [trace.get("type", "scatter") for doc in docs for fig in doc.values()
             for trace in fig["data"]]  # fmt: skip
    assert len(types) >= 20 and {"scatter", "bar"} <= set(types)
    assert set(types) <= _bundle_traces()
