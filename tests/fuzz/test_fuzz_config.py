"""Fuzzing the configuration parsers (hypothesis): profiles, loudness-targets files and device
files, as JSON and TOML.

Two kinds of input: valid documents with one value replaced by anything (huge or non-finite
numbers, 400-digit integers, nested lists, strings with control characters, wrong types), and
random bytes. The contract: nothing escapes but the project's own errors, each with exit code 2
and a one-line message; a document that loads holds only finite numbers within the ranges the
parsers promise, and a device that loads has a finite response. The coverage-guided targets for
long runs are ``fuzz/fuzz_profile.py``, ``fuzz/fuzz_targets.py`` and ``fuzz/fuzz_devices.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.comparison.profiles import METRIC_RANGE, load_profile
from analyzer.errors import EXIT_USAGE, AnalyzerError
from analyzer.playback.device_file import device_to_dict, load_devices
from analyzer.playback.device_models import BUILTIN_DEVICES
from analyzer.playback.device_response import magnitude_db
from analyzer.playback.user_targets import load_targets

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PROFILE = json.loads(
    (Path(__file__).parents[2] / "analyzer/comparison/profile_data/ambient.json").read_text()
)
TARGETS = {"targets": [{"name": "spotify", "target_lufs": -15},
                       {"name": "club", "target_lufs": -9, "true_peak_limit_dbtp": -0.5,
                        "tolerance_lu": 1.0, "policy": "both", "label": "Club"}]}  # fmt: skip
DEVICES = {"devices": [device_to_dict(d) for d in BUILTIN_DEVICES.values()][:3]}

#: Values that have broken parsers: non-finite, huge, 400-digit, negative, wrong types, deep.
NASTY = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e-300, 10**400, -(10**400), 0, -1, 2**63, [], {}, ""]),
    st.integers(),
    st.text(alphabet=st.sampled_from("a\x1b]\x07\x9b\u202e0;")),
    st.builds(lambda depth: _nested(depth), st.integers(1, 200)),
    st.lists(st.floats(allow_nan=True), max_size=3),
)


def _nested(depth: int) -> list:
    out: list = []
    for _ in range(depth):
        out = [out]
    return out


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) to a value in ``doc``."""
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple, value: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _dump(doc: Any) -> str:
    """JSON as Python writes it, except that NaN/Infinity stay (a hostile file may hold them)."""
    return json.dumps(doc, allow_nan=True)


def _load(loader, path: Path) -> Any:
    try:
        return loader(path)
    except AnalyzerError as exc:
        assert exc.exit_code == EXIT_USAGE, exc
        assert "\n" not in exc.message and str(path.name) in exc.message, exc.message
        return None


def _check_profile(profile) -> None:
    low, high = METRIC_RANGE
    for stats in profile.metrics.values():
        for v in (stats.median, stats.p10, stats.p90):
            assert v is None or (math.isfinite(v) and low <= v <= high)


def _check_targets(targets) -> None:
    for t in targets:
        assert -70 <= t.target_lufs <= 0
        assert t.true_peak_limit_dbtp is None or -30 <= t.true_peak_limit_dbtp <= 3


def _check_devices(devices) -> None:
    freqs = np.geomspace(10.0, 24_000.0, 48)
    for d in devices.values():
        assert np.all(np.isfinite(magnitude_db(d, freqs))), d.name
        assert 0 <= d.right_delay_ms <= 100


CASES = {
    "profile": (PROFILE, load_profile, _check_profile),
    "targets": (TARGETS, load_targets, _check_targets),
    "devices": (DEVICES, load_devices, _check_devices),
}


@pytest.mark.parametrize("kind", list(CASES))
@SETTINGS
@given(data=st.data(), value=NASTY)
def test_one_value_replaced(tmp_path: Path, kind: str, data, value: Any) -> None:
    doc, loader, check = CASES[kind]
    path = data.draw(st.sampled_from(_paths(doc)))
    path_file = tmp_path / "config.json"
    path_file.write_text(_dump(_replace(doc, path, value)))
    loaded = _load(loader, path_file)
    if loaded is not None:
        check(loaded)


def _rename(doc: Any, path: tuple, new_key: str) -> Any:
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[new_key] = node.pop(path[-1])
    return doc


@pytest.mark.parametrize("kind", list(CASES))
@SETTINGS
@given(data=st.data(), new_key=st.text(alphabet=st.sampled_from("ab_\n\x1b\u202e.")))
def test_one_key_renamed(tmp_path: Path, kind: str, data, new_key: str) -> None:
    """A key anywhere renamed to text with newlines and control characters: the message that
    names it is still one line (atheris found a targets key with a newline breaking it)."""
    doc, loader, check = CASES[kind]
    paths = [p for p in _paths(doc) if isinstance(p[-1], str)]
    path = data.draw(st.sampled_from(paths))
    path_file = tmp_path / "config.json"
    path_file.write_text(_dump(_rename(doc, path, new_key)))
    loaded = _load(loader, path_file)
    if loaded is not None:
        check(loaded)


@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("suffix", [".json", ".toml"])
@SETTINGS
@given(raw=st.binary(max_size=2000))
def test_random_bytes(tmp_path: Path, kind: str, suffix: str, raw: bytes) -> None:
    if kind == "profile" and suffix == ".toml":
        suffix = ".json"  # profiles are JSON only
    path = tmp_path / f"config{suffix}"
    path.write_bytes(raw)
    _load(CASES[kind][1], path)


def test_the_unmodified_documents_load(tmp_path: Path) -> None:
    """The fuzzing starts from documents that load (else every example tests only refusal)."""
    for kind, (doc, loader, check) in CASES.items():
        path = tmp_path / f"{kind}.json"
        path.write_text(_dump(doc))
        check(loader(path))
