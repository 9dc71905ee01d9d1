"""The lossy-encode check: encode a master to Opus, Vorbis and MP3 at typical streaming
bitrates, decode it, and measure the true peak of the round trip, where inter-sample overs
appear (the encoding and decoding are :mod:`analyzer.io.codec`'s, libsndfile through soundfile).
The source is read once and the codecs run side by side, one thread each
(:mod:`analyzer.playback.lanes`).

Peaks are ITU-R BS.1770-4 Annex 2 true peaks (dBTP), as measured by
:class:`~analyzer.measure.truepeak.TruePeakMeter`.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from analyzer.errors import InvalidAudioError, UsageError
from analyzer.io.codec import (
    EncodedFile,
    LossyEncoding,
    encode_blocks,
    library_label,
    unavailable_reason,
)
from analyzer.playback.lanes import Cancelled, Feed, fan_out

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(units_done, units_total)``, always from the calling thread, with
``units_done`` never decreasing; one unit is one input frame encoded or one frame's worth
decoded, plus one pass measuring the input: ``units_total`` is
``frames * (1 + 2 * len(codecs))``."""

CODECS = ("opus", "vorbis", "mp3")
OPUS_RATES_HZ = (8000, 12000, 16000, 24000, 48000)
MPEG_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
#: Streaming services deliver lossy audio at 44.1 or 48 kHz; higher rates are resampled first.
MAX_LOSSY_RATE_HZ = 48000
#: Typical streaming bitrates: Spotify's "High" Ogg Vorbis (q5, ~160 kbps stereo), YouTube's
#: Opus audio (~160 kbps stereo), a 256 kbps CBR MP3 (store/stream quality).
VORBIS_QUALITY = 0.5
OPUS_KBPS_PER_CHANNEL = 80
MP3_KBPS = 256
BLOCK_FRAMES = 65536


@dataclass(frozen=True)
class CodecResult:
    """True peak before and after one lossy round trip (encode, then decode).

    ``true_peak_after_dbtp`` and ``intersample_overs_after`` (inter-sample intervals whose
    interpolated value exceeds 0 dBFS, as :class:`~analyzer.measure.truepeak.TruePeakMeter`
    counts them) are None when ``error`` says why the codec could not run.
    """

    codec: str
    bitrate_note: str
    true_peak_before_dbtp: float
    true_peak_after_dbtp: float | None
    intersample_overs_after: int | None
    error: str | None


BlockSource = Callable[[], Generator[np.ndarray, None, None]]


def codec_check(
    x: np.ndarray,
    sample_rate_hz: int,
    *,
    codecs: Sequence[str] = CODECS,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[CodecResult]:
    """Encode ``x`` (``(channels, frames)``, float, full scale 1.0) with each codec at a typical
    streaming bitrate, decode it, and measure the true peak of the decoded audio at its own rate.

    Codecs: ``opus`` (Ogg Opus, 80 kbps per channel; input resampled to 48 kHz with soxr unless
    it is at 8/12/16/24/48 kHz), ``vorbis`` (Ogg Vorbis q5, ~160 kbps stereo) and ``mp3``
    (MPEG-1 Layer III, 256 kbps CBR; 1 or 2 channels), all written by libsndfile through
    soundfile. Input above 48 kHz is resampled to 48 kHz (44.1 kHz for the 44.1 kHz family)
    first, as the services deliver. Every resampling is named in ``bitrate_note``. A codec that
    this libsndfile lacks, or that fails, gives a result with ``error`` set; it never raises.
    An unknown codec name raises :class:`UsageError`. Temporary files live in a
    :class:`tempfile.TemporaryDirectory` and are removed. Setting ``cancel`` (from another
    thread) stops the check with :class:`~analyzer.playback.lanes.Cancelled`.
    """
    data = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if data.ndim != 2 or data.shape[1] == 0:
        raise InvalidAudioError("codec check: no audio frames", slug="empty")
    if not np.isfinite(data).all():
        raise InvalidAudioError("codec check: the audio holds NaN or infinite samples", slug="nan")

    def blocks() -> Generator[np.ndarray, None, None]:
        for start in range(0, data.shape[1], BLOCK_FRAMES):
            yield data[:, start : start + BLOCK_FRAMES]

    return _codec_check(
        blocks, int(sample_rate_hz), data.shape[0], data.shape[1], codecs=codecs,
        progress=progress, cancel=cancel,
    )  # fmt: skip


def codec_check_file(
    path: str | os.PathLike[str],
    *,
    codecs: Sequence[str] = CODECS,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> list[CodecResult]:
    """:func:`codec_check` on a file, streamed block by block (memory stays flat): the file is
    read once, and every codec is fed from that one read. Raises the loader's
    :class:`~analyzer.errors.AudioLoadError` / :class:`InvalidAudioError` for a bad file."""
    from analyzer.io import open_audio

    with open_audio(path) as src:
        info = src.info

    def blocks() -> Generator[np.ndarray, None, None]:
        with open_audio(path) as s:
            yield from s.blocks(BLOCK_FRAMES)

    return _codec_check(
        blocks, info.sample_rate_hz, info.channels, info.frames, codecs=codecs,
        progress=progress, cancel=cancel,
    )  # fmt: skip


def _codec_check(
    blocks: BlockSource,
    sample_rate_hz: int,
    channels: int,
    frames: int,
    *,
    codecs: Sequence[str],
    progress: ProgressCallback | None,
    cancel: threading.Event | None = None,
) -> list[CodecResult]:
    """Read the blocks once: the calling thread measures the input's true peak and feeds every
    codec that can run, each encoding then decoding in its own thread
    (:func:`analyzer.playback.lanes.fan_out`); results come back in the order of ``codecs``."""
    from analyzer.measure.truepeak import TruePeakMeter

    unknown = [c for c in codecs if c not in CODECS]
    if unknown:
        raise UsageError(
            f"unknown codec '{unknown[0]}' (valid: {', '.join(CODECS)})", slug="unknown-codec"
        )
    encodings = [lossy_encoding(codec, sample_rate_hz) for codec in codecs]
    refused = {i: _refusal(enc, sample_rate_hz, channels) for i, enc in enumerate(encodings)}
    running = [i for i, r in refused.items() if r is None]
    # Progress units: the input pass, then per codec its frames encoded and decoded.
    total = frames * (1 + 2 * len(codecs))
    lane_units = {i: 0 for i in running}
    input_units = [frames * 2 * (len(codecs) - len(running))]  # refused codecs count as done
    reported = [-1]

    def tick() -> None:
        done = min(input_units[0] + sum(lane_units.values()), total)
        if progress and done > reported[0]:
            reported[0] = done
            progress(done, total)

    meter = TruePeakMeter(sample_rate_hz, channels)

    def measure_input(block: np.ndarray) -> None:
        meter.feed(block)
        input_units[0] += block.shape[1]

    tick()
    with tempfile.TemporaryDirectory(prefix="mixanalyzer-codec-") as tmp:
        workers = [
            _lane_worker(encodings[i], sample_rate_hz, channels, frames, Path(tmp), lane_units, i)
            for i in running
        ]
        with closing(blocks()) as stream:  # an interrupted read closes its file at once
            done = fan_out(stream, workers, on_block=measure_input, on_tick=tick, cancel=cancel)
    results = dict(zip(running, done, strict=True))
    before = meter.result().true_peak_dbtp
    out = [results[i] if i in results else refused[i] for i in range(len(codecs))]
    return [replace(r, true_peak_before_dbtp=before) for r in out]  # type: ignore[arg-type]


def _lane_worker(
    enc: LossyEncoding,
    rate_hz: int,
    channels: int,
    frames: int,
    tmp: Path,
    units: dict[int, int],
    key: int,
) -> Callable[[Feed], CodecResult]:
    """One codec's round trip as a :func:`~analyzer.playback.lanes.fan_out` worker; it counts
    its progress in ``units[key]`` (at most ``2 * frames``; exactly that when it ends)."""

    def work(feed: Feed) -> CodecResult:
        def advance(n: int) -> None:
            feed.check()
            units[key] = min(units[key] + n, 2 * frames)

        try:
            return _round_trip(feed, enc, rate_hz, channels, frames, tmp, advance)
        finally:
            units[key] = 2 * frames

    return work


def lossy_encoding(codec: str, rate_hz: int) -> LossyEncoding:
    """libsndfile settings for ``codec`` at a typical streaming bitrate (the compression-level
    mappings are libsndfile's: ogg_vorbis.c, ogg_opus.c, mpeg_l3_encode.c)."""
    if codec == "opus":
        rate = rate_hz if rate_hz in OPUS_RATES_HZ else 48000
        # libsndfile: bitrate = ((1 - level) * 250 kbps + 6 kbps) per channel.
        level = 1.0 - (OPUS_KBPS_PER_CHANNEL - 6) / 250.0
        note = (
            f"Ogg Opus {OPUS_KBPS_PER_CHANNEL} kbps per channel VBR "
            f"({2 * OPUS_KBPS_PER_CHANNEL} kbps stereo, like YouTube's Opus audio); "
            f"libsndfile compression_level {level:.3f}"
        )
        return LossyEncoding(codec, "OGG", "OPUS", rate, level, None, note)
    if codec == "vorbis":
        rate = _streaming_rate(rate_hz)
        # libsndfile: Vorbis VBR quality = 1 - level; quality 0.5 is "q5", ~160 kbps stereo.
        level = 1.0 - VORBIS_QUALITY
        note = (
            f"Ogg Vorbis q{VORBIS_QUALITY * 10:g} VBR (~160 kbps stereo, like Spotify's 'High'); "
            f"libsndfile compression_level {level:.3f}"
        )
        return LossyEncoding(codec, "OGG", "VORBIS", rate, level, None, note)
    # mp3
    rate = rate_hz if rate_hz in MPEG_RATES_HZ else _streaming_rate(rate_hz)
    if rate not in MPEG_RATES_HZ:
        rate = 48000
    # libsndfile (CBR/ABR): bitrate = max - level * (max - min), with (min, max) kbps of
    # (32, 320) at >= 32 kHz, (8, 160) at 16-24 kHz, (8, 64) below.
    lo, hi = (32, 320) if rate >= 32000 else (8, 160) if rate >= 16000 else (8, 64)
    kbps = min(max(MP3_KBPS, lo), hi)
    level = (hi - kbps) / (hi - lo)
    note = (
        f"MP3 (MPEG-1/2 Layer III, LAME) {kbps} kbps CBR; libsndfile compression_level "
        f"{level:.3f}, bitrate_mode CONSTANT"
    )
    return LossyEncoding(codec, "MP3", "MPEG_LAYER_III", rate, level, "CONSTANT", note)


def _streaming_rate(rate_hz: int) -> int:
    if rate_hz <= MAX_LOSSY_RATE_HZ:
        return rate_hz
    return 44100 if rate_hz % 11025 == 0 else 48000


def _note(enc: LossyEncoding, rate_hz: int) -> str:
    if enc.rate_hz != rate_hz:
        return enc.note + f"; input resampled {rate_hz} -> {enc.rate_hz} Hz with soxr first"
    return enc.note


def _refusal(enc: LossyEncoding, rate_hz: int, channels: int) -> CodecResult | None:
    """The error result of a codec that cannot run on this audio here (``None``: it can)."""
    if enc.codec == "mp3" and channels > 2:
        reason: str | None = f"MP3 carries 1 or 2 channels; this audio has {channels}"
    else:
        reason = unavailable_reason(enc)
    if reason is None:
        return None
    return CodecResult(enc.codec, _note(enc, rate_hz), math.nan, None, None, reason)


def _round_trip(
    blocks: Iterable[np.ndarray],
    enc: LossyEncoding,
    rate_hz: int,
    channels: int,
    frames: int,
    tmp: Path,
    advance: Callable[[int], None],
) -> CodecResult:
    """Encode the blocks with ``enc`` to a file in ``tmp``, decode it and measure it."""
    note = _note(enc, rate_hz)

    def failed(message: str) -> CodecResult:
        return CodecResult(enc.codec, note, math.nan, None, None, message)

    out = tmp / f"{enc.codec}.{enc.extension}"
    try:
        encode_blocks(blocks, enc, rate_hz, channels, out, advance)
        kbps = out.stat().st_size * 8 / (frames / rate_hz) / 1000
        note += f"; {library_label(enc)}; measured {kbps:.0f} kbps"
        measured = _measure_decoded(out, enc, rate_hz, advance)
    except Cancelled:
        raise
    except Exception as exc:  # libsndfile reports every failure as one error type
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return failed(f"{enc.format}/{enc.subtype} round trip failed: {text}")
    if measured is None:
        return failed("the encoded file decoded to no audio")
    true_peak_dbtp, overs = measured
    return CodecResult(
        codec=enc.codec,
        bitrate_note=note,
        true_peak_before_dbtp=math.nan,  # filled in by the caller
        true_peak_after_dbtp=true_peak_dbtp,
        intersample_overs_after=overs,
        error=None,
    )


def _measure_decoded(
    path: Path, enc: LossyEncoding, rate_hz: int, advance: Callable[[int], None]
) -> tuple[float, int] | None:
    """The true peak (dBTP) and inter-sample overs of the decoded file, at its own rate;
    ``None`` when it decodes to no audio. Progress counts input-rate frames."""
    from analyzer.measure.truepeak import TruePeakMeter

    decoded = 0
    with EncodedFile(path, enc) as f:
        meter = TruePeakMeter(f.sample_rate_hz, f.channels, track_windows=True)
        scale = rate_hz / f.sample_rate_hz
        for block in f.blocks(BLOCK_FRAMES):
            meter.feed(block)
            decoded += block.shape[1]
            advance(int(block.shape[1] * scale))
    if decoded == 0:
        return None
    return meter.result().true_peak_dbtp, meter.intersample_overs
