"""Fuzzing the loader (hypothesis): random bytes, and WAV headers that are well formed but say
anything (rates, channel counts, sample formats, data sizes) over random payloads.

The contract: nothing escapes but the project's own errors; a file whose header promises more
data than it holds is refused as truncated, never measured short; and what is read does not
depend on the block size. Sizes are bounded (a few KiB, at most 2**16 frames read) so that no
example can hang. The coverage-guided target for long runs is ``fuzz/fuzz_loader.py``.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analyzer.errors import AnalyzerError, AudioLoadError, InvalidAudioError
from analyzer.io import MAX_CHANNELS, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, open_audio

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MAX_READ_FRAMES = 1 << 16
#: (WAVE format tag, bits per sample): PCM 8/16/24/32, IEEE float 32/64.
SAMPLE_FORMATS = [(1, 8), (1, 16), (1, 24), (1, 32), (3, 32), (3, 64)]


def read_all(path: Path, block_frames: int) -> np.ndarray:
    """Everything the loader yields, or the project's own error."""
    with open_audio(path) as src:
        blocks = list(src.blocks(block_frames, stop_frame=MAX_READ_FRAMES))
        assert all(b.dtype == np.float64 and b.shape[0] == src.info.channels for b in blocks)
        return np.concatenate(blocks, axis=1)


@SETTINGS
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".wav", ".flac", ".aiff", ".ogg"]))
def test_random_bytes(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    try:
        read_all(path, 1024)
    except AnalyzerError as exc:
        assert exc.exit_code == 3 and exc.message.startswith(str(path))


def wav_bytes(
    *, tag: int, bits: int, channels: int, rate: int, declared: int, payload: bytes
) -> bytes:
    """A canonical 44-byte RIFF/WAVE header (whatever it claims) followed by ``payload``."""
    align = max(channels, 1) * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", declared) + payload
    return b"RIFF" + struct.pack("<I", min(len(body), 0xFFFFFFFF)) + body


@st.composite
def wav_files(draw: st.DrawFn) -> tuple[bytes, dict]:
    tag, bits = draw(st.sampled_from(SAMPLE_FORMATS))
    # Each choice is in range more often than not, so that many examples are read through.
    channels = draw(st.one_of(st.integers(1, 2), st.integers(1, 8), st.integers(0, 12)))
    rate = draw(st.one_of(st.sampled_from([8000, 44100, 48000, 384000]),
                          st.integers(1, 800_000)))  # fmt: skip
    payload = draw(st.binary(min_size=200, max_size=3000))
    align = max(channels, 1) * bits // 8
    exact = len(payload) - len(payload) % align
    declared = draw(st.one_of(st.just(exact), st.integers(0, 0xFFFFFFFE)))
    spec = {"tag": tag, "bits": bits, "channels": channels, "rate": rate, "declared": declared}
    return wav_bytes(payload=payload, **spec), {**spec, "payload": len(payload)}


@SETTINGS
@given(wav=wav_files(), block=st.integers(1, 5000))
def test_valid_headers_with_random_payloads(tmp_path: Path, wav, block: int) -> None:
    raw, spec = wav
    path = tmp_path / "f.wav"
    path.write_bytes(raw)
    align = max(spec["channels"], 1) * spec["bits"] // 8
    try:
        x = read_all(path, block)
    except (AudioLoadError, InvalidAudioError) as exc:
        event(f"refused: {exc.slug}")
        if spec["declared"] > spec["payload"] and "truncated" not in exc.message:
            # Refused for another reason first: the header itself, no frames, NaN/Inf.
            assert any(w in exc.message for w in ("unsupported", "empty", "NaN")), exc.message
        return
    event("read")
    # Read: then the header was in range and the data all there (never a shorter reading).
    assert MIN_SAMPLE_RATE_HZ <= spec["rate"] <= MAX_SAMPLE_RATE_HZ
    assert 1 <= spec["channels"] <= MAX_CHANNELS
    assert spec["declared"] <= spec["payload"]
    assert x.shape[1] == min(spec["declared"] // align, MAX_READ_FRAMES)
    assert np.isfinite(x).all()
    if spec["tag"] == 1:
        assert np.abs(x).max(initial=0.0) <= 1.0
    # Streaming: the same samples whatever the block size.
    assert np.array_equal(read_all(path, 1 + block % 97), x)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@SETTINGS
@given(n=st.integers(1, 3000), where=st.floats(0, 1), bits=st.sampled_from([32, 64]))
def test_non_finite_floats_are_refused(tmp_path: Path, bad: float, n: int, where: float,
                                       bits: int) -> None:  # fmt: skip
    x = np.zeros(n, dtype=np.float32 if bits == 32 else np.float64)
    x[min(int(where * n), n - 1)] = bad
    path = tmp_path / "f.wav"
    path.write_bytes(wav_bytes(tag=3, bits=bits, channels=1, rate=48000, declared=x.nbytes,
                               payload=x.tobytes()))  # fmt: skip
    with pytest.raises(InvalidAudioError, match="NaN or infinite"):
        read_all(path, 256)
