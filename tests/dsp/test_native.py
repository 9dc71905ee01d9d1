"""The kernels built ahead of time (analyzer.dsp.native) give numba's bits, check their
arguments before writing through raw pointers, and are never run from a stale build.

The install step (``make demo`` / ``make test``) builds the library; under ``CI=true`` a missing
library is a failure, elsewhere its tests skip (a machine with no C compiler runs the numpy
and numba paths, which tests/dsp/test_compiled.py holds to the same results).
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dsp import compiled, jit, native
from analyzer.dsp.kweighting import KWeightingFilter, kweighting_coefficients


@pytest.fixture(scope="module")
def lib() -> SimpleNamespace:
    built = native.load()
    if built is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the kernels were not built: {native.library_path()} is missing")
        pytest.skip("the kernels were not built (python -m analyzer.dsp.native_build)")
    return built


def _signal(seed: int, channels: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal((channels, n)), axis=1)
    x /= np.max(np.abs(x), initial=0.0) + 1e-300
    return x + 0.3 * rng.standard_normal((channels, n))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 5000),
       fs=st.sampled_from([8000, 44100, 48000, 96000, 192000]))  # fmt: skip
def test_kweighting_gives_numbas_bits(lib: SimpleNamespace, seed: int, n: int, fs: int) -> None:
    b, a = kweighting_coefficients(fs)
    x = _signal(seed, 2, n)
    start = np.random.default_rng(seed).standard_normal((2, 2, 2)) * 0.1
    got, want = [], []
    for kernels, out in ((lib, got), (compiled, want)):
        state, z, fold = start.copy(), np.empty(n), np.empty(n)
        kernels.kweight_stereo_energies(x, b, a, state, z, fold)
        y, one = np.empty(n), start[1].copy()
        kernels.kweight_channel(np.ascontiguousarray(x[1]), b, a, one, y)
        out.extend([z, fold, state, y, one])
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), channels=st.integers(1, 3),
       sections=st.integers(1, 6), n=st.integers(0, 3000))  # fmt: skip
def test_biquad_cascade_gives_numbas_bits(
    lib: SimpleNamespace, seed: int, channels: int, sections: int, n: int
) -> None:
    rng = np.random.default_rng(seed)
    poles = rng.uniform(0.2, 0.99, sections) * np.exp(1j * rng.uniform(0.0, np.pi, sections))
    sos = np.column_stack([rng.standard_normal((sections, 3)), np.ones(sections),
                           -2.0 * poles.real, np.abs(poles) ** 2])  # fmt: skip
    x = _signal(seed, channels, n)
    start = rng.standard_normal((channels, sections, 2)) * 0.1
    results = []
    for kernels in (lib, compiled):
        z, y = start.copy(), np.empty_like(x)
        kernels.biquad_cascade(x, np.ascontiguousarray(sos), z, y)
        results.append((y, z))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_arguments_are_checked_before_the_call(lib: SimpleNamespace) -> None:
    """A wrong shape, dtype or layout, or a read-only output, is refused in Python: the library
    would write past the end of the array, or into memory that must not change."""
    b, a = kweighting_coefficients(48000)
    x, state, out = np.zeros((2, 64)), np.zeros((2, 2, 2)), np.empty(64)
    bad = [
        lambda: lib.kweight_channel(x[0], b, a, np.zeros((2, 2)), np.empty(63)),
        lambda: lib.kweight_channel(x[0], b, a, np.zeros(4), np.empty(64)),
        lambda: lib.kweight_channel(x[0].astype(np.float32), b, a, state[0], out),
        lambda: lib.kweight_stereo_energies(np.zeros((3, 64)), b, a, state, out, out.copy()),
        lambda: lib.kweight_stereo_energies(np.zeros((64, 2)).T, b, a, state, out, out.copy()),
        lambda: lib.biquad_cascade(x, np.zeros((1, 6)), np.zeros((2, 2, 2)), np.empty((2, 64))),
        lambda: lib.biquad_cascade(x, np.zeros((1, 5)), np.zeros((2, 1, 2)), np.empty((2, 64))),
    ]
    for call in bad:
        with pytest.raises(ValueError, match="expected C-contiguous float64"):
            call()
    frozen = np.frombuffer(bytes(8 * 64))  # read-only memory: numba refuses it as output too
    locked = np.zeros((2, 2))
    locked.flags.writeable = False
    for call in (
        lambda: lib.kweight_channel(x[0], b, a, np.zeros((2, 2)), frozen),
        lambda: lib.kweight_channel(x[0], b, a, locked, out),
        lambda: lib.kweight_stereo_energies(x, b, a, state, frozen, out),
        lambda: lib.biquad_cascade(x, np.zeros((1, 6)), np.zeros((2, 1, 2)),
                                   np.frombuffer(bytes(8 * 128)).reshape(2, 64)),
    ):  # fmt: skip
        with pytest.raises(ValueError, match="writable"):
            call()
    assert not frozen.any() and not locked.any()


def test_a_library_of_other_sources_is_never_loaded() -> None:
    """The library's name carries a hash of the kernels' sources and the build recipe: one byte
    changed in either names another file, which the loader does not find until rebuilt."""
    sources = (b"def kernel(): pass\n", b"recipe\n")
    key = native.library_key(sources)
    assert key == native.library_key(sources)
    assert native.library_key((b"def kernel(): pass \n", b"recipe\n")) != key
    assert native.library_key((b"def kernel(): pass\n", b"recipe 2\n")) != key
    path = native.library_path()
    assert path.parent == native.LIBRARY_DIR and path.name.startswith(native.library_prefix())


def test_unreadable_sources_mean_no_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """A package without its kernel sources (a bytecode-only install) runs the numpy paths: the
    loader answers None, every time, instead of raising into a meter."""
    monkeypatch.setattr(native, "_SOURCES", ("no-such-kernel-source.py",))
    monkeypatch.setattr(native, "_loaded", False)
    monkeypatch.setattr(native, "_module", None)
    assert native.load() is None
    assert native.load() is None


def test_used_by_k_weighting_without_opting_in(
    lib: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``analyze`` gets the compiled K-weighting with no numba load (jit's loader never
    started), and the filter's output is the numba recursion's; MIXANALYZER_NO_JIT=1 turns it
    off."""
    monkeypatch.setattr(jit, "_loader", None)
    assert jit.kernels(native=True) is lib
    assert jit.kernels() is None  # the true-peak grid still waits for an opt-in
    x = _signal(7, 2, 20000)
    y = KWeightingFilter(44100, 2).process(x)
    want = np.empty_like(x)
    b, a = kweighting_coefficients(44100)
    for c in range(2):
        compiled.kweight_channel(np.ascontiguousarray(x[c]), b, a, np.zeros((2, 2)), want[c])
    assert np.array_equal(y, want)
    monkeypatch.setenv("MIXANALYZER_NO_JIT", "1")
    assert jit.kernels(native=True) is None
