"""Shared fixtures. The corpus (../shared/corpus beside the repo, or $MIXANALYZER_CORPUS) is found
by one fixture; under CI=true a missing corpus fails instead of skipping."""

from __future__ import annotations

import os

# As the CLI does (analyzer.runtime.tune_process): OpenBLAS threads on top of the meters' threads
# only contend for the cores (measured: the limiter's detection 5x slower). Before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_corpus() -> Path | None:
    candidates = [os.environ.get("MIXANALYZER_CORPUS"), REPO.parent / "shared" / "corpus"]
    for c in candidates:
        if c and (Path(c) / "loudness").is_dir() and (Path(c) / "music").is_dir():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def corpus() -> Path:
    found = _find_corpus()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the shared corpus is missing (expected ../shared/corpus beside the repo)")
        pytest.skip("shared corpus not found (set MIXANALYZER_CORPUS)")
    return found


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never read or write the real user's result cache (``batch`` uses it by default); the
    variable is inherited by CLI subprocesses."""
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
