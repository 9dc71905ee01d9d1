"""A streaming, stereo-linked true-peak limiter for mastering.

Signal path, per sample of the (input-gained) signal ``x``, everything in the gain-reduction
domain ``gr = -ln(gain) >= 0`` so that "more reduction" is a maximum and exact:

1. **Detection.** For every sample interval ``[m, m+1]`` the largest ``|value|`` of the two
   samples and of ``DETECT_REFINE * oversampling_factor(fs) - 1`` interpolated phases
   (:func:`analyzer.dsp.oversample.interpolation_matrix`, the true-peak meter's filter on a 4x
   finer grid: 16x at 44.1/48 kHz), the maximum over channels (stereo link). The required
   reduction is ``gr_req[m] = max(0, ln(peak[m] / c))`` with the internal ceiling ``c`` (below).
2. **Hold / look-ahead.** ``held[j] = max gr_req[m]`` for ``m`` in ``[j - 16, j + A + 14]``:
   ``A`` samples of attack look-ahead, widened by the interpolation kernel's 32 taps so that every
   sample that enters the interpolation of a peak is reduced as much as that peak needs.
3. **Release** (program dependent). ``fast[j] = max(held[j], a_f * fast[j-1])`` with the time
   constant ``release_ms / 4``, and ``slow`` the same recursion with ``release_ms`` on a
   "sustained reduction": ``held`` bridged over ``BRIDGE_MS`` (a running maximum, so the gaps
   between the peaks of a low tone do not count), averaged over ``release_ms`` and weighted by
   the fraction of that time spent limiting. The envelope is ``max(held, fast, slow)``: after a
   short peak the sustained part is ~0 and the fast release wins (a click recovers in a few tens
   of ms); sustained limiting builds it up, recovers slowly and does not modulate low tones
   (THD of a 100 Hz sine 6 dB over the ceiling well under 1 %). Steps 2-4 run as one compiled
   sequential pass per chunk (:mod:`analyzer.mastering.limiter_kernel`: built in C at install,
   or numba), with the vectorised numpy form (closed-form recursions) as its reference and
   fallback. Step 1 uses the true-peak grid built at install where there is one.
4. **Attack.** The envelope is averaged over ``A`` samples (a box filter), which turns each step of
   the held envelope into a ramp that reaches the full reduction ``A`` samples after it starts,
   i.e. at the first sample whose interpolation involves the peak: the reduction is complete
   before the peak, nothing overshoots.
5. The gain ``exp(-gr)`` multiplies the input delayed by the latency ``L`` (``lookahead_ms``):
   exactly ``L`` samples, of which 30 serve the interpolation (16 look-ahead taps + the kernel
   hold) and ``A = L - 30`` (or ``attack_ms`` if shorter, but at least 32 samples: a steeper
   ramp modulates the waveform enough to overshoot) the attack ramp.

**Safety margin.** The detector reads a grid; the continuous band-limited signal (what
:func:`analyzer.measure.truepeak.measure_peaks` reports after refining) can lie above the grid
by up to ``1 / cos(pi / (2 F))`` for a full-scale tone at Nyquist (``F`` the detector's grid
factor: 0.042 dB at 16x), and a gain that changes within the 32-tap interpolation window may add
a little. So the detector works against ``c = ceiling * cos(pi / (2 F)) * 10^(-SAFETY_DB / 20)``.
For music the grid reads within ~0.01 dB, so a limited master peaks ~0.05 dB under its ceiling.

**Streaming.** ``process`` returns every sample whose gain is known: after ``n`` input frames,
``n - L`` output frames in all (nothing at first); ``flush`` returns the last ``L``, so the output
is exactly as long as the input and time-aligned with it. Internally the work runs on a fixed grid
of ``CHUNK`` frames (the incomplete chunk is evaluated speculatively, zero-padded, and its ready
prefix emitted), so the output is bit-identical for any block size. Very small blocks cost more
(the incomplete chunk is recomputed on every call).
A signal that never needs reduction comes out bit-exact (gain exactly 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from analyzer.dsp import native
from analyzer.dsp.oversample import HALF_TAPS, interpolation_matrix, oversampling_factor
from analyzer.dsp.units import db_to_amplitude
from analyzer.mastering.limiter_kernel import EXACT_TINY, envelope
from analyzer.types import DEFAULT_CEILING_DBTP

#: Frames per internal processing chunk (fixed, so results do not depend on block sizes). Each
#: chunk's gain computer re-reads the release's history (100 ms, 4,410 frames at 44.1 kHz):
#: 32,768 rather than 8,192 took the limiting pass of a 4-minute master from 0.45 to 0.30 s,
#: with the same 24-bit master (box sums restart at other frames: ~1e-16 relative).
CHUNK = 32768
#: The slow release follows the reduction bridged over this long (gaps between the peaks of
#: a waveform down to ~40 Hz), so that steady low tones are not modulated (distortion).
BRIDGE_MS = 12.0
#: Intervals per row of the banded interpolation product.
GROUP = 8
#: The detector's grid is this many times finer than the true-peak meter's.
DETECT_REFINE = 4
#: Extra internal headroom (dB) for gain changes inside the interpolation window.
SAFETY_DB = 0.01
#: Fast release time constant = release_ms / FAST_RELEASE_DIVISOR.
FAST_RELEASE_DIVISOR = 4.0
_TAPS = 2 * HALF_TAPS
#: Samples of the latency used by detection and the kernel hold (16 + 14 with 32 taps).
DETECT_DELAY = _TAPS - 2
#: The look-ahead where the sample rate allows it (the attack ramp is complete before the peak).
DEFAULT_LOOKAHEAD_MS = 2.0
#: Shortest attack ramp: a faster gain change modulates the waveform enough to overshoot.
MIN_ATTACK_SAMPLES = _TAPS
_NEPER_TO_DB = 20.0 / math.log(10.0)
_FIXED = float(2**32)


@dataclass(frozen=True)
class LimiterStats:
    """What the limiter did, for reports (gain reduction in dB, positive = quieter)."""

    max_gain_reduction_db: float
    mean_gain_reduction_db: float
    limited_fraction: float  # frames with more than 0.01 dB of reduction
    frames: int
    latency_samples: int
    ceiling_dbtp: float
    input_gain_db: float


def _banded_interpolation(factor: int) -> np.ndarray:
    """The interpolation matrix of ``factor`` phases for ``GROUP`` consecutive intervals per row
    (a banded matrix, as in the true-peak meter): a wide product is ~10x faster than
    (C x taps) @ (taps x phases). Column p*GROUP + b is phase p of interval b; float32 products
    (~1e-6 relative, far inside the margin)."""
    h = interpolation_matrix(factor).astype(np.float32)
    phases = h.shape[1]
    band = np.zeros((_TAPS + GROUP - 1, phases * GROUP), dtype=np.float32)
    for b in range(GROUP):
        band[b : b + _TAPS, b::GROUP] = h
    return band


def default_lookahead_ms(sample_rate_hz: int) -> float:
    """2 ms, or the detector's own delay plus one sample where that is longer (below about
    15.5 kHz: 3.88 ms at 8 kHz), so that every supported rate can be limited."""
    return max(DEFAULT_LOOKAHEAD_MS, (DETECT_DELAY + 1) * 1000.0 / sample_rate_hz)


class TruePeakLimiter:
    """Streaming true-peak limiter for ``(channels, frames)`` float64 blocks."""

    def __init__(
        self,
        sample_rate_hz: int,
        channels: int,
        *,
        ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
        lookahead_ms: float | None = None,
        attack_ms: float | None = None,
        release_ms: float = 100.0,
        input_gain_db: float = 0.0,
        record_peaks: bool = False,
        replay_peaks: list[np.ndarray] | None = None,
        detect_only: bool = False,
    ) -> None:
        if sample_rate_hz <= 0 or channels <= 0:
            raise ValueError("sample rate and channel count must be positive")
        if release_ms <= 0:
            raise ValueError("release_ms must be positive")
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.ceiling_dbtp = float(ceiling_dbtp)
        self.input_gain_db = float(input_gain_db)
        fs = self.sample_rate_hz
        if lookahead_ms is None:
            lookahead_ms = default_lookahead_ms(fs)
        self.latency_samples = round(lookahead_ms * fs / 1000.0)
        if self.latency_samples < DETECT_DELAY + 1:
            raise ValueError(
                f"lookahead_ms={lookahead_ms} is too short: the detector needs at least "
                f"{(DETECT_DELAY + 1) * 1000.0 / fs:.2f} ms at {fs} Hz"
            )
        max_attack = self.latency_samples - DETECT_DELAY
        if attack_ms is None:
            self.attack_samples = max_attack
        else:
            wanted = max(round(attack_ms * fs / 1000.0), MIN_ATTACK_SAMPLES)
            self.attack_samples = int(min(wanted, max_attack))
        self.release_ms = float(release_ms)
        self._tau_slow = max(release_ms * fs / 1000.0, 1.0)
        self._tau_fast = max(self._tau_slow / FAST_RELEASE_DIVISOR, 1.0)
        self._avg_width = max(round(self._tau_slow), 1)
        self.detect_factor = DETECT_REFINE * oversampling_factor(fs)
        self._band = _banded_interpolation(self.detect_factor)
        # The true-peak meter's grid built for this CPU (analyzer.dsp.native), where built:
        # ~2x the banded product at 15 phases. Its float32 sums run in another order than the
        # product's (as OpenBLAS's own order differs between CPUs): ~1e-7 relative, far inside
        # the margin below.
        library = native.load()
        self._grid = library.truepeak_rows if library is not None else None
        if self.detect_factor - 1 > native.GRID_MAX_PHASES:  # below ~5.3 kHz: the product
            self._grid = None
        self._grid_h = np.ascontiguousarray(interpolation_matrix(self.detect_factor),
                                            dtype=np.float32)  # fmt: skip
        self._grid_max = np.empty(CHUNK)
        self._grid_arg = np.empty(CHUNK, dtype=np.int8)
        margin = math.cos(math.pi / (2 * self.detect_factor)) * db_to_amplitude(-SAFETY_DB)
        self._ln_ceiling = math.log(db_to_amplitude(self.ceiling_dbtp) * margin)
        self._in_gain = db_to_amplitude(self.input_gain_db)
        self._init_state()
        # Detection is linear in the input gain: the peaks of one run (divided by its gain)
        # serve any other gain on the same signal (loudness trials, the final pass).
        self.recorded_peaks: list[np.ndarray] | None = [] if record_peaks else None
        self.recorded_blocks: list[int] = []  # the block sizes fed (a replay feeds the same)
        self._replay = replay_peaks
        self._spec_peak: np.ndarray | None = None
        self._detect_only = detect_only  # record the detection; no gain, no output

    def _init_state(self) -> None:
        """The carried state: zeros = silence before the first sample."""
        a, fs, channels = self.attack_samples, self.sample_rate_hz, self.channels
        self._x_hist = np.zeros((channels, _TAPS - 1))
        self._delay = np.zeros((channels, self.latency_samples))
        # the gain computer's histories: required reduction, bridge, average, occupancy,
        # envelope (attack ramp), gain delay; and the fast and slow releases' last values
        self._hist = [
            np.zeros(a + DETECT_DELAY),
            np.zeros(max(round(BRIDGE_MS * fs / 1000.0), 1) - 1),
            np.zeros(self._avg_width - 1),
            np.zeros(self._avg_width - 1),
            np.zeros(a - 1),
            np.zeros(self.latency_samples - DETECT_DELAY - a),
        ]
        self._prev = np.zeros(2)
        self._pending: list[np.ndarray] = []
        self._pending_frames = 0
        self._n0 = 0  # global index of the first input frame not yet committed
        self._next_out = 0  # global index of the next output frame to emit
        self._in_frames = 0
        self._out_frames = 0
        self._flushed = False
        self._gr_max = 0.0
        self._gr_sum = 0
        self._limited = 0

    # -- public -----------------------------------------------------------------------------

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed ``block`` (channels, frames); return every output sample whose gain is known:
        the input so far minus the latency (fewer samples than fed at first)."""
        if self._flushed:
            raise RuntimeError("the limiter was flushed; make a new one")
        block = np.asarray(block, dtype=np.float64)
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, frames), got {block.shape}")
        self._in_frames += block.shape[1]
        if self.recorded_peaks is not None:
            self.recorded_blocks.append(block.shape[1])
        return self._advance(block * self._in_gain if self._in_gain != 1.0 else block)

    def flush(self) -> np.ndarray:
        """End of input: return the rest, so that the total output is as long as the input."""
        if self._flushed:
            return np.zeros((self.channels, 0))
        self._flushed = True
        out = self._advance(np.zeros((self.channels, self.latency_samples)))
        if self.recorded_peaks is not None and self._spec_peak is not None:
            self.recorded_peaks.append(self._spec_peak)
        return out

    @property
    def gain_reduction_db(self) -> tuple[float, float]:
        """(max, mean) gain reduction in dB over the output so far."""
        s = self.stats
        return s.max_gain_reduction_db, s.mean_gain_reduction_db

    @property
    def stats(self) -> LimiterStats:
        n = self._out_frames
        return LimiterStats(
            max_gain_reduction_db=self._gr_max * _NEPER_TO_DB,
            mean_gain_reduction_db=(self._gr_sum / _FIXED / n * _NEPER_TO_DB) if n else 0.0,
            limited_fraction=(self._limited / n) if n else 0.0,
            frames=n,
            latency_samples=self.latency_samples,
            ceiling_dbtp=self.ceiling_dbtp,
            input_gain_db=self.input_gain_db,
        )

    def replayed_reductions(self, tiny: float = EXACT_TINY) -> Iterator[tuple[int, np.ndarray]]:
        """The gain reduction (nepers) this limiter applies, from its replayed detection alone
        (no signal): ``(first, gr)`` for each chunk with any reduction, ``gr[j]`` applying to
        output frame ``first + j`` (frames past the input's end included). The same values as
        :meth:`process` uses (releases end at zero below ``tiny`` nepers, see
        :func:`~analyzer.mastering.limiter_kernel.envelope`); chunks that need none are skipped
        without running the stages."""
        if self._replay is None:
            raise RuntimeError("replayed_reductions needs replay_peaks")
        params = (self.attack_samples, self._tau_fast, self._tau_slow)
        ceiling = math.exp(self._ln_ceiling) * (1.0 - 1e-6)  # float32 peaks: skip only below
        quiet = np.zeros(CHUNK)
        for k, recorded in enumerate(self._replay):
            peak = recorded * self._in_gain
            if float(recorded.max()) * self._in_gain > ceiling:
                with np.errstate(divide="ignore"):
                    req = np.maximum(np.log(peak) - self._ln_ceiling, 0.0)
            else:
                req = quiet
            gr = envelope(req, self._hist, self._prev, params, tiny)
            if gr.any():
                yield k * CHUNK - self.latency_samples, gr

    # -- internals --------------------------------------------------------------------------

    def _interpolated_max(self, xj: np.ndarray, c: int) -> np.ndarray:
        """Largest ``|interpolated value|`` inside each of the ``c`` intervals of ``xj``
        (history + chunk; interval ``i`` uses ``xj[i : i + 32]``)."""
        groups = -(-c // GROUP)
        x32 = np.zeros(groups * GROUP + _TAPS - 1, dtype=np.float32)
        x32[: xj.size] = xj
        view = np.lib.stride_tricks.as_strided(
            x32, shape=(groups, _TAPS + GROUP - 1), strides=(GROUP * 4, 4)
        )
        y = np.matmul(np.ascontiguousarray(view), self._band)
        np.abs(y, out=y)
        y3 = y.reshape(groups, -1, GROUP)
        out = y3[:, 0, :].copy()
        for p in range(1, y3.shape[1]):  # faster than a reduction over a short middle axis
            np.maximum(out, y3[:, p, :], out=out)
        return out.reshape(-1)[:c]

    def _advance(self, block: np.ndarray) -> np.ndarray:
        """Append input; run the complete chunks (committing their state) and, speculatively,
        the incomplete one padded with zeros. Every stage is causal in the chunk and the chunk
        grid is fixed, so the gains of the samples that are ready come out bit-identical to
        those the complete chunk will give: the output never depends on the block sizes."""
        if block.shape[1]:
            self._pending.append(block)
            self._pending_frames += block.shape[1]
        if not self._pending_frames:
            return np.zeros((self.channels, 0))
        data = np.concatenate(self._pending, axis=1) if len(self._pending) > 1 else self._pending[0]
        outs = []
        full = (data.shape[1] // CHUNK) * CHUNK
        detected = None
        if self._grid is not None and self._replay is None and full > CHUNK:
            # The built grid's value for an interval depends on its 32 samples only, not on
            # the chunking: detect every complete chunk in one call per channel (fewer
            # Python steps under the GIL, which the meter threads beside it share).
            detected = self._detect(np.concatenate([self._x_hist, data[:, :full]], axis=1),
                                    full)  # fmt: skip
        for i in range(0, full, CHUNK):
            ahead = None if detected is None else detected[i : i + CHUNK]
            outs.append(self._run(data[:, i : i + CHUNK], CHUNK, commit=True, peak=ahead))
        rest = data[:, full:]
        self._pending = [rest] if rest.shape[1] else []
        self._pending_frames = rest.shape[1]
        if rest.shape[1]:
            padded = np.zeros((self.channels, CHUNK))
            padded[:, : rest.shape[1]] = rest
            outs.append(self._run(padded, rest.shape[1], commit=False))
        return np.concatenate(outs, axis=1) if outs else np.zeros((self.channels, 0))

    def _detect(self, joined: np.ndarray, c: int) -> np.ndarray:
        """The detected peak of intervals ``[n0 - 16, n0 + c - 17]`` from ``joined`` (the
        31-sample history, then ``c`` new samples): the maximum over channels of the two
        samples' and the interpolated phases' absolute values."""
        peak = np.zeros(c)
        for ch in range(self.channels):
            xj = joined[ch]
            if self._grid is not None:
                # rows: the intervals; "sample": the interval's left one, then the right
                grid_max = self._grid_max[:c] if c <= CHUNK else np.empty(c)
                arg = self._grid_arg[:c] if c <= CHUNK else np.empty(c, dtype=np.int8)
                self._grid(xj, 0, HALF_TAPS - 1, self._grid_h, math.inf, grid_max, arg)
                np.maximum(peak, grid_max, out=peak)
                np.maximum(peak, np.abs(xj[HALF_TAPS : HALF_TAPS + c]), out=peak)
                continue
            interp = self._interpolated_max(xj, c)
            left = np.abs(xj[HALF_TAPS - 1 : HALF_TAPS - 1 + c])
            right = np.abs(xj[HALF_TAPS : HALF_TAPS + c])
            np.maximum(peak, interp, out=peak)
            np.maximum(peak, left, out=peak)
            np.maximum(peak, right, out=peak)
        return peak

    def _run(
        self, x: np.ndarray, ready: int, *, commit: bool, peak: np.ndarray | None = None
    ) -> np.ndarray:
        """One chunk of input ``x[n0 : n0 + CHUNK]`` (only the first ``ready`` frames real) ->
        the not yet emitted part of the output ``y[n0 - L : n0 - L + ready]``; ``peak``: its
        detection when already made (:meth:`_advance`)."""
        c = x.shape[1]
        # 1. detection: intervals m in [n0 - 16, n0 + C - 17]
        joined = np.concatenate([self._x_hist, x], axis=1)
        if self._replay is not None:
            peak = self._replay[self._n0 // CHUNK] * self._in_gain
        else:
            if peak is None:
                peak = self._detect(joined, c)
            if self.recorded_peaks is not None:
                unity = (peak / self._in_gain).astype(np.float32)
                if commit:
                    self.recorded_peaks.append(unity)
                    self._spec_peak = None
                else:
                    self._spec_peak = unity
        if self._detect_only:
            if commit:
                self._x_hist = joined[:, c:].copy()
                self._n0 += c
            return np.zeros((self.channels, 0))
        with np.errstate(divide="ignore"):
            req = np.maximum(np.log(peak) - self._ln_ceiling, 0.0)
        # 2.-4. hold, release, attack ramp (and the gain delay of a shorter attack)
        hist, prev = (self._hist, self._prev) if commit else (list(self._hist), self._prev.copy())
        gr = envelope(req, hist, prev, (self.attack_samples, self._tau_fast, self._tau_slow))
        # 5. apply to the delayed input
        dj = np.concatenate([self._delay, x], axis=1)
        first = self._n0 - self.latency_samples  # global index of this chunk's first output
        if commit:
            self._x_hist = joined[:, c:].copy()
            self._delay = dj[:, c:].copy()
            self._n0 += c
        lo = max(self._next_out, first, 0) - first
        hi = min(first + ready, self._in_frames) - first
        if hi <= lo:
            return np.zeros((self.channels, 0))
        g = gr[lo:hi]
        y = dj[:, lo:hi] * np.exp(-g)
        self._next_out = first + hi
        self._gr_max = max(self._gr_max, float(g.max()))
        # fixed point (2^-32 neper): an exact integer sum, independent of the block sizes
        self._gr_sum += int(np.rint(g * _FIXED).astype(np.int64).sum())
        self._limited += int(np.count_nonzero(g > 0.01 / _NEPER_TO_DB))
        self._out_frames += hi - lo
        return y


def detection_margin_db(sample_rate_hz: int) -> float:
    """How far under the ceiling the detector holds its grid (dB): the grid's worst case
    ``1 / cos(pi / (2 F))`` and ``SAFETY_DB`` (see the module's *Safety margin*)."""
    factor = DETECT_REFINE * oversampling_factor(sample_rate_hz)
    return -20.0 * math.log10(math.cos(math.pi / (2 * factor))) + SAFETY_DB


def gain_reduction_db(peak_db: float, ceiling_dbtp: float, sample_rate_hz: int) -> float:
    """The limiter's maximum gain reduction (dB) on a signal whose detected peak (this
    limiter's detection, after the input gain) is ``peak_db``: the envelope is a hold, decays
    and a box average of the required reduction ``ln(peak / c)``, none of which exceeds its
    maximum, and the hold is wider than the attack ramp, so the ramp reaches it. Exact for the
    detection's peak; for a true-peak meter's reading (the continuous peak, at or above the
    detector's grid) it is an upper bound."""
    return max(0.0, peak_db - ceiling_dbtp + detection_margin_db(sample_rate_hz))


def limit(
    x: np.ndarray, sample_rate_hz: int, **settings: float | None
) -> tuple[np.ndarray, LimiterStats]:
    """Limit a whole array ``(channels, frames)`` (or 1-D mono); same shape out, not delayed."""
    arr = np.asarray(x, dtype=np.float64)
    mono = arr.ndim == 1
    arr2 = np.atleast_2d(arr)
    lim = TruePeakLimiter(sample_rate_hz, arr2.shape[0], **settings)  # type: ignore[arg-type]
    step = 64 * CHUNK  # bounded temporaries; the result does not depend on the step
    parts = [lim.process(arr2[:, i : i + step]) for i in range(0, arr2.shape[1], step)]
    y = np.concatenate([*parts, lim.flush()], axis=1)
    return (y[0] if mono else y), lim.stats
