"""The limiter's compiled gain computer against its numpy reference (the vectorised closed
form it replaced): same output within 1e-9 on limited signals, the same statistics, silence
and unlimited passages exact."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import analyzer.mastering.limiter as limiter_module
from analyzer.mastering import limiter_kernel
from analyzer.mastering.limiter import CHUNK, TruePeakLimiter, limit


def _signal(fs: int, seconds: float, seed: int) -> np.ndarray:
    """Stereo noise whose level jumps every 50 ms (0.1x-3x): bursts of heavy limiting, then
    release tails and quiet passages where the limiter rests."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    hop = fs // 20
    level = np.repeat(rng.uniform(0.1, 3.0, n // hop + 1), hop)[:n]
    level[n // 3 : n // 2] = 0.05  # a passage that needs no reduction after a limited one
    return rng.standard_normal((2, n)) * 0.3 * level


def _with_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limiter_module, "envelope", limiter_kernel.envelope_numpy)


@pytest.mark.parametrize(("fs", "gain_db", "release_ms"), [(44100, 6.0, 100.0),
                                                           (48000, 20.0, 30.0),
                                                           (96000, 3.0, 250.0)])  # fmt: skip
def test_compiled_limiter_matches_the_numpy_reference(monkeypatch, fs, gain_db, release_ms):
    assert limiter_kernel.compiled() is not None  # numba is a dependency: the JIT runs
    x = _signal(fs, 1.5, seed=fs)
    y, stats = limit(x, fs, input_gain_db=gain_db, release_ms=release_ms)
    _with_reference(monkeypatch)
    y_ref, stats_ref = limit(x, fs, input_gain_db=gain_db, release_ms=release_ms)
    assert stats.max_gain_reduction_db > 3.0  # the test signal is limited
    assert np.max(np.abs(y - y_ref)) <= 1e-9
    assert stats.max_gain_reduction_db == pytest.approx(stats_ref.max_gain_reduction_db, abs=1e-9)
    assert stats.mean_gain_reduction_db == pytest.approx(stats_ref.mean_gain_reduction_db, abs=1e-9)
    assert stats.limited_fraction == stats_ref.limited_fraction


def test_envelope_chunks_match_and_keep_the_same_state():
    """Chunk by chunk, including the speculative (uncommitted) call the limiter makes."""
    lim = TruePeakLimiter(44100, 2, attack_ms=1.0)
    rng = np.random.default_rng(3)
    params = (lim.attack_samples, lim._tau_fast, lim._tau_slow)
    hist_a, prev_a = list(lim._hist), lim._prev.copy()
    hist_b, prev_b = list(lim._hist), lim._prev.copy()
    for k in range(6):
        req = np.maximum(rng.standard_normal(CHUNK) - (0.5 if k % 3 else 9.0), 0.0)
        gr_a = limiter_kernel.envelope(req, hist_a, prev_a, params)
        gr_b = limiter_kernel.envelope_numpy(req, hist_b, prev_b, params)
        np.testing.assert_allclose(gr_a, gr_b, rtol=0, atol=1e-9)
        for ha, hb in zip(hist_a, hist_b, strict=True):
            np.testing.assert_allclose(ha, hb, rtol=0, atol=1e-9)
        np.testing.assert_allclose(prev_a, prev_b, rtol=1e-9, atol=1e-300)


def test_silence_and_quiet_signals_are_exact(monkeypatch):
    """No reduction anywhere: output = input delayed, bit for bit, in both implementations."""
    fs = 44100
    x = _signal(fs, 0.5, seed=1) * 0.02
    y, stats = limit(x, fs)
    assert stats.max_gain_reduction_db == 0.0
    np.testing.assert_array_equal(y, x)
    _with_reference(monkeypatch)
    np.testing.assert_array_equal(limit(x, fs)[0], y)


_PROBE = """
import sys
import numpy as np
import analyzer.app.measuring, analyzer.mastering.chain
from analyzer.mastering.limiter import limit
print("numba" in sys.modules)
limit(np.full((2, 100), 3.0), 44100)  # needs reduction: the compiled pass runs
print("numba" in sys.modules)
"""


@pytest.mark.parametrize("built", [True, False])
def test_numba_is_imported_only_when_a_limiter_runs(built):
    """Commands that do not limit do not pay numba's import (~0.4 s); where the library built
    ahead of time has the gain computer (and the true-peak grid), a limiter does not either."""
    from analyzer.dsp import native

    library = native.load()
    if built and (library is None or library.limiter_envelope is None):
        if os.environ.get("CI") == "true":
            pytest.fail("the limiter's gain computer was not built")
        pytest.skip("the library was not built")
    env = {**os.environ, "MIXANALYZER_NO_JIT": "0"}
    if not built:  # the library refused (as where no compiler built it): numba's kernel runs
        probe = _PROBE.replace("import sys\n", "import sys\nimport analyzer.dsp.native as n; "
                               "n._loaded = True; n._module = None\n", 1)  # fmt: skip
    else:
        probe = _PROBE
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)  # fmt: skip
    assert run.stdout.split() == ["False", "False" if built else "True"]


def test_built_gain_computer_gives_numbas_bits():
    """The library's gain computer (numba's kernel written in C) gives numba's every value,
    history and release state, chunk after chunk, committed or speculative, at several rates,
    attacks and releases, with decays ending at zero below ``tiny``."""
    from analyzer.dsp import native
    from analyzer.mastering import limiter_jit

    library = native.load()
    if library is None or library.limiter_envelope is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the limiter's gain computer was not built")
        pytest.skip("the library was not built")
    rng = np.random.default_rng(11)
    for fs, attack_ms, release_ms, tiny in [(44100, None, 100.0, limiter_kernel.EXACT_TINY),
                                            (48000, 1.0, 30.0, 1e-6),
                                            (8000, None, 250.0, limiter_kernel.EXACT_TINY),
                                            (96000, 0.5, 5.0, 1e-3)]:  # fmt: skip
        lim = TruePeakLimiter(fs, 2, attack_ms=attack_ms, release_ms=release_ms)
        a_f, a_s = np.exp(-1.0 / lim._tau_fast), np.exp(-1.0 / lim._tau_slow)
        hist_c, prev_c = [h.copy() for h in lim._hist], lim._prev.copy()
        hist_n, prev_n = [h.copy() for h in lim._hist], lim._prev.copy()
        for k in range(8):
            size = CHUNK if k % 4 else int(rng.integers(1, 3000))
            req = np.maximum(rng.standard_normal(size) * 2.0 - (0.5 if k % 3 else 6.0), 0.0)
            req[rng.integers(0, size, size // 5)] = 0.0
            before = [h.copy() for h in hist_c]
            committed = bool(k % 2)  # a speculative call works on a copy of the release state
            pc, pn = (prev_c, prev_n) if committed else (prev_c.copy(), prev_n.copy())
            gr_c, new_c = library.limiter_envelope(req, hist_c, pc, lim.attack_samples, a_f,
                                                   a_s, tiny)  # fmt: skip
            gr_n, *new_n = limiter_jit.envelope(req, *hist_n, pn, lim.attack_samples, a_f, a_s,
                                                tiny)  # fmt: skip
            assert gr_c.any() or k % 3 == 0
            np.testing.assert_array_equal(gr_c, gr_n)
            for hc, hn in zip(new_c, new_n, strict=True):
                np.testing.assert_array_equal(hc, hn)
            np.testing.assert_array_equal(pc, pn)
            for old, same in zip(before, hist_c, strict=True):  # the old state is untouched
                np.testing.assert_array_equal(old, same)
            if committed:
                hist_c, hist_n = new_c, list(new_n)


@pytest.mark.parametrize("c", [1, 2, 7, 300])
@pytest.mark.parametrize("sizes", [(0, 0, 0, 0, 0, 0), (5, 0, 0, 0, 3, 0), (0, 3, 2, 2, 0, 4),
                                   (40, 10, 99, 99, 31, 5), (1, 1, 1, 1, 1, 1)])  # fmt: skip
@pytest.mark.parametrize("special", [None, np.nan, np.inf])
def test_built_gain_computer_edge_cases_give_numbas_bits(c, sizes, special):
    """Chunks of one frame, empty histories (an averaging window of one frame, no attack ramp
    history), and a NaN or infinity among the required reductions (a direct ``limit()`` call
    does not check its input as the file reader does): the library's values are numba's,
    NaN where numba's are NaN (``numpy.maximum`` passes NaN on; a plain comparison did not)."""
    from analyzer.dsp import native
    from analyzer.mastering import limiter_jit

    library = native.load()
    if library is None or library.limiter_envelope is None:
        pytest.skip("the library was not built")
    rng = np.random.default_rng(c * 31 + sum(sizes))
    hist = [np.abs(rng.standard_normal(n)) * (rng.random() < 0.7) for n in sizes]
    hist[3] = (hist[3] > 0.5).astype(float)
    req = np.maximum(rng.standard_normal(c), 0.0)
    if special is not None:
        req[min(1, c - 1)] = special
    prev_c, prev_n = np.abs(rng.standard_normal(2)), None
    prev_n = prev_c.copy()
    gr_c, new_c = library.limiter_envelope(req, hist, prev_c, 3, 0.9, 0.999, 1e-17)
    gr_n, *new_n = limiter_jit.envelope(req, *[h.copy() for h in hist], prev_n, 3, 0.9, 0.999,
                                        1e-17)  # fmt: skip
    assert np.array_equal(gr_c, gr_n, equal_nan=True)
    for got, want in zip(new_c, new_n, strict=True):
        assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(prev_c, prev_n, equal_nan=True)


def test_built_gain_computer_checks_its_arguments():
    """Wrong dtypes, shapes or counts are refused before the library reads or writes."""
    from analyzer.dsp import native

    library = native.load()
    if library is None or library.limiter_envelope is None:
        pytest.skip("the library was not built")
    hist = [np.zeros(n) for n in (40, 10, 99, 99, 31, 5)]
    good = (np.ones(64), hist, np.zeros(2), 32, 0.9, 0.99, 1e-17)
    assert library.limiter_envelope(*good)[0].shape == (64,)
    for bad in (
        (np.ones(64, np.float32), *good[1:]),
        (np.ones((2, 32)), *good[1:]),
        (good[0], hist[:5], *good[2:]),
        (good[0], [*hist[:2], np.zeros(98), *hist[3:]], *good[2:]),
        (good[0], hist, np.zeros(3), *good[3:]),
        (good[0], hist, np.frombuffer(bytes(16)), *good[3:]),
        (good[0], hist, np.zeros(2), 0, *good[4:]),
        (np.ones(0), *good[1:]),
    ):
        with pytest.raises(ValueError):
            library.limiter_envelope(*bad)
