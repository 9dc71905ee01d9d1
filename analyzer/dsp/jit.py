"""Loading the meters' compiled kernels (:mod:`analyzer.dsp.compiled`) once per process, for
the use cases that repay numba's load.

The kernels make K-weighting ~7x and the true-peak grid up to ~3x faster, but importing numba and
loading them costs ~0.5 s and ~130 MB of resident memory (llvmlite's code generator): more than
``analyze`` needs in all (its 60-minute limit is 150 MB). The recursions (K-weighting, the EQ's
biquads) and the true-peak grid are therefore also built ahead of time into a small library that
loads in a millisecond (:mod:`analyzer.dsp.native`); a caller that needs only those asks with
``native=True`` (the recursions) or ``native="truepeak_rows"`` and gets them in every process
where the library was built. Where it was not built (no C compiler), a meter uses the numba
kernels only in a process that opted in with :func:`start_loading`: ``master`` and the demo,
whose limiter loads numba in any case, ``watch``, which pays the load once for a session of
bounces, and ``compare`` when its files are long enough to repay it
(``analyzer.app.measuring.load_kernels_if_they_pay``); both of the latter skip it where the
library was built (:func:`recursions_built`). The choice is made when a meter gets its first
block, and kept. The loading runs in a background thread and overlaps the files' opening.
``MIXANALYZER_NO_JIT=1`` (or numba missing) keeps the numpy paths, which the tests hold to the
same results (tests/dsp/test_compiled.py, tests/dsp/test_native.py).
"""

from __future__ import annotations

import os
import threading
from types import ModuleType, SimpleNamespace

from analyzer.dsp import native as native_library

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


def recursions_built() -> bool:
    """Whether the recursions come from the library built ahead of time (then numba's load
    adds nothing the meters need: the library's true-peak grid, where built, is ~3x numba's
    kernel, and numba's kernel is no faster than the numpy product in ``analyze``'s meter:
    6.5 against 5.6 ms a 262,144-frame stereo block on the Xeon)."""
    return native_library.load() is not None


def meters_built() -> bool:
    """Whether every meter's kernel (the recursions and the true-peak grid) comes from the
    library built ahead of time: then a use case's analyses need no numba at all."""
    built = native_library.load()
    return built is not None and built.truepeak_rows is not None


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


def kernels(*, native: bool | str = False) -> ModuleType | SimpleNamespace | None:
    """The compiled kernels' module when this process opted in (waiting for the load begun by
    :func:`start_loading`); None otherwise, when disabled, or when numba is missing.

    ``native``: the caller needs only kernels that :mod:`analyzer.dsp.native` builds ahead of
    time (True: the recursions; a name: that kernel, which a build may lack); where that library
    has them they come from it in every process, with no opting in and no wait (the same bits
    as numba's)."""
    if native:
        built = native_library.load()
        if built is not None and (native is True or getattr(built, native, None) is not None):
            return built
    loader = _loader
    if loader is None or not enabled():
        return None
    loader.join()
    return _module


class Choice:
    """A meter's kernels, asked for once and kept: the choice is made at the meter's first
    block (so the load overlaps the file's opening), and each path has its own state."""

    __slots__ = ("_asked", "_module", "_native")

    def __init__(self, *, native: bool | str = False) -> None:
        self._asked = False
        self._native = native
        self._module: ModuleType | SimpleNamespace | None = None

    def __call__(self) -> ModuleType | SimpleNamespace | None:
        if not self._asked:
            self._module, self._asked = kernels(native=self._native), True
        return self._module
