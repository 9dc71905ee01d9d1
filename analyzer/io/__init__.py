"""Audio input and output: the only package that imports soundfile or soxr.

:mod:`~analyzer.io.source` reads and probes files (streamed blocks, tags),
:mod:`~analyzer.io.resample` converts sample rates (soxr), :mod:`~analyzer.io.write` writes
atomically (output formats, quantisers), :mod:`~analyzer.io.codec` encodes and decodes the lossy
round trip, :mod:`~analyzer.io.opus` the report's in-memory Ogg Opus clips,
:mod:`~analyzer.io.files` finds audio files and hashes their content. The names most callers
need are re-exported here.
"""

from __future__ import annotations

from analyzer.io.opus import OPUS_RATE_HZ, decode_opus, encode_opus
from analyzer.io.scratch import ScratchAudio
from analyzer.io.source import (
    DEFAULT_BLOCK_FRAMES,
    MAX_CHANNELS,
    MAX_SAMPLE_RATE_HZ,
    MIN_SAMPLE_RATE_HZ,
    AudioSource,
    display_path,
    open_audio,
    probe_duration_s,
    probe_info,
    read_audio,
    read_tags,
)
from analyzer.io.write import (
    AtomicWavWriter,
    write_audio_atomic,
    write_bytes_atomic,
    write_text_atomic,
)

__all__ = [
    "DEFAULT_BLOCK_FRAMES",
    "MAX_CHANNELS",
    "MAX_SAMPLE_RATE_HZ",
    "MIN_SAMPLE_RATE_HZ",
    "OPUS_RATE_HZ",
    "AtomicWavWriter",
    "AudioSource",
    "ScratchAudio",
    "decode_opus",
    "display_path",
    "encode_opus",
    "open_audio",
    "probe_duration_s",
    "probe_info",
    "read_audio",
    "read_tags",
    "write_audio_atomic",
    "write_bytes_atomic",
    "write_text_atomic",
]
