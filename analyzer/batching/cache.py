"""A result cache: analyses keyed by what the file holds and how it was measured, in SQLite.

The key is the SHA-256 of the file's bytes (:func:`analyzer.io.files.sha256_file`),
:data:`analyzer.measure.ANALYSIS_SETTINGS_VERSION`,
this module's :data:`CACHE_FORMAT_VERSION` and the analysis options that change the result
(``keep_series``). A renamed or moved file with the same content is a hit; a changed byte or a
new analysis version is a miss, so a stale result is never served.

The value is the :class:`~analyzer.types.TrackAnalysis` as JSON, encoded field by field
(:func:`analysis_to_json` / :func:`analysis_from_json`) so that the decoded dataclass equals the
original exactly: floats are written with ``repr`` (``json`` round-trips them bit for bit), and
``-inf`` (digital silence) is kept as ``-Infinity`` rather than folded into ``null`` as the
report JSON does. JSON rather than pickle: a cache file is data, and loading it never runs code.

The database lives in :func:`analyzer.paths.cache_dir` (``$MIXANALYZER_CACHE_DIR``, else
``$XDG_CACHE_HOME/mixanalyzer``, else ``~/.cache/mixanalyzer``). It runs in WAL mode with a busy
timeout, so several processes (two batch runs at once, or any number of writers) can read and
write it at the same time without corrupting it; every write is one short transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import time
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analyzer.errors import CacheError
from analyzer.io import display_path
from analyzer.paths import cache_dir
from analyzer.types import TrackAnalysis

CACHE_FILE_NAME = "results.sqlite3"
#: Bumped when the stored JSON layout or what an analysis holds changes; part of every key, so
#: old rows are never read. 2: DR without the cap on block peaks, and the times of the true peak,
#: the loudest short-term window and the lowest correlation (issue 14) — a row of version 1
#: would serve the old DR.
CACHE_FORMAT_VERSION = 2
#: How long a writer waits for another to finish its transaction before giving up (ms).
BUSY_TIMEOUT_MS = 60_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    settings_version INTEGER NOT NULL,
    path TEXT NOT NULL,
    value TEXT NOT NULL,
    stored_utc REAL NOT NULL
)
"""


def default_cache_path() -> Path:
    return cache_dir() / CACHE_FILE_NAME


def cache_key(sha256: str, *, keep_series: bool) -> str:
    """The key of one analysis: content hash, analysis settings, cache format and options."""
    from analyzer.measure import ANALYSIS_SETTINGS_VERSION

    return (
        f"{sha256}:settings={ANALYSIS_SETTINGS_VERSION}:format={CACHE_FORMAT_VERSION}"
        f":series={int(keep_series)}"
    )


# --------------------------------------------------------------------------------------------
# Lossless TrackAnalysis <-> JSON


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        return value.item()
    return value


def analysis_to_json(analysis: TrackAnalysis) -> str:
    """Every field of ``analysis`` as JSON (``-inf`` kept as ``-Infinity``)."""
    return json.dumps(_encode(analysis), allow_nan=True, separators=(",", ":"))


def _decode(value: Any, hint: Any) -> Any:
    """Rebuild ``value`` as the type ``hint`` (a dataclass, tuple, Mapping, Optional, scalar)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(value, options[0]) if len(options) == 1 else value
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{k: _decode(v, hints[k]) for k, v in value.items()})
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(v, args[0]) for v in value)
        return tuple(_decode(v, a) for v, a in zip(value, args, strict=True))
    if origin in (Mapping, dict, typing.Mapping) or hint in (dict, Mapping):
        args = typing.get_args(hint)
        vt = args[1] if len(args) == 2 else Any
        return {k: _decode(v, vt) for k, v in value.items()}
    if hint is float and isinstance(value, int):
        return float(value)
    return value


def analysis_from_json(text: str) -> TrackAnalysis:
    """The inverse of :func:`analysis_to_json`: equal to the original, field for field."""
    return _decode(json.loads(text), TrackAnalysis)


def with_path(analysis: TrackAnalysis, path: str) -> TrackAnalysis:
    """``analysis`` as if measured at ``path``: the file path and the warnings that name it.

    The same content may be found under another name than when it was stored; the result must
    name the file where it was found this time.
    """
    old = analysis.file.path
    if old == path:
        return analysis
    prefix = f"{old}: "
    warnings = tuple(
        f"{path}: {w[len(prefix) :]}" if w.startswith(prefix) else w for w in analysis.warnings
    )
    return dataclasses.replace(
        analysis, file=dataclasses.replace(analysis.file, path=path), warnings=warnings
    )


# --------------------------------------------------------------------------------------------
# The database


class ResultCache:
    """Analyses in an SQLite database in WAL mode; safe for several processes at once.

    Use as a context manager, or call :meth:`close`. Every method raises :class:`CacheError`
    (never a bare ``sqlite3`` error) when the database is unusable.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit; each write is its own short transaction, so a
            # writer never holds the lock while it analyses.
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"journal mode is {mode}, not WAL")
            # NORMAL is safe in WAL mode (no corruption on power loss; the last commits may be
            # lost, which for a cache only means re-analysing).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(f"{self.path}: cannot open the result cache: {exc}") from None

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    def journal_mode(self) -> str:
        return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    def get(self, key: str, path: str | None = None) -> TrackAnalysis | None:
        """The stored analysis for ``key``, or ``None``. With ``path``, the analysis names that
        path (where the content was found this time) and the row records it."""
        try:
            row = self._db.execute(
                "SELECT value, path FROM results WHERE key = ?", (key,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot read the result cache: {exc}") from None
        if row is None:
            return None
        try:
            analysis = analysis_from_json(row[0])
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # an unreadable row is a miss; the new result replaces it
        if path is None:
            return analysis
        if row[1] != path:
            try:
                self._db.execute("UPDATE results SET path = ? WHERE key = ?", (path, key))
            except sqlite3.Error as exc:
                raise CacheError(f"{self.path}: cannot write the result cache: {exc}") from None
        return with_path(analysis, path)

    def stored_path(self, key: str) -> str | None:
        """The path last recorded for ``key`` (``None`` when absent)."""
        row = self._db.execute("SELECT path FROM results WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, sha256: str, analysis: TrackAnalysis) -> None:
        """Store (or replace) the analysis for ``key``."""
        from analyzer.measure import ANALYSIS_SETTINGS_VERSION

        self.put_json(key, sha256, analysis.file.path, analysis_to_json(analysis),
                      settings_version=ANALYSIS_SETTINGS_VERSION)  # fmt: skip

    def put_json(
        self, key: str, sha256: str, path: str, value: str, *, settings_version: int
    ) -> None:
        """Store an analysis already encoded by :func:`analysis_to_json`."""
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO results (key, sha256, settings_version, path, value, "
                "stored_utc) VALUES (?, ?, ?, ?, ?, ?)",
                (key, sha256, settings_version, path, value, time.time()),
            )
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot write the result cache: {exc}") from None

    def count(self) -> int:
        try:
            return int(self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0])
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot read the result cache: {exc}") from None

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def clear_cache(path: str | os.PathLike[str] | None = None) -> int:
    """Delete the cache database (and its WAL files); returns how many results it held (0 when
    there was none). A database too damaged to count is deleted all the same."""
    db = Path(path) if path is not None else default_cache_path()
    if not os.path.lexists(db):
        return 0
    if db.is_dir() or db.is_symlink() or not db.is_file():  # never delete what is not ours
        raise CacheError(
            f"{display_path(db)}: not a cache database (not a regular file): left alone"
        )
    held = 0
    with contextlib.suppress(CacheError), ResultCache(db) as cache:
        held = cache.count()
    for suffix in ("", "-wal", "-shm"):
        try:
            Path(f"{db}{suffix}").unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CacheError(f"{display_path(db)}: cannot delete: {exc.strerror}") from None
    return held
