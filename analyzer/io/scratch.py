"""A scratch store for rendered audio that must be measured before it is written: float32
samples in an anonymous temporary file (deleted when closed or when the process ends, never
visible under a name), written once and read back once, block by block (flat memory)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import numpy as np

from analyzer.errors import OutputError
from analyzer.io.source import display_path


def _reason(exc: OSError) -> str:
    # numpy's tofile raises OSError without errno on a short write (a full disk).
    return exc.strerror or (os.strerror(exc.errno) if exc.errno else "No space left on device")


class ScratchAudio:
    """``write((channels, frames))`` blocks, then iterate :meth:`blocks` once; float32, so the
    read-back is exact to 24-bit resolution. ``folder`` None: the system's temporary folder."""

    def __init__(self, channels: int, folder: str | os.PathLike[str] | None = None) -> None:
        self.channels = int(channels)
        self.frames = 0
        self._buf = np.empty((0, self.channels), dtype=np.float32)
        self._where = display_path(folder if folder is not None else tempfile.gettempdir())
        try:
            self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise self._error(exc) from None

    def _error(self, exc: OSError) -> OutputError:
        return OutputError(f"{self._where} (scratch file): cannot write: {_reason(exc)}",
                           slug="unwritable")  # fmt: skip

    def write(self, block: np.ndarray) -> None:
        if block.shape[1] == 0:
            return
        frames = block.shape[1]
        if self._buf.shape[0] != frames:
            self._buf = np.empty((frames, self.channels), dtype=np.float32)
        # Into a kept buffer: a fresh one per block cost twice the copy itself in page faults.
        np.copyto(self._buf, block.T, casting="same_kind")
        try:
            self._buf.tofile(self._file)
        except OSError as exc:
            raise self._error(exc) from None
        self.frames += block.shape[1]

    def blocks(self, frames: int = 65536) -> Iterator[np.ndarray]:
        """The samples written, as float64 ``(channels, frames)`` blocks."""
        for data in self.frames_blocks(frames):
            yield data.T.astype(np.float64)

    def frames_blocks(self, frames: int = 65536) -> Iterator[np.ndarray]:
        """The samples written, as they are stored: float32 ``(frames, channels)`` blocks."""
        self._file.flush()
        self._file.seek(0)
        left = self.frames
        while left > 0:
            n = min(frames, left)
            data = np.fromfile(self._file, dtype=np.float32, count=n * self.channels)
            left -= n
            yield data.reshape(n, self.channels)

    def close(self) -> None:
        self._file.close()
