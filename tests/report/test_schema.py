"""Every JSON document the CLI writes validates against the shipped JSON Schema, holds no NaN or
Infinity (strict parsers reject them), and loads back into the result types."""

from __future__ import annotations

import json
import math
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from analyzer.comparison.metrics import compare
from analyzer.measure.engine import analyze_array
from analyzer.playback.platforms import preview
from analyzer.playback.translate import translate
from analyzer.report.json import (
    analyses_to_json,
    compare_document,
    schema_text,
    translate_document,
)
from analyzer.report.json_load import load_document
from tests.cli.test_cli import run
from tests.signals import pink_noise

#: The CLI's documents are made once (a dozen commands), by one worker.
pytestmark = pytest.mark.xdist_group("schema")


def strict_loads(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_command_prints_the_shipped_schema() -> None:
    proc = run("schema")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(schema_text())
    assert json.loads(proc.stdout)["$schema"].endswith("/draft/2020-12/schema")


def _cli_documents(tracks: dict[str, Path], tmp: Path) -> dict[str, str]:
    mix, ref, silent = (str(tracks[k]) for k in ("mix", "ref", "silent"))
    commands = {
        "analyze": ["analyze", mix],
        "analyze-series": ["analyze", mix, "--series", "--level-spectrum"],
        "analyze-silent": ["analyze", silent, "--series"],
        "analyze-many": ["analyze", mix, silent, str(tmp / "missing.wav")],
        "compare": ["compare", mix, "--ref", ref, "--ref", silent],
        "compare-loudest": ["compare", mix, "--ref", ref, "--section", "loudest"],
        "compare-profile": ["compare", mix, "--profile", "electronic"],
        "translate": ["translate", mix, "--ref", ref],
        "translate-profile": ["translate", mix, "--profile", "electronic", "--devices", "car"],
        "master": ["master", mix, "--ref", ref, "-o", str(tmp / "master.wav")],
        "master-dry": ["master", mix, "--profile", "electronic", "--fine", "--dry-run"],
        "batch": ["batch", mix, silent, "--ref", ref, "--album", "--no-cache"],
    }
    docs = {}
    for name, args in commands.items():
        out = tmp / f"{name}.json"
        proc = run(*args, "--json", str(out), "-q")
        assert proc.returncode in (0, 3), (name, proc.stderr)
        docs[name] = out.read_text()
    return docs


@pytest.fixture(scope="module")
def cli_docs(tracks: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _cli_documents(tracks, tmp_path_factory.mktemp("json"))


#: The ``kind`` of each command's document.
DOCUMENT_KIND = {
    "analyze": "analysis", "analyze-series": "analysis", "analyze-silent": "analysis",
    "analyze-many": "analyses", "compare": "comparison", "compare-loudest": "comparison",
    "compare-profile": "comparison", "translate": "translation",
    "translate-profile": "translation", "master": "master", "master-dry": "master",
    "batch": "batch",
}  # fmt: skip


@pytest.mark.parametrize(
    "name",
    ["analyze", "analyze-series", "analyze-silent", "analyze-many", "compare", "compare-loudest",
     "compare-profile", "translate", "translate-profile", "master", "master-dry", "batch"],
)  # fmt: skip
def test_cli_json_validates_and_is_strict(name: str, cli_docs: dict[str, str], validator) -> None:
    doc = strict_loads(cli_docs[name])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors[:5]
    assert doc["kind"] == DOCUMENT_KIND[name]
    loaded = load_document(cli_docs[name])
    assert loaded["kind"] == DOCUMENT_KIND[name]


def test_schema_rejects_what_it_should(cli_docs: dict[str, str], validator) -> None:
    """The schema is a real check: a misspelt key, a string for a number, and a document of no
    known kind all fail."""
    doc = strict_loads(cli_docs["analyze"])
    bad = json.loads(json.dumps(doc))
    bad["loudness"]["integrated_lufs"] = "loud"
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    bad["loudness"]["integrated_lusf"] = bad["loudness"].pop("integrated_lufs")
    assert not validator.is_valid(bad)
    assert not validator.is_valid({"schema_version": 1, "tool": doc["tool"]})
    bad = strict_loads(cli_docs["translate"])
    bad["translation"]["devices"][0]["score"] = 140
    assert not validator.is_valid(bad)


@pytest.mark.parametrize(
    "name", ["analyze", "analyze-many", "compare", "translate", "master", "batch"]
)
def test_schema_requires_the_right_kind(name: str, cli_docs: dict[str, str], validator) -> None:
    """Every document kind validates only with its own ``kind``: absent or another kind fails,
    and the loader refuses a kind it does not know."""
    from analyzer.errors import UsageError

    doc = strict_loads(cli_docs[name])
    assert validator.is_valid(doc)
    for other in set(DOCUMENT_KIND.values()) - {doc["kind"]}:
        assert not validator.is_valid({**doc, "kind": other}), other
    assert not validator.is_valid({k: v for k, v in doc.items() if k != "kind"})
    with pytest.raises(UsageError, match="kind 'mixtape'"):
        load_document(json.dumps({**doc, "kind": "mixtape"}))


@pytest.mark.parametrize(
    "name", ["analyze", "analyze-many", "compare", "translate", "master", "batch"]
)
def test_documents_without_kind_are_read_by_their_keys(name: str, cli_docs: dict[str, str]) -> None:
    """Documents written before ``kind`` existed load as before, their kind read from the keys."""
    doc = strict_loads(cli_docs[name])
    old = {k: v for k, v in doc.items() if k != "kind"}
    assert load_document(json.dumps(old))["kind"] == DOCUMENT_KIND[name]


def test_envelope_frames_every_document() -> None:
    from analyzer.report.json import KINDS, SCHEMA_VERSION, envelope

    doc = envelope("comparison", {"section": "whole"})
    assert list(doc) == ["schema_version", "tool", "kind", "section"]
    assert doc["schema_version"] == SCHEMA_VERSION and doc["kind"] in KINDS
    with pytest.raises(ValueError, match="mixtape"):
        envelope("mixtape", {})


def test_silent_file_gives_null_with_reasons_not_nan(cli_docs: dict[str, str]) -> None:
    doc = strict_loads(cli_docs["analyze-silent"])
    lo = doc["loudness"]
    assert lo["integrated_lufs"] is None and lo["true_peak_dbtp"] is None
    assert lo["null_reasons"]["integrated_lufs"].startswith("silent")
    assert lo["null_reasons"]["true_peak_dbtp"] == "silent"
    assert all(v is None for v in lo["momentary_series_lufs"]["values"])


# --- round trip ----------------------------------------------------------------------------


def _close(a: Any, b: Any, path: str = "") -> None:
    """Dataclasses equal field by field, floats to the JSON's precision (at most 0.005)."""
    if is_dataclass(a):
        assert type(a) is type(b), path
        for f in fields(a):
            _close(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _close(a[k], b[k], f"{path}[{k}]")
    elif isinstance(a, tuple | list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float | int):
        if math.isnan(a) or math.isinf(a):
            assert (math.isnan(a) and math.isnan(b)) or a == b, path
        else:
            assert b == pytest.approx(a, abs=0.0051), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def analyses() -> dict[str, Any]:
    fs = 48000
    x = pink_noise(6.0, fs, seed=3) * 0.1
    x[1] = 0.6 * x[1] + 0.4 * x[0]
    silent = np.zeros((2, 2 * fs))
    mix = analyze_array(x, fs, path="mix.wav", keep_series=True)
    ref = analyze_array(x[::-1] * 0.5, fs, path="ref.wav", keep_series=True)
    return {"mix": mix, "ref": ref, "silent": analyze_array(silent, fs, keep_series=True)}


@pytest.mark.parametrize("name", ["mix", "silent"])
def test_track_round_trip(analyses: dict[str, Any], name: str) -> None:
    track = analyses[name]
    text = analyses_to_json([track], series=True)
    loaded = load_document(text)["tracks"][0]
    _close(track, loaded)  # types -> JSON -> types: equal to the JSON's precision
    assert analyses_to_json([loaded], series=True) == text  # JSON -> types -> JSON: exact
    if name == "mix":  # no NaN in it, so plain dataclass equality holds on a second trip
        assert load_document(analyses_to_json([loaded], series=True))["tracks"][0] == loaded


def test_compare_and_translate_round_trip(analyses: dict[str, Any]) -> None:
    mix, ref = analyses["mix"], analyses["ref"]
    comp = compare(mix, [ref])
    platforms = preview(mix.loudness.integrated_lufs, mix.peaks.true_peak_dbtp)
    text = compare_document(mix, comp, platforms=platforms)
    loaded = load_document(text)
    _close(comp, loaded["comparison"])
    _close(platforms, loaded["platforms"])
    assert compare_document(loaded["mix"], loaded["comparison"],
                            platforms=loaded["platforms"]) == text  # fmt: skip
    tr = translate(mix, references=[ref])
    text = translate_document(mix, ["ref.wav"], tr)
    loaded = load_document(text)
    _close(tr, loaded["translation"])
    assert translate_document(loaded["mix"], loaded["references"], loaded["translation"]) == text


def test_loader_refuses_nan_and_other_versions() -> None:
    from analyzer.errors import UsageError

    with pytest.raises(UsageError, match="strict"):
        load_document('{"schema_version": 1, "file": {}, "x": NaN}')
    with pytest.raises(UsageError, match="schema_version"):
        load_document('{"schema_version": 99, "file": {}}')
    with pytest.raises(UsageError, match="not a mixanalyzer JSON document"):
        load_document('{"schema_version": 1, "tool": {}}')
