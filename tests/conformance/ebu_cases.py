"""EBU Tech 3341 / 3342 cases: read from the corpus table, synthesised at any sample rate, and the
checks of each case's expected values (shared by the synthetic and the official-file tests)."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import scipy.signal as ss

from analyzer.types import LoudnessStats, PeakStats, Series
from tests.signals import db_to_amp, segments

TABLE = "loudness/ebu_tech3341_3342_cases.json"


@cache
def load_table(corpus: Path) -> dict:
    return json.loads((corpus / TABLE).read_text())


def find_case(corpus: Path, standard: str, number: int) -> dict:
    for case in load_table(corpus)[f"{standard}_cases"]:
        if case["case"] == number:
            return case
    raise KeyError(f"{standard} case {number}")


def _fade(x: np.ndarray, fs: int, fade_s: float = 0.01) -> np.ndarray:
    n = round(fade_s * fs)
    ramp = np.sin(np.linspace(0, np.pi / 2, n)) ** 2
    x = x.copy()
    x[..., :n] *= ramp
    x[..., -n:] *= ramp[::-1]
    return x


def _fraction(expr: str, fs: int) -> float:
    assert expr.startswith("fs/")
    return fs / float(expr[3:])


def _isp_burst(fs: int, offset: int) -> np.ndarray:
    """Cases 20-23: fs/6 sine at 0.5 FS holding one period of fs/4 at 1.0 FS, phase-continuous,
    made at 4 fs, low-pass filtered and decimated with an offset of ``offset`` samples."""
    up = 4 * fs
    n_before = n_after = round(0.5 * up)
    burst = 16  # one period of fs/4 at 4 fs
    freq = np.concatenate(
        [np.full(n_before, fs / 6), np.full(burst, fs / 4), np.full(n_after, fs / 6)]
    )
    amp = np.concatenate([np.full(n_before, 0.5), np.full(burst, 1.0), np.full(n_after, 0.5)])
    phase = np.concatenate([[0.0], np.cumsum(2 * np.pi * freq[:-1] / up)])
    x = amp * np.sin(phase)
    taps = ss.firwin(801, 0.45 * fs, fs=up, window=("kaiser", 10.0))
    y = np.convolve(x, taps, mode="same")[offset::4]
    return _fade(np.tile(y, (2, 1)), fs, 0.005)


def synthesize(case: dict, fs: int, *, index: int | None = None) -> np.ndarray:
    """The case's signal at ``fs`` (``index`` selects one file of the 20-file cases 10 and 13)."""
    sig = case["signal"]
    number = case["case"]
    if "segments" in sig:
        spec = [(s["duration_s"], s["level_dbfs"]) for s in sig["segments"]]
        return segments(spec * sig.get("repeat", 1), fs, channels=sig["channels"])
    if "level_dbfs_per_channel" in sig:
        n = round(sig["duration_s"] * fs)
        tone = np.sin(2 * np.pi * 1000.0 * np.arange(n) / fs)
        return np.vstack(
            [db_to_amp(sig["level_dbfs_per_channel"][ch]) * tone for ch in sig["layout"]]
        )
    if number == 10:
        return segments([(0.15 * index, None), (3.0, -23.0), (1.0, None)], fs)
    if number == 13:
        return segments([(0.02 * index, None), (0.4, -23.0), (1.0, None)], fs)
    if number == 11:
        spec = []
        for i in range(20):
            spec += [(0.15 * i, None), (3.0, -38.0 + i), (3.0 - 0.15 * i, None)]
        return segments(spec, fs)
    if number == 14:
        spec = []
        for i in range(20):
            spec += [(0.02 * i, None), (0.4, -38.0 + i), (0.4 - 0.02 * i, None)]
        return segments(spec, fs)
    if 15 <= number <= 19:
        f = _fraction(sig["frequency"], fs)
        n = fs  # 1 s; "duration does not matter"
        t = np.arange(n) / fs
        x = sig["amplitude_fraction_of_full_scale"] * np.sin(
            2 * np.pi * f * t + math.radians(sig["phase_deg"])
        )
        return _fade(np.tile(x, (2, 1)), fs)
    if 20 <= number <= 23:
        return _isp_burst(fs, number - 20)
    raise ValueError(f"case {number} cannot be synthesised")


def _series_after(series: Series, after_s: float) -> np.ndarray:
    v = np.array(series.values)
    t = series.start_s + np.arange(v.size) / series.rate_hz
    return v[t >= after_s - 1e-9]


def _per_segment_max(series: Series, segment_s: float, count: int) -> list[float]:
    v = np.array(series.values)
    t_end = series.start_s + np.arange(v.size) / series.rate_hz  # window ends
    out = []
    for i in range(count):
        # A value belongs to the 100 ms interval that ends at t_end.
        sel = (t_end > i * segment_s + 1e-9) & (t_end <= (i + 1) * segment_s + 1e-9)
        out.append(float(np.max(v[sel])))
    return out


def check(case: dict, loud: LoudnessStats, peaks: PeakStats) -> list[str]:
    """Every expected value of the case against the measurement: a list of failures."""
    exp = case["expected"]
    tol = case["tolerance"]
    plus = tol.get("plus_lu", tol.get("plus_db"))
    minus = tol.get("minus_lu", tol.get("minus_db"))
    cond = exp.get("condition", "")
    after = float(cond.split()[2]) if cond.startswith("constant after") else 0.0
    failures = []

    def within(name: str, got: float | None, want: float) -> None:
        if got is None or not (want - minus - 1e-9 <= got <= want + plus + 1e-9):
            failures.append(f"{name}: got {got}, want {want} +{plus}/-{minus}")

    for key, want in exp.items():
        if key == "integrated_lufs":
            within(key, loud.integrated_lufs, want)
        elif key == "lra_lu":
            within(key, loud.lra_lu, want)
        elif key == "max_true_peak_dbtp":
            within(key, peaks.true_peak_dbtp, want)
        elif key == "max_momentary_lufs":
            within(key, loud.momentary_max_lufs, want)
        elif key == "max_short_term_lufs":
            within(key, loud.short_term_max_lufs, want)
        elif key == "momentary_lufs":
            assert loud.momentary is not None
            for v in _series_after(loud.momentary, max(after, 0.4)):
                within(f"{key} series", v, want)
            within("momentary max", loud.momentary_max_lufs, want)
        elif key == "short_term_lufs":
            assert loud.short_term is not None
            for v in _series_after(loud.short_term, max(after, 3.0)):
                within(f"{key} series", v, want)
        elif key == "max_short_term_lufs_successive":
            assert loud.short_term_hold is not None
            got = _per_segment_max(loud.short_term_hold, 6.0, len(want))
            for i, (g, w) in enumerate(zip(got, want, strict=True)):
                within(f"short-term max of segment {i}", g, w)
        elif key == "max_momentary_lufs_successive":
            assert loud.momentary_hold is not None
            got = _per_segment_max(loud.momentary_hold, 0.8, len(want))
            for i, (g, w) in enumerate(zip(got, want, strict=True)):
                within(f"momentary max of segment {i}", g, w)
    return failures
