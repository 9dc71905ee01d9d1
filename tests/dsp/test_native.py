"""The kernels built ahead of time (analyzer.dsp.native) give numba's bits, check their
arguments before writing through raw pointers, and are never run from a stale build.

The install step (``make demo`` / ``make test``) builds the library; under ``CI=true`` a missing
library is a failure, elsewhere its tests skip (a machine with no C compiler runs the numpy
and numba paths, which tests/dsp/test_compiled.py holds to the same results).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dsp import compiled, jit, native
from analyzer.dsp.kweighting import KWeightingFilter, kweighting_coefficients
from analyzer.dsp.oversample import interpolation_matrix
from analyzer.measure.truepeak import TruePeakMeter


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


@pytest.fixture(scope="module")
def grid(lib: SimpleNamespace) -> object:
    if lib.truepeak_rows is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the true-peak grid was not built for this CPU")
        pytest.skip("the true-peak grid was not built (a compiler without -march=native)")
    return lib.truepeak_rows


def _grid_case(seed: int, rows: int, scale: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = _signal(seed, 1, rows + 60)[0] * scale
    # Runs of equal samples and exact zeros: ties between the sample and the phases, and
    # between phases, must fall the same way as in numba's kernel.
    x[rng.integers(0, x.size, size=x.size // 7)] = scale
    x[rng.integers(0, x.size, size=x.size // 9)] = 0.0
    return x


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 5000),
       factor=st.sampled_from([2, 3, 4, 5, 6, 8, 16, 23, 92, 128]),
       first=st.integers(0, 20),
       scale=st.sampled_from([1e-30, 0.5, 1.0, 1.3]))  # fmt: skip
def test_truepeak_grid_gives_numbas_bits(
    grid: object, seed: int, rows: int, factor: int, first: int, scale: float
) -> None:
    """The C grid (compiled for this CPU) gives numba's kernel's every value, phase and over
    count, at every oversampling factor the meters and the limiter use (1 to 22 phases for the
    meters, 8 kHz needing 23x; 15 to 91 for the limiter's 4x finer detection) and at its
    largest, 127 phases:
    the same float32 sums in the same order, no fused multiply-add."""
    h = np.ascontiguousarray(interpolation_matrix(factor).astype(np.float32))
    x = _grid_case(seed, rows, scale)
    after = first + 15
    got = (np.empty(rows), np.full(rows, -1, np.int8))
    want = (np.empty(rows), np.full(rows, -1, np.int8))
    overs_got = grid(x, first, after, h, 1.0, *got)  # type: ignore[operator]
    overs_want = compiled.truepeak_rows(x, first, after, h, 1.0, *want)
    assert overs_got == overs_want
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_truepeak_grid_arguments_are_checked(grid: object) -> None:
    """Rows whose window or sample would lie past ``x``, a filter of another length, and wrong
    dtypes or read-only outputs are refused before the library reads or writes anything."""
    h = np.ascontiguousarray(interpolation_matrix(4).astype(np.float32))
    x, rows = np.zeros(200), 100
    row_max, arg = np.empty(rows), np.empty(rows, np.int8)
    call = grid  # type: ignore[assignment]
    for bad in (
        lambda: call(x, 70, 10, h, 1.0, row_max, arg),  # 70 + 100 + 31 > 200
        lambda: call(x, 0, 101, h, 1.0, row_max, arg),  # the last row's sample is x[200]
        lambda: call(x, -1, 10, h, 1.0, row_max, arg),
        lambda: call(x, 0, 10, h[:16].copy(), 1.0, row_max, arg),
        lambda: call(x, 0, 10, h.astype(np.float64), 1.0, row_max, arg),
        lambda: call(x, 0, 10, np.asfortranarray(np.zeros((32, 3), np.float32)), 1.0, row_max,
                     arg),
        lambda: call(x, 0, 10, h, 1.0, row_max, np.empty(rows, np.int16)),
        lambda: call(x, 0, 10, h, 1.0, row_max, np.empty(rows - 1, np.int8)),
        lambda: call(x.astype(np.float32), 0, 10, h, 1.0, row_max, arg),
        lambda: call(np.zeros((2, 100)), 0, 10, h, 1.0, row_max, arg),
        lambda: call(x, 0, 10, h, 1.0, np.frombuffer(bytes(8 * rows)), arg),
        lambda: call(x, 0, 10, h, 1.0, row_max, np.frombuffer(bytes(rows), np.int8)),
    ):  # fmt: skip
        with pytest.raises(ValueError):
            bad()
    assert call(x, 69, 100, h, 1.0, row_max, arg) == 0  # the last rows that fit


def test_truepeak_meter_uses_the_grid_without_opting_in(
    grid: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``analyze``'s true-peak meter gets the C grid with no numba load, and reads what the
    numpy product reads: the same peaks, per-100 ms values within float32's rounding, the same
    overs."""
    monkeypatch.setattr(jit, "_loader", None)
    assert jit.kernels(native="truepeak_rows") is native.load()
    x = 1.2 * _signal(11, 2, 96000)
    readings = []
    for no_jit in ("0", "1"):
        monkeypatch.setenv("MIXANALYZER_NO_JIT", no_jit)
        meter = TruePeakMeter(48000, 2, track_windows=True)
        for i in range(0, x.shape[1], 10000):
            meter.feed(x[:, i : i + 10000])
        series = meter.window_true_peak(5)
        assert series is not None
        readings.append((meter.result(), np.array(series.values), meter.intersample_overs))
    (native_peaks, native_series, native_overs), (numpy_peaks, numpy_series, numpy_overs) = readings
    assert native_peaks.true_peak_per_channel_dbtp == pytest.approx(
        numpy_peaks.true_peak_per_channel_dbtp, abs=1e-9)  # fmt: skip
    assert np.allclose(native_series, numpy_series, atol=1e-4)
    assert native_overs == numpy_overs > 0


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


def test_a_library_built_on_another_cpu_is_never_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The true-peak grid is compiled for the building CPU (-march=native): on a CPU with other
    instruction-set features the key, so the file name, differs, and that library is not
    loaded (it could stop the process with an illegal instruction)."""
    here = native.cpu_identity()
    assert here  # the flags line on Linux
    sources = (b"kernels\n",)
    key, ours = native.library_key(sources), native.library_path()
    monkeypatch.setattr(native, "cpu_identity", lambda: here.replace("sse2", "no-sse2") + " x")
    assert native.library_key(sources) != key
    theirs = native.library_path()
    assert theirs != ours and not theirs.is_file()


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


def test_a_compiler_that_cannot_target_the_cpu_leaves_the_grid_out(
    lib: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A compiler that refuses ``-march=native`` still gives the recursions: the build says in
    one line that the grid was not built, and the library it writes loads with
    ``truepeak_rows`` None (the meters then use numba's kernel or numpy's product)."""
    from analyzer.dsp import native_build

    real = native_build._compiler()
    wrapper = tmp_path / "cc"
    wrapper.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = "-march=native" ] && { echo "cc: no native" >&2; exit 1; }; '
        "done\n"
        f'exec {" ".join(real)} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("CC", str(wrapper))
    out = tmp_path / "lib"
    monkeypatch.setattr(native_build, "LIBRARY_DIR", out)
    monkeypatch.setattr(native_build, "library_path", lambda: out / "kernels-test-1.so")
    monkeypatch.setattr(native_build, "library_prefix", lambda: "kernels-test-")
    path = native_build.build()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["analyzer.dsp.native_build: true-peak grid not built (cc: no native)"]
    built = native._bind(ctypes.CDLL(str(path)))
    assert built.truepeak_rows is None and built.kweight_channel is not None
    x, y, want = _signal(3, 1, 500)[0], np.empty(500), np.empty(500)
    b, a = kweighting_coefficients(48000)
    built.kweight_channel(x, b, a, np.zeros((2, 2)), y)
    compiled.kweight_channel(x, b, a, np.zeros((2, 2)), want)
    assert np.array_equal(y, want)


def test_recursions_ring_out_into_silence_without_subnormals(lib: SimpleNamespace) -> None:
    """A loud second, then digital silence: the recursions decay through the subnormal range,
    where every operation costs ~100x (a silent minute after a loud one made the K-weighting
    ~30x slower). The library flushes them to zero (its thread only, restored after): every
    value numba gives above 1e-290 is numba's bit for bit (below, a sum of flushed terms can be
    zero where numba's reaches the smallest normal numbers), the library leaves no subnormal
    anywhere where numba's state is left subnormal, and numpy in the calling thread still makes
    subnormals afterwards."""
    fs = 48000
    x = np.concatenate([_signal(5, 2, fs), np.zeros((2, 12 * fs))], axis=1)
    b, a = kweighting_coefficients(fs)
    tiny = np.finfo(np.float64).tiny
    results = []
    for kernels in (lib, compiled):
        state, z, fold = np.zeros((2, 2, 2)), np.empty(x.shape[1]), np.empty(x.shape[1])
        kernels.kweight_stereo_energies(x, b, a, state, z, fold)
        y, one = np.empty(x.shape[1]), np.zeros((2, 2))
        kernels.kweight_channel(np.ascontiguousarray(x[0]), b, a, one, y)
        sos = np.array([[1.0, -1.9, 0.95, 1.0, -1.8, 0.85], [0.5, 0.2, 0.1, 1.0, -1.2, 0.4]])
        cz, cy = np.zeros((2, 2, 2)), np.empty_like(x)
        kernels.biquad_cascade(x, sos, cz, cy)
        results.append((z, fold, state, y, one, cy, cz))
    ours, numbas = results
    for got, want in zip(ours, numbas, strict=True):  # energies, outputs and states
        audible = np.abs(want) > 1e-290
        assert np.array_equal(got[audible], want[audible])
        assert np.all(np.abs(got[~audible]) <= 1e-290)
        assert not np.any((np.abs(got) > 0.0) & (np.abs(got) < tiny))
    assert any(np.any((np.abs(w) > 0.0) & (np.abs(w) < tiny)) for w in numbas)
    assert np.float64(1e-308) / np.float64(10.0) != 0.0  # this thread's mode is restored
