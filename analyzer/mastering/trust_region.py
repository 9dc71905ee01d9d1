"""Bounded nonlinear least squares by the Trust Region Reflective method, step for step as
``scipy.optimize.least_squares(method="trf", jac="2-point", x_scale="jac", tr_solver="exact")``
does it (scipy 1.17, ``scipy/optimize/_lsq/trf.py``, ``common.py`` and ``_numdiff.py``;
BSD-3-Clause, Copyright (c) 2001-2002 Enthought, Inc., 2003 SciPy Developers).

The method: M. A. Branch, T. F. Coleman and Y. Li, "A Subspace, Interior, and Conjugate
Gradient Method for Large-Scale Bound-Constrained Minimization Problems", SIAM J. Sci.
Comput. 21(1), 1999 (Coleman-Li scaling, reflected steps at the bounds), with the exact
trust-region subproblem of J. J. More, "The Levenberg-Marquardt Algorithm: Implementation and
Theory", Numerical Analysis, Springer, 1978 (the SVD of the scaled Jacobian, Newton on the
regularisation parameter).

Why a copy and not scipy's: ``import scipy.optimize`` loads most of scipy (linalg, sparse,
special, spatial, fft; 0.23-0.25 s of one core, measured with ``python -X importtime``) and
``master`` uses no other part of scipy, so the import was 8 % of a 4-minute master on two
cores (issue 17). The tone fit's few parameters need none of the rest: only the dense path is
here (no loss functions, no LSMR, no callbacks). ``tests/mastering/test_trust_region.py`` holds
it to scipy's own solver, which stays a dependency, on the tone fit's problems and random ones.
"""

from __future__ import annotations

from collections.abc import Callable
from math import copysign

import numpy as np
from numpy.linalg import norm, svd

EPS = float(np.finfo(float).eps)

Residual = Callable[[np.ndarray], np.ndarray]
#: Residuals of several parameter vectors at once, ``(k, n)`` rows in, ``k`` residual rows out.
Batch = Callable[[np.ndarray], "list[np.ndarray] | np.ndarray"]


def least_squares_trf(
    fun: Residual, x0: np.ndarray, lb: np.ndarray, ub: np.ndarray, *, batch: Batch,
    ftol: float = 1e-8, xtol: float = 1e-8, gtol: float = 1e-8, max_nfev: int | None = None,
) -> np.ndarray:  # fmt: skip
    """The ``x`` scipy's ``least_squares(fun, x0, bounds=(lb, ub), method="trf",
    x_scale="jac", ftol=ftol, xtol=xtol, gtol=gtol, max_nfev=max_nfev, workers=...)`` returns,
    with the forward differences of the Jacobian from ``batch`` (one call per Jacobian)."""
    x0 = np.atleast_1d(np.asarray(x0, dtype=float))
    lb, ub = np.asarray(lb, dtype=float), np.asarray(ub, dtype=float)
    if lb.shape != x0.shape or ub.shape != x0.shape or np.any(lb >= ub):
        raise ValueError("bounds must match x0 and each lower bound lie below its upper bound")
    if not in_bounds(x0, lb, ub):
        raise ValueError("the initial guess lies outside the bounds")
    x0 = make_strictly_feasible(x0, lb, ub)
    f0 = np.atleast_1d(fun(x0.copy()))
    if not np.all(np.isfinite(f0)):
        raise ValueError("residuals are not finite at the initial point")
    jac = _ForwardJacobian(batch, lb, ub)
    return _trf_bounds(fun, jac, x0, f0, jac(x0, f0), lb, ub, ftol, xtol, gtol,
                       max_nfev if max_nfev is not None else 100 * x0.size)  # fmt: skip


class _ForwardJacobian:
    """scipy's ``approx_derivative(method="2-point")`` with bounds: steps of sqrt(eps) relative
    to ``max(1, |x|)``, reversed where the forward step leaves the bounds and fits backwards,
    shortened to the room left where it fits neither way."""

    def __init__(self, batch: Batch, lb: np.ndarray, ub: np.ndarray) -> None:
        self.batch, self.lb, self.ub = batch, lb, ub

    def __call__(self, x0: np.ndarray, f0: np.ndarray) -> np.ndarray:
        sign = (x0 >= 0).astype(float) * 2 - 1
        h = _adjust_to_bounds(x0, EPS**0.5 * sign * np.maximum(1.0, np.abs(x0)), self.lb,
                              self.ub)  # fmt: skip
        n = x0.size
        rows = np.repeat(x0[None, :], n, axis=0)
        for i in range(n):
            rows[i, i] = x0[i] + h[i]
        f_evals = list(self.batch(rows)) if n else []
        jt = np.empty((n, f0.size))  # filled by rows and transposed, as scipy's
        for i in range(n):
            jt[i] = (f_evals[i] - f0) / ((x0[i] + h[i]) - x0[i])
        return jt.T


def _adjust_to_bounds(x0: np.ndarray, h: np.ndarray, lb: np.ndarray, ub: np.ndarray
                      ) -> np.ndarray:  # fmt: skip
    """scipy's ``_adjust_scheme_to_bounds(x0, h, 1, "1-sided", lb, ub)``."""
    adjusted = h.copy()
    lower_dist, upper_dist = x0 - lb, ub - x0
    x = x0 + h
    violated = (x < lb) | (x > ub)
    fitting = np.abs(h) <= np.maximum(lower_dist, upper_dist)
    adjusted[violated & fitting] *= -1
    forward = (upper_dist >= lower_dist) & ~fitting
    adjusted[forward] = upper_dist[forward]
    backward = (upper_dist < lower_dist) & ~fitting
    adjusted[backward] = -lower_dist[backward]
    return adjusted


def _trf_bounds(
    fun: Residual, jac: _ForwardJacobian, x0: np.ndarray, f: np.ndarray, J: np.ndarray,
    lb: np.ndarray, ub: np.ndarray, ftol: float, xtol: float, gtol: float, max_nfev: int,
) -> np.ndarray:  # fmt: skip
    """scipy's ``trf_bounds`` without a loss function, tr_solver "exact", x_scale "jac"."""
    x, nfev = x0.copy(), 1
    m, n = J.shape
    cost = 0.5 * np.dot(f, f)
    g = J.T.dot(f)
    scale, scale_inv = _jac_scale(J)
    v, dv = cl_scaling_vector(x, g, lb, ub)
    v[dv != 0] *= scale_inv[dv != 0]
    state = {"Delta": norm(x0 * scale_inv / v**0.5) or 1.0, "alpha": 0.0}
    f_augmented = np.zeros(m + n)
    J_augmented = np.empty((m + n, n))
    while True:
        v, dv = cl_scaling_vector(x, g, lb, ub)
        g_norm = norm(g * v, ord=np.inf)
        if g_norm < gtol or nfev == max_nfev:
            break
        v[dv != 0] *= scale_inv[dv != 0]
        d = v**0.5 * scale
        diag_h = g * dv * scale
        g_h = d * g
        f_augmented[:m] = f
        J_augmented[:m] = J * d
        J_h = J_augmented[:m]
        J_augmented[m:] = np.diag(diag_h**0.5)
        U, s, Vt = svd(J_augmented, full_matrices=False)
        V = Vt.T
        uf = U.T.dot(f_augmented)
        theta = max(0.995, 1 - g_norm)
        step = _Step(x, J_h, diag_h, g_h, d, lb, ub, theta)
        accepted, done, nfev = _inner(fun, step, (n, m, uf, s, V), state, cost, nfev, max_nfev,
                                      (ftol, xtol))  # fmt: skip
        if accepted is not None:
            x, f, cost = accepted
        if done:  # (scipy evaluates the Jacobian at the last point too: it changes no x)
            break
        if accepted is not None:
            J = jac(x, f)
            g = J.T.dot(f)
            scale, scale_inv = _jac_scale(J, scale_inv)
    return x


class _Step:
    """One outer iteration's scaled model (what ``select_step`` needs)."""

    def __init__(self, x: np.ndarray, J_h: np.ndarray, diag_h: np.ndarray, g_h: np.ndarray,
                 d: np.ndarray, lb: np.ndarray, ub: np.ndarray, theta: float) -> None:  # fmt: skip
        self.x, self.J_h, self.diag_h, self.g_h, self.d = x, J_h, diag_h, g_h, d
        self.lb, self.ub, self.theta = lb, ub, theta


def _inner(
    fun: Residual, st: _Step, svd_parts: tuple, state: dict, cost: float, nfev: int,
    max_nfev: int, tols: tuple[float, float],
) -> tuple[tuple[np.ndarray, np.ndarray, float] | None, bool, int]:  # fmt: skip
    """Trust-region steps until one reduces the cost: ``(accepted (x, f, cost) or None,
    terminated, nfev)``."""
    n, m, uf, s, V = svd_parts
    ftol, xtol = tols
    actual_reduction = -1.0
    x_new = f_new = None
    cost_new = cost
    while actual_reduction <= 0 and nfev < max_nfev:
        Delta = state["Delta"]
        p_h, alpha, _ = solve_lsq_trust_region(n, m, uf, s, V, Delta,
                                               initial_alpha=state["alpha"])  # fmt: skip
        state["alpha"] = alpha
        p = st.d * p_h
        step, step_h, predicted_reduction = select_step(st, p, p_h, Delta)
        x_new = make_strictly_feasible(st.x + step, st.lb, st.ub, rstep=0)
        f_new = np.atleast_1d(fun(x_new.copy()))
        nfev += 1
        step_h_norm = norm(step_h)
        if not np.all(np.isfinite(f_new)):
            state["Delta"] = 0.25 * step_h_norm
            continue
        cost_new = 0.5 * np.dot(f_new, f_new)
        actual_reduction = cost - cost_new
        Delta_new, ratio = update_tr_radius(Delta, actual_reduction, predicted_reduction,
                                            step_h_norm, step_h_norm > 0.95 * Delta)  # fmt: skip
        status = check_termination(actual_reduction, cost, norm(step), norm(st.x), ratio, ftol,
                                   xtol)  # fmt: skip
        if status is not None:
            accepted = (x_new, f_new, cost_new) if actual_reduction > 0 else None
            return accepted, True, nfev
        state["alpha"] = alpha * (Delta / Delta_new)  # (scipy: alpha *= Delta / Delta_new)
        state["Delta"] = Delta_new
    if actual_reduction > 0 and x_new is not None and f_new is not None:
        return (x_new, f_new, cost_new), False, nfev
    return None, nfev >= max_nfev, nfev


def _jac_scale(J: np.ndarray, scale_inv_old: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """scipy's ``compute_jac_scale``: the columns' norms (never shrinking)."""
    scale_inv = np.sum(J**2, axis=0) ** 0.5
    if scale_inv_old is None:
        scale_inv[scale_inv == 0] = 1
    else:
        scale_inv = np.maximum(scale_inv, scale_inv_old)
    return 1 / scale_inv, scale_inv


def select_step(st: _Step, p: np.ndarray, p_h: np.ndarray, Delta: float
                ) -> tuple[np.ndarray, np.ndarray, float]:  # fmt: skip
    """The best of the trust-region step (cut at the bound), its reflection and the scaled
    gradient (scipy's ``select_step``)."""
    x, J_h, diag_h, g_h, d, lb, ub, theta = (st.x, st.J_h, st.diag_h, st.g_h, st.d, st.lb,
                                             st.ub, st.theta)  # fmt: skip
    if in_bounds(x + p, lb, ub):
        return p, p_h, -evaluate_quadratic(J_h, g_h, p_h, diag=diag_h)
    p_stride, hits = step_size_to_bound(x, p, lb, ub)
    r_h = np.copy(p_h)
    r_h[hits.astype(bool)] *= -1
    r = d * r_h
    p *= p_stride
    p_h *= p_stride
    x_on_bound = x + p
    _, to_tr = intersect_trust_region(p_h, r_h, Delta)
    to_bound, _ = step_size_to_bound(x_on_bound, r, lb, ub)
    r_stride = min(to_bound, to_tr)
    if r_stride > 0:
        r_stride_l = (1 - theta) * p_stride / r_stride
        r_stride_u = theta * to_bound if r_stride == to_bound else to_tr
    else:
        r_stride_l, r_stride_u = 0, -1
    if r_stride_l <= r_stride_u:
        a, b, c = build_quadratic_1d(J_h, g_h, r_h, s0=p_h, diag=diag_h)
        r_stride, r_value = minimize_quadratic_1d(a, b, r_stride_l, r_stride_u, c=c)
        r_h *= r_stride
        r_h += p_h
        r = r_h * d
    else:
        r_value = np.inf
    p *= theta
    p_h *= theta
    p_value = evaluate_quadratic(J_h, g_h, p_h, diag=diag_h)
    ag_h = -g_h
    ag = d * ag_h
    to_tr = Delta / norm(ag_h)
    to_bound, _ = step_size_to_bound(x, ag, lb, ub)
    ag_stride = theta * to_bound if to_bound < to_tr else to_tr
    a, b = build_quadratic_1d(J_h, g_h, ag_h, diag=diag_h)
    ag_stride, ag_value = minimize_quadratic_1d(a, b, 0, ag_stride)
    ag_h *= ag_stride
    ag *= ag_stride
    if p_value < r_value and p_value < ag_value:
        return p, p_h, -p_value
    if r_value < p_value and r_value < ag_value:
        return r, r_h, -r_value
    return ag, ag_h, -ag_value


# --- scipy/optimize/_lsq/common.py, the functions the dense bounded path uses -------------


def intersect_trust_region(x: np.ndarray, s: np.ndarray, Delta: float) -> tuple[float, float]:
    """The two ``t`` with ``||x + s t|| = Delta``, smaller first."""
    a = np.dot(s, s)
    if a == 0:
        raise ValueError("`s` is zero.")
    b = np.dot(x, s)
    c = np.dot(x, x) - Delta**2
    if c > 0:
        raise ValueError("`x` is not within the trust region.")
    dd = np.sqrt(b * b - a * c)
    q = -(b + copysign(dd, b))
    t1, t2 = q / a, c / q
    return (t1, t2) if t1 < t2 else (t2, t1)


def solve_lsq_trust_region(
    n: int, m: int, uf: np.ndarray, s: np.ndarray, V: np.ndarray, Delta: float,
    initial_alpha: float | None = None, rtol: float = 0.01, max_iter: int = 10,
) -> tuple[np.ndarray, float, int]:  # fmt: skip
    """The regularised least-squares step of norm ``Delta`` from the SVD (More 1978)."""

    def phi_and_derivative(alpha: float) -> tuple[float, float]:
        denom = s**2 + alpha
        p_norm = norm(suf / denom)
        return p_norm - Delta, -np.sum(suf**2 / denom**3) / p_norm

    suf = s * uf
    full_rank = bool(s[-1] > EPS * m * s[0]) if m >= n else False
    if full_rank:
        p = -V.dot(uf / s)
        if norm(p) <= Delta:
            return p, 0.0, 0
    alpha_upper = norm(suf) / Delta
    if full_rank:
        phi, phi_prime = phi_and_derivative(0.0)
        alpha_lower = -phi / phi_prime
    else:
        alpha_lower = 0.0
    if initial_alpha is None or (not full_rank and initial_alpha == 0):
        alpha = max(0.001 * alpha_upper, (alpha_lower * alpha_upper) ** 0.5)
    else:
        alpha = initial_alpha
    it = 0
    for it in range(max_iter):  # noqa: B007 - the count is returned
        if alpha < alpha_lower or alpha > alpha_upper:
            alpha = max(0.001 * alpha_upper, (alpha_lower * alpha_upper) ** 0.5)
        phi, phi_prime = phi_and_derivative(alpha)
        if phi < 0:
            alpha_upper = alpha
        ratio = phi / phi_prime
        alpha_lower = max(alpha_lower, alpha - ratio)
        alpha -= (phi + Delta) * ratio / Delta
        if np.abs(phi) < rtol * Delta:
            break
    p = -V.dot(suf / (s**2 + alpha))
    p *= Delta / norm(p)
    return p, alpha, it + 1


def update_tr_radius(Delta: float, actual_reduction: float, predicted_reduction: float,
                     step_norm: float, bound_hit: bool) -> tuple[float, float]:  # fmt: skip
    if predicted_reduction > 0:
        ratio = actual_reduction / predicted_reduction
    elif predicted_reduction == actual_reduction == 0:
        ratio = 1
    else:
        ratio = 0
    if ratio < 0.25:
        Delta = 0.25 * step_norm
    elif ratio > 0.75 and bound_hit:
        Delta *= 2.0
    return Delta, ratio


def build_quadratic_1d(J: np.ndarray, g: np.ndarray, s: np.ndarray,
                       diag: np.ndarray | None = None, s0: np.ndarray | None = None
                       ) -> tuple[float, ...]:  # fmt: skip
    """Coefficients of the model along ``s0 + s t``: ``(a, b)`` or ``(a, b, c)`` with s0."""
    v = J.dot(s)
    a = np.dot(v, v)
    if diag is not None:
        a += np.dot(s * diag, s)
    a *= 0.5
    b = np.dot(g, s)
    if s0 is None:
        return a, b
    u = J.dot(s0)
    b += np.dot(u, v)
    c = 0.5 * np.dot(u, u) + np.dot(g, s0)
    if diag is not None:
        b += np.dot(s0 * diag, s)
        c += 0.5 * np.dot(s0 * diag, s0)
    return a, b, c


def minimize_quadratic_1d(a: float, b: float, lb: float, ub: float, c: float = 0
                          ) -> tuple[float, float]:  # fmt: skip
    t = [lb, ub]
    if a != 0:
        extremum = -0.5 * b / a
        if lb < extremum < ub:
            t.append(extremum)
    ts = np.asarray(t)
    y = ts * (a * ts + b) + c
    i = np.argmin(y)
    return ts[i], y[i]


def evaluate_quadratic(J: np.ndarray, g: np.ndarray, s: np.ndarray,
                       diag: np.ndarray | None = None) -> float:  # fmt: skip
    Js = J.dot(s)
    q = np.dot(Js, Js)
    if diag is not None:
        q += np.dot(s * diag, s)
    return 0.5 * q + np.dot(s, g)


def in_bounds(x: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> bool:
    return bool(np.all((x >= lb) & (x <= ub)))


def step_size_to_bound(x: np.ndarray, s: np.ndarray, lb: np.ndarray, ub: np.ndarray
                       ) -> tuple[float, np.ndarray]:  # fmt: skip
    non_zero = np.nonzero(s)
    s_non_zero = s[non_zero]
    steps = np.empty_like(x)
    steps.fill(np.inf)
    with np.errstate(over="ignore"):
        steps[non_zero] = np.maximum((lb - x)[non_zero] / s_non_zero,
                                     (ub - x)[non_zero] / s_non_zero)  # fmt: skip
    min_step = np.min(steps)
    return min_step, np.equal(steps, min_step) * np.sign(s).astype(int)


def find_active_constraints(x: np.ndarray, lb: np.ndarray, ub: np.ndarray,
                            rtol: float = 1e-10) -> np.ndarray:  # fmt: skip
    active = np.zeros_like(x, dtype=int)
    if rtol == 0:
        active[x <= lb] = -1
        active[x >= ub] = 1
        return active
    lower_dist, upper_dist = x - lb, ub - x
    lower_threshold = rtol * np.maximum(1, np.abs(lb))
    upper_threshold = rtol * np.maximum(1, np.abs(ub))
    active[np.isfinite(lb) & (lower_dist <= np.minimum(upper_dist, lower_threshold))] = -1
    active[np.isfinite(ub) & (upper_dist <= np.minimum(lower_dist, upper_threshold))] = 1
    return active


def make_strictly_feasible(x: np.ndarray, lb: np.ndarray, ub: np.ndarray,
                           rstep: float = 1e-10) -> np.ndarray:  # fmt: skip
    x_new = x.copy()
    active = find_active_constraints(x, lb, ub, rstep)
    lower_mask, upper_mask = np.equal(active, -1), np.equal(active, 1)
    if rstep == 0:
        x_new[lower_mask] = np.nextafter(lb[lower_mask], ub[lower_mask])
        x_new[upper_mask] = np.nextafter(ub[upper_mask], lb[upper_mask])
    else:
        x_new[lower_mask] = lb[lower_mask] + rstep * np.maximum(1, np.abs(lb[lower_mask]))
        x_new[upper_mask] = ub[upper_mask] - rstep * np.maximum(1, np.abs(ub[upper_mask]))
    tight = (x_new < lb) | (x_new > ub)
    x_new[tight] = 0.5 * (lb[tight] + ub[tight])
    return x_new


def cl_scaling_vector(x: np.ndarray, g: np.ndarray, lb: np.ndarray, ub: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Coleman-Li scaling: the distance to the bound the gradient points to."""
    v = np.ones_like(x)
    dv = np.zeros_like(x)
    mask = (g < 0) & np.isfinite(ub)
    v[mask] = ub[mask] - x[mask]
    dv[mask] = -1
    mask = (g > 0) & np.isfinite(lb)
    v[mask] = x[mask] - lb[mask]
    dv[mask] = 1
    return v, dv


def check_termination(dF: float, F: float, dx_norm: float, x_norm: float, ratio: float,
                      ftol: float, xtol: float) -> int | None:  # fmt: skip
    ftol_satisfied = dF < ftol * F and ratio > 0.25
    xtol_satisfied = dx_norm < xtol * (xtol + x_norm)
    if ftol_satisfied and xtol_satisfied:
        return 4
    if ftol_satisfied:
        return 2
    if xtol_satisfied:
        return 3
    return None


__all__ = ["least_squares_trf"]
