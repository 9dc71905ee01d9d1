"""Terminal tables adapt to the width they get: piped output is as wide as ``COLUMNS`` says
(120 columns when it says nothing), no line passes the width, and a file name folds over two
lines at most (the batch table, the album gains), its middle cut to "…" only when two lines of
the room left cannot hold it."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from analyzer.cli.console import PIPED_WIDTH, output_width
from analyzer.report.terminal import render_batch

NAMES = (
    "lincity-ng--Robert_van_Herk_-_Architectural_Contemplations.ogg",
    "music/librosa--Kevin_MacLeod_-_Vibe_Ace.hq.ogg",
    "a/rather/deep/folder/of/mixes/for/the/album/fretsonfire-muldjord--mutilated_mime--song.ogg",
    "x.wav",
)


def _file(path: str, lufs: float) -> SimpleNamespace:
    return SimpleNamespace(
        file=SimpleNamespace(path=path),
        loudness=SimpleNamespace(integrated_lufs=lufs, lra_lu=6.2),
        peaks=SimpleNamespace(true_peak_dbtp=-0.04),
        dynamics=SimpleNamespace(plr_db=11.3),
        spectrum=SimpleNamespace(tilt_db_per_octave=-0.004),
    )


def _batch_lines(width: int) -> list[str]:
    result = SimpleNamespace(
        files=[_file(n, -14.0 - i) for i, n in enumerate(NAMES)],
        from_cache=[False] * len(NAMES), errors=[], cache_hits=0, cache_misses=len(NAMES),
        elapsed_s=1.0, executor="serial",
    )  # fmt: skip
    out = io.StringIO()
    render_batch(Console(file=out, width=width, color_system=None), result)
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_batch_names_fold_over_two_lines_at_most(width: int) -> None:
    lines = _batch_lines(width)
    assert max(len(line) for line in lines) <= width
    body = [ln for ln in lines if ln.startswith("│")]
    starts = [i for i, ln in enumerate(body) if ln.split("│")[1].strip()]  # the # column
    assert len(starts) == len(NAMES)
    heights = [b - a for a, b in zip(starts, [*starts[1:], len(body)], strict=True)]
    assert max(heights) <= 2, (width, heights)
    # Each name is there once its folded pieces are joined: whole, or (too long for two lines
    # of the room left) its start and its end (the file's own name) around "…".
    for k, name in enumerate(NAMES):
        rows = body[starts[k] : starts[k] + heights[k]]
        shown = "".join(r.split("│")[2].strip() for r in rows)
        head, cut, tail = shown.partition("…")
        assert shown == name or (cut and name.startswith(head) and name.endswith(tail)), shown
        assert name.rsplit("/", 1)[-1] in shown or width < 100
    assert not any("-0.0" in ln for ln in lines)  # a tilt of -0.004 reads 0.00


def test_output_width() -> None:
    assert output_width(False, {}) == PIPED_WIDTH > 80
    assert output_width(False, {"COLUMNS": "100"}) == 100
    assert output_width(True, {"COLUMNS": "63"}) == 63
    assert output_width(True, {}) is None  # rich asks the terminal
    assert output_width(False, {"COLUMNS": "wide"}) == PIPED_WIDTH
