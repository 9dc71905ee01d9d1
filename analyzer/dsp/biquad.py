"""RBJ biquads: the digital coefficients and the analogue prototypes, in one place.

Both follow R. Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter coefficients"
as published by the W3C ("Audio EQ Cookbook", W3C Audio Working Group Note,
https://www.w3.org/TR/audio-eq-cookbook/).

* **Digital** (:func:`rbj_coefficients`): peaking EQ, low shelf, high shelf (shelf slope given
  by Q, ``alpha = sin(w0) / (2 Q)``), low-pass and high-pass, by the bilinear transform with
  ``w0 = 2 pi f0 / fs``, normalised so that ``a[0] == 1``; :func:`cascade_response` is the
  complex response of a cascade of them on the unit circle.
* **Analogue** (the ``*_db`` functions): the cookbook's s-domain prototypes ``H(s)`` with
  ``s = j f / f0``, evaluated as magnitudes in dB, so they do not depend on a sample rate; and
  the Butterworth magnitude ``|H|^2 = 1 / (1 + (f / fc)^(2n))`` (S. Butterworth, "On the
  Theory of Filter Amplifiers", Wireless Engineer 7, 1930) for high- and low-pass of any order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The digital section kinds of :func:`rbj_coefficients`.
RBJ_KINDS = ("peaking", "low_shelf", "high_shelf", "high_pass", "low_pass")


# --------------------------------------------------------------------------------------------
# Digital biquads
# --------------------------------------------------------------------------------------------


def _shelf(big_a: Any, cw: Any, r: Any, sign: float) -> tuple[list, list]:
    """Low (``sign = -1``) or high (``sign = +1``) shelf numerator and denominator."""
    b = [
        big_a * ((big_a + 1.0) + sign * (big_a - 1.0) * cw + r),
        -sign * 2.0 * big_a * ((big_a - 1.0) + sign * (big_a + 1.0) * cw),
        big_a * ((big_a + 1.0) + sign * (big_a - 1.0) * cw - r),
    ]
    a = [
        (big_a + 1.0) - sign * (big_a - 1.0) * cw + r,
        sign * 2.0 * ((big_a - 1.0) - sign * (big_a + 1.0) * cw),
        (big_a + 1.0) - sign * (big_a - 1.0) * cw - r,
    ]
    return b, a


def _rbj(kind: str, big_a: Any, cw: Any, sw: Any, q: Any, sqrt: Any) -> tuple[list, list]:
    """The cookbook's ``(b, a)`` before normalisation, from ``A``, ``cos w0``, ``sin w0`` and
    ``Q``: plain arithmetic, so floats and arrays of sections go through the same lines."""
    alpha = sw / (2.0 * q)
    if kind == "peaking":
        return ([1.0 + alpha * big_a, -2.0 * cw, 1.0 - alpha * big_a],
                [1.0 + alpha / big_a, -2.0 * cw, 1.0 - alpha / big_a])  # fmt: skip
    if kind in ("low_shelf", "high_shelf"):
        return _shelf(big_a, cw, 2.0 * sqrt(big_a) * alpha, -1.0 if kind == "low_shelf" else 1.0)
    if kind == "low_pass":
        return ([(1.0 - cw) / 2.0, 1.0 - cw, (1.0 - cw) / 2.0],
                [1.0 + alpha, -2.0 * cw, 1.0 - alpha])  # fmt: skip
    return (
        [(1.0 + cw) / 2.0, -(1.0 + cw), (1.0 + cw) / 2.0],
        [1.0 + alpha, -2.0 * cw, 1.0 - alpha],
    )  # fmt: skip  (high-pass)


def rbj_coefficients(
    kind: str, frequency_hz: float, gain_db: float, q: float, sample_rate_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(b, a)`` of one cookbook biquad, ``a[0] == 1``. ``gain_db`` is ignored by the high- and
    low-pass; ``frequency_hz`` must lie strictly between 0 and Nyquist (not checked here)."""
    if kind not in RBJ_KINDS:
        raise ValueError(f"unknown biquad kind {kind!r}")
    w0 = 2.0 * math.pi * frequency_hz / float(sample_rate_hz)
    b, a = _rbj(kind, 10.0 ** (gain_db / 40.0), math.cos(w0), math.sin(w0), q, math.sqrt)
    a0 = a[0]
    return np.array(b) / a0, np.array(a) / a0


def cascade_response(
    sections: Sequence[tuple[np.ndarray, np.ndarray]],
    sample_rate_hz: float,
    frequencies_hz: np.ndarray,
) -> np.ndarray:
    """Complex response ``prod B(z) / A(z)`` of biquads ``(b, a)`` at ``frequencies_hz``."""
    z1 = np.exp(-2j * np.pi * np.asarray(frequencies_hz, dtype=float) / sample_rate_hz)
    z2 = z1 * z1
    h = np.ones_like(z1)
    for b, a in sections:
        h = h * ((b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2))
    return h


# --------------------------------------------------------------------------------------------
# Analogue prototypes (magnitudes in dB; s = j f / f0)
# --------------------------------------------------------------------------------------------


def butterworth_high_pass_db(f: np.ndarray, cutoff_hz: float, order: int) -> np.ndarray:
    """Butterworth high-pass of ``order``: -3.01 dB at ``cutoff_hz``, 6·order dB/octave below."""
    x = (f / cutoff_hz) ** (2 * order)
    return 10.0 * np.log10(x / (1.0 + x))


def butterworth_low_pass_db(f: np.ndarray, cutoff_hz: float, order: int) -> np.ndarray:
    """Butterworth low-pass of ``order``: -3.01 dB at ``cutoff_hz``, 6·order dB/octave above."""
    x = (f / cutoff_hz) ** (2 * order)
    return -10.0 * np.log10(1.0 + x)


def _biquad_db(num: Sequence[complex], den: Sequence[complex], s: np.ndarray) -> np.ndarray:
    """|N(s)/D(s)| in dB for second-order polynomials given as (s², s¹, s⁰) coefficients."""
    n = num[0] * s * s + num[1] * s + num[2]
    d = den[0] * s * s + den[1] * s + den[2]
    return 20.0 * np.log10(np.abs(n) / np.abs(d))


def peaking_db(f: np.ndarray, centre_hz: float, gain_db: float, q: float) -> np.ndarray:
    """Cookbook peaking prototype ``(s² + s A/Q + 1) / (s² + s/(A Q) + 1)``, ``A = 10^(g/40)``:
    exactly ``gain_db`` at ``centre_hz``."""
    a = 10.0 ** (gain_db / 40.0)
    s = 1j * f / centre_hz
    return _biquad_db((1, a / q, 1), (1, 1 / (a * q), 1), s)


def low_shelf_db(f: np.ndarray, corner_hz: float, gain_db: float, q: float) -> np.ndarray:
    """Cookbook low-shelf prototype ``A (s² + s √A/Q + A) / (A s² + s √A/Q + 1)``: ``gain_db``
    far below ``corner_hz``, half of it at the corner."""
    a = 10.0 ** (gain_db / 40.0)
    s = 1j * f / corner_hz
    k = math.sqrt(a) / q
    return 20.0 * math.log10(a) + _biquad_db((1, k, a), (a, k, 1), s)


def high_shelf_db(f: np.ndarray, corner_hz: float, gain_db: float, q: float) -> np.ndarray:
    """Cookbook high-shelf prototype ``A (A s² + s √A/Q + 1) / (s² + s √A/Q + A)``: ``gain_db``
    far above ``corner_hz``, half of it at the corner."""
    a = 10.0 ** (gain_db / 40.0)
    s = 1j * f / corner_hz
    k = math.sqrt(a) / q
    return 20.0 * math.log10(a) + _biquad_db((a, k, 1), (1, k, a), s)


__all__ = [
    "RBJ_KINDS",
    "butterworth_high_pass_db",
    "butterworth_low_pass_db",
    "cascade_response",
    "high_shelf_db",
    "low_shelf_db",
    "peaking_db",
    "rbj_coefficients",
]
