"""Audio input: reading and probing files with soundfile (libsndfile).

Everything libsndfile reads (WAV/BWF/RF64, AIFF, FLAC, OGG Vorbis, Opus, MP3, ...), 8 to 384 kHz,
1 to 8 channels, integer or float samples, streamed as float64 blocks shaped ``(channels, frames)``.
Nothing is resampled or down-mixed here. Every problem becomes an :class:`AudioLoadError` or
:class:`InvalidAudioError` whose message names the file and the cause.
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import AnalyzerError, AudioLoadError, InvalidAudioError
from analyzer.io import truncation
from analyzer.types import AudioInfo

DEFAULT_BLOCK_FRAMES = 262144
MIN_SAMPLE_RATE_HZ = 8000
MAX_SAMPLE_RATE_HZ = 384000
MAX_CHANNELS = 8
#: Containers whose header states the exact number of frames: fewer decoded means truncation.
_INTEGER_SUBTYPES = ("PCM_", "ALAW", "ULAW", "DWVW", "DPCM", "IMA_ADPCM", "MS_ADPCM")
_EXACT_LENGTH_FORMATS = {"WAV", "WAVEX", "RF64", "W64", "AIFF", "FLAC", "CAF"}


def display_path(path: str | os.PathLike[str]) -> str:
    """A file name safe to print: undecodable bytes and control characters escaped."""
    text = os.fsdecode(os.fspath(path))
    # Undecodable bytes arrive as lone surrogates: show them as the bytes they were (\xff).
    if os.name == "posix":  # (Windows names are UTF-16: no undecodable bytes)
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class AudioSource:
    """An open audio file; use as a context manager and iterate :meth:`blocks`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = display_path(path)
        _check_path(self.path, self.name)
        import soundfile as sf

        self._handle = None
        try:
            target: Any = str(self.path)
            try:
                target.encode("utf-8")
            except UnicodeEncodeError:  # libsndfile takes UTF-8 names: hand it an open file
                self._handle = target = open(self.path, "rb")  # noqa: SIM115
            with truncation.quiet_decoder():  # libmpg123 prints its warnings on fd 2 itself
                self._file: Any = sf.SoundFile(target)
        except Exception as exc:
            if self._handle is not None:
                self._handle.close()  # libsndfile reports every failure as one error type
            raise _unopenable(self.path, self.name, exc) from None
        f = self._file
        self.info = AudioInfo(
            path=self.name,
            sample_rate_hz=int(f.samplerate),
            channels=int(f.channels),
            frames=int(f.frames),
            format=str(f.format),
            subtype=str(f.subtype),
        )
        try:
            self._validate_header()
        except Exception:
            f.close()
            raise

    def _validate_header(self) -> None:
        info = self.info
        if not MIN_SAMPLE_RATE_HZ <= info.sample_rate_hz <= MAX_SAMPLE_RATE_HZ:
            raise AudioLoadError(
                f"{self.name}: unsupported sample rate {info.sample_rate_hz} Hz "
                f"(supported: {MIN_SAMPLE_RATE_HZ}-{MAX_SAMPLE_RATE_HZ} Hz)",
                slug="unsupported",
            )
        if not 1 <= info.channels <= MAX_CHANNELS:
            raise AudioLoadError(
                f"{self.name}: unsupported channel count {info.channels} (supported: 1-8)",
                slug="unsupported",
            )
        shortfall = self._shortfall()
        if shortfall is not None:
            raise AudioLoadError(f"{self.name}: truncated: {shortfall}", slug="truncated")
        if info.frames <= 0:
            raise InvalidAudioError(
                f"{self.name}: empty: the file holds no audio frames", slug="empty"
            )
        declared = _declared_data_bytes(self.path)
        if declared is not None:
            need, have = declared
            if need > have:
                raise AudioLoadError(
                    f"{self.name}: truncated: the header declares {need} bytes of audio "
                    f"but the file holds {have}",
                    slug="truncated",
                )

    def _shortfall(self) -> str | None:
        """What the header says is missing, for the formats whose truncation libsndfile hides
        (:mod:`analyzer.io.truncation`); WAV, AIFF and RF64 are read by
        :func:`_declared_data_bytes`."""
        fmt, frames = self.info.format, self.info.frames
        if fmt == "OGG":
            if not truncation.ogg_ends_cleanly(self.path):
                return "the last Ogg page is not the end of the stream"
            if damage := truncation.ogg_damaged_page(self.path):
                raise AudioLoadError(f"{self.name}: {damage}", slug="truncated")
            return None
        if fmt in ("WAV", "WAVEX", "RF64", "AIFF", "MP3", "FLAC"):
            return None
        if fmt == "NIST" and (why := truncation.nist_shortfall(self.path, frames)):
            return why
        if fmt == "PAF" and (
            why := truncation.paf_partial_frame(self.path, self.info.subtype, self.info.channels)
        ):
            return why
        return truncation.log_shortfall(str(self._file.extra_info), frames)

    def __enter__(self) -> AudioSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()
        if self._handle is not None:
            self._handle.close()

    def blocks(
        self,
        block_frames: int = DEFAULT_BLOCK_FRAMES,
        *,
        start_frame: int = 0,
        stop_frame: int | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield C-contiguous float64 blocks shaped ``(channels, frames)``, checking each for
        NaN/Inf and, when reading the whole file, the whole for truncation. ``start_frame`` and
        ``stop_frame`` read a section only."""
        f = self._file
        sr = self.info.sample_rate_hz
        done = 0
        section = start_frame > 0 or stop_frame is not None
        remaining = None if stop_frame is None else max(stop_frame - start_frame, 0)
        if start_frame:
            f.seek(start_frame)
        # Integer PCM cannot hold NaN or Inf: check float and lossy-decoded audio only.
        check_finite = not self.info.subtype.startswith(_INTEGER_SUBTYPES)
        buf = np.empty((block_frames, self.info.channels))  # reused: no page faults per block
        quiet = truncation.quiet_decoder if self.info.format == "MP3" else contextlib.nullcontext
        # libvorbisfile/libopusfile return a short read at a page whose CRC fails (a hole), then
        # go on after it: only the end of the stream may give fewer frames than asked.
        hole_at: float | None = None
        while True:
            want = block_frames if remaining is None else min(block_frames, remaining - done)
            if want <= 0:
                break
            try:
                with quiet():
                    data = f.read(want, dtype="float64", always_2d=True, out=buf[:want])
            except Exception as exc:
                raise AudioLoadError(
                    f"{self.name}: truncated or corrupt: decoding failed between "
                    f"{done / sr:.3f} s and {(done + want) / sr:.3f} s ({libsndfile_reason(exc)})",
                    slug="truncated",
                ) from None
            if data.shape[0] == 0:
                break
            if hole_at is not None:  # audio after a short read: the decoder skipped a hole
                raise AudioLoadError(
                    f"{self.name}: corrupt: damaged Ogg pages skipped at {hole_at:.3f} s",
                    slug="truncated",
                )
            if data.shape[0] < want and self.info.format == "OGG":
                hole_at = (done + data.shape[0]) / sr  # fine if nothing follows (the end)
            # Always a copy: `buf` is reused for the next read while meters still hold this block
            # (a mono or 1-frame transpose would otherwise be a view of it).
            block = np.array(data.T, order="C")
            if check_finite and not np.isfinite(block).all():
                bad = np.argwhere(~np.isfinite(block))[0]
                raise InvalidAudioError(
                    f"{self.name}: contains NaN or infinite samples "
                    f"(first at {(done + bad[1]) / sr:.3f} s, channel {bad[0] + 1})",
                    slug="nan",
                )
            done += block.shape[1]
            yield block
        if done == 0:
            raise InvalidAudioError(f"{self.name}: empty: no audio frames decoded", slug="empty")
        if not section and done < self._declared_frames():
            raise AudioLoadError(
                f"{self.name}: truncated or corrupt: decoded {done / sr:.3f} s of the "
                f"{self.info.frames / sr:.3f} s the header declares",
                slug="truncated",
            )
        self.frames_decoded = done

    def _declared_frames(self) -> int:
        """The frames the file must decode to: the header's count where it is exact (PCM
        containers, FLAC), the last granule position for Ogg (pages whose CRC fails are
        skipped by the decoder), the Xing/VBRI count for MP3 less one frame; else 0."""
        fmt, frames = self.info.format, self.info.frames
        if fmt in _EXACT_LENGTH_FORMATS or fmt == "OGG":
            return frames
        if fmt == "MP3" and truncation.has_length_header(self.path):
            return frames - truncation.MP3_FRAME_SAMPLES
        return 0

    def resampled_blocks(
        self, target_rate_hz: int, block_frames: int = DEFAULT_BLOCK_FRAMES, **section: int | None
    ) -> Iterator[np.ndarray]:
        """:meth:`blocks` converted to ``target_rate_hz`` by soxr's streaming resampler (VHQ),
        only when asked: nothing here resamples silently."""
        from analyzer.io.resample import StreamResampler

        rs = StreamResampler(self.info.sample_rate_hz, target_rate_hz, self.info.channels)
        for block in self.blocks(block_frames, **section):  # type: ignore[arg-type]
            out = rs.feed(block)
            if out.shape[1]:
                yield out
        out = rs.flush()
        if out.shape[1]:
            yield out


def open_audio(path: str | os.PathLike[str]) -> AudioSource:
    """Open ``path`` for streaming; raises :class:`AudioLoadError` naming the file and cause."""
    return AudioSource(path)


def probe_info(path: str | os.PathLike[str]) -> AudioInfo:
    """The header of ``path`` (rate, channels, frames, format) without checking or decoding
    anything; raises :class:`AudioLoadError` when libsndfile cannot read it."""
    import soundfile as sf

    _check_path(Path(path), display_path(path))  # a FIFO would block the header read forever
    try:
        with truncation.quiet_decoder():  # libmpg123 prints its warnings on fd 2 itself
            info = sf.info(os.fspath(path))
    except Exception as exc:  # libsndfile reports every failure as one error type
        raise _unopenable(Path(path), display_path(path), exc) from None
    return AudioInfo(
        path=display_path(path),
        sample_rate_hz=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        format=str(info.format),
        subtype=str(info.subtype),
    )


def probe_duration_s(path: str | os.PathLike[str]) -> float:
    """The duration the header of ``path`` states, in seconds; 0.0 when it cannot be read (a
    hint for progress bars: the analysis reports the real error)."""
    try:
        info = probe_info(path)
    except AnalyzerError:
        return 0.0
    return info.frames / info.sample_rate_hz if info.sample_rate_hz > 0 else 0.0


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Read a whole file as ``((channels, frames) float64, sample_rate_hz)`` (small files)."""
    with open_audio(path) as src:
        data = np.concatenate(list(src.blocks()), axis=1)
        return data, src.info.sample_rate_hz


def read_audio_unchecked(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """A whole file another program wrote for us (e.g. Matchering's result) as
    ``((channels, frames) float64, sample_rate_hz)``, as libsndfile decodes it, without the
    checks :func:`open_audio` makes of a user's input."""
    import soundfile as sf

    data, rate = sf.read(os.fspath(path), dtype="float64", always_2d=True)
    return np.ascontiguousarray(data.T), int(rate)


def _check_path(path: Path, name: str) -> None:
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            target = display_path(os.readlink(path))
            raise AudioLoadError(
                f"{name}: missing: broken link (to {target}, which does not exist)", slug="missing"
            ) from None
        raise AudioLoadError(f"{name}: missing: no such file", slug="missing") from None
    except OSError as exc:
        raise AudioLoadError(f"{name}: unreadable: {exc.strerror}", slug="unreadable") from None
    kind = non_regular_kind(st.st_mode)
    if kind == "a directory":
        raise AudioLoadError(f"{name}: is a directory, not an audio file", slug="directory")
    if kind is not None:
        raise AudioLoadError(
            f"{name}: is {kind}, not a regular file: refused before opening it (a stream "
            "cannot be measured and could block forever)",
            slug="not-regular",
        )
    if st.st_size == 0:
        raise AudioLoadError(f"{name}: empty file (0 bytes)", slug="empty")
    if not os.access(path, os.R_OK):
        raise AudioLoadError(f"{name}: unreadable: permission denied", slug="unreadable")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise AudioLoadError(f"{name}: unreadable: {exc.strerror}", slug="unreadable") from None


def _unopenable(path: Path, name: str, exc: BaseException) -> AudioLoadError:
    """The error for a file libsndfile could not open: truncated when the container shows it
    (:func:`analyzer.io.truncation.unopenable_cause`), else unsupported or unreadable."""
    cause = truncation.unopenable_cause(path)
    if cause is not None:
        return AudioLoadError(f"{name}: {cause}", slug="truncated")
    return AudioLoadError(
        f"{name}: unsupported or unreadable audio ({libsndfile_reason(exc)})", slug="unsupported"
    )


def non_regular_kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "not a regular file"


def libsndfile_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    # soundfile prefixes the path; the caller already names the file.
    if ": " in text and text.startswith("Error opening"):
        text = text.rsplit(": ", 1)[-1]
    return text.rstrip(".")


def _declared_data_bytes(path: Path) -> tuple[int, int] | None:
    """For RIFF/WAVE, RF64 and AIFF: ``(bytes the audio chunk declares, bytes present)``, else
    None (RF64 keeps the 64-bit data size in its ``ds64`` chunk, EBU Tech 3306).

    libsndfile quietly shortens a WAV whose header claims more data than the file holds; this
    check makes that truncation visible instead of reporting a shorter duration.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12:
            return None
        big_data = None
        if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
            endian, data_id, skip = "<", b"data", 0
            if head[:4] == b"RF64":
                ds64 = fh.read(8 + 16)
                if len(ds64) < 24 or ds64[:4] != b"ds64":
                    return None
                big_data = struct.unpack("<Q", ds64[16:24])[0]
        elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            endian, data_id, skip = ">", b"SSND", 8
        else:
            return None
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            cid, csize = chunk[:4], struct.unpack(endian + "I", chunk[4:])[0]
            if cid == data_id:
                if csize == 0xFFFFFFFF and big_data is not None:
                    csize = big_data
                elif csize in (0, 0xFFFFFFFF):  # streaming writers leave the size open
                    return None
                start = pos + 8 + skip
                return csize - skip, max(size - start, 0)
            pos += 8 + csize + (csize & 1)
    return None


def read_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """The file's text tags (title, artist, album, ...) as libsndfile reads them (WAV INFO,
    AIFF, FLAC/Vorbis comments); ``{}`` when there are none or the file cannot be opened.
    Values are data for display, never markup."""
    import soundfile as sf

    try:
        with open(path, "rb") as fh, sf.SoundFile(fh) as f:
            tags = f.copy_metadata()
    except Exception:  # tags are optional decoration: the analysis reports real errors
        return {}
    return {str(k): display_path(str(v)) for k, v in tags.items() if str(v).strip()}
