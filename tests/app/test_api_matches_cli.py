"""The Python API gives the numbers the command line gives: each use case run from Python, its
result put through the same report builder, is the CLI's JSON document for the same input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.cli_runner import run_cli
from tests.signals import pink_noise

FS = 44100


def _mask(doc: object) -> object:
    """Drop what differs between runs (the tool's version, creation times)."""
    if isinstance(doc, dict):
        return {
            k: ("X" if k in ("tool", "created_utc", "elapsed_s") else _mask(v))
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_mask(v) for v in doc]
    return doc


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dull, quiet mix and a louder, brighter reference (fixed seeds), 4 s each."""
    from analyzer.io import write_audio_atomic

    d = tmp_path_factory.mktemp("api")
    x = pink_noise(4.0, FS, seed=5) * 0.1
    spec = np.fft.rfft(x, axis=1)
    f = np.fft.rfftfreq(x.shape[1], 1 / FS)
    dull = np.fft.irfft(spec / (1 + (f / 3000.0) ** 2), n=x.shape[1], axis=1) * 0.5
    write_audio_atomic(d / "mix.wav", dull, FS)
    write_audio_atomic(d / "ref.wav", pink_noise(4.0, FS, seed=6) * 0.25, FS)
    return d


@pytest.fixture(autouse=True)
def _here(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)  # the same relative names in both documents
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(folder / "config"))


def cli_json(folder: Path, *args: str) -> object:
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    proc = run_cli([*args, "--json", "-"], cwd=folder, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return _mask(json.loads(proc.stdout))


def test_analyze(folder: Path) -> None:
    from analyzer import analyze
    from analyzer.report.json import analyses_to_json

    run = analyze("mix.wav")
    (track,) = run.tracks
    extras = [{"platforms": list(track.platforms), "codec_check": None}]
    text = analyses_to_json([track.analysis], series=False, errors=[], extras=extras)
    assert _mask(json.loads(text)) == cli_json(folder, "analyze", "mix.wav")


def test_analyze_an_array_gives_the_file_numbers(folder: Path) -> None:
    from analyzer import AnalyzeSettings, analyze, open_audio

    with open_audio("mix.wav") as src:
        x = np.concatenate(list(src.blocks(65536)), axis=1)
    on_file = analyze("mix.wav").analyses[0]
    on_array = analyze(x, AnalyzeSettings(), sample_rate_hz=FS).analyses[0]
    assert on_array.loudness.integrated_lufs == pytest.approx(on_file.loudness.integrated_lufs)
    assert on_array.peaks.true_peak_dbtp == pytest.approx(on_file.peaks.true_peak_dbtp)


def test_compare(folder: Path) -> None:
    from analyzer import CompareSettings, compare
    from analyzer.report.json import compare_document, proposal_to_dict

    run = compare("mix.wav", CompareSettings(references=["ref.wav"]))
    text = compare_document(run.mix, run.comparison, section=run.section,
                            platforms=list(run.platforms),
                            proposal=proposal_to_dict(run.proposal))  # fmt: skip
    assert _mask(json.loads(text)) == cli_json(folder, "compare", "mix.wav", "--ref", "ref.wav")


def test_translate(folder: Path) -> None:
    from analyzer import TranslateSettings, translate
    from analyzer.report.json import translate_document

    run = translate("mix.wav", TranslateSettings(references=["ref.wav"], devices=("phone", "car")))
    text = translate_document(run.mix, list(run.reference_names), run.translation,
                              proposal=run.proposal)  # fmt: skip
    expected = cli_json(folder, "translate", "mix.wav", "--ref", "ref.wav",
                        "--devices", "phone,car")  # fmt: skip
    assert _mask(json.loads(text)) == expected


def test_propose(folder: Path) -> None:
    from analyzer import MasterSettings, propose
    from analyzer.report.json import master_document

    run = propose("mix.wav", MasterSettings(references=["ref.wav"], amount_width=50.0))
    text = master_document(mix=run.mix, proposal=run.proposal, engine="native", result=None,
                           verification=None, references=list(run.reference_names),
                           notes=list(run.notes))  # fmt: skip
    expected = cli_json(folder, "master", "mix.wav", "--ref", "ref.wav", "--amount-width", "50",
                        "--dry-run")  # fmt: skip
    assert _mask(json.loads(text)) == expected


def test_master(folder: Path) -> None:
    from analyzer import MasterSettings, master
    from analyzer.report.json import master_document

    expected = cli_json(folder, "master", "mix.wav", "--target-lufs", "-16", "-o", "m.wav")
    (folder / "m.wav").unlink()
    run = master("mix.wav", "m.wav", MasterSettings(target_lufs=-16.0))
    text = master_document(mix=run.mix, proposal=run.proposal, engine=run.engine,
                           result=run.result, verification=run.verification,
                           references=list(run.reference_names), notes=list(run.notes))  # fmt: skip
    assert _mask(json.loads(text)) == expected
    assert run.verification is not None and Path(run.output).is_file()
