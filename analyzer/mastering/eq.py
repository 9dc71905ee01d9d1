"""Parametric EQ moves as RBJ biquads, applied exactly (minimum phase): recursion or FFT.

Coefficients follow R. Bristow-Johnson's "Cookbook formulae for audio EQ biquad filter
coefficients" (:mod:`analyzer.dsp.biquad`): peaking EQ, low shelf, high shelf (shelf slope given
by Q), low-pass and high-pass, all normalised so that ``a[0] == 1``.

The cascade is the minimum-phase IIR filter itself. Where the compiled kernels are there
(:mod:`analyzer.dsp.jit`: built ahead of time by the install step, or numba's, loaded by
``master`` and the demo) it runs as the recursion (:func:`analyzer.dsp.compiled.biquad_cascade`,
``scipy.signal.sosfilt``'s order of operations: 0.11 s for 4 minutes of stereo with three moves,
against 0.34 s by FFT). Elsewhere it is applied by overlap-save with the exact IIR frequency
response sampled on the FFT grid (numpy only, state carried between blocks; the K-weighting,
two fixed biquads, runs as :mod:`analyzer.dsp.block_iir` instead). The impulse response is
cut where what is left of it (its l1 norm from there on) is below ``TAIL`` = 1e-11, so the
result equals the recursive filter started at rest to about 1e-11 times the input's peak. That
length is first bounded from the slowest pole radius, then measured on the cascade's actual
response.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.dsp import jit
from analyzer.dsp.biquad import RBJ_KINDS, cascade_response, rbj_coefficients
from analyzer.dsp.convolve import StreamingConvolver
from analyzer.dsp.fft import next_fast_len

KINDS = RBJ_KINDS
TAIL = 1e-11


@dataclass(frozen=True)
class EqMove:
    """One parametric move: ``kind`` in :data:`KINDS`, centre/corner frequency, gain, Q and why.

    ``gain_db`` is ignored by the high- and low-pass; for shelves, Q sets the slope (0.7071 is the
    cookbook's steepest monotonic shelf, S = 1).
    """

    kind: str
    frequency_hz: float
    gain_db: float = 0.0
    q: float = 0.7071
    why: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown EQ kind {self.kind!r} (expected one of {', '.join(KINDS)})")
        if not (math.isfinite(self.frequency_hz) and self.frequency_hz > 0):
            raise ValueError(f"EQ frequency must be positive, got {self.frequency_hz}")
        if not (math.isfinite(self.q) and self.q > 0):
            raise ValueError(f"EQ Q must be positive, got {self.q}")
        if not math.isfinite(self.gain_db):
            raise ValueError(f"EQ gain must be finite, got {self.gain_db}")


def biquad_coefficients(move: EqMove, sample_rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """``(b, a)`` of ``move`` at ``sample_rate_hz`` by the Audio EQ Cookbook, ``a[0] == 1``
    (:func:`analyzer.dsp.biquad.rbj_coefficients`)."""
    fs = float(sample_rate_hz)
    if not 0 < move.frequency_hz < fs / 2:
        raise ValueError(
            f"EQ frequency {move.frequency_hz} Hz must lie between 0 and Nyquist ({fs / 2} Hz)"
        )
    return rbj_coefficients(move.kind, move.frequency_hz, move.gain_db, move.q, fs)


def sos(moves: Sequence[EqMove], sample_rate_hz: float) -> np.ndarray:
    """The cascade as second-order sections, shape ``(len(moves), 6)`` (scipy's sos layout)."""
    rows = [np.concatenate(biquad_coefficients(m, sample_rate_hz)) for m in moves]
    return np.array(rows).reshape(len(rows), 6)


def response(
    moves: Sequence[EqMove], sample_rate_hz: float, frequencies_hz: np.ndarray
) -> np.ndarray:
    """Complex frequency response of the cascade at ``frequencies_hz``."""
    sections = [biquad_coefficients(m, sample_rate_hz) for m in moves]
    return cascade_response(sections, sample_rate_hz, frequencies_hz)


def response_db(
    moves: Sequence[EqMove], sample_rate_hz: float, frequencies_hz: np.ndarray
) -> np.ndarray:
    """Magnitude of the cascade in dB at ``frequencies_hz``."""
    mag = np.abs(response(moves, sample_rate_hz, frequencies_hz))
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(mag)


def impulse_response_length(
    moves: Sequence[EqMove], sample_rate_hz: float, tail: float = TAIL
) -> int:
    """Samples after which the rest of the cascade's impulse response sums (l1) to about < ``tail``.

    Beyond the cut the response decays like ``r**n`` (``r`` the slowest pole radius, times a
    polynomial for repeated poles), so what is left sums to about ``|h| / (1 - r)``: the cut is
    where ``|h|`` stays below ``target = tail * (1 - r) / 2``. ``|h|`` is measured on the exact
    response's inverse FFT over a grid at least twice as long (its time aliasing is negligible
    there), grown until the cut lands in its first half. The FFT's rounding floor (~1e-15) hides
    values below ``1e-14 * max|h|``; when that is above ``target`` the cut found at the floor is
    extended by the slowest pole's decay from the floor to ``target``. An upper bound from ``r``
    alone (``m`` sections: ``n**(2m - 1) r**n``) caps the search.
    """
    if not moves:
        return 1
    radius = 0.0
    for move in moves:
        _, a = biquad_coefficients(move, sample_rate_hz)
        radius = max(radius, float(np.max(np.abs(np.roots(a)))))
    if radius == 0.0:
        return 2 * len(moves) + 16
    target = 0.5 * tail * (1.0 - radius)
    log_r = math.log(radius)

    def bound(order: int) -> int:
        n = 16
        while order * math.log(n + 1.0) + n * log_r >= math.log(target):
            n *= 2
        return n

    cap = bound(2 * len(moves) - 1)
    size = next_fast_len(4 * min(bound(1), cap))
    while 2 * size <= 4 * cap:
        freqs = np.fft.rfftfreq(size, d=1.0 / sample_rate_hz)
        h = np.abs(np.fft.irfft(response(moves, sample_rate_hz, freqs), n=size))
        floor = max(target, 1e-14 * float(h.max()))
        above = np.nonzero(h >= floor)[0]
        length = int(above[-1]) + 1 if above.size else 1
        if floor > target:
            length += math.ceil(1.5 * math.log(target / floor) / log_r)
        if 2 * length <= size:
            return length + 16
        size = next_fast_len(2 * size)
    return cap + 16


class EqChain:
    """Streaming EQ cascade; ``process`` carries state between calls.

    ``process(block)`` takes ``(channels, frames)`` float64 and returns the equalised block, as the
    recursive filter (started at rest before the first sample) gives it: the compiled recursion
    where the kernels are loaded (chosen at the first block and kept), else to ~1e-11 relative
    a :class:`~analyzer.dsp.convolve.StreamingConvolver` of the exact response sampled on each
    FFT grid, with the impulse response's length as its overlap.
    """

    def __init__(self, moves: Sequence[EqMove], sample_rate_hz: float, channels: int) -> None:
        self.moves = tuple(moves)
        self.sample_rate_hz = float(sample_rate_hz)
        self.channels = int(channels)
        for move in self.moves:  # validate frequencies against this rate now
            biquad_coefficients(move, self.sample_rate_hz)
        self._identity = all(m.kind == "peaking" and m.gain_db == 0.0 for m in self.moves)
        self._convolver: StreamingConvolver | None = None
        self._kernels = jit.Choice(native=True)
        self._sos = np.ascontiguousarray(sos(self.moves, self.sample_rate_hz))
        self._z = np.zeros((self.channels, len(self.moves), 2))

    @property
    def latency_samples(self) -> int:
        """Always 0: the filter is causal and minimum phase; output sample n is input sample n's."""
        return 0

    def _spectrum(self, nfft: int) -> np.ndarray:
        freqs = np.fft.rfftfreq(nfft, d=1.0 / self.sample_rate_hz)
        return response(self.moves, self.sample_rate_hz, freqs)

    def process(self, block: np.ndarray) -> np.ndarray:
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, frames), got shape {x.shape}")
        if self._identity or x.shape[1] == 0:
            return x.copy()
        kernels = self._kernels()
        if kernels is not None:
            y = np.empty(x.shape)
            kernels.biquad_cascade(np.ascontiguousarray(x), self._sos, self._z, y)
            return y
        if self._convolver is None:
            overlap = impulse_response_length(self.moves, self.sample_rate_hz)
            self._convolver = StreamingConvolver(self.channels, overlap, self._spectrum)
        return self._convolver.process(x)


def apply_eq(x: np.ndarray, moves: Sequence[EqMove], sample_rate_hz: float) -> np.ndarray:
    """Equalise a whole ``(channels, frames)`` or ``(frames,)`` array (filter at rest before it)."""
    arr = np.asarray(x, dtype=np.float64)
    two_d = arr if arr.ndim == 2 else arr.reshape(1, -1)
    y = EqChain(moves, sample_rate_hz, two_d.shape[0]).process(two_d)
    return y if arr.ndim == 2 else y.reshape(arr.shape)
