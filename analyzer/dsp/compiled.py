"""Compiled sequential kernels of the meters (numba, ``cache=True``): the K-weighting recursion,
the true-peak grid, and the mastering EQ's biquad cascade (used where the kernels are loaded).
Imported only through :mod:`analyzer.dsp.jit`, which loads them once per process and falls back
to the numpy paths they are tested against (tests/dsp/test_compiled.py).

The kernels keep IEEE arithmetic (no ``fastmath``: no reassociation, no fused multiply-add), so
they give the same bits on every x86 CPU whatever its vector width.
"""

from __future__ import annotations

import numba
import numpy as np

_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}
# Explicit signatures: the kernels load from the cache when this module is imported, and a call
# with other types fails at once instead of compiling in a user's run.
_F64 = numba.float64[::1]
_F64_2D = numba.float64[:, ::1]

#: Rows of the true-peak grid computed together: the phases' accumulators of one tile stay in
#: the first-level cache while every tap is added.
TILE = 512


@numba.njit(inline="always")
def _kstep(
    u: float, c: tuple[float, ...], s0: float, s1: float, s2: float, s3: float
) -> tuple[float, float, float, float, float]:
    """One sample through both stages (transposed direct form II): the output and the four
    new delays. ``c`` is ``(b00, b01, b02, a01, a02, b10, b11, b12, a11, a12)``."""
    y = c[0] * u + s0
    s0 = c[1] * u - c[3] * y + s1
    s1 = c[2] * u - c[4] * y
    w = c[5] * y + s2
    s2 = c[6] * y - c[8] * w + s3
    s3 = c[7] * y - c[9] * w
    return w, s0, s1, s2, s3


@numba.njit(inline="always")
def _coefficients(b: np.ndarray, a: np.ndarray) -> tuple[float, ...]:
    return (b[0, 0], b[0, 1], b[0, 2], a[0, 1], a[0, 2], b[1, 0], b[1, 1], b[1, 2], a[1, 1],
            a[1, 2])  # fmt: skip


@numba.njit(numba.void(_F64, _F64_2D, _F64_2D, _F64_2D, _F64), **_OPTIONS)
def kweight_channel(
    x: np.ndarray, b: np.ndarray, a: np.ndarray, state: np.ndarray, out: np.ndarray
) -> None:
    """K-weight one channel: two biquads in transposed direct form II (BS.1770-4 Annex 1's
    pre-filter and RLB high-pass, coefficients ``b``/``a`` shaped ``(2, 3)``) from ``state``
    (``(2, 2)``, updated in place) into ``out``."""
    c = _coefficients(b, a)
    s0, s1, s2, s3 = state[0, 0], state[0, 1], state[1, 0], state[1, 1]
    for i in range(x.size):
        out[i], s0, s1, s2, s3 = _kstep(x[i], c, s0, s1, s2, s3)
    state[0, 0], state[0, 1], state[1, 0], state[1, 1] = s0, s1, s2, s3


@numba.njit(numba.void(_F64_2D, _F64_2D, _F64_2D, numba.float64[:, :, ::1], _F64, _F64), **_OPTIONS)
def kweight_stereo_energies(
    x: np.ndarray, b: np.ndarray, a: np.ndarray, state: np.ndarray, z: np.ndarray,
    fold: np.ndarray,
) -> None:  # fmt: skip
    """Both channels of a stereo block ``x`` (``(2, n)``) K-weighted as :func:`kweight_channel`
    (``state`` ``(2, 2, 2)``: channel, stage, delay), and per sample the stereo energy
    ``z = yL^2 + yR^2`` and the mono fold-down's ``fold = (yL + yR)^2 / 2``. The two channels'
    recursions are independent, so interleaving them hides each one's latency."""
    c = _coefficients(b, a)
    l0, l1, l2, l3 = state[0, 0, 0], state[0, 0, 1], state[0, 1, 0], state[0, 1, 1]
    r0, r1, r2, r3 = state[1, 0, 0], state[1, 0, 1], state[1, 1, 0], state[1, 1, 1]
    for i in range(x.shape[1]):
        wl, l0, l1, l2, l3 = _kstep(x[0, i], c, l0, l1, l2, l3)
        wr, r0, r1, r2, r3 = _kstep(x[1, i], c, r0, r1, r2, r3)
        z[i] = wl * wl + wr * wr
        both = wl + wr
        fold[i] = 0.5 * both * both
    state[0, 0, 0], state[0, 0, 1], state[0, 1, 0], state[0, 1, 1] = l0, l1, l2, l3
    state[1, 0, 0], state[1, 0, 1], state[1, 1, 0], state[1, 1, 1] = r0, r1, r2, r3


@numba.njit(
    numba.int64(
        _F64, numba.int64, numba.int64, numba.float32[:, ::1], numba.float64, _F64,
        numba.int8[::1],
    ),
    **_OPTIONS,
)  # fmt: skip
def truepeak_rows(
    x: np.ndarray, first: int, after: int, h: np.ndarray, over: float, row_max: np.ndarray,
    arg: np.ndarray,
) -> int:  # fmt: skip
    """The true-peak grid of ``row_max.size`` rows: row ``r`` interpolates the window
    ``x[first + r : first + r + taps]`` (rounded to float32, exact for 16- and 24-bit samples)
    with the ``phases`` columns of ``h`` (``(taps, phases)`` float32,
    :func:`analyzer.dsp.oversample.interpolation_matrix`), each a float32 sum over the taps in
    order. ``row_max[r]`` is the largest of ``|x[after + r]|`` (the sample the row follows) and
    the phases' absolute values; ``arg[r]`` is 0 when the sample is that largest (ties to the
    sample), else 1 + the first largest phase. Returns how many rows have a phase above
    ``over`` (the inter-sample overs)."""
    taps, phases = h.shape
    rows = row_max.size
    acc = np.empty((phases, TILE), dtype=np.float32)
    xb = np.empty(TILE + taps - 1, dtype=np.float32)
    overs = 0
    for t0 in range(0, rows, TILE):
        m = min(TILE, rows - t0)
        for i in range(m + taps - 1):
            xb[i] = np.float32(x[first + t0 + i])
        for p in range(phases):
            a = acc[p, :m]  # one-dimensional views: numba vectorizes these loops
            a[:] = np.float32(0.0)
            for k in range(taps):
                hk = h[k, p]
                xs = xb[k : k + m]
                for r in range(m):
                    a[r] += hk * xs[r]
        s = x[after + t0 : after + t0 + m]
        rm = row_max[t0 : t0 + m]
        ag = arg[t0 : t0 + m]
        for r in range(m):
            best = abs(acc[0, r])
            col = 0
            for p in range(1, phases):
                v = abs(acc[p, r])
                if v > best:
                    best = v
                    col = p
            if best > over:
                overs += 1
            sample = abs(s[r])
            if sample >= best:
                rm[r] = sample
                ag[r] = 0
            else:
                rm[r] = best
                ag[r] = col + 1
    return overs


@numba.njit(numba.void(_F64_2D, _F64_2D, numba.float64[:, :, ::1], _F64_2D), **_OPTIONS)
def biquad_cascade(x: np.ndarray, sos: np.ndarray, z: np.ndarray, y: np.ndarray) -> None:
    """``y`` = ``x`` ``(channels, frames)`` through the second-order sections ``sos``
    ``(sections, 6)`` (scipy's layout, ``a0 == 1``) in transposed direct form II, the delays
    ``z`` ``(channels, sections, 2)`` carried in and out: the recursion of
    ``scipy.signal.sosfilt``, in its order of operations. The channels run side by side in the
    inner loop: their recursions are independent, so the CPU overlaps them."""
    channels, n = x.shape
    sections = sos.shape[0]
    for i in range(n):
        for c in range(channels):
            u = x[c, i]
            for k in range(sections):
                v = sos[k, 0] * u + z[c, k, 0]
                z[c, k, 0] = sos[k, 1] * u - sos[k, 4] * v + z[c, k, 1]
                z[c, k, 1] = sos[k, 2] * u - sos[k, 5] * v
                u = v
            y[c, i] = u


def warm_up() -> None:
    """Compile every kernel into numba's cache (the install step runs this)."""
    from analyzer.dsp.kweighting import kweighting_coefficients
    from analyzer.dsp.oversample import interpolation_matrix

    b, a = kweighting_coefficients(48000)
    x = np.random.default_rng(0).standard_normal((2, 4096))
    out = np.empty(4096)
    kweight_channel(x[0], b, a, np.zeros((2, 2)), out)
    kweight_stereo_energies(x, b, a, np.zeros((2, 2, 2)), out, np.empty(4096))
    h = interpolation_matrix(4).astype(np.float32)
    rows = x.shape[1] - h.shape[0] + 1
    truepeak_rows(x[0], 0, 15, h, 1.0, np.empty(rows), np.empty(rows, np.int8))
    sos = np.array([[1.0, -1.9, 0.95, 1.0, -1.8, 0.85]])
    biquad_cascade(x, sos, np.zeros((2, 1, 2)), np.empty_like(x))


if __name__ == "__main__":
    warm_up()
