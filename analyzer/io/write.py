"""Atomic writers: every output (text, bytes, audio) goes to a hidden temporary beside its final
name and is renamed over it only when complete, so the final name never holds a partial file."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analyzer.errors import OutputError, UsageError
from analyzer.io.source import display_path, libsndfile_reason, non_regular_kind


def _plain_file_mode() -> int:
    """The permissions a plain ``open()`` would give a new file (``mkstemp`` makes it 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Longest file name (bytes) on Linux, macOS and Windows file systems.
_NAME_MAX = 255
#: What mkstemp adds to the prefix: 8 random characters and ".part".
_TEMP_EXTRA = 8 + len(".part")


def _temp_prefix(target: Path) -> str:
    """``.NAME.`` for the hidden temporary beside ``target``, shortened (in bytes) so that the
    temporary's name stays within NAME_MAX even when the final name is already 255 bytes."""
    raw = os.fsencode(target.name)[: _NAME_MAX - _TEMP_EXTRA - 2]
    return "." + os.fsdecode(raw) + "."


def _refuse_existing(target: Path, name: str, force: bool) -> None:
    """OutputError unless ``target`` may be written: absent, or ``force`` and a regular file
    (a symlink counts as what it points to). A FIFO, device, socket or folder is never renamed
    over, even with ``force``. A name the system refuses to look up says why."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{name}: cannot write: {exc.strerror}", slug="unwritable") from None
    kind = non_regular_kind(st.st_mode)
    if kind == "a directory":
        raise OutputError(f"{name}: is a directory", slug="unwritable")
    if kind is not None:
        raise OutputError(
            f"{name}: is {kind}, not a regular file: refused (even with --force)",
            slug="not-regular",
        )
    if not force:
        raise OutputError(f"{name}: exists (use --force to overwrite)", slug="exists")


def check_output(path: str | os.PathLike[str] | None, force: bool) -> None:
    """Refuse, before any work, an output that cannot be written: one that exists without
    ``force``, or that is not a regular file (even with ``force``). ``None`` and the standard
    streams pass."""
    if path is None or stream_of(path) is not None:
        return
    _refuse_existing(_final_target(Path(path)), display_path(path), force)


#: Output names that mean the process's own streams: written there, never renamed over.
_STREAM_NAMES = {
    "-": 1,
    "/dev/stdout": 1,
    "/dev/fd/1": 1,
    "/proc/self/fd/1": 1,
    "/dev/stderr": 2,
    "/dev/fd/2": 2,
    "/proc/self/fd/2": 2,
}


def stream_of(path: str | os.PathLike[str] | None) -> int | None:
    """1 or 2 when ``path`` names standard output (``-``, ``/dev/stdout``) or standard error
    (``/dev/stderr``): such an output is written to the stream, never replaced on disk."""
    if path is None:
        return None
    return _STREAM_NAMES.get(os.fspath(path))


def _final_target(path: Path) -> Path:
    """Where the bytes go: a symlinked output's target (the link stays a link, its target is
    replaced atomically), else ``path`` itself."""
    try:
        link = path.is_symlink()
    except OSError:  # a name too long to look up: the write reports it
        return path
    return Path(os.path.realpath(path)) if link else path


def _publish(tmp: str | os.PathLike[str], target: Path, name: str, force: bool) -> None:
    """Move the complete temporary to ``target``. Without ``force`` a hard link that fails if
    the name exists (``link(2)``: atomic no-replace), so a file that appeared during the run is
    never replaced; with ``force`` a rename, re-checked so a FIFO or device that appeared
    meanwhile is not replaced either."""
    if force:
        _refuse_existing(target, name, True)
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputError(
            f"{name}: exists (appeared during the run; use --force to overwrite)", slug="exists"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # No hard links on this file system (FAT, some FUSE): check, then rename (small race).
        _refuse_existing(target, name, False)
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _write_failure(target: Path, exc: BaseException) -> OutputError:
    """The one-line OutputError for a failed write. libsndfile reports a full disk only as
    "system error" without the errno, so the free space of the folder is asked directly."""
    reason = getattr(exc, "strerror", None)
    if not reason:
        reason = libsndfile_reason(exc) or type(exc).__name__
        with contextlib.suppress(OSError):
            st = os.statvfs(target.parent)
            if st.f_bavail * st.f_frsize < 1 << 20:
                reason = os.strerror(errno.ENOSPC)
    return OutputError(f"{display_path(target)}: cannot write: {reason}", slug="unwritable")


def write_text_atomic(path: str | os.PathLike[str], text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename: never a partial file under
    the final name. Refuses to replace an existing file unless ``force``."""
    write_bytes_atomic(path, text.encode("utf-8"), force=force)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`write_text_atomic`); ``-``,
    ``/dev/stdout`` and ``/dev/stderr`` are written to the stream itself."""
    stream = stream_of(path)
    if stream is not None:
        out = sys.stdout if stream == 1 else sys.stderr
        out.flush()
        out.buffer.write(data)
        out.buffer.flush()
        return
    name = display_path(path)
    target = _final_target(Path(path))
    _refuse_existing(target, name, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".part", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{name}: cannot write: {exc.strerror}", slug="unwritable") from None
    try:
        os.fchmod(fd, _plain_file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, target, name, force)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"{name}: cannot write: {exc.strerror}", slug="unwritable") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_audio_atomic(
    path: str | os.PathLike[str],
    data: np.ndarray,
    sample_rate_hz: int,
    *,
    subtype: str = "PCM_24",
    force: bool = False,
) -> None:
    """Write ``(channels, frames)`` audio as WAV atomically (temporary file, then rename)."""
    import io as _io

    import soundfile as sf

    buf = _io.BytesIO()
    sf.write(buf, np.asarray(data).T, int(sample_rate_hz), subtype=subtype, format="WAV")
    write_bytes_atomic(path, buf.getvalue(), force=force)


class AtomicWavWriter:
    """Stream ``(channels, frames)`` blocks into a WAV file that appears under its final name
    only when complete (temporary file in the same folder, then rename); refuses to replace an
    existing file unless ``force``. Use as a context manager: an exception discards the file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        sample_rate_hz: int,
        channels: int,
        *,
        subtype: str = "PCM_24",
        force: bool = False,
        container: str = "WAV",
        create_parents: bool = True,
    ) -> None:
        self._name = name = display_path(path)
        self.path = _final_target(Path(path))
        self._force = force
        _refuse_existing(self.path, name, force)
        if not create_parents and not self.path.parent.is_dir():
            raise OutputError(
                f"{name}: cannot write: folder {display_path(self.path.parent)} does not exist",
                slug="no-folder",
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(self.path), suffix=".part",
                                       dir=self.path.parent)  # fmt: skip
            os.close(fd)
            self._tmp = Path(tmp)
        except OSError as exc:
            raise OutputError(f"{name}: cannot write: {exc.strerror}", slug="unwritable") from None
        self._words = subtype == "PCM_24" and container in ("WAV", "FLAC")
        self._container = container
        try:
            self._open(int(sample_rate_hz), int(channels), subtype)
        except Exception as exc:  # libsndfile's errors are RuntimeErrors, not OSErrors
            self._discard()
            raise self._failure(exc) from None

    def _open(self, sample_rate_hz: int, channels: int, subtype: str) -> None:
        """Open the temporary for writing (libsndfile here; a subclass may write it itself)."""
        import soundfile as sf

        self._file = sf.SoundFile(
            str(self._tmp), "w", samplerate=sample_rate_hz, channels=channels, subtype=subtype,
            format=self._container,
        )  # fmt: skip

    def _close(self, complete: bool) -> None:
        """Finish the temporary (``complete``: every block was written, else it is discarded)."""
        self._file.close()

    def _failure(self, exc: BaseException) -> OutputError:
        """The one-line OutputError for a failed write of this file."""
        return _write_failure(self.path, exc)

    def write(self, block: np.ndarray) -> None:
        """Append ``(channels, frames)``; a failed write (a full disk) raises OutputError."""
        try:
            self._file.write(np.ascontiguousarray(np.asarray(block).T))
        except (OSError, RuntimeError, AssertionError) as exc:  # soundfile asserts the count
            raise _write_failure(self.path, exc) from None

    def write_gained(self, frames: np.ndarray, gain: float) -> None:
        """Append ``(frames, channels)`` samples (interleaved, as a float32 scratch holds them)
        times ``gain``, clipped to full scale: the same file as :meth:`write` of the transposed,
        gained and clipped float64 block, without its copies (24-bit WAV and FLAC go through
        :func:`~analyzer.io.pcm24.pcm24_words` and libsndfile's integer path)."""
        if not self._words:
            self.write(np.clip(np.asarray(frames, dtype=np.float64) * gain, -1.0, 1.0).T)
            return
        from analyzer.io.pcm24 import pcm24_words

        words = pcm24_words(frames, gain, self._container)
        try:
            self._file.write(words)
        except (OSError, RuntimeError, AssertionError) as exc:
            raise _write_failure(self.path, exc) from None

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self._tmp.unlink()

    def __enter__(self) -> AtomicWavWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        try:
            self._close(exc_type is None)  # writes the final header: can fail on a full disk
        except (OSError, RuntimeError) as close_exc:
            self._discard()
            if exc_type is None:
                raise _write_failure(self.path, close_exc) from None
            return
        if exc_type is not None:
            self._discard()
            return
        try:
            os.chmod(self._tmp, _plain_file_mode())
            _publish(self._tmp, self.path, self._name, self._force)
        except OSError as exc:
            self._discard()
            raise OutputError(
                f"{self._name}: cannot write: {exc.strerror}", slug="unwritable"
            ) from None
        except BaseException:
            self._discard()
            raise


BIT_DEPTHS = ("16", "24", "32f")
_SUBTYPES = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
_CONTAINERS = {".wav": "WAV", ".flac": "FLAC"}


@dataclass(frozen=True)
class OutputFormat:
    """Container (from the file extension), bit depth and dither."""

    container: str
    bit_depth: str
    dither: bool

    @property
    def subtype(self) -> str:
        return _SUBTYPES[self.bit_depth]


def output_format(
    path: str | os.PathLike[str], bit_depth: str = "24", dither: bool = True
) -> OutputFormat:
    """The format for ``path``: ``.wav`` or ``.flac``; FLAC holds 16 or 24 bits, not float."""
    suffix = Path(path).suffix.lower()
    if suffix not in _CONTAINERS:
        raise UsageError(
            f"{display_path(path)}: output must end in .wav or .flac", slug="output-format"
        )
    if bit_depth not in BIT_DEPTHS:
        raise UsageError(f"--bit-depth {bit_depth}: expected one of {', '.join(BIT_DEPTHS)}")
    if suffix == ".flac" and bit_depth == "32f":
        raise UsageError("FLAC cannot hold 32-bit float: use .wav or --bit-depth 24")
    return OutputFormat(_CONTAINERS[suffix], bit_depth, dither and bit_depth == "16")


class Quantizer:
    """Rounds to the output's grid (so the meters see exactly the samples written): TPDF dither
    of +-1 LSB (two uniform variables, Lipshitz, Wannamaker & Vanderkooy 1992) for 16 bits,
    plain rounding for 24, float32 rounding for float. Seeded: the same input gives the same
    file."""

    def __init__(self, fmt: OutputFormat, seed: int = 0) -> None:
        self.fmt = fmt
        self._rng = np.random.default_rng(seed)
        self.scale = {"16": 2.0**15, "24": 2.0**23}.get(fmt.bit_depth)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(values as float64, array to hand to soundfile)``."""
        if self.scale is None:
            y = x.astype(np.float32)
            return y.astype(np.float64), y
        v = x * self.scale
        if self.fmt.dither:
            v = v + (self._rng.random(v.shape) - self._rng.random(v.shape))
        q = np.clip(np.rint(v), -self.scale, self.scale - 1.0)
        if self.fmt.bit_depth == "16":
            return q / self.scale, q.astype(np.int16)
        return q / self.scale, (q.astype(np.int32) << 8)  # libsndfile takes the top 24 bits


def check_paths(mix_path: str, out_path: str) -> None:
    """Refuse an output that is the input (even with ``--force``) or in a missing folder."""
    out = Path(out_path)
    check_distinct([mix_path], [out_path])
    if not out.parent.is_dir():
        raise OutputError(
            f"{display_path(out)}: folder {display_path(out.parent)} does not exist",
            slug="no-folder",
        )


def _same_file(a: str, b: str) -> bool:
    """Whether two names are one file: the same real path (symlinks, ``..``) or, both existing,
    the same inode (a hard link is the same file under another name)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def check_distinct(
    inputs: Iterable[str | os.PathLike[str] | None],
    outputs: Iterable[str | os.PathLike[str] | None],
) -> None:
    """Refuse, before any work and even with ``--force`` (exit 4), an output that is one of the
    inputs or another output. A folder among the inputs stands for the audio files found in it;
    ``None`` and the standard streams (``-``, ``/dev/stdout``) are skipped."""
    from analyzer.io.files import find_audio_files

    ins: list[str] = []
    for raw in inputs:
        if raw is None or stream_of(raw) is not None:
            continue
        text = os.fspath(raw)
        if os.path.isdir(text):
            ins.extend(f.path for f in find_audio_files([text]).files)
        else:
            ins.append(text)
    outs = [os.fspath(o) for o in outputs if o is not None and stream_of(o) is None]
    for i, out in enumerate(outs):
        for inp in ins:
            if _same_file(out, inp):
                raise OutputError(
                    f"{display_path(out)}: is the input file {display_path(inp)}; an output "
                    "never replaces an input (refused even with --force)",
                    slug="is-input",
                )
        for other in outs[:i]:
            if _same_file(out, other):
                raise OutputError(
                    f"{display_path(out)}: named twice as an output "
                    f"(also {display_path(other)}); each output needs its own file",
                    slug="same-output",
                )
