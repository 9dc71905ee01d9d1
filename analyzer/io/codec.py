"""The lossy round trip: encode audio to Ogg Opus, Ogg Vorbis or MP3 with libsndfile (through
soundfile), then decode it back. Which bitrate to use, and what to measure in the result, is the
caller's (:mod:`analyzer.playback.codecs`); this module only writes and reads the files.

libsndfile's ``compression_level`` maps to each codec's own setting (its ogg_opus.c,
ogg_vorbis.c and mpeg_l3_encode.c); the caller computes the level.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from analyzer.io.resample import StreamResampler


@dataclass(frozen=True)
class LossyEncoding:
    """libsndfile settings for one lossy encoding: container ``format`` (``"OGG"``, ``"MP3"``),
    ``subtype`` (``"OPUS"``, ``"VORBIS"``, ``"MPEG_LAYER_III"``), the rate to encode at,
    ``compression_level`` (0-1) and ``bitrate_mode`` (``"CONSTANT"`` or ``None``)."""

    codec: str
    format: str
    subtype: str
    rate_hz: int
    compression_level: float
    bitrate_mode: str | None
    note: str

    @property
    def extension(self) -> str:
        return "mp3" if self.format == "MP3" else "ogg"


def unavailable_reason(enc: LossyEncoding) -> str | None:
    """Why this libsndfile cannot write ``enc`` (``None`` when it can)."""
    import soundfile as sf

    if enc.subtype not in sf.available_subtypes(enc.format):
        return (
            f"{enc.format}/{enc.subtype} is not available in this libsndfile "
            f"({sf.__libsndfile_version__})"
        )
    return None


def encode_blocks(
    blocks: Iterable[np.ndarray],
    enc: LossyEncoding,
    rate_hz: int,
    channels: int,
    out_path: str | os.PathLike[str],
    advance: Callable[[int], None] | None = None,
) -> None:
    """Encode ``(channels, frames)`` blocks at ``rate_hz`` into ``out_path`` with ``enc``,
    resampling with soxr first when ``enc.rate_hz`` differs. ``advance(frames)`` is called after
    each input block. libsndfile's errors propagate (one exception type for every failure)."""
    import soundfile as sf

    resampler = StreamResampler(rate_hz, enc.rate_hz, channels) if enc.rate_hz != rate_hz else None
    with sf.SoundFile(
        os.fspath(out_path),
        "w",
        samplerate=enc.rate_hz,
        channels=channels,
        format=enc.format,
        subtype=enc.subtype,
        compression_level=enc.compression_level,
        bitrate_mode=enc.bitrate_mode,
    ) as f:
        for block in blocks:
            chunk = np.ascontiguousarray(block.T)
            if resampler is not None:
                chunk = resampler.feed_frames(chunk)
            if chunk.shape[0]:
                f.write(chunk)
            if advance is not None:
                advance(block.shape[1])
        if resampler is not None:
            tail = resampler.flush_frames()
            if tail.shape[0]:
                f.write(np.ascontiguousarray(tail))


class EncodedFile:
    """An encoded file opened for decoding: its ``sample_rate_hz`` and ``channels``, and
    :meth:`blocks` of ``(channels, frames)`` float64. Use as a context manager."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import soundfile as sf

        self._file: Any = sf.SoundFile(os.fspath(path))
        self.sample_rate_hz = int(self._file.samplerate)
        self.channels = int(self._file.channels)

    def blocks(self, block_frames: int) -> Iterator[np.ndarray]:
        while True:
            data = self._file.read(block_frames, dtype="float64", always_2d=True)
            if data.shape[0] == 0:
                return
            yield np.ascontiguousarray(data.T)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EncodedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
