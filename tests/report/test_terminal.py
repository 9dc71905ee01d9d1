"""Snapshots of the terminal view at 80 columns with colour off, from synthetic signals (fixed
seeds, fixed names): the tables, the tonal bars against the references, the device scores and
the ranked findings. Set MIXANALYZER_UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate
change (and read the diff)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from analyzer.comparison.metrics import compare
from analyzer.measure.engine import analyze_array
from analyzer.playback.platforms import preview
from analyzer.playback.translate import translate
from analyzer.report.terminal import (
    render_character,
    render_comparison,
    render_findings,
    render_platforms,
    render_tonal_bars,
    render_track,
    render_translation,
    tonal_bar,
)
from analyzer.report.view import build_view
from tests.signals import pink_noise
from tests.snapshot_text import assert_same_but_last_digit

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("MIXANALYZER_UPDATE_SNAPSHOTS") == "1"
FS = 48000


def _console() -> Console:
    return Console(file=io.StringIO(), width=80, color_system=None, force_terminal=False,
                   highlight=False, emoji=False)  # fmt: skip


def _text(console: Console) -> str:
    out = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path.name}: run with MIXANALYZER_UPDATE_SNAPSHOTS=1"
    assert_same_but_last_digit(text, path.read_text(encoding="utf-8"), name)


@pytest.fixture(scope="module")
def material() -> dict:
    """A dull, narrow-ish mix and a brighter reference: pink noise with fixed seeds."""
    x = pink_noise(8.0, FS, seed=21) * 0.05
    x[1] = 0.8 * x[1] + 0.2 * x[0]
    spec = np.fft.rfft(x, axis=1)
    f = np.fft.rfftfreq(x.shape[1], 1 / FS)
    dull = np.fft.irfft(spec / (1 + (f / 3000.0) ** 2), n=x.shape[1], axis=1)
    mix = analyze_array(dull, FS, path="mix.wav", keep_series=True)
    ref = analyze_array(pink_noise(8.0, FS, seed=22) * 0.2, FS, path="ref.wav", keep_series=True)
    comp = compare(mix, [ref], reference_names=["ref.wav"])
    tr = translate(mix, references=[ref])
    platforms = preview(mix.loudness.integrated_lufs, mix.peaks.true_peak_dbtp)
    view = build_view("compare", [mix], platforms=[platforms], comparison=comp, references=[ref],
                      translation=tr)  # fmt: skip
    return {"mix": mix, "comp": comp, "tr": tr, "platforms": platforms, "view": view}


def test_analysis_snapshot(material: dict) -> None:
    c = _console()
    render_track(c, material["mix"])
    render_character(c, material["mix"])
    render_platforms(c, material["platforms"])
    _check("analyze", _text(c))


def test_comparison_snapshot(material: dict) -> None:
    c = _console()
    render_comparison(c, material["comp"])
    render_tonal_bars(c, material["view"].comparison.tonal)
    _check("compare", _text(c))


def test_translation_and_findings_snapshot(material: dict) -> None:
    c = _console()
    render_translation(c, material["tr"])
    render_findings(c, material["view"].findings)
    _check("translate", _text(c))


def test_80_columns_and_no_escape_codes(material: dict) -> None:
    c = _console()
    render_track(c, material["mix"])
    render_comparison(c, material["comp"])
    render_tonal_bars(c, material["view"].comparison.tonal)
    render_translation(c, material["tr"])
    text = _text(c)
    assert "\x1b[" not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_tonal_bar_cells() -> None:
    assert tonal_bar(0.0, width=10, span=(-10.0, 0.0)) == "█" * 10
    assert tonal_bar(-5.0, -8.0, -6.0, width=10, span=(-10.0, 0.0)) == "██▓▓█"
    assert tonal_bar(-9.0, -3.0, -1.0, width=10, span=(-10.0, 0.0)) == "█      ░░"
    assert tonal_bar(None, width=10) == ""


def test_the_package_re_exports_every_renderer_from_its_module() -> None:
    """``analyzer.report.terminal`` imports its renderers on first use: its ``__all__``, the
    table of where each name lives and the modules agree (a name added to one list only, or
    moved to another module, fails here rather than at a user's first run)."""
    import importlib

    import analyzer.report.terminal as terminal

    assert sorted(terminal.__all__) == sorted(terminal._HOME)
    for name, home in terminal._HOME.items():
        module = importlib.import_module(f"analyzer.report.terminal.{home}")
        assert getattr(terminal, name) is getattr(module, name)


@pytest.mark.parametrize("width", [40, 56, 64, 72])
def test_narrow_consoles_crop_no_table(material: dict, width: int) -> None:
    """Under 80 columns every table still shows every cell (analyzer.report.terminal.fit): no
    row ends without its border, no line is wider than the console, no "…" is added, and the
    last column of each wide table (the translation's masking count, the comparison's verdict,
    the platforms' gain) is still there."""
    text = _everything(material, width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    borders = set("┃│┓┐┩┤┘┛")
    assert not [ln for ln in lines if ln[:1] in set("┏┃│┡└") and ln.rstrip()[-1] not in borders]
    assert text.count("…") == _everything(material, 200).count("…")
    for word in ("noise", "Under", "Delta"):
        assert word in text, (width, word)


def _everything(material: dict, width: int) -> str:
    """Every terminal renderer's output on a console ``width`` columns wide."""
    c = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                highlight=False, emoji=False)  # fmt: skip
    render_track(c, material["mix"])
    render_character(c, material["mix"])
    render_platforms(c, material["platforms"])
    render_comparison(c, material["comp"])
    render_tonal_bars(c, material["view"].comparison.tonal)
    render_translation(c, material["tr"])
    render_findings(c, material["view"].findings)
    return c.file.getvalue()  # type: ignore[attr-defined]
