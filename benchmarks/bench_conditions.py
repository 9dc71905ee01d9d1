"""The two conditions every benchmark runs in (issue 17): the machine idle, and one core kept
busy by a ``yes > /dev/null`` process started and stopped here; and numpy's SIMD line
(``numpy.show_runtime()``), printed beside the figures because the block kernels' speed
depends on it."""

from __future__ import annotations

import contextlib
import io
import subprocess
from collections.abc import Iterator

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
