"""The recursive kernels of :mod:`analyzer.dsp.compiled`, the true-peak grid and the limiter's
gain computer built ahead of time (:mod:`analyzer.dsp.native_build`), loaded with ctypes: no
numba import, ~1 ms and well under 1 MB to load, and the GIL released for the length of each
call, so the meters' threads run side by side.

Each function takes what its namesake in :mod:`analyzer.dsp.compiled` (the gain computer:
:func:`analyzer.mastering.limiter_jit.envelope`) takes and gives the same bits
(tests/dsp/test_native.py, tests/mastering/test_limiter_kernel.py), but that the recursions flush
subnormal numbers to zero (values below ~1e-290 may differ; see native_build). The arguments
are checked before the call (dtype, layout, shapes, bounds, and that what it writes is
writable): the library writes through raw pointers, so a wrong argument must fail here, not
there.
:func:`load` returns None when the library was not built for the current sources (no C compiler
at install, another platform or CPU, an edited kernel not yet rebuilt) or when
``MIXANALYZER_NO_JIT`` asks for the numpy paths. Its ``truepeak_rows`` is None when the grid
could not be built for this CPU (the recursions still load).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from analyzer.dsp.oversample import HALF_TAPS

LIBRARY_DIR = Path(__file__).with_name("_native")
#: Exported name of each kernel in the library.
SYMBOLS = {
    "kweight_channel": "mx_kweight_channel",
    "kweight_stereo_energies": "mx_kweight_stereo_energies",
    "biquad_cascade": "mx_biquad_cascade",
    "truepeak_rows": "mx_truepeak_rows",
    "limiter_envelope": "mx_limiter_envelope",
}
_SOURCES = ("compiled.py", "native_build.py", "native.py", "truepeak_grid.c", "limiter_envelope.c")
#: The filter length the C grid is written for (``MX_TAPS`` in truepeak_grid.c), and the most
#: phases it takes (its phase index is an int8).
GRID_TAPS = 32
GRID_MAX_PHASES = 127

_lock = threading.Lock()
_loaded = False
_module: SimpleNamespace | None = None


def cpu_identity() -> str:
    """The CPU's instruction-set features as the kernel reports them (the ``flags`` line of
    /proc/cpuinfo), or "" where they cannot be read: the true-peak grid is compiled for the
    building CPU, so a library must not be loaded on a CPU with other features (and where they
    are unknown the grid is not built, see native_build)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return ""


def library_key(sources: tuple[bytes, ...]) -> str:
    """The library's key: a hash of the kernels' sources, the build recipe, the architecture,
    the CPU's features and the interpreter (the library calls a few of its C functions)."""
    digest = hashlib.sha256()
    for blob in sources:
        digest.update(hashlib.sha256(blob).digest())
    digest.update(f"{platform.machine()} {sys.implementation.cache_tag}".encode())
    digest.update(cpu_identity().encode())
    return digest.hexdigest()[:16]


def library_prefix() -> str:
    """The start of the library's file name on this architecture and interpreter: a rebuild
    replaces only the libraries with the same prefix (another venv's stay)."""
    return f"kernels-{platform.machine()}-{sys.implementation.cache_tag}-"


def library_path() -> Path:
    """Where the library for the current kernel sources lives (whether built or not); raises
    OSError when a source cannot be read."""
    here = Path(__file__)
    key = library_key(tuple(here.with_name(name).read_bytes() for name in _SOURCES))
    return LIBRARY_DIR / f"{library_prefix()}{key}.so"


def _check(name: str, arr: np.ndarray, shape: tuple[int, ...], *, written: bool = False) -> int:
    """The address of ``arr`` after checking what the library assumes of it: float64, C order,
    exactly ``shape``, and writable where the library writes (numba refuses the same calls)."""
    if arr.dtype != np.float64 or not arr.flags.c_contiguous or arr.shape != shape:
        raise ValueError(f"{name}: expected C-contiguous float64 {shape}, got {arr.dtype} "
                         f"{arr.shape}")  # fmt: skip
    if written and not arr.flags.writeable:
        raise ValueError(f"{name}: expected a writable array")
    return arr.ctypes.data


def _check_grid(
    x: np.ndarray, first: int, after: int, h: np.ndarray, row_max: np.ndarray, arg: np.ndarray
) -> tuple[int, int]:
    """The true-peak grid's arguments, as :func:`analyzer.dsp.compiled.truepeak_rows` takes
    them; returns ``(phases, rows)`` once every row's window and sample lie inside ``x``."""
    rows = row_max.shape[0] if row_max.ndim == 1 else -1
    _check("x", x, (x.shape[0] if x.ndim == 1 else -1,))
    _check("row_max", row_max, (rows,), written=True)
    if arg.dtype != np.int8 or not arg.flags.c_contiguous or arg.shape != (rows,):
        raise ValueError(f"arg: expected C-contiguous int8 ({rows},), got {arg.dtype} {arg.shape}")
    if not arg.flags.writeable:
        raise ValueError("arg: expected a writable array")
    if (h.dtype != np.float32 or not h.flags.c_contiguous or h.ndim != 2
            or h.shape[0] != GRID_TAPS or not 1 <= h.shape[1] <= GRID_MAX_PHASES):  # fmt: skip
        raise ValueError(f"h: expected C-contiguous float32 ({GRID_TAPS}, "
                         f"1..{GRID_MAX_PHASES}), got {h.dtype} {h.shape}")  # fmt: skip
    first, after = int(first), int(after)
    if min(first, after) < 0 or first + rows + GRID_TAPS - 1 > x.shape[0] or \
            after + rows > x.shape[0]:  # fmt: skip
        raise ValueError(f"truepeak_rows: {rows} rows from {first} (sample from {after}) "
                         f"overrun {x.shape[0]} samples")  # fmt: skip
    return h.shape[1], rows


def _bind_grid(lib: ctypes.CDLL) -> object:
    """The true-peak grid, or None when the library was built without it (a compiler that
    could not target this CPU) or the interpolation filter is no longer the length it is
    written for."""
    if 2 * HALF_TAPS != GRID_TAPS:
        return None
    try:
        grid = getattr(lib, SYMBOLS["truepeak_rows"])
    except AttributeError:
        return None
    p, i = ctypes.c_void_p, ctypes.c_int64
    grid.argtypes, grid.restype = [p, i, i, p, i, ctypes.c_double, i, p, p], i

    def truepeak_rows(
        x: np.ndarray, first: int, after: int, h: np.ndarray, over: float,
        row_max: np.ndarray, arg: np.ndarray,
    ) -> int:  # fmt: skip
        phases, rows = _check_grid(x, first, after, h, row_max, arg)
        if rows == 0:
            return 0
        return int(grid(x.ctypes.data, first, after, h.ctypes.data, phases, float(over), rows,
                        row_max.ctypes.data, arg.ctypes.data))  # fmt: skip

    return truepeak_rows


def _bind_envelope(lib: ctypes.CDLL) -> object:
    """The limiter's gain computer (as :func:`analyzer.mastering.limiter_jit.envelope`), or
    None when the library was built without it."""
    try:
        kernel = getattr(lib, SYMBOLS["limiter_envelope"])
    except AttributeError:
        return None
    p, i, d = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    kernel.argtypes = [p, i, p, i, p, i, p, p, i, p, i, p, i, p, i, d, d, d, p]
    kernel.restype = i

    def limiter_envelope(
        req: np.ndarray, hist: list[np.ndarray], prev: np.ndarray, attack: int, a_fast: float,
        a_slow: float, tiny: float,
    ) -> tuple[np.ndarray, list[np.ndarray]]:  # fmt: skip
        """``(gain reduction, new histories)`` of one chunk; ``hist`` is left as it was (the
        new histories are fresh arrays, as numba's kernel returns), ``prev`` is updated."""
        c = req.shape[0] if req.ndim == 1 else -1
        _check("req", req, (c,))
        if len(hist) != 6:
            raise ValueError(f"hist: expected 6 histories, got {len(hist)}")
        new = [np.array(h, dtype=np.float64, order="C", copy=True) for h in hist]
        for k, h in enumerate(new):
            if h.ndim != 1:
                raise ValueError(f"hist[{k}]: expected one dimension, got {h.shape}")
        if new[2].shape != new[3].shape or min(c, int(attack)) < 1:
            raise ValueError("limiter_envelope: average and occupancy histories differ, or "
                             "an empty chunk or attack")  # fmt: skip
        _check("prev", prev, (2,), written=True)
        gr = np.empty(c)
        sizes = [h.shape[0] for h in new]
        status = kernel(req.ctypes.data, c, new[0].ctypes.data, sizes[0], new[1].ctypes.data,
                        sizes[1], new[2].ctypes.data, new[3].ctypes.data, sizes[2],
                        new[4].ctypes.data, sizes[4], new[5].ctypes.data, sizes[5],
                        prev.ctypes.data, int(attack), float(a_fast), float(a_slow),
                        float(tiny), gr.ctypes.data)  # fmt: skip
        if status != 0:
            raise MemoryError("limiter_envelope: out of memory")
        return gr, new

    return limiter_envelope


def _bind(lib: ctypes.CDLL) -> SimpleNamespace:
    p, i = ctypes.c_void_p, ctypes.c_int64
    channel, stereo, cascade = (
        getattr(lib, SYMBOLS[k]) for k in ("kweight_channel", "kweight_stereo_energies",
                                           "biquad_cascade")
    )  # fmt: skip
    channel.argtypes, channel.restype = [p, i, p, p, p, p], None
    stereo.argtypes, stereo.restype = [p, i, p, p, p, p, p], None
    cascade.argtypes, cascade.restype = [p, i, i, p, i, p, p], None

    def kweight_channel(
        x: np.ndarray, b: np.ndarray, a: np.ndarray, state: np.ndarray, out: np.ndarray
    ) -> None:
        n = x.shape[0]
        channel(_check("x", x, (n,)), n, _check("b", b, (2, 3)), _check("a", a, (2, 3)),
                _check("state", state, (2, 2), written=True),
                _check("out", out, (n,), written=True))  # fmt: skip

    def kweight_stereo_energies(
        x: np.ndarray, b: np.ndarray, a: np.ndarray, state: np.ndarray, z: np.ndarray,
        fold: np.ndarray,
    ) -> None:  # fmt: skip
        n = x.shape[1]
        stereo(_check("x", x, (2, n)), n, _check("b", b, (2, 3)), _check("a", a, (2, 3)),
               _check("state", state, (2, 2, 2), written=True),
               _check("z", z, (n,), written=True),
               _check("fold", fold, (n,), written=True))  # fmt: skip

    def biquad_cascade(x: np.ndarray, sos: np.ndarray, z: np.ndarray, y: np.ndarray) -> None:
        ch, n = x.shape
        sections = sos.shape[0]
        cascade(_check("x", x, (ch, n)), ch, n, _check("sos", sos, (sections, 6)), sections,
                _check("z", z, (ch, sections, 2), written=True),
                _check("y", y, (ch, n), written=True))  # fmt: skip

    return SimpleNamespace(
        kweight_channel=kweight_channel,
        kweight_stereo_energies=kweight_stereo_energies,
        biquad_cascade=biquad_cascade,
        truepeak_rows=_bind_grid(lib),
        limiter_envelope=_bind_envelope(lib),
        path=None,
    )


def load() -> SimpleNamespace | None:
    """The kernels, or None (not built for these sources, unloadable, or disabled)."""
    global _loaded, _module
    if os.environ.get("MIXANALYZER_NO_JIT", "") not in ("", "0"):
        return None
    with _lock:
        if not _loaded:
            _loaded = True
            # No sources to hash (a bytecode-only install), another ABI, a damaged file: the
            # numpy paths run instead.
            try:
                path = library_path()
                if path.is_file():
                    _module = _bind(ctypes.CDLL(os.fspath(path)))
                    _module.path = path
            except (OSError, AttributeError):
                _module = None
    return _module


__all__ = [
    "GRID_MAX_PHASES",
    "GRID_TAPS",
    "LIBRARY_DIR",
    "SYMBOLS",
    "cpu_identity",
    "library_key",
    "library_path",
    "library_prefix",
    "load",
]
