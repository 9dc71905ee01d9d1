"""Time-domain rendering of a mix through a playback device (issue 5, "Rendering"): what the
device would play, written as WAV files so the user can listen.

The chain per device (all streaming, carried state, flat memory):

1. **Channels**: the input's first two channels are L and R (a mono input feeds both; channels
   beyond the second are ignored). With ``M = (L + R) / 2`` and ``S = (L - R) / 2`` the output
   is ``L' = M + S'``, ``R' = M - S'`` where ``S' = S`` (stereo), ``0`` (mono), ``width * S``
   (narrow) or ``S`` high-passed at ``mono_below_hz`` (club subs: only the side signal is
   filtered, by a minimum-phase 4th-order Butterworth-magnitude FIR, so the low end is mono
   and the mid path stays untouched; a complementary split ``x - lowpass(x)`` is not used
   because with a minimum-phase low-pass it is not a high-pass).
2. **Device response**: a minimum-phase FIR (:func:`device_fir`, real-cepstrum method) of
   :func:`~analyzer.playback.devices.magnitude_db`, applied to M and S' by streaming FFT
   convolution (:mod:`analyzer.dsp.convolve`).
3. **Level behaviour** (``multiband_limiter`` / ``bass_limiter``): the filtered output is
   split at the crossovers by linear-phase windowed-sinc low-passes into bands that sum exactly
   to the (delayed) input, so below threshold the limiter is transparent; each band gets a
   feed-forward gain from a stereo-linked power envelope (attack/release one-pole, updated per
   1 ms chunk, gain ramped linearly per sample, a 1-chunk detection delay keeps it causal and
   block-size independent). Thresholds are acoustic dB SPL, mapped to the signal by the
   playback mapping of :mod:`analyzer.playback.translate`: ``SPL = dBFS - integrated_LUFS +
   level`` with ``dBFS = 10 log10(2 * mean square)`` (a full-scale sine reads 0 dB, as the
   spectrum meter's band levels). The crossover FIR delays limited devices by ``(N - 1) / 2``
   samples (≤ 20 ms); this latency is removed from the output (the first samples are dropped
   and :meth:`DeviceRenderer.flush` returns the matching tail).
4. **Car image**: ``balance_db`` (left louder by that much, split ±half) and ``right_delay_ms``
   (rounded to the nearest sample).
5. **Road noise** (``noise == "car_road"``): independent Gaussian noise per channel (seeded),
   shaped by a minimum-phase FIR to :func:`~analyzer.playback.devices.car_noise_band_levels_db`
   at ``speed_kmh`` (1/3-octave band levels converted to a per-Hz density), at the level the
   playback mapping implies (dB SPL → dBFS by ``dBFS = SPL + integrated_LUFS - level``).

Without a finite integrated loudness (silence) the limiter is bypassed and no noise is added:
there is no way to place an acoustic level on the signal.

Public API: :class:`DeviceRenderer` (and :func:`device_fir`, whose FIR design lives in
:mod:`analyzer.playback.device_fir`); files: :mod:`analyzer.playback.render_group`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from analyzer.dsp.convolve import FanOutConvolver, StreamingConvolver
from analyzer.dsp.units import db_to_amplitude
from analyzer.io import display_path
from analyzer.playback.device_fir import (
    default_taps,
    device_fir,
    linear_phase_lowpass,
    min_phase_fir,
    road_noise_fir,
)
from analyzer.playback.device_models import Device, HighPass
from analyzer.playback.device_response import magnitude_db

#: Limiter envelope / gain update interval (ms).
CHUNK_MS = 1.0

ProgressCallback = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# Streaming building blocks
# --------------------------------------------------------------------------------------------


class SampleDelay:
    """Integer-sample delay of one row of a (rows, frames) stream."""

    def __init__(self, samples: int) -> None:
        self.buf = np.zeros(samples)

    def process(self, x: np.ndarray) -> np.ndarray:
        if self.buf.size == 0:
            return x
        joined = np.concatenate([self.buf, x])
        self.buf = joined[x.size :]
        return joined[: x.size]


#: Chunk tables of :func:`_chunk_tables`, kept for the latest few (length, chunk) pairs.
_CHUNK_TABLES: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}


def _chunk_tables(length: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """``i // chunk`` and ``(i % chunk + 1) / chunk`` for ``i < length`` (rounded up to whole
    blocks of 65536, so the blocks of a pass share one table)."""
    size = -(-length // 65536) * 65536 + chunk
    got = _CHUNK_TABLES.get((size, chunk))
    if got is None:
        i = np.arange(size)
        got = (i // chunk, (i % chunk + 1) / chunk)
        if len(_CHUNK_TABLES) >= 4:
            _CHUNK_TABLES.pop(next(iter(_CHUNK_TABLES)), None)
        _CHUNK_TABLES[(size, chunk)] = got
    return got


class _BandLimiter:
    """Feed-forward limiter of one band (stereo-linked): power envelope with attack/release,
    updated per chunk; gain above ``threshold`` (dB, in the signal's ``10 log10(2 ms)`` units)
    follows ``ratio``; per-sample gain ramps linearly between consecutive chunk gains, one
    chunk late (causal, so any block size gives the same output)."""

    def __init__(
        self,
        threshold_db: float,
        ratio: float,
        attack_ms: float,
        release_ms: float,
        chunk: int,
        sample_rate_hz: float,
    ) -> None:
        self.threshold_db = threshold_db
        self.slope = 1.0 / ratio - 1.0
        self.chunk = chunk
        self.a_att = 1.0 - math.exp(-chunk / (attack_ms * 1e-3 * sample_rate_hz))
        self.a_rel = 1.0 - math.exp(-chunk / (release_ms * 1e-3 * sample_rate_hz))
        self.env = 0.0
        self.acc = 0.0  # summed power of the current, incomplete chunk
        self.pos = 0  # samples already in the current chunk
        self.g_prev = 1.0  # gain after chunk j-2
        self.g_cur = 1.0  # gain after chunk j-1: samples of chunk j ramp g_prev -> g_cur

    def _gains(self, env: np.ndarray) -> np.ndarray:
        """The gain after each chunk from its envelope (vectorised: the envelope recursion is
        the only sequential part)."""
        over = np.full(env.shape, -1.0)
        live = env > 0.0
        over[live] = 10.0 * np.log10(2.0 * env[live]) - self.threshold_db
        return np.where(over > 0.0, db_to_amplitude(np.maximum(over, 0.0) * self.slope), 1.0)

    def process(self, band: np.ndarray) -> np.ndarray:
        n = band.shape[1]
        if n == 0:
            return band
        p = band[0] * band[0] if band.shape[0] == 1 else np.mean(band * band, axis=0)
        c, pos = self.chunk, self.pos
        # Chunk index (relative to the current chunk) of every sample and its ramp position
        # ``(pos_in + 1) / c``: slices of tables made once (the same numbers, no per-block
        # integer division).
        div, ramp = _chunk_tables(pos + n, c)
        chunk_of = div[pos : pos + n]
        n_chunks = int(chunk_of[-1]) + 1
        sums = np.bincount(chunk_of, weights=p, minlength=n_chunks)
        sums[0] += self.acc
        complete = (pos + n) // c  # chunks completed in this block
        env, a_att, a_rel = self.env, self.a_att, self.a_rel
        envs = []
        for m in (sums[:complete] / c).tolist():
            env += (a_att if m > env else a_rel) * (m - env)
            envs.append(env)
        self.env = env
        # Chunk j's samples ramp from the gain after chunk j-2 to that after chunk j-1.
        seq = np.concatenate([[self.g_prev, self.g_cur], self._gains(np.array(envs))])
        g_start, g_end = seq[:n_chunks], seq[1 : n_chunks + 1]
        self.g_prev, self.g_cur = float(seq[-2]), float(seq[-1])
        if complete < n_chunks:
            self.acc = float(sums[complete])
        else:
            self.acc = 0.0
        self.pos = (pos + n) % c
        start = g_start[chunk_of]
        gain = g_end[chunk_of]
        gain -= start
        gain *= ramp[pos : pos + n]
        gain += start  # g_start + (g_end - g_start) * t
        return band * gain


class _Limiter:
    """Band split (linear-phase, perfectly reconstructing up to a delay) + per-band limiters."""

    def __init__(
        self, device: Device, sample_rate_hz: float, offset_db: float, rows: int = 2
    ) -> None:
        self.rows = rows  # 2: L and R; 1: a mono device's one signal (both speakers alike)
        lev = device.level
        assert lev is not None
        nyq = sample_rate_hz / 2.0
        xovers = [f for f in lev.crossovers_hz if f < nyq * 0.9]
        if lev.kind == "bass_limiter":
            xovers = xovers[:1]
            thresholds = [lev.thresholds_db_spl[0]] + [math.inf] * len(xovers)
        else:
            thresholds = list(lev.thresholds_db_spl[: len(xovers) + 1])
        taps = 0
        if xovers:
            taps = math.ceil(8.0 * sample_rate_hz / min(xovers)) | 1
        self.delay = (taps - 1) // 2 if taps else 0
        firs = [linear_phase_lowpass(f, sample_rate_hz, taps) for f in xovers]
        if firs:
            ident = np.zeros(taps)
            ident[self.delay] = 1.0
            edges = [np.zeros(taps), *firs, ident]
            bands = [edges[i + 1] - edges[i] for i in range(len(edges) - 1)]
            # Rows: band k of L, band k of R for each band (band k alone for a mono signal).
            self.split: FanOutConvolver | None = FanOutConvolver(np.array(bands), rows)
        else:
            self.split = None
        chunk = max(1, round(CHUNK_MS * 1e-3 * sample_rate_hz))
        # Threshold in signal dB: SPL = dBFS - I + level  =>  dBFS = SPL - offset.
        self.limiters = [
            _BandLimiter(
                t - offset_db, lev.ratio, lev.attack_ms, lev.release_ms, chunk, sample_rate_hz
            )
            for t in thresholds
        ]

    def _apply(self, bands: np.ndarray) -> np.ndarray:
        r = self.rows
        out = np.zeros((r, bands.shape[1]))
        for k, lim in enumerate(self.limiters):
            b = bands[r * k : r * k + r]
            # The power of identical L and R rows is that of one: a mono signal is limited alike.
            out += b if math.isinf(lim.threshold_db) else lim.process(b)
        return out

    def process(self, y: np.ndarray) -> np.ndarray:
        if self.split is None:
            return self._apply(y)
        return self._apply(self.split.process(y))

    def flush(self) -> np.ndarray:
        if self.split is None:
            return np.zeros((self.rows, 0))
        return self._apply(self.split.flush())


# --------------------------------------------------------------------------------------------
# The renderer
# --------------------------------------------------------------------------------------------


class DeviceRenderer:
    """Streaming render of one device: :meth:`process` takes ``(channels, frames)`` float64
    blocks and returns ``(2, frames)``; :meth:`flush` returns the filter tail once at the end.
    The output is the same for any block sizes (to float rounding).

    ``integrated_lufs`` (the input's integrated loudness; ``None`` or non-finite bypasses the
    limiter and the noise) and ``level_db_spl`` (default: the device's nominal level) set the
    playback mapping ``SPL = dBFS - integrated_lufs + level``. ``speed_kmh`` and ``seed`` set
    the car's road noise; ``noise=False`` leaves it out (what the device itself does).
    """

    def __init__(
        self,
        device: Device,
        sample_rate_hz: int,
        channels: int,
        *,
        integrated_lufs: float | None,
        level_db_spl: float | None = None,
        speed_kmh: float = 100.0,
        seed: int = 0,
        noise: bool = True,
    ) -> None:
        if channels < 1:
            raise ValueError("channels must be >= 1")
        self.device = device
        self.sample_rate_hz = int(sample_rate_hz)
        self.channels = int(channels)
        self.level_db_spl = device.nominal_level_db_spl if level_db_spl is None else level_db_spl
        levelled = integrated_lufs is not None and math.isfinite(integrated_lufs)
        self.offset_db = self.level_db_spl - integrated_lufs if levelled else None
        fs = self.sample_rate_hz

        h = device_fir(device, fs)
        mode = device.channels_mode
        self.mono = mode == "mono" or self.channels == 1
        self.side_gain = device.width if mode == "narrow" else 1.0
        rows = [h]
        if not self.mono:
            side_h = h
            if device.mono_below_hz is not None:
                hp = HighPass(device.mono_below_hz, 4)
                n = max(h.size, default_taps(device.mono_below_hz, fs))
                side_h = min_phase_fir(lambda f: magnitude_db(device, f) + hp.response_db(f), fs, n)
            n = max(h.size, side_h.size)
            rows = [_fit(h, n), _fit(side_h, n)]
        self.fir = StreamingConvolver.from_taps(np.array(rows), len(rows))

        self.limiter = None
        if device.level is not None and self.offset_db is not None:
            self.limiter = _Limiter(device, fs, self.offset_db, 1 if self.mono else 2)
        self.latency = self.limiter.delay if self.limiter else 0
        self._to_skip = self.latency

        b = device.balance_db
        self.channel_gain = np.array([[10.0 ** (b / 40.0)], [10.0 ** (-b / 40.0)]])
        d = round(device.right_delay_ms * 1e-3 * fs)
        self.right_delay = SampleDelay(max(d, 0)) if d > 0 else None

        self.noise = None
        if noise and device.noise == "car_road" and self.offset_db is not None:
            nfir = road_noise_fir(speed_kmh, fs, self.offset_db)
            self.noise = StreamingConvolver.from_taps(np.array([nfir, nfir]), 2)
            self.rng = np.random.default_rng(seed)
            self.noise_warm = nfir.size  # noise starts in steady state (pre-roll)
            self.noise.process(self._white(self.noise_warm))
        self._flushed = False
        #: Rows of :meth:`render_filtered`: 1 for a mono device whose two speakers play the same
        #: signal (no balance, delay or noise), else 2 (L, R).
        self.out_rows = 1 if (self.mono and self.noise is None and not device.balance_db
                              and self.right_delay is None) else 2  # fmt: skip
        #: True: the road noise is kept apart (:meth:`take_noise`), not added to the output.
        self.split_noise = False
        self.noise_parts: list[np.ndarray] = []

    def _white(self, n: int) -> np.ndarray:
        return self.rng.standard_normal((n, 2)).T  # the convolver copies it once anyway

    def _post(self, y: np.ndarray) -> np.ndarray:
        """Limiter latency removal, balance, right delay, noise on a linear-path block: ``(2,
        n)``, or ``(1, n)`` for a mono device (kept so when :attr:`out_rows` is 1)."""
        if self._to_skip:
            k = min(self._to_skip, y.shape[1])
            self._to_skip -= k
            y = y[:, k:]
        if self.out_rows == 1:
            return y
        if y.shape[0] == 1:
            y = np.concatenate([y, y])
        y = y * self.channel_gain if self.device.balance_db else y
        if self.right_delay is not None:
            y[1] = self.right_delay.process(y[1])
        if self.noise is not None and y.shape[1]:
            noise = self.noise.process(self._white(y.shape[1]))
            if self.split_noise:
                self.noise_parts.append(noise)
            else:
                y = y + noise
        return y

    def take_noise(self) -> np.ndarray | None:
        """With ``split_noise``: the road noise of the blocks returned since the last call
        (to be added to them), or None for a device without noise."""
        if self.noise is None:
            return None
        parts, self.noise_parts = self.noise_parts, []
        return np.concatenate(parts, axis=1) if parts else np.zeros((2, 0))

    def _linear(self, ms: np.ndarray, flushing: bool = False) -> np.ndarray:
        if self.mono:
            y = ms[:1]
        else:
            m, s = ms[0], ms[1] * self.side_gain
            y = np.stack([m + s, m - s])
        if self.limiter is not None:
            y = self.limiter.process(y)
            if flushing:
                y = np.concatenate([y, self.limiter.flush()], axis=1)
        return y

    def process(self, block: np.ndarray) -> np.ndarray:
        """Render one ``(channels, frames)`` block; returns ``(2, frames)`` (fewer only for the
        first blocks of a limited device, whose crossover latency is removed)."""
        x = np.asarray(block, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != self.channels:
            raise ValueError(f"expected a ({self.channels}, frames) block")
        if self._flushed:
            raise RuntimeError("process() after flush()")
        return _both(self.render_filtered(self.fir.process(self.fir_input(x))))

    def fir_input(self, x: np.ndarray) -> np.ndarray:
        """The rows the device FIR takes from a ``(channels, frames)`` block: mid ``(L + R) / 2``
        and (not for a mono device) side ``(L - R) / 2``."""
        left = x[0]
        right = x[1] if self.channels > 1 else x[0]
        mid = 0.5 * (left + right)
        return mid[None] if self.mono else np.stack([mid, 0.5 * (left - right)])

    def render_filtered(self, filtered: np.ndarray, flushing: bool = False) -> np.ndarray:
        """The rest of the chain after the device FIR (``filtered``: :meth:`fir_input` through
        the FIR, by this renderer's convolver or a shared one): ``(out_rows, frames)``."""
        return self._post(self._linear(filtered, flushing))

    def flush(self) -> np.ndarray:
        """The tail after the last block (filter, crossover and delay ring-out), ``(2, n)``."""
        return _both(self.flush_filtered(self.fir.flush()))

    def flush_filtered(self, tail: np.ndarray) -> np.ndarray:
        """:meth:`flush` given the FIR's ring-out ``tail``: ``(out_rows, n)``."""
        self._flushed = True
        y = self._post(self._linear(tail, flushing=True))
        if self.right_delay is not None:
            tail = self.right_delay.process(np.zeros(self.right_delay.buf.size))
            extra = np.zeros((2, tail.size))
            extra[1] = tail  # the delay line holds the right channel after its balance gain
            if self.noise is not None:
                noise = self.noise.process(self._white(tail.size))
                if self.split_noise:
                    self.noise_parts.append(noise)
                else:
                    extra = extra + noise
            y = np.concatenate([y, extra], axis=1)
        return y

    def peak_bound(self, input_peak: float) -> float:
        """Upper bound of the output's absolute sample value for inputs within ±``input_peak``,
        or ``inf`` when none holds (road noise is Gaussian)."""
        if self.noise is not None:
            return math.inf
        h = self.fir.taps
        assert h is not None
        l1 = np.abs(h).sum(axis=1)
        # L' = h*M + hs*S' with |M|, |S| <= peak; without a separate side FIR L' = h*(mix of
        # L and R with weights summing to 1), so |L'| <= peak * ||h||_1.
        separate = h.shape[0] == 2 and not np.array_equal(h[0], h[1])
        bound = input_peak * float(l1.sum() if separate else l1[0])
        if self.limiter is not None and self.limiter.split is not None:
            split = self.limiter.split.taps
            assert split is not None
            bound *= float(np.abs(split).sum(axis=1).sum()) / self.limiter.rows  # per band
        return bound * float(self.channel_gain.max())


def _both(y: np.ndarray) -> np.ndarray:
    """``(2, n)``: a mono row played on both speakers."""
    return np.concatenate([y, y]) if y.shape[0] == 1 else y


def _fit(h: np.ndarray, n: int) -> np.ndarray:
    return h[:n] if h.size >= n else np.pad(h, (0, n - h.size))


def safe_file_part(name: str) -> str:
    """``name`` as one file-name component: every character other than letters, digits and
    ``. _ - +`` becomes ``_`` (so a device named ``x/../../outside`` cannot reach outside the
    render folder: ``/`` and ``\\`` are gone, and a component between a stem and ``.wav`` is
    never ``..``)."""
    return "".join(ch if ch.isalnum() or ch in "._-+" else "_" for ch in name) or "_"


#: Longest file name (bytes) on Linux, macOS and Windows file systems.
_NAME_MAX = 255
#: Room left in a render's name for the writer's hidden temporary (``.NAME.XXXXXXXX.part``
#: is shortened by the writer itself) and a margin: a render name stays well under NAME_MAX.
_RENDER_NAME_MAX = 240


def _cut_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits in ``limit`` bytes (whole
    characters only)."""
    raw = os.fsencode(text)
    if len(raw) <= limit:
        return text
    return raw[: max(0, limit)].decode("utf-8", "ignore")


def render_file_name(stem: str, device_name: str, extension: str) -> str:
    """``<stem>.<device>.<extension>`` with the device's name made safe
    (:func:`safe_file_part`). A name longer than a file system takes (NAME_MAX, 255 bytes) is
    shortened, the device part first, and ends in 8 hex digits of the device name's SHA-256,
    so two long names that differ only past the cut still make two files."""
    import hashlib

    part = safe_file_part(device_name)
    name = f"{stem}.{part}.{extension}"
    if len(os.fsencode(name)) <= _RENDER_NAME_MAX:
        return name
    tag = hashlib.sha256(device_name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    room = _RENDER_NAME_MAX - len(os.fsencode(extension)) - len(tag) - 3  # three separators
    stem = _cut_bytes(stem, max(room // 2, room - len(os.fsencode(part))))
    part = _cut_bytes(part, room - len(os.fsencode(stem)))
    return f"{stem}.{part}-{tag}.{extension}"


def render_paths(
    path: str | os.PathLike[str], devices: Sequence[Device], out_dir: str | os.PathLike[str],
    extension: str = "wav",
) -> list[Path]:  # fmt: skip
    """``out_dir/<stem>.<device>.<extension>`` for each device (:func:`render_file_name`: the
    device name made safe as one file-name component, long names shortened); two devices that
    would share a file are refused (exit 2): a render never lands outside ``out_dir`` nor
    replaces another."""
    from analyzer.errors import UsageError

    out = Path(out_dir)
    stem = Path(path).stem  # a file name's own stem: no separator in it
    targets = [out / render_file_name(stem, d.name, extension) for d in devices]
    seen: dict[Path, str] = {}
    for d, t in zip(devices, targets, strict=True):
        if t in seen:
            raise UsageError(
                f"devices {seen[t]!r} and {d.name!r} would both render to {display_path(t)}"
            )
        seen[t] = d.name
    return targets


__all__ = ["DeviceRenderer", "device_fir", "render_file_name", "render_paths", "safe_file_part"]
