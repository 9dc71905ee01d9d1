"""The two conditions every benchmark runs in (issue 17): the machine idle, and one core kept
busy by a ``yes > /dev/null`` process started and stopped here; and numpy's SIMD line
(``numpy.show_runtime()``), printed beside the figures because the block kernels' speed
depends on it; and the command line of another source tree's CLI, for a before/after
measured in the same run (``--before``)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

IDLE = "idle"
BUSY = "one core busy"
CONDITIONS = (IDLE, BUSY)


@contextlib.contextmanager
def one_core_busy(on: bool) -> Iterator[None]:
    """``yes > /dev/null`` for the duration (started and stopped here, by its process id)."""
    if not on:
        yield
        return
    load = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        yield
    finally:
        load.terminate()
        load.wait()


def conditions(idle_only: bool) -> tuple[str, ...]:
    return (IDLE,) if idle_only else CONDITIONS


def simd_line() -> str:
    """numpy's SIMD extensions (``numpy.show_runtime()``): the block kernels' speed hangs on it."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        np.show_runtime()
    text = " ".join(buf.getvalue().split())
    start = text.find("'simd_extensions'")
    return text[start : text.find("}}", start) + 2] if start >= 0 else "(not reported)"


def before_command(python: str, tree: Path) -> list[str]:
    """The command line of the ``--before`` tree's CLI. Not ``PYTHONPATH=DIR python -m
    analyzer``: ``-m`` (and ``-c``) put the working directory first on ``sys.path``, so run from
    this repository that imported this tree, and "before" timed the same code as "after" (found
    on 2026-12-04; the before/after tables made that way compared a build with itself). The
    tree goes first explicitly, and :func:`check_before` proves which one is imported."""
    code = f"{_tree_first(tree)} sys.argv[0] = 'mixanalyzer'; from analyzer.cli import main; main()"
    return [python, "-c", code]


def _tree_first(tree: Path) -> str:
    """Python statements that put ``tree`` first on ``sys.path``."""
    return f"import sys; sys.path.insert(0, {str(tree.resolve())!r});"


def check_before(python: str, tree: Path) -> None:
    """Stop unless the ``--before`` command imports the package from ``tree``."""
    tree = tree.resolve()
    probe = f"{_tree_first(tree)} import analyzer; print(analyzer.__file__)"
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True)
    if not Path(found.stdout.strip()).resolve().is_relative_to(tree):
        sys.exit(f"benchmarks: --before {tree} imports {found.stdout.strip()}, not that tree")
