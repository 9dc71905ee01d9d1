"""The package as a user installs it: build the wheel, install it into a fresh virtual
environment, and run the CLI from a folder outside the repository. The shipped genre profiles
must be found inside the installed package (not in the repository), and nothing is downloaded:
the wheel is built with this environment's setuptools, and the new environment reuses this
environment's installed packages through a ``.pth`` file holding a plain path line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("acoustic-band", "ambient", "electronic", "orchestral")


def _run(args: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _build_wheel(tmp: Path) -> Path:
    """``pip wheel --no-deps .`` on a copy of the sources (the build writes ``build/`` and an
    egg-info into its source tree, which must not be the working tree tests run in)."""
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "analyzer", src / "analyzer", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    out = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    done = subprocess.run(
        [*cmd, "--no-index", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("mixanalyzer-*.whl")
    return wheel


def _fresh_venv(tmp: Path) -> Path:
    """A venv without pip whose site-packages also reads this environment's (a plain path line
    in a ``.pth`` file: the ``.pth`` files there, such as the editable install's finder for
    the repository's ``analyzer``, are not processed)."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_mixanalyzer_test_env.pth").write_text("\n".join(sorted(ours)) + "\n")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    python = _fresh_venv(tmp)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    outside = tmp / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(MIXANALYZER_CONFIG_DIR=str(tmp / "config"), MIXANALYZER_CACHE_DIR=str(tmp / "c"))
    return python, outside, env


def test_the_installed_package_is_imported(installed) -> None:
    python, outside, env = installed
    done = _run([python, "-c", "import analyzer; print(analyzer.__file__)"], outside, env)
    assert done.returncode == 0, done.stderr
    imported = Path(done.stdout.strip()).resolve()
    assert imported.is_relative_to(python.parent.parent.resolve()), imported
    assert not imported.is_relative_to(REPO), imported


def test_reference_list_finds_the_shipped_profiles(installed) -> None:
    python, outside, env = installed
    done = _run([python.parent / "mixanalyzer", "reference", "list"], outside, env)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in SHIPPED:
        assert name in done.stdout, done.stdout
    assert "unusable" not in done.stdout + done.stderr


def test_compare_with_a_shipped_profile(installed) -> None:
    python, outside, env = installed
    fs = 44100
    t = np.arange(3 * fs) / fs
    noise = np.random.default_rng(0).standard_normal(t.size)
    x = 0.2 * np.sin(2 * np.pi * 440.0 * t) + 0.05 * noise
    sf.write(outside / "mix.wav", np.stack([x, x]).T, fs, subtype="PCM_24")
    done = _run(
        [python.parent / "mixanalyzer", "compare", "mix.wav", "--profile", "electronic",
         "--html", "page.html"],
        outside, env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Mix vs references" in done.stdout
    # The page inlines plotly.js from the installed package's data (no plotly Python package).
    vendored = (REPO / "analyzer" / "report" / "vendor" / "plotly-basic.min.js").read_text()
    assert (outside / "page.html").read_text(encoding="utf-8").count(vendored) == 1
