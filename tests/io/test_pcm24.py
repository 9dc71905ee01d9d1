"""The gained 24-bit write path (:meth:`AtomicWavWriter.write_gained`, through
:func:`analyzer.io.pcm24.pcm24_words` and libsndfile's integer path) against libsndfile's own
double path (the old render write: float64, gained, clipped, written as doubles): the same
samples, and for WAV the same bytes, at the rounding and clipping edges too."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from analyzer.io import AtomicWavWriter
from analyzer.io.pcm24 import pcm24_words

LSB = 2.0**-23


def _signal(channels: int) -> np.ndarray:
    """float32 frames ``(n, channels)``: noise over and past full scale, tiny values, and the
    half-LSB and full-scale edges where rounding and clipping decide."""
    rng = np.random.default_rng(7)
    edges = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 8388606.5, -8388607.5, 8388607.4, 8388608.0,
                      -8388608.0, -8388609.0, 0.49, 0.51]) * LSB  # fmt: skip
    parts = [rng.uniform(-1.3, 1.3, 4000), rng.uniform(-1e-5, 1e-5, 4000), edges, [0.0, 1.0, -1.0]]
    mono = np.concatenate(parts).astype(np.float32)
    return np.stack([np.roll(mono, 17 * c) for c in range(channels)], axis=1)


@pytest.mark.parametrize("container", ["WAV", "FLAC"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("gain", [1.0, 0.7071, 1.0 + 2.0**-20, 3.981])
def test_write_gained_equals_libsndfile_double_path(tmp_path, container, channels, gain):
    x = _signal(channels)
    ext = container.lower()
    old, new = tmp_path / f"old.{ext}", tmp_path / f"new.{ext}"
    with AtomicWavWriter(old, 44100, channels, subtype="PCM_24", container=container) as w:
        w.write(np.clip(x.T.astype(np.float64) * gain, -1.0, 1.0))
    with AtomicWavWriter(new, 44100, channels, subtype="PCM_24", container=container) as w:
        for start in range(0, x.shape[0], 3001):  # blocks of any size
            w.write_gained(x[start : start + 3001], gain)
    a, b = sf.read(old, dtype="int32")[0], sf.read(new, dtype="int32")[0]
    assert np.array_equal(a, b)
    if container == "WAV":
        assert old.read_bytes() == new.read_bytes()


def test_words_hold_24_bits_and_clip_to_full_scale():
    x = np.array([[1.0], [-1.0], [2.0], [-2.0], [0.0]])
    for container, low in (("WAV", -(2**23)), ("FLAC", -(2**23))):
        words = pcm24_words(x, 1.0, container)[:, 0] >> 8
        assert words.tolist() == [2**23 - 1, low, 2**23 - 1, low, 0]
    with pytest.raises(ValueError):
        pcm24_words(x, 1.0, "AIFF")


def test_other_subtypes_keep_the_double_path(tmp_path):
    x = _signal(2)
    path = tmp_path / "x.wav"
    with AtomicWavWriter(path, 44100, 2, subtype="PCM_16") as w:
        w.write_gained(x, 0.5)
    got = sf.read(path)[0]
    assert np.allclose(got, np.clip(x.astype(np.float64) * 0.5, -1, 1), atol=2.0**-15)


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("frames", [0, 1, 4001, 8014])  # odd data chunks get a pad byte
def test_numpy_wav_writer_is_libsndfiles_file_byte_for_byte(tmp_path, channels, frames):
    from analyzer.io.pcm24 import Pcm24WavWriter

    x = _signal(channels)[:frames]
    old, new = tmp_path / "old.wav", tmp_path / "new.wav"
    with AtomicWavWriter(old, 48000, channels, subtype="PCM_24") as w:
        w.write(np.clip(x.T.astype(np.float64) * 0.9, -1.0, 1.0))
    with Pcm24WavWriter(new, 48000, channels) as w:
        for start in range(0, frames, 1003):  # blocks whose sample counts are not 4k
            w.write_gained(x[start : start + 1003], 0.9)
    assert new.read_bytes() == old.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.wav", "old.wav"]


def test_numpy_wav_writer_is_atomic(tmp_path):
    from analyzer.errors import OutputError
    from analyzer.io.pcm24 import Pcm24WavWriter

    path = tmp_path / "r.wav"
    with pytest.raises(RuntimeError), Pcm24WavWriter(path, 44100, 2) as w:
        w.write_gained(_signal(2), 1.0)
        raise RuntimeError("a failed device")
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary
    path.write_bytes(b"keep")
    with pytest.raises(OutputError):
        Pcm24WavWriter(path, 44100, 2)
    assert path.read_bytes() == b"keep"
    with Pcm24WavWriter(path, 44100, 2, force=True) as w:
        w.write_gained(_signal(2), 1.0)
    assert sf.info(str(path)).frames == _signal(2).shape[0]
