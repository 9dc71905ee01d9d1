"""The lossy round trip: encode audio to Ogg Opus, Ogg Vorbis or MP3 with libsndfile (through
soundfile), then decode it back. Which bitrate to use, and what to measure in the result, is the
caller's (:mod:`analyzer.playback.codecs`); this module only writes and reads the files.

libsndfile's ``compression_level`` maps to each codec's own setting (its ogg_opus.c,
ogg_vorbis.c and mpeg_l3_encode.c); the caller computes the level.

Which libsndfile: the system's when it is installed and has the codec, else the one bundled
in soundfile's wheel (``$MIXANALYZER_CODEC_LIBSNDFILE``: ``auto``, the default, ``system`` or
``bundled``). Measured on Debian 12 (AMD EPYC, 4 minutes of 44.1 kHz stereo): the wheel's
libsndfile 1.2.2 encodes MP3 in 11.8 s and Opus in 10.7 s, Debian's libsndfile 1.2.0 (with
Debian's libmp3lame and libopus) in 3.9 s and 2.8 s, as fast as ffmpeg with the same
libraries; Vorbis takes ~3 s with either (why the wheel's LAME and libopus are slower, e.g.
built without their optimised code paths, was not checked). The choice is about speed: the
decoded audio of either is measured the same way, and every note names the library used.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
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


LIBRARY_ENV = "MIXANALYZER_CODEC_LIBSNDFILE"
_LOADING = threading.Lock()
_ABSENT = object()


@functools.cache
def _system_soundfile() -> ModuleType | None:
    """A second instance of the soundfile module bound to the system's libsndfile (``None``
    when there is none). soundfile's source is run once more with its bundled library's
    import refused, then its handle is replaced by one opened by full path: a bare soname
    (``libsndfile.so.1``) would return the bundled copy when that is loaded already, since it
    carries the same soname. The original module, bound to the bundled library, is untouched.
    """
    path = _system_library_path()
    spec = importlib.util.find_spec("soundfile")
    if path is None or spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    with _LOADING:
        saved = sys.modules.get("_soundfile_data", _ABSENT)
        sys.modules["_soundfile_data"] = None  # type: ignore[assignment]  # import refused
        try:
            spec.loader.exec_module(module)
            module._snd = module._ffi.dlopen(path)
            version = module._ffi.string(module._snd.sf_version_string()).decode()
        except Exception:  # no usable system library, or a soundfile whose internals differ
            return None
        finally:
            if saved is _ABSENT:
                del sys.modules["_soundfile_data"]
            else:
                sys.modules["_soundfile_data"] = saved  # type: ignore[assignment]
    module.__libsndfile_version__ = version.removeprefix("libsndfile-")
    return module


def _system_library_path() -> str | None:
    """The system libsndfile's file: ``find_library``'s answer when it is a path (macOS),
    else the path ``ldconfig -p`` gives for that soname (Linux)."""
    import ctypes.util
    import shutil
    import subprocess

    name = ctypes.util.find_library("sndfile")
    if name is None or os.sep in name:
        return name
    try:
        listing = subprocess.run(
            [shutil.which("ldconfig") or "/sbin/ldconfig", "-p"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in listing.splitlines():
        soname, _, target = line.strip().partition(" => ")
        if soname.split(" ")[0] == name and os.path.isfile(target):
            return target
    return None


def _library(enc: LossyEncoding) -> tuple[Any, str]:
    """The soundfile module to encode and decode ``enc`` with, and its label."""
    return soundfile_for(enc.format, enc.subtype)


def soundfile_for(format: str, subtype: str) -> tuple[Any, str]:
    """The soundfile module to write and read ``format``/``subtype`` (e.g. ``"OGG"``,
    ``"OPUS"``) with, chosen as the module docstring says, and its label."""
    import soundfile as sf

    choice = os.environ.get(LIBRARY_ENV, "auto").strip().lower()
    if choice in ("auto", "system"):
        system = _system_soundfile()
        if system is not None and (
            choice == "system" or subtype in system.available_subtypes(format)
        ):
            return system, f"libsndfile {system.__libsndfile_version__} (system)"
    return sf, f"libsndfile {sf.__libsndfile_version__} (soundfile's bundled)"


def library_label(enc: LossyEncoding) -> str:
    """Which libsndfile encodes and decodes ``enc``, e.g. ``"libsndfile 1.2.0 (system)"``."""
    return _library(enc)[1]


def unavailable_reason(enc: LossyEncoding) -> str | None:
    """Why the chosen libsndfile cannot write ``enc`` (``None`` when it can)."""
    lib, label = _library(enc)
    if enc.subtype not in lib.available_subtypes(enc.format):
        return f"{enc.format}/{enc.subtype} is not available in this libsndfile ({label})"
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
    sf, _ = _library(enc)
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
    """An encoded file opened for decoding (with the libsndfile that :func:`encode_blocks`
    chose for ``enc``; soundfile's own when ``enc`` is None): its ``sample_rate_hz`` and
    ``channels``, and :meth:`blocks` of ``(channels, frames)`` float64. Use as a context
    manager."""

    def __init__(self, path: str | os.PathLike[str], enc: LossyEncoding | None = None) -> None:
        import soundfile

        sf = soundfile if enc is None else _library(enc)[0]
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
