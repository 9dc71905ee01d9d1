"""The limiter's gain computer (hold, program-dependent release, attack ramp) for one chunk, as
one compiled sequential pass (numba, ``cache=True``), and the numpy reference it must match.

The stages and their meaning are those of :mod:`analyzer.mastering.limiter` (steps 2-4). The
compiled pass does in one loop per stage what the numpy reference does with whole-block
operations:

- running maxima by van Herk / Gil-Werman (M. van Herk, "A fast algorithm for local minimum and
  maximum filters on rectangular and octagonal kernels", Pattern Recognition Letters 13, 1992):
  three comparisons per sample whatever the width; maxima are exact, so bit-identical;
- box sums from the same sequential cumulative sum as ``numpy.cumsum`` (bit-identical);
- the release recursions ``env[j] = max(v[j], a * env[j-1])`` evaluated as written (the numpy
  reference uses the closed form ``exp(max(ln v[i] + i / tau) - j / tau)``, which vectorises
  but costs a log and an exp per sample): the two differ by rounding only (relative ~1e-12
  over a chunk; ``tests/mastering/test_limiter_kernel.py`` holds them within 1e-9).

The same kernel written out in C is built at install into the library of
:mod:`analyzer.dsp.native` (``analyzer/dsp/limiter_envelope.c``, numba's bits): where it was
built, no limiter imports numba. Elsewhere numba is imported only when the first limiter runs,
so commands that do not master do not pay for its import; ``python -m
analyzer.mastering.limiter_kernel`` (run by the install step) compiles into numba's cache so no
user-facing run pays compilation. Without either (or with ``MIXANALYZER_NO_JIT=1``) the numpy
reference runs.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from analyzer.dsp import native

#: A release decay below this (nepers) ends at zero: exp(-1e-17) is exactly 1.0 in float64,
#: so the gain is unchanged, and an idle limiter's state returns to exact zeros (the chunks
#: that need no reduction are then skipped; decays otherwise end in slow denormal numbers).
EXACT_TINY = 1e-17

_compiled: Callable[..., Any] | None = None
_tried = False
_lock = threading.Lock()


# --------------------------------------------------------------------------- numpy reference


def sliding_max(a: np.ndarray, width: int) -> np.ndarray:
    """``out[i] = max(a[i : i + width])`` for ``i`` in ``0 .. len(a) - width`` (doubling)."""
    n = a.size - width + 1
    cur = a
    span = 1
    while 2 * span <= width:
        cur = np.maximum(cur[:-span], cur[span:])
        span *= 2
    if span == width:
        return cur[:n]
    return np.maximum(cur[:n], cur[width - span : width - span + n])


def box_sum(hist: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Sums of ``len(hist) + 1`` consecutive values ending at each value of ``new``."""
    joined = np.concatenate([hist, new])
    cs = np.concatenate([[0.0], np.cumsum(joined)])
    w = hist.size + 1
    out = cs[w:] - cs[:-w]
    np.maximum(out, 0.0, out=out)  # no rounding below zero
    return out


def decay(v: np.ndarray, prev: float, tau: float) -> np.ndarray:
    """``env[j] = max(v[j], exp(-1/tau) * env[j-1])`` with ``env[-1] = prev``, in closed form."""
    t = np.arange(v.size, dtype=np.float64) / tau
    with np.errstate(divide="ignore"):
        lv = np.log(v)
    env = np.exp(np.maximum.accumulate(lv + t) - t)
    if prev > 0.0:
        np.maximum(env, prev * np.exp(-(t + 1.0 / tau)), out=env)
    np.maximum(env, v, out=env)
    return env


def envelope_numpy(
    req: np.ndarray, hist: list[np.ndarray], prev: np.ndarray, params: tuple[int, float, float]
) -> np.ndarray:
    """The reference: gain reduction (nepers) of one chunk from the required reduction ``req``.
    ``hist`` = [req, bridge, avg, occupancy, env, gr delay] histories and ``prev`` = [fast,
    slow] are updated in place (the caller copies them first when it must not commit);
    ``params`` = (attack samples, fast tau, slow tau)."""
    attack, tau_fast, tau_slow = params
    c = req.size
    req_h, bridge_h, avg_h, occ_h, env_h, grd_h = hist
    width = avg_h.size + 1
    rj = np.concatenate([req_h, req])
    held = sliding_max(rj, req_h.size + 1)
    bj = np.concatenate([bridge_h, held])
    bridged = sliding_max(bj, bridge_h.size + 1)
    busy = (bridged > 0.0).astype(np.float64)
    avg = box_sum(avg_h, bridged) / width
    occupancy = box_sum(occ_h, busy) / width
    fast = decay(held, float(prev[0]), tau_fast)
    slow = decay(avg * occupancy, float(prev[1]), tau_slow)
    env = np.maximum(fast, slow)
    gr = box_sum(env_h, env) / attack
    grj = np.concatenate([grd_h, gr])
    hist[0] = rj[c:].copy()
    hist[1] = bj[c:].copy()
    if avg_h.size:
        hist[2] = np.concatenate([avg_h, bridged])[c:].copy()
        hist[3] = np.concatenate([occ_h, busy])[c:].copy()
    if env_h.size:
        hist[4] = np.concatenate([env_h, env])[c:].copy()
    hist[5] = grj[c:].copy()
    prev[0], prev[1] = float(fast[-1]), float(slow[-1])
    return grj[:c]


def compiled() -> Callable[..., Any] | None:
    """The compiled pass, or None (numba missing or ``MIXANALYZER_NO_JIT`` set); one import
    however many limiters ask at once (a limiter per meter thread)."""
    global _compiled, _tried
    with _lock:
        if not _tried:
            _tried = True
            if os.environ.get("MIXANALYZER_NO_JIT", "") in ("", "0"):
                try:
                    from analyzer.mastering import limiter_jit
                except ImportError:  # pragma: no cover - numba is a dependency
                    return None
                _compiled = limiter_jit.envelope
    return _compiled


def _built() -> Callable[..., Any] | None:
    """The gain computer from the library built ahead of time (:mod:`analyzer.dsp.native`:
    numba's kernel written in C, the same bits), or None where it was not built."""
    library = native.load()
    return None if library is None else library.limiter_envelope


def envelope(
    req: np.ndarray,
    hist: list[np.ndarray],
    prev: np.ndarray,
    params: tuple[int, float, float],
    tiny: float = EXACT_TINY,
) -> np.ndarray:
    """As :func:`envelope_numpy` (same arguments, same updates), compiled where the library
    was built (:func:`_built`) or numba is there;
    release decays below ``tiny`` (nepers) end at zero (larger values for loudness trials).
    A chunk that needs no reduction after a state of none (the common case: a master limits a
    few per cent of the time) is all zeros in every stage, so it is answered without running
    them (exact: every stage maps zeros to zeros)."""
    req = np.asarray(req, dtype=np.float64)  # replayed (float32) detection: one signature
    if not prev.any() and not req.any() and not any(h.any() for h in hist):
        return np.zeros(req.size)  # the histories stay all zeros
    attack, tau_fast, tau_slow = params
    built = _built()
    if built is not None:  # numba's kernel in C: no numba to load
        gr, hist[:] = built(req, hist, prev, attack, math.exp(-1.0 / tau_fast),
                            math.exp(-1.0 / tau_slow), tiny)  # fmt: skip
        return gr
    kernel = compiled()
    if kernel is None:
        return envelope_numpy(req, hist, prev, params)
    gr, *new = kernel(req, *hist, prev, attack, math.exp(-1.0 / tau_fast),
                      math.exp(-1.0 / tau_slow), tiny)  # fmt: skip
    hist[:] = new
    return gr


def warm_up() -> None:
    """Compile into numba's cache (the install step runs this) with a short limited signal."""
    from analyzer.mastering.limiter import limit

    t = np.arange(44100) / 44100.0
    limit(np.sin(2 * np.pi * 997.0 * t) * 2.0, 44100)


if __name__ == "__main__":
    warm_up()
