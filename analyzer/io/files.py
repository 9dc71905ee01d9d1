"""Audio files on disk: finding them in files and folders, and hashing their content.

One walker for every command that takes folders (``batch``, ``reference build``): a folder is
searched recursively for the extensions libsndfile reads, hidden files and folders skipped, in a
stable order; a file named explicitly is taken whatever its extension (the analysis says if it
is not audio); the same file reached twice is taken once.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from analyzer.io.source import display_path

#: File name extensions (lower case, no dot) taken from folders: what libsndfile reads.
AUDIO_EXTENSIONS = frozenset(
    {"wav", "wave", "aif", "aiff", "aifc", "flac", "ogg", "oga", "opus", "mp3"}
    | {"w64", "rf64", "caf"}
)
HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class AudioFile:
    """One file found. ``path`` is spelled as given (a folder's files as
    ``os.path.join(folder, relative)``); ``name`` is its path relative to the folder it was found
    in (POSIX separators, safe to print) or, for a file given explicitly, its bare file name."""

    path: str
    name: str


@dataclass(frozen=True)
class MissingPath:
    """A path given that cannot be searched: ``reason`` is ``None`` when nothing is there, else
    the operating system's reason (a name too long, a folder that may not be entered, ...)."""

    path: str
    reason: str | None = None

    @property
    def message(self) -> str:
        """The one-line message naming the path (``missing: ...`` or ``unreadable: ...``)."""
        name = display_path(self.path)
        if self.reason is None:
            return f"{name}: missing: no such file or folder"
        return f"{name}: unreadable: {self.reason}"


@dataclass(frozen=True)
class FoundAudio:
    """What :func:`find_audio_files` found, in the order given, and the paths it could not use."""

    files: tuple[AudioFile, ...]
    missing: tuple[MissingPath, ...]


def find_audio_files(paths: Sequence[str | os.PathLike[str]]) -> FoundAudio:
    """Expand files and folders into the audio files to read, in a stable order.

    A folder's files (extension in :data:`AUDIO_EXTENSIONS`, no hidden file or folder) are
    sorted by their path relative to the folder. A file given explicitly is taken whatever its
    extension. A path that does not exist, or whose status cannot be read, is a
    :class:`MissingPath` and the search goes on.
    """
    files: list[AudioFile] = []
    missing: list[MissingPath] = []
    seen: set[str] = set()
    for raw in paths:
        text = os.fspath(raw)
        try:
            os.stat(text)
        except FileNotFoundError:
            pass  # a dangling link is taken below: its reading reports it
        except OSError as exc:
            missing.append(MissingPath(text, exc.strerror or type(exc).__name__))
            continue
        if os.path.isdir(text):
            found = _folder_audio(text)
        elif os.path.lexists(text):
            found = [AudioFile(text, display_path(Path(text).name))]
        else:
            missing.append(MissingPath(text))
            continue
        for item in found:
            key = os.path.realpath(item.path)  # (Path.resolve raises on a symlink loop)
            if key not in seen:
                seen.add(key)
                files.append(item)
    return FoundAudio(tuple(files), tuple(missing))


def _folder_audio(folder: str) -> list[AudioFile]:
    """The audio files under ``folder``. Symlinked folders are followed, each real folder once
    (by device and inode), so a link back to a parent cannot loop; a broken link or a link loop
    in place of a file is taken like a file, and its reading reports it."""
    top = Path(folder)
    found = []
    visited: set[tuple[int, int]] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        try:
            st = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited:  # reached again through a link: a loop or twice
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in names:
            ext = f.rsplit(".", 1)[-1].lower() if "." in f else ""
            if not f.startswith(".") and ext in AUDIO_EXTENSIONS:
                full = os.path.join(root, f)
                rel = display_path(Path(full).relative_to(top).as_posix())
                found.append(AudioFile(full, rel))
    return sorted(found, key=lambda a: (a.name, a.path))


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 (FIPS 180-4) of a file's bytes, hex, read in 1 MiB chunks."""
    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or /dev/zero would never end
        raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
