"""The streaming overlap-save convolver equals scipy's whole-array FFT convolution for any block
sizes, channel counts and filter lengths (longer and shorter than a block)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import fftconvolve

from analyzer.dsp.convolve import StreamingConvolver

#: Blocks per streamed signal in the property test.
MAX_CALLS = 300


def _stream(conv: StreamingConvolver, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    parts, start, i = [], 0, 0
    while start < x.shape[1]:
        size = sizes[i % len(sizes)]
        parts.append(conv.process(x[:, start : start + size]))
        start += size
        i += 1
    parts.append(conv.flush())
    return np.concatenate(parts, axis=1)


@settings(max_examples=40, deadline=None)
@given(
    channels=st.integers(1, 3),
    taps=st.sampled_from([1, 2, 7, 64, 513, 3000, 40000]),
    frames=st.integers(0, 70000),
    sizes=st.lists(st.integers(1, 50000), min_size=1, max_size=6),
    per_channel=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_streaming_equals_fftconvolve(
    channels: int, taps: int, frames: int, sizes: list[int], per_channel: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    # At most MAX_CALLS blocks: each costs a transform of the filter's length, and 70,000 blocks
    # of one frame through 40,000 taps took most of a minute.
    frames = min(frames, sum(sizes[i % len(sizes)] for i in range(MAX_CALLS)))
    x = rng.standard_normal((channels, frames))
    h = rng.standard_normal((channels, taps) if per_channel else taps)
    conv = StreamingConvolver.from_taps(h, channels)
    y = _stream(conv, x, sizes)
    hh = h if per_channel else np.broadcast_to(h, (channels, taps))
    want = fftconvolve(x, hh, axes=1) if frames else np.zeros((channels, taps - 1))
    assert y.shape == want.shape
    scale = np.abs(hh).sum() * max(1.0, float(np.abs(x).max(initial=0.0)))
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("taps", [5, 1000, 70000])
def test_seeded_block_loop_and_flush_restarts_at_rest(taps: int) -> None:
    rng = np.random.default_rng(taps)
    x = rng.standard_normal((2, 100000))
    h = rng.standard_normal(taps) / np.sqrt(taps)
    conv = StreamingConvolver.from_taps(h, 2, min_fft=65536, fft_per_overlap=8)
    sizes = [int(s) for s in rng.integers(1, 30000, size=20)]
    want = fftconvolve(x, h[None, :], axes=1)
    for _ in range(2):  # flush leaves it at rest: a second run is the same
        np.testing.assert_allclose(_stream(conv, x, sizes), want, rtol=0, atol=1e-12)


def test_spectrum_function_and_shape_checks() -> None:
    h = np.array([0.5, 0.25, 0.125])
    conv = StreamingConvolver(1, 2, lambda nfft: np.fft.rfft(h, n=nfft))
    x = np.arange(10.0)[None, :]
    np.testing.assert_allclose(
        np.concatenate([conv.process(x), conv.flush()], axis=1)[0], np.convolve(x[0], h), atol=1e-12
    )
    with pytest.raises(ValueError):
        conv.process(np.zeros((2, 4)))
    with pytest.raises(ValueError):
        StreamingConvolver.from_taps(np.ones((3, 4)), 2)


@pytest.mark.parametrize("rows", [1, 2])
@pytest.mark.parametrize("blocks", [[50000], [4096] * 5 + [77], [1, 40000, 3]])
def test_fan_out_is_each_filter_on_each_row(rows: int, blocks: list[int]) -> None:
    """The band split's fan-out convolver: ``np.convolve`` of every filter with every row
    (independent truth), and the same numbers as the tiled StreamingConvolver it replaced."""
    from analyzer.dsp.convolve import FanOutConvolver

    rng = np.random.default_rng(11)
    x = rng.standard_normal((rows, sum(blocks)))
    taps = rng.standard_normal((3, 353)) * np.exp(-np.arange(353) / 60.0)
    fan = FanOutConvolver(taps, rows)
    tiled = StreamingConvolver.from_taps(np.repeat(taps, rows, axis=0), 3 * rows)
    got, old, start = [], [], 0
    for n in blocks:
        got.append(fan.process(x[:, start : start + n]))
        old.append(tiled.process(np.tile(x[:, start : start + n], (3, 1))))
        start += n
    got.append(fan.flush())
    old.append(tiled.flush())
    y, y_old = np.concatenate(got, axis=1), np.concatenate(old, axis=1)
    want = np.array([np.convolve(x[r], taps[f]) for f in range(3) for r in range(rows)])
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-11)
    np.testing.assert_allclose(y, y_old, rtol=0, atol=1e-13)
    assert np.array_equal(fan.taps, np.repeat(taps, rows, axis=0))
