"""The tone fit's bounded least-squares solver (analyzer.mastering.trust_region) against scipy's
``least_squares(method="trf")``, the code it follows step for step: with scipy's SVD replaced
by numpy's (the one LAPACK call of the two paths, from two builds of OpenBLAS that round
differently in the last bits), both give the same ``x`` bit for bit on the tone fit's own
problems and on bounded test problems; with scipy as it is, both converge to the same
minimum. And the fit no longer imports scipy."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize._lsq.trf as scipy_trf
from scipy.optimize import least_squares

import analyzer.mastering.tone_solver as solver
from analyzer.comparison.metrics import compare
from analyzer.demo import (
    DEMO_FAULTS,
    DEMO_SAMPLE_RATE_HZ,
    synthesize_demo_mix,
    synthesize_demo_reference,
)
from analyzer.mastering.proposal import default_proposal
from analyzer.mastering.trust_region import least_squares_trf
from analyzer.measure.engine import analyze_array


def _numpy_svd(a, full_matrices=False):
    return np.linalg.svd(a, full_matrices=full_matrices)


class _Rows:
    """scipy's ``workers`` map over the stepped vectors, as one batch of rows."""

    def __init__(self, batch) -> None:
        self.batch = batch

    def __call__(self, fun, xs):
        return list(self.batch(np.array(list(xs), dtype=float)))


def _both(fun, batch, x0, lo, hi, **kw):
    mine = least_squares_trf(fun, x0, np.asarray(lo), np.asarray(hi), batch=batch, **kw)
    theirs = least_squares(fun, x0, bounds=(lo, hi), method="trf", x_scale="jac",
                           workers=_Rows(batch), **kw).x  # fmt: skip
    return mine, theirs


def _tone_fit_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Every solve of the demo's proposal: (fit, kinds, start, max_nfev)."""
    calls = []
    real = solver.MoveFit.solve

    def recorded(self, kinds, x0, max_nfev=60):
        calls.append((self, list(kinds), np.array(x0), max_nfev))
        return real(self, kinds, x0, max_nfev)

    monkeypatch.setattr(solver.MoveFit, "solve", recorded)
    fs = DEMO_SAMPLE_RATE_HZ
    mix = analyze_array(synthesize_demo_mix(**DEMO_FAULTS), fs)
    ref = analyze_array(synthesize_demo_reference(), fs)
    default_proposal(mix, compare(mix, [ref]))
    monkeypatch.setattr(solver.MoveFit, "solve", real)
    return calls


def test_the_tone_fits_problems_step_for_step_as_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _tone_fit_calls(monkeypatch)
    assert len(calls) >= 8 and any(c[3] == 300 for c in calls)
    monkeypatch.setattr(scipy_trf, "svd", _numpy_svd)
    capped = 0
    for fit, kinds, x0, max_nfev in calls:
        lo, hi = fit.bounds(kinds)
        lo = [a if a < b else b - 1e-6 for a, b in zip(lo, hi, strict=True)]
        x0 = np.clip(x0, np.array(lo) + 1e-9, np.array(hi) - 1e-9)
        mine, theirs = _both(lambda x, f=fit, k=kinds: f.residual(k, x),
                             solver._Batched(fit, kinds), x0, lo, hi, max_nfev=max_nfev,
                             ftol=1e-10, xtol=1e-10)  # fmt: skip
        assert np.array_equal(mine, theirs), (kinds, mine - theirs)
        capped += max_nfev == 60
    assert capped  # the capped searches too, where a step's last bit decides the path


def _exp_problem(seed: int):
    """y = a exp(-b t) + c with noise: three parameters, a bound that binds on c."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 4.0, 40)
    y = 2.5 * np.exp(-1.3 * t) + 0.4 + 0.05 * rng.standard_normal(t.size)

    def fun(x):
        return x[0] * np.exp(-x[1] * t) + x[2] - y

    def batch(rows):
        return [fun(r) for r in rows]

    return fun, batch


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    ("x0", "lo", "hi"),
    [
        ([1.0, 1.0, 0.0], [0.0, 0.0, -1.0], [10.0, 5.0, 1.0]),  # the minimum inside
        ([1.0, 0.5, 0.1], [0.0, 0.0, 0.0], [10.0, 5.0, 0.2]),  # c held near its upper bound
        ([9.9, 4.9, 0.01], [0.0, 0.0, 0.0], [10.0, 5.0, 0.3]),  # a start by the bounds
    ],
)
def test_bounded_problems_as_scipy(monkeypatch: pytest.MonkeyPatch, seed, x0, lo, hi) -> None:
    fun, batch = _exp_problem(seed)
    x0 = np.array(x0)
    exact_mine, exact_theirs = _both(fun, batch, x0, lo, hi, ftol=1e-12, xtol=1e-12)
    # scipy's own SVD: the same minimum
    np.testing.assert_allclose(exact_mine, exact_theirs, rtol=1e-7, atol=1e-9)
    monkeypatch.setattr(scipy_trf, "svd", _numpy_svd)
    for kw in ({"ftol": 1e-12, "xtol": 1e-12}, {"max_nfev": 4}, {}):
        mine, theirs = _both(fun, batch, x0, lo, hi, **kw)
        assert np.array_equal(mine, theirs), (kw, mine - theirs)
        assert np.all(mine >= lo) and np.all(mine <= hi)


def test_rosenbrock_with_an_active_bound_as_scipy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scipy_trf, "svd", _numpy_svd)

    def fun(x):
        return np.array([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])

    def batch(rows):
        return [fun(r) for r in rows]

    cases = [
        ([-1.2, 1.0], [-2.0, -2.0], [2.0, 2.0]),
        ([2.0, 2.0], [-np.inf, 1.5], [np.inf, np.inf]),
        ([0.5, 0.1], [0.0, 0.0], [0.8, 3.0]),  # the minimum (1, 1) cut off
    ]
    for x0, lo, hi in cases:
        mine, theirs = _both(fun, batch, np.array(x0), lo, hi)
        assert np.array_equal(mine, theirs), (x0, mine - theirs)


def test_bad_arguments_are_refused() -> None:
    def fun(x):
        return x - 1.0

    def batch(rows):
        return [fun(r) for r in rows]

    with pytest.raises(ValueError, match="outside"):
        least_squares_trf(fun, np.array([3.0]), np.array([0.0]), np.array([2.0]), batch=batch)
    with pytest.raises(ValueError, match="bounds"):
        least_squares_trf(fun, np.array([1.0]), np.array([2.0]), np.array([2.0]), batch=batch)
    with pytest.raises(ValueError, match="not finite"):
        least_squares_trf(lambda x: x * np.nan, np.array([1.0]), np.array([0.0]),
                          np.array([2.0]), batch=batch)  # fmt: skip


def test_the_fit_imports_no_scipy() -> None:
    """``import scipy.optimize`` loads most of scipy (~0.25 s): the fit must not pay it."""
    code = (
        "import sys\n"
        "from analyzer.comparison.metrics import compare\n"
        "from analyzer.demo import DEMO_FAULTS, DEMO_SAMPLE_RATE_HZ, synthesize_demo_mix, "
        "synthesize_demo_reference\n"
        "from analyzer.mastering.proposal import default_proposal\n"
        "from analyzer.measure.engine import analyze_array\n"
        "fs = DEMO_SAMPLE_RATE_HZ\n"
        "mix = analyze_array(synthesize_demo_mix(**DEMO_FAULTS), fs)\n"
        "ref = analyze_array(synthesize_demo_reference(), fs)\n"
        "before = 'scipy.optimize' in sys.modules\n"
        "p = default_proposal(mix, compare(mix, [ref]))\n"
        "assert len(p.tone.moves) >= 3, p.tone.moves\n"
        "print(before, 'scipy.optimize' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
