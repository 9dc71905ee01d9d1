"""``run_master``'s ``on_written``: called each time the output holds a new master (the first,
and the refit's only when it is kept), with the file already in place, so a caller reading it
then (the demo encodes its clip beside the refit) reads the master that was just made."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from analyzer.mastering import apply


@dataclass(frozen=True)
class _File:
    path: str


@dataclass(frozen=True)
class _Analysis:
    file: _File


@dataclass(frozen=True)
class _Result:
    path: str
    analysis: _Analysis
    plan: None = None
    limiter: object = "limited"


@dataclass(frozen=True)
class _Tone:
    moves: tuple = ("a move",)
    fine: None = None
    error_after_db: float = 1.0
    predicted_db: tuple = (0.0, 0.0)
    before_db: tuple = (0.0, 0.0)
    error_before_db: float = 3.0


@dataclass(frozen=True)
class _Proposal:
    name: str
    tone: _Tone = field(default_factory=_Tone)
    amounts: dict = field(default_factory=dict)
    loudness: None = None


def _run(monkeypatch, tmp_path: Path, errors: dict[str, float]) -> list[str]:
    """Masters whose file holds their name and whose measured tonal error is ``errors[name]``;
    returns what the output file held at each ``on_written`` call."""

    def master_native(mix_path, out_path, proposal, mix, **kw):
        Path(out_path).write_text(proposal.name)
        return _Result(out_path, _Analysis(_File(out_path)))

    def verify(mix, analysis, **kw):
        name = Path(analysis.file.path).read_text()
        return SimpleNamespace(tonal_error_after_db=errors[name], after_levels_db=[0.0, 0.0])

    monkeypatch.setattr(apply, "master_native", master_native)
    monkeypatch.setattr(apply, "verify", verify)
    out = tmp_path / "master.wav"
    seen: list[str] = []
    kept, res, _ = apply.run_master(
        "mix.wav", str(out), mix=None, comparison=object(), proposal=_Proposal("first"),
        rebuild=lambda shift: _Proposal("second"), fmt=None,
        on_written=lambda path: seen.append(Path(path).read_text()),
    )  # fmt: skip
    assert out.read_text() == kept.name and res.path == str(out)
    assert [p.name for p in tmp_path.iterdir()] == ["master.wav"]  # the refit's file is gone
    return seen


@pytest.mark.parametrize(
    ("errors", "seen"),
    [
        ({"first": 1.1}, ["first"]),  # within 0.2 dB of the prediction: no refit
        ({"first": 2.0, "second": 2.5}, ["first"]),  # refit made, not better: discarded
        ({"first": 2.0, "second": 1.2}, ["first", "second"]),  # refit kept
    ],
)
def test_on_written_sees_each_master_the_output_holds(monkeypatch, tmp_path, errors, seen):
    assert _run(monkeypatch, tmp_path, errors) == seen
