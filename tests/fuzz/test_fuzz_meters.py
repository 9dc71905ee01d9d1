"""Fuzzing the meters (hypothesis): random sample values (denormals, runs of exactly +-1.0,
digital silence, DC, NaN) in random block sizes, through the loader and the whole streaming
pass.

The contract: a non-finite sample is refused by the loader (exit code 3); anything finite is
measured without an exception, the JSON holds no NaN or Infinity, and the file streamed in any
block size reads the same as the whole array measured at once (to the JSON's precision).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.errors import InvalidAudioError
from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.report.json import track_to_dict

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
RATES = st.sampled_from([8000, 11025, 44100, 48000])
#: Building blocks of a signal: (kind, length in frames).
PIECES = st.tuples(
    st.sampled_from(["noise", "denormal", "plus_one", "minus_one", "zero", "dc", "tiny"]),
    st.integers(1, 6000),
)


@st.composite
def signals(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    """``(channels, frames)`` float64 of 1-3 channels, up to about 1.5 s, made of pieces."""
    fs = draw(RATES)
    channels = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    parts = []
    for kind, n in draw(st.lists(PIECES, min_size=1, max_size=6)):
        part = {
            "noise": lambda n: rng.uniform(-1.0, 1.0, (channels, n)),
            "denormal": lambda n: rng.uniform(-1.0, 1.0, (channels, n)) * 1e-310,
            "plus_one": lambda n: np.ones((channels, n)),
            "minus_one": lambda n: -np.ones((channels, n)),
            "zero": lambda n: np.zeros((channels, n)),
            "dc": lambda n: np.full((channels, n), rng.uniform(-1.0, 1.0)),
            "tiny": lambda n: rng.uniform(-1.0, 1.0, (channels, n)) * 1e-7,
        }[kind](n)
        parts.append(part)
    return np.concatenate(parts, axis=1), fs


def _same(a: object, b: object, where: str = "") -> None:
    """Equal JSON values; numbers to the JSON's own rounding (0.01 dB steps may flip)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, int | float):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=0.0101), (where, a, b)
    else:
        assert a == b, (where, a, b)


def _doc(result: object) -> dict:
    doc = track_to_dict(result)  # type: ignore[arg-type]
    text = json.dumps(doc, allow_nan=False)  # raises on NaN or Infinity
    text = text.replace(json.dumps(doc["file"]["path"])[1:-1], "<file>")  # warnings name it
    out = json.loads(text)
    out["file"].pop("format"), out["file"].pop("subtype")
    return out


@SETTINGS
@given(sig=signals(), block=st.one_of(st.integers(1, 64), st.integers(65, 70000)))
def test_streaming_any_block_size_equals_whole_array(tmp_path: Path, sig, block: int) -> None:
    x, fs = sig
    x = x[:, : block * 400]  # tiny blocks cost a queue round trip each: keep them few
    path = tmp_path / "x.wav"
    sf.write(path, x.T, fs, subtype="DOUBLE")  # exact: the file holds the same samples
    whole = analyze_array(x, fs, path=str(path))
    streamed = analyze_file(path, block_frames=block)
    _same(_doc(whole), _doc(streamed))


def test_denormal_signal_true_peak_is_its_sample_peak(tmp_path: Path) -> None:
    """The hypothesis example that found it: denormals read in blocks of 1 and at once."""
    x = np.random.default_rng(1).uniform(-1.0, 1.0, (1, 300)) * 1e-310
    path = tmp_path / "x.wav"
    sf.write(path, x.T, 44100, subtype="DOUBLE")
    for block in (1, 7, 4096):
        peaks = analyze_file(path, block_frames=block).peaks
        assert peaks.true_peak_dbtp == peaks.sample_peak_dbfs


def test_a_full_scale_run_peaks_at_its_start_in_any_block_size(tmp_path: Path) -> None:
    """Hypothesis found it: 5 s of samples at exactly 1.0 read their true peak at 0.0 s whole
    and up to 0.7 s later streamed in blocks of 65 (float32 ties on the grid)."""
    for n in (2750, 6000):
        x = np.concatenate([np.ones((1, n)), np.full((1, 15), 1e-310)], axis=1)
        path = tmp_path / f"ones{n}.wav"
        sf.write(path, x.T, 8000, subtype="DOUBLE")
        assert analyze_array(x, 8000, path=str(path)).peaks.true_peak_at_s == 0.0
        for block in (26, 65, 1000):
            assert analyze_file(path, block_frames=block).peaks.true_peak_at_s == 0.0


def test_a_side_below_the_rounding_of_mid_side_reads_the_same_in_any_block_size(
    tmp_path: Path,
) -> None:
    """Hypothesis found it: a side 175 dB under full-scale DC read -195.67 dB whole and none in
    blocks of 26; both now read none (under 1e-12 of L+R, the rounding of the difference)."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-1, 1, (3, 8600)) * 1e-7, -np.ones((3, 1640))], axis=1)
    path = tmp_path / "x.wav"
    sf.write(path, x.T, 8000, subtype="DOUBLE")
    whole = _doc(analyze_array(x, 8000, path=str(path)))
    for block in (26, 333):
        _same(whole, _doc(analyze_file(path, block_frames=block)))


@SETTINGS
@given(sig=signals(), bad=st.sampled_from([np.nan, np.inf, -np.inf]), where=st.floats(0, 1))
def test_non_finite_samples_are_refused(tmp_path: Path, sig, bad: float, where: float) -> None:
    x, fs = sig
    i = min(int(where * x.shape[1]), x.shape[1] - 1)
    x[x.shape[0] - 1, i] = bad
    path = tmp_path / "x.wav"
    sf.write(path, x.T, fs, subtype="FLOAT")
    with pytest.raises(InvalidAudioError, match="NaN or infinite") as info:
        analyze_file(path, block_frames=4096)
    assert info.value.exit_code == 3
    assert f"channel {x.shape[0]}" in info.value.message
