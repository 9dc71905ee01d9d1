"""The shared overlap-save grid of the render pass (analyzer.playback.device_bank) against
independent truth: ``np.convolve`` for the device FIRs, and the recursive K-weighting biquads
(scipy's ``lfilter`` on BS.1770's coefficients) after ``np.convolve`` for the fused
K-weighted output; any block sizes; the ring-out equals the convolution's tail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from analyzer.dsp.kweighting import kweighting_coefficients
from analyzer.playback.device_bank import BankFilter, SharedInput

FS = 44100


def _kweight(y: np.ndarray) -> np.ndarray:
    b, a = kweighting_coefficients(FS)
    return lfilter(b[1], a[1], lfilter(b[0], a[0], y))


def _run(filters: list[BankFilter], x: np.ndarray, blocks: list[int]):
    shared = SharedInput(filters, FS)
    outs = [([], []) for _ in filters]
    start = 0
    for n in blocks:
        seg = shared.process(x[:, start : start + n])
        for f, (plain, kw) in zip(filters, outs, strict=True):
            y, k = f.apply(seg)
            plain.append(y)
            kw.append(k)
        start += n
    seg = shared.flush()
    for f, (plain, kw) in zip(filters, outs, strict=True):
        y, k = f.apply(seg)
        plain.append(y[:, : f.overlap])
        kw.append(k[:, : f.overlap] if k is not None else None)
    return [
        (np.concatenate(p, axis=1), None if k[0] is None else np.concatenate(k, axis=1))
        for p, k in outs
    ]


@pytest.mark.parametrize("blocks", [[30000], [4096] * 7 + [1328], [1, 70000, 2999]])
def test_bank_is_the_convolution_and_its_k_weighting(blocks) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, sum(blocks)))
    taps = [rng.standard_normal((2, 900)) * np.exp(-np.arange(900) / 150.0),
            rng.standard_normal((1, 33)), np.ones((2, 1))]  # fmt: skip
    filters = [BankFilter(t, FS, kweighted=i != 1) for i, t in enumerate(taps)]
    got = _run(filters, x, blocks)
    for t, (y, k) in zip(taps, got, strict=True):
        want = np.array([np.convolve(x[r], t[r]) for r in range(t.shape[0])])
        assert y.shape == want.shape
        np.testing.assert_allclose(y, want, rtol=0, atol=1e-11)
        if k is not None:
            np.testing.assert_allclose(k, _kweight(want), rtol=0, atol=1e-8)


def test_identity_filter_passes_rows_through() -> None:
    x = np.random.default_rng(1).standard_normal((2, 5000))
    f = BankFilter(np.ones((2, 1)), FS, kweighted=False)
    seg = SharedInput([f], FS).process(x)
    y, k = f.apply(seg, x)
    assert k is None and np.array_equal(y, x)


def test_studio_from_the_analysis_equals_its_measurement(tmp_path) -> None:
    """The studio plays the input unchanged: its effect taken from the input's analysis is
    the one measured on its render (loudness change 0, the same band levels)."""
    from analyzer.io import write_audio_atomic
    from analyzer.measure.engine import analyze_file
    from analyzer.playback.devices import BUILTIN_DEVICES
    from analyzer.playback.render_group import run_devices

    x = 0.1 * np.random.default_rng(3).standard_normal((2, 3 * FS))
    path = tmp_path / "mix.wav"
    write_audio_atomic(path, x, FS, subtype="FLOAT")
    track = analyze_file(path)
    studio = [BUILTIN_DEVICES["studio"]]
    lufs = track.loudness.integrated_lufs
    taken = run_devices(path, studio, integrated_lufs=lufs, analysis=track)[0]["studio"]
    measured = run_devices(path, studio, integrated_lufs=lufs)[0]["studio"]
    assert taken.loudness_change_lu == 0.0
    assert measured.loudness_change_lu == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(taken.third_octave_db, measured.third_octave_db, atol=1e-9)
