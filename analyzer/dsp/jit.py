"""Loading the meters' compiled kernels (:mod:`analyzer.dsp.compiled`) once per process, for
the use cases that repay numba's load.

The kernels make K-weighting ~10x and the true-peak grid ~3x faster, but importing numba and
loading them costs ~0.7 s and ~130 MB of resident memory (llvmlite's code generator): more than
``analyze`` needs in all (its 60-minute limit is 150 MB). So a meter uses them only in a process
that opted in with :func:`start_loading`: ``master`` and the demo, whose limiter loads numba in
any case, ``watch``, which pays the load once for a session of bounces, and ``compare`` when
its files are long enough to repay it (``analyzer.app.measuring.load_kernels_if_they_pay``).
The choice is made when a meter gets its first block, and kept. The loading runs in a
background thread and overlaps the files' opening. ``MIXANALYZER_NO_JIT=1`` (or numba
missing) keeps the numpy paths, which the tests hold to the same results
(tests/dsp/test_compiled.py).
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

_lock = threading.Lock()
_loader: threading.Thread | None = None
_module: ModuleType | None = None


def enabled() -> bool:
    """Whether the compiled kernels may be used (``MIXANALYZER_NO_JIT`` unset or 0)."""
    return os.environ.get("MIXANALYZER_NO_JIT", "") in ("", "0")


def _load() -> None:
    global _module
    try:
        from analyzer.dsp import compiled
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    _module = compiled


def start_loading() -> None:
    """Opt this process in: begin loading the kernels in the background (once; a no-op when they
    are disabled)."""
    global _loader
    if not enabled():
        return
    with _lock:
        if _loader is None:
            _loader = threading.Thread(target=_load, name="jit-load", daemon=True)
            _loader.start()


def kernels() -> ModuleType | None:
    """The compiled kernels' module when this process opted in (waiting for the load begun by
    :func:`start_loading`); None otherwise, when disabled, or when numba is missing."""
    loader = _loader
    if loader is None or not enabled():
        return None
    loader.join()
    return _module


class Choice:
    """A meter's kernels, asked for once and kept: the choice is made at the meter's first
    block (so the load overlaps the file's opening), and each path has its own state."""

    __slots__ = ("_asked", "_module")

    def __init__(self) -> None:
        self._asked = False
        self._module: ModuleType | None = None

    def __call__(self) -> ModuleType | None:
        if not self._asked:
            self._module, self._asked = kernels(), True
        return self._module
