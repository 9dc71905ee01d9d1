"""Findings for out-of-spec files, in all three outputs (terminal, JSON, HTML), with where they
happen; checked against facts computed here independently (an 8x resampled true-peak search, the
platforms' targets, the DC power share), on a loud corpus master raised to +1.9 dBTP and its
variants. Pink noise, a calm corpus track and the unraised variants stay quiet."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from scipy.signal import resample_poly

from analyzer.io import read_audio, write_audio_atomic
from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.measure.truepeak import measure_peaks
from analyzer.playback.platforms import TARGETS, preview
from analyzer.report.findings import clock, track_findings
from analyzer.report.html import figures
from analyzer.report.view import build_view
from tests.cli_runner import run_cli

PEAK_DC_CODES = {
    "true_peak_over_0",
    "true_peak_over_minus_1",
    "sample_peak_full_scale",
    "intersample_overs",
    "clipped_runs",
    "dc_offset",
}
HOT_DBTP = 1.9


@pytest.fixture(scope="module")
def excerpt(corpus) -> tuple[np.ndarray, int]:
    """40 s of a loud electronic master (decoded Ogg Vorbis, already over full scale)."""
    x, fs = read_audio(corpus / "music" / "nexuiz--brokenlight.ogg")
    return x[:, 50 * fs : 90 * fs], fs


@pytest.fixture(scope="module")
def hot(excerpt, tmp_path_factory) -> dict:
    """The excerpt raised (as float) to +1.9 dBTP, written as float WAV, run through
    ``mixanalyzer analyze`` with JSON and HTML."""
    x, fs = excerpt
    gain = 10 ** ((HOT_DBTP - measure_peaks(x, fs).true_peak_dbtp) / 20)
    folder = tmp_path_factory.mktemp("hot")
    wav = folder / "hot.wav"
    write_audio_atomic(wav, x * gain, fs, subtype="FLOAT")
    proc = run_cli(["analyze", str(wav), "--json", str(folder / "a.json"),
                    "--html", str(folder / "a.html")])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {
        "x": x * gain,
        "fs": fs,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "doc": json.loads((folder / "a.json").read_text()),
        "html": (folder / "a.html").read_text(),
        "wav": wav,
    }


def _codes(findings) -> set[str]:
    return {f["code"] if isinstance(f, dict) else f.code for f in findings}


def test_hot_master_gets_the_peak_findings_in_the_json(hot) -> None:
    doc = hot["doc"]
    codes = _codes(doc["findings"])
    assert {"true_peak_over_0", "sample_peak_full_scale", "intersample_overs"} <= codes
    assert "true_peak_over_minus_1" not in codes  # one true-peak finding, the more severe
    assert doc["warnings"] == []  # findings are the report; warnings are degenerate input
    for f in doc["findings"]:
        assert set(f) == {"code", "severity", "text", "at_s"}
    tp = next(f for f in doc["findings"] if f["code"] == "true_peak_over_0")
    assert "+1.9 dBTP" in tp["text"] and "-1 dBTP" in tp["text"]
    overs = next(f for f in doc["findings"] if f["code"] == "intersample_overs")
    assert f"{doc['dynamics']['intersample_overs']:,}" in overs["text"]


def test_the_true_peak_is_located_where_an_8x_search_finds_it(hot) -> None:
    """at_s is the start of the 100 ms holding the largest true peak: an independent 8x
    polyphase resampling finds the largest |value| in that 100 ms."""
    x, fs = hot["x"], hot["fs"]
    up = resample_poly(x, 8, 1, axis=1)
    t_peak = int(np.argmax(np.abs(up).max(axis=0))) / (8 * fs)
    tp = next(f for f in hot["doc"]["findings"] if f["code"] == "true_peak_over_0")
    assert tp["at_s"] <= t_peak < tp["at_s"] + 0.1 + 1e-6
    assert f"at {clock(tp['at_s'])}" in tp["text"]
    assert hot["doc"]["loudness"]["true_peak_at_s"] == tp["at_s"]


def test_one_platform_finding_names_every_platform_that_turns_it_down(hot) -> None:
    doc = hot["doc"]
    lufs = doc["loudness"]["integrated_lufs"]
    down = [t for t in TARGETS if t.target_lufs - lufs < -1.0]  # every policy turns down
    found = [f for f in doc["findings"] if f["code"] == "platforms_turn_down"]
    assert len(found) == 1
    for t in down:
        assert t.display_label in found[0]["text"]
    cuts = sorted(lufs - t.target_lufs for t in down)
    assert f"{cuts[0]:.1f} to {cuts[-1]:.1f} dB" in found[0]["text"]


def test_the_terminal_shows_the_findings_on_stdout(hot) -> None:
    out = re.sub(r"\s+", " ", hot["stdout"])
    assert "Findings" in out
    for f in hot["doc"]["findings"]:
        assert f["text"][:40] in out, f["text"]
    assert "louder than needed" not in hot["stderr"] and "true peak" not in hot["stderr"]
    # One "louder than needed", not one per platform.
    assert out.count("louder than needed") == 1


def test_the_html_lists_and_marks_the_findings(hot) -> None:
    page = hot["html"]
    section = page[page.index("What matters most") : page.index("</section>")]
    for f in hot["doc"]["findings"]:
        assert str(escape(f["text"])) in section
    track = analyze_file(hot["wav"], keep_series=True)
    view = build_view("analyze", [track], platforms=[preview(
        track.loudness.integrated_lufs, track.peaks.true_peak_dbtp)])  # fmt: skip
    figs = figures(view)
    at = next(f.at_s for f in view.tracks[0].findings if f.code == "true_peak_over_0")
    for plot in ("loudness-0", "peaks-0"):
        xs = [s["x0"] for s in figs[plot]["layout"]["shapes"]]
        assert at in xs
        notes = [a["text"] for a in figs[plot]["layout"]["annotations"] if a["x"] == at]
        assert notes and "true peak" in notes[0]
    assert '"shapes"' in page  # the written report carries the marks


def test_clipped_and_crushed_variant(excerpt) -> None:
    """The excerpt driven 12 dB into a hard clip: clipped runs (at the first run), PLR below 8 dB
    (at the loudest short-term window)."""
    x, fs = excerpt
    y = np.clip(x * 4.0, -1.0, 1.0)
    track = analyze_array(y, fs)
    found = {f.code: f for f in track_findings(track)}
    assert "clipped_runs" in found and "plr_low" in found
    mag = np.abs(y) >= 1.0
    first = min(np.flatnonzero(m[:-2] & m[1:-1] & m[2:])[0] for m in mag) / fs
    assert found["clipped_runs"].at_s == pytest.approx(first, abs=1e-4)
    assert found["plr_low"].at_s == track.loudness.short_term_max_at_s is not None


@pytest.mark.parametrize(("share", "expected"), [(0.02, True), (0.005, False)])
def test_dc_offset_by_its_power_share(corpus, share: float, expected: bool) -> None:
    """An offset carrying 2 % of the power is found, 0.5 % is not (threshold 1 %)."""
    x, fs = read_audio(
        corpus / "music" / "librosa--Brahms_Hungarian_Dance_5_string_orchestra.hq.ogg"
    )
    x = x[:, : 20 * fs]
    x = x - x.mean(axis=1, keepdims=True)
    offset = np.sqrt(share * np.mean(x**2) / (1 - share))
    track = analyze_array(x + offset, fs)
    codes = _codes(track_findings(track))
    assert ("dc_offset" in codes) is expected


def test_stereo_flags_become_findings() -> None:
    fs = 48000
    t = np.arange(5 * fs) / fs
    s = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 97 * t)
    assert "polarity_inverted" in _codes(track_findings(analyze_array(np.stack([s, -s]), fs)))
    silent = analyze_array(np.stack([s, 0 * s]), fs)
    assert "silent_channel" in _codes(track_findings(silent))
    assert "mono" in _codes(track_findings(analyze_array(np.stack([s, s]), fs)))


def test_pink_noise_and_a_calm_track_get_no_peak_or_dc_findings(corpus) -> None:
    rng = np.random.default_rng(3)
    fs = 48000
    w = rng.standard_normal((2, 20 * fs))
    spec = np.fft.rfft(w)
    spec[:, 1:] /= np.sqrt(np.arange(1, spec.shape[1]))
    spec[:, 0] = 0
    pink = np.fft.irfft(spec)
    pink *= 10 ** (-20 / 20) / np.sqrt(np.mean(pink**2))
    calm = corpus / "music" / "librosa--Brahms_Hungarian_Dance_5_string_orchestra.hq.ogg"
    for track in (analyze_array(pink, fs), analyze_file(calm)):
        previews = preview(track.loudness.integrated_lufs, track.peaks.true_peak_dbtp)
        assert not _codes(track_findings(track, previews)) & PEAK_DC_CODES


def test_findings_json_validates(hot) -> None:
    import jsonschema

    schema = json.loads(
        (Path(__file__).parents[2] / "analyzer" / "report" / "schema.json").read_text()
    )
    jsonschema.validate(hot["doc"], schema)
