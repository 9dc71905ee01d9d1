"""A JSON-lines history (``watch``): each entry appended as one whole line.

The line is encoded first and handed to the kernel in one ``os.write`` on a descriptor opened
with ``O_APPEND``, then ``fsync``-ed: a crash or a full disk never leaves half an entry
followed by a later one (POSIX appends each write at the end as a unit; a short write, which a
regular file gives only when the disk fills, is reported as an error after the rest is
tried). A file whose last line is torn (a power cut before ``fsync``) gets a newline first,
so the new entry stays a whole line of its own; reading skips any line that is not a whole
JSON object, so a torn line costs that entry only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from analyzer.errors import OutputError


def append_json_line(path: str | os.PathLike[str], entry: Mapping[str, Any]) -> None:
    """Append ``entry`` as one line of compact JSON (no NaN: undefined values are null); the
    folder is made if missing, as for every output."""
    data = (json.dumps(entry, allow_nan=False, separators=(",", ":")) + "\n").encode("utf-8")
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise OutputError(f"{os.fspath(path)}: cannot write ({exc.strerror})") from None
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":  # a torn line stays on its own
            data = b"\n" + data
        written = os.write(fd, data)
        while written < len(data):  # only on a full disk: finish, the reader skips a torn line
            more = os.write(fd, data[written:])
            if more <= 0:
                break
            written += more
        os.fsync(fd)
    except OSError as exc:
        raise OutputError(f"{os.fspath(path)}: cannot write ({exc.strerror})") from None
    finally:
        os.close(fd)


def read_json_lines(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The whole JSON-object lines of ``path`` (none when it is missing)."""
    from analyzer.untrusted import parse_json

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OutputError(f"{os.fspath(path)}: cannot read ({exc.strerror})") from None
    out = []
    for line in lines:
        try:
            doc = parse_json(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("bounce"), int):
            out.append(doc)
    return out
