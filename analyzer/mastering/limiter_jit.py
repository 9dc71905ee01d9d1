"""The compiled sequential pass of the limiter's gain computer (numba, ``cache=True``); see
:mod:`analyzer.mastering.limiter_kernel` for what it computes, its numpy reference and its
test. Imported only when a limiter runs and the library built at install lacks the same kernel
in C (``analyzer/dsp/limiter_envelope.c``): importing numba costs ~0.4 s."""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def run_max(a: np.ndarray, width: int, out: np.ndarray) -> None:
    """``out[i] = max(a[i : i + width])``: van Herk / Gil-Werman (prefix maxima and suffix
    maxima of blocks of ``width``; every window spans one suffix and one prefix)."""
    n = a.size
    g = np.empty(n)
    h = np.empty(n)
    for s in range(0, n, width):
        e = min(s + width, n)
        g[s] = a[s]
        for i in range(s + 1, e):
            g[i] = max(a[i], g[i - 1])
        h[e - 1] = a[e - 1]
        for i in range(e - 2, s - 1, -1):
            h[i] = max(a[i], h[i + 1])
    for i in range(n - width + 1):
        out[i] = max(h[i], g[i + width - 1])


@_jit
def run_box(joined: np.ndarray, width: int, scale: float, out: np.ndarray) -> None:
    """Sums of ``width`` consecutive values over ``scale`` from the cumulative sum in
    ``numpy.cumsum``'s order (so bit-identical to the reference), never below zero."""
    n = joined.size
    cs = np.empty(n + 1)
    cs[0] = 0.0
    acc = 0.0
    for i in range(n):
        acc += joined[i]
        cs[i + 1] = acc
    for i in range(n - width + 1):
        d = cs[i + width] - cs[i]
        out[i] = max(d, 0.0) / scale


@_jit
def run_decay(v: np.ndarray, prev: float, a: float, tiny: float, out: np.ndarray) -> None:
    """``out[j] = max(v[j], a * out[j-1])`` with ``out[-1] = prev``; a decay below ``tiny``
    ends at zero."""
    e = prev
    for j in range(v.size):
        e = a * e
        if e < tiny:
            e = 0.0
        e = max(v[j], e)
        out[j] = e


@_jit
def envelope(
    req: np.ndarray, req_h: np.ndarray, bridge_h: np.ndarray, avg_h: np.ndarray,
    occ_h: np.ndarray, env_h: np.ndarray, grd_h: np.ndarray, prev: np.ndarray, attack: int,
    a_f: float, a_s: float, tiny: float,
) -> tuple[np.ndarray, ...]:  # fmt: skip
    """One chunk: the gain reduction and the six new histories (``prev`` updated in place)."""
    c = req.size
    rj = np.concatenate((req_h, req))
    held = np.empty(c)
    run_max(rj, req_h.size + 1, held)
    bj = np.concatenate((bridge_h, held))
    bridged = np.empty(c)
    run_max(bj, bridge_h.size + 1, bridged)
    busy = np.empty(c)
    for j in range(c):
        busy[j] = 1.0 if bridged[j] > 0.0 else 0.0
    width = avg_h.size + 1
    aj = np.concatenate((avg_h, bridged))
    oj = np.concatenate((occ_h, busy))
    avg = np.empty(c)
    occ = np.empty(c)
    run_box(aj, width, float(width), avg)
    run_box(oj, width, float(width), occ)
    fast = np.empty(c)
    slow = np.empty(c)
    run_decay(held, prev[0], a_f, tiny, fast)
    run_decay(avg * occ, prev[1], a_s, tiny, slow)
    env = np.maximum(fast, slow)
    ej = np.concatenate((env_h, env))
    gr = np.empty(c)
    run_box(ej, env_h.size + 1, float(attack), gr)
    grj = np.concatenate((grd_h, gr))
    prev[0] = fast[c - 1]
    prev[1] = slow[c - 1]
    return (grj[:c].copy(), rj[c:].copy(), bj[c:].copy(), aj[c:].copy(), oj[c:].copy(),
            ej[c:].copy(), grj[c:].copy())  # fmt: skip
