"""The shared overlap-save grid of the render pass (analyzer.playback.device_bank) against
independent truth: ``np.convolve`` for the device FIRs; any block sizes; the ring-out equals
the convolution's tail."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.playback.device_bank import BankFilter, SharedInput

FS = 44100


def _run(filters: list[BankFilter], x: np.ndarray, blocks: list[int]) -> list[np.ndarray]:
    shared = SharedInput(filters)
    outs: list[list[np.ndarray]] = [[] for _ in filters]
    start = 0
    for n in blocks:
        seg = shared.process(x[:, start : start + n])
        for f, out in zip(filters, outs, strict=True):
            out.append(f.apply(seg))
        start += n
    seg = shared.flush()
    for f, out in zip(filters, outs, strict=True):
        out.append(f.apply(seg)[:, : f.overlap])
    return [np.concatenate(out, axis=1) for out in outs]


@pytest.mark.parametrize("blocks", [[30000], [4096] * 7 + [1328], [1, 70000, 2999]])
def test_bank_is_the_convolution(blocks) -> None:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, sum(blocks)))
    taps = [rng.standard_normal((2, 900)) * np.exp(-np.arange(900) / 150.0),
            rng.standard_normal((1, 33)), np.ones((2, 1))]  # fmt: skip
    got = _run([BankFilter(t) for t in taps], x, blocks)
    for t, y in zip(taps, got, strict=True):
        want = np.array([np.convolve(x[r], t[r]) for r in range(t.shape[0])])
        assert y.shape == want.shape
        np.testing.assert_allclose(y, want, rtol=0, atol=1e-11)


def test_identity_filter_passes_rows_through() -> None:
    x = np.random.default_rng(1).standard_normal((2, 5000))
    f = BankFilter(np.ones((2, 1)))
    seg = SharedInput([f]).process(x)
    assert np.array_equal(f.apply(seg, x), x)


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
