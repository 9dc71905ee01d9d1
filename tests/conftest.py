"""Shared fixtures. The corpus (../shared/corpus beside the repo, or $MIXANALYZER_CORPUS) is found
by one fixture; under CI=true a missing corpus fails instead of skipping."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

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


@pytest.fixture(scope="session")
def corpus_analyses(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every corpus music track analysed once in the whole run (``analyze_file(path,
    keep_series=True)``, :func:`tests.shared_once.once`), for the tests that check whole-track
    results against independent readings or aggregate them (reference readings, the album, the
    profile's statistics): 20 s of CPU once instead of in each."""
    from analyzer.measure.engine import analyze_file
    from tests.shared_once import once

    def analyse(_folder: Path) -> dict:
        return {p.name: analyze_file(p, keep_series=True)
                for p in sorted((corpus / "music").iterdir())}  # fmt: skip

    return once(tmp_path_factory, "corpus-analyses", analyse)


@dataclass(frozen=True)
class DemoRun:
    """What ``mixanalyzer demo --out demo`` printed and wrote, run in ``cwd``."""

    proc: subprocess.CompletedProcess
    cwd: Path

    @property
    def out(self) -> Path:
        return self.cwd / "demo"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo run once in the whole run (:func:`tests.shared_once.once`) for every test that
    reads what it wrote (10 s of CPU each time). Run as a user would, from its folder with a
    relative ``--out``, 80 columns, no user configuration; the tests only read the folder."""
    from tests.cli_runner import run_cli
    from tests.shared_once import once

    def demo(cwd: Path) -> DemoRun:
        env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
        env["COLUMNS"] = "80"
        env["MIXANALYZER_CONFIG_DIR"] = str(cwd / "config")
        env["MIXANALYZER_CACHE_DIR"] = str(cwd / "cache")
        proc = run_cli(["demo", "--out", "demo"], cwd=cwd, env=env, timeout=300)
        return DemoRun(proc, cwd)

    return once(tmp_path_factory, "demo", demo)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never read or write the real user's result cache (``batch`` uses it by default); the
    variable is inherited by CLI subprocesses."""
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True)
def _meters_not_opted_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts as a fresh command does: the meters' compiled kernels are used only
    after a use case opts in (``master``, the demo; analyzer.dsp.jit), not because a test that
    ran before in the same worker mastered something."""
    from analyzer.dsp import jit

    monkeypatch.setattr(jit, "_loader", None)


if os.environ.get("MIXANALYZER_TEST_CPU_LOG"):  # where the suite's CPU goes (issue 17's budget)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
        """Appends ``seconds<TAB>nodeid`` per test: this process's CPU and that of the children
        it waited for (CLI subprocesses, Chromium) and the commands forked by
        :mod:`tests.cli_runner`, fixtures' set-up and teardown included."""
        from tests import cli_runner

        before, forked = os.times(), cli_runner.forked_cpu_s
        yield
        after = os.times()
        cpu = sum(after[:4]) - sum(before[:4]) + cli_runner.forked_cpu_s - forked
        with open(os.environ["MIXANALYZER_TEST_CPU_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{cpu:.3f}\t{item.nodeid}\n")
