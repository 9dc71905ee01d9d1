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
    """The demo run once for every test that reads what it wrote (10 s of CPU each time): the
    tests that use it are in the xdist group ``demo`` (``make test`` runs ``--dist loadgroup``),
    so one worker runs it once. Run as a user would, from its folder with a relative ``--out``,
    80 columns, no user configuration; the tests only read the folder."""
    cwd = tmp_path_factory.mktemp("demo-run")
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    env["COLUMNS"] = "80"
    env["MIXANALYZER_CONFIG_DIR"] = str(cwd / "config")
    env["MIXANALYZER_CACHE_DIR"] = str(cwd / "cache")
    from tests.cli_runner import run_cli

    proc = run_cli(["demo", "--out", "demo"], cwd=cwd, env=env, timeout=300)
    return DemoRun(proc, cwd)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never read or write the real user's result cache (``batch`` uses it by default); the
    variable is inherited by CLI subprocesses."""
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


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
