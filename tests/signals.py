"""Synthetic test signals with known answers."""

from __future__ import annotations

import math

import numpy as np


def db_to_amp(db: float) -> float:
    return 10.0 ** (db / 20.0)


def sine(
    duration_s: float,
    fs: int,
    *,
    peak_dbfs: float = -20.0,
    freq_hz: float = 1000.0,
    channels: int = 2,
    phase_rad: float = 0.0,
) -> np.ndarray:
    """A sine of ``peak_dbfs`` per-channel peak level, identical on every channel."""
    n = round(duration_s * fs)
    t = np.arange(n) / fs
    x = db_to_amp(peak_dbfs) * np.sin(2 * np.pi * freq_hz * t + phase_rad)
    return np.tile(x, (channels, 1))


def segments(spec: list[tuple[float, float | None]], fs: int, *, channels: int = 2) -> np.ndarray:
    """Concatenate 1 kHz tone segments ``(duration_s, peak_dbfs or None for silence)``.

    The phase runs on across segments, as in the EBU test signals.
    """
    total = sum(round(d * fs) for d, _ in spec)
    t = np.arange(total) / fs
    tone = np.sin(2 * np.pi * 1000.0 * t)
    gain = np.zeros(total)
    pos = 0
    for d, level in spec:
        n = round(d * fs)
        gain[pos : pos + n] = 0.0 if level is None else db_to_amp(level)
        pos += n
    return np.tile(tone * gain, (channels, 1))


def pink_noise(duration_s: float, fs: int, *, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Pink (1/f power) noise by spectral shaping, normalised to unit RMS per channel."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * fs)
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / fs)
    f[0] = f[1]
    x = np.fft.irfft(spec / np.sqrt(f), n=n, axis=1)
    return x / np.sqrt(np.mean(x**2, axis=1, keepdims=True))


def close_or_both_none(a: float | None, b: float | None) -> bool:
    """Equal to 1e-9 (relative or absolute), or both undefined."""
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def same_result(a: object, b: object) -> bool:
    """Dataclass / tuple / mapping equality in which NaN equals NaN (undefined values in a
    series, e.g. the correlation of silent blocks), everything else exactly."""
    import dataclasses

    if dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b):
        return type(a) is type(b) and all(
            same_result(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_result(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same_result(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b
