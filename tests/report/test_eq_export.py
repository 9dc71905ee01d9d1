"""``--export-eq``: the Equalizer APO text, parsed here with a few lines of our own and computed
with R. Bristow-Johnson's cookbook formulas written out in this test (not the project's), gives
the proposal's summed response within 0.1 dB at 48 kHz; the CSVs; the left-out comment lines;
the output rules through the CLI."""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.mastering.eq import EqMove, apply_eq, response_db
from analyzer.mastering.tone_fit import FineCurve
from analyzer.mastering.width_proposal import WidthProposal
from analyzer.report.eq_export import export_text
from tests.cli.test_cli import one_error_line, run
from tests.signals import pink_noise

FS = 48000


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("export")
    x = 0.05 * pink_noise(6.0, FS, seed=5)
    ref, mix = d / "ref.wav", d / "mix.wav"
    sf.write(ref, x.T, FS, subtype="PCM_24")
    off = [EqMove("low_shelf", 150.0, -5.0), EqMove("peaking", 2500.0, 4.0, 1.2),
           EqMove("high_shelf", 7000.0, -6.0)]  # fmt: skip
    sf.write(mix, apply_eq(x, off, FS).T, FS, subtype="PCM_24")
    return mix, ref


@pytest.fixture(scope="module")
def proposal(files):
    from analyzer import CompareSettings, compare

    mix, ref = files
    return compare(mix, CompareSettings(references=[str(ref)])).proposal


def rbj_db(kind: str, f0: float, gain_db: float, q: float, f: np.ndarray) -> np.ndarray:
    """The Audio EQ Cookbook (R. Bristow-Johnson; W3C note) at 48 kHz: peakingEQ, lowShelf and
    highShelf with ``alpha = sin(w0) / (2 Q)``, ``A = 10^(gain/40)``; |H| on the unit circle."""
    a_ = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f0 / FS
    c, al = math.cos(w0), math.sin(w0) / (2 * q)
    if kind == "PK":
        b = [1 + al * a_, -2 * c, 1 - al * a_]
        a = [1 + al / a_, -2 * c, 1 - al / a_]
    else:
        s = 1 if kind == "HSC" else -1  # the high shelf is the low shelf with cos w0 negated
        r = 2 * math.sqrt(a_) * al
        b = [a_ * ((a_ + 1) + s * (a_ - 1) * c + r), -s * 2 * a_ * ((a_ - 1) + s * (a_ + 1) * c),
             a_ * ((a_ + 1) + s * (a_ - 1) * c - r)]  # fmt: skip
        a = [(a_ + 1) - s * (a_ - 1) * c + r, s * 2 * ((a_ - 1) - s * (a_ + 1) * c),
             (a_ + 1) - s * (a_ - 1) * c - r]  # fmt: skip
    z = np.exp(-1j * 2 * np.pi * f / FS)
    h = (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return 20 * np.log10(np.abs(h))


def parse_apo(text: str) -> tuple[float, list[tuple[str, float, float, float]]]:
    preamp = float(re.search(r"^Preamp: (-?[\d.]+) dB$", text, re.M).group(1))
    filters = re.findall(
        r"^Filter \d+: ON (PK|LSC|HSC) Fc ([\d.]+) Hz Gain (-?[\d.]+) dB Q ([\d.]+)$", text, re.M
    )
    return preamp, [(k, float(f), float(g), float(q)) for k, f, g, q in filters]


def test_apo_text_reproduces_the_proposal_within_a_tenth_of_a_db(proposal):
    moves = proposal.tone.moves
    assert {m.kind for m in moves} >= {"low_shelf", "high_shelf"}, moves  # shelves exported
    text = export_text(proposal, FS, "apo")
    preamp, filters = parse_apo(text)
    assert len(filters) == len(moves) == len(re.findall(r"^Filter ", text, re.M))
    f = np.geomspace(20, 20000, 400)
    ours = sum(rbj_db(*flt, f) for flt in filters)
    want = response_db(moves, FS, f)
    assert np.max(np.abs(ours - want)) < 0.1
    assert preamp == pytest.approx(-max(0.0, float(np.max(ours))), abs=0.11)


def test_left_out_parts_get_a_comment_line(proposal):
    fine = FineCurve((100.0, 1000.0), (1.0, -1.0), 1 / 3)
    both = replace(proposal, tone=replace(proposal.tone, fine=fine),
                   width=WidthProposal(2.0, None, ()))  # fmt: skip
    for fmt in ("apo", "moves-csv", "response-csv"):
        comments = [ln for ln in export_text(both, FS, fmt).splitlines() if ln.startswith("#")]
        assert any("--fine" in c for c in comments) and any("width" in c for c in comments)
    plain = export_text(proposal, FS, "moves-csv")
    assert not plain.startswith("#")


def test_csvs(proposal):
    rows = list(csv.DictReader(io.StringIO(export_text(proposal, FS, "moves-csv"))))
    assert [(r["type"], float(r["gain_db"])) for r in rows] == [
        ({"peaking": "PK", "low_shelf": "LSC", "high_shelf": "HSC"}[m.kind], m.gain_db)
        for m in proposal.tone.moves
    ]
    resp = list(csv.DictReader(io.StringIO(export_text(proposal, FS, "response-csv"))))
    f = np.array([float(r["frequency_hz"]) for r in resp])
    g = np.array([float(r["gain_db"]) for r in resp])
    assert f[0] == 20 and f[-1] <= 20000
    assert np.max(np.abs(g - response_db(proposal.tone.moves, FS, f))) <= 0.006


def test_cli_writes_the_same_text_and_refuses_an_existing_file(files, proposal, tmp_path):
    mix, ref = files
    out = tmp_path / "eq.txt"
    proc = run("compare", str(mix), "--ref", str(ref), "--export-eq", str(out), "-q")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text() == export_text(proposal, FS, "apo", source="mix.wav")
    proc = run("master", str(mix), "--ref", str(ref), "--dry-run", "--export-eq", str(out))
    one_error_line(proc, 4, "exists")
    proc = run("master", str(mix), "--ref", str(ref), "--dry-run", "--export-eq", str(mix),
               "--force")  # fmt: skip
    one_error_line(proc, 4, "input")
    proc = run("compare", str(mix), "--ref", str(ref), "--export-eq", "-", "--export-format", "x")
    one_error_line(proc, 2, "--export-format")
