"""The user's own loudness targets: a JSON (or TOML) file in the configuration folder that adds
targets to :data:`analyzer.playback.platforms.TARGETS` or overrides built-in ones."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from analyzer.errors import UsageError
from analyzer.io import display_path
from analyzer.paths import config_dir
from analyzer.playback.platforms import POLICIES, POLICY_BOTH, TARGETS, Target
from analyzer.untrusted import parse_json, parse_toml

#: A target name: lower-case letters, digits and ``._-``, starting with a letter or digit.
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


TARGETS_FILE_NAMES = ("targets.json", "targets.toml")
_FIELDS = {f.name for f in fields(Target)}
_NUMBER_RANGES = {
    "target_lufs": (-70.0, 0.0),
    "true_peak_limit_dbtp": (-30.0, 3.0),
    "tolerance_lu": (0.0, 10.0),
}


def default_targets_path() -> Path | None:
    """The user's targets file (``targets.json``, else ``targets.toml`` in :func:`config_dir`)
    if one exists, else None."""
    folder = config_dir()
    for name in TARGETS_FILE_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def load_targets(path: str | os.PathLike[str] | None = None) -> tuple[Target, ...]:
    """The built-in :data:`TARGETS` plus the user's targets.

    ``path`` is a JSON file (or TOML, ``.toml``, when Python has :mod:`tomllib`); None means the
    default file (:func:`default_targets_path`), if there is one. The file holds
    ``{"targets": [{...}, ...]}`` (a bare list also works; in TOML, ``[[targets]]`` tables), each
    entry with :class:`Target`'s fields: ``name`` (lower-case letters, digits, ``-_.``) and
    ``target_lufs`` are required; ``policy`` defaults to ``both``, ``true_peak_limit_dbtp`` to
    none. An entry named like a built-in overrides it, starting from the built-in's fields, so
    ``{"name": "spotify", "target_lufs": -15}`` changes only the target. New names are appended.

    A file that cannot be read or parsed, or an entry that is not valid, raises
    :class:`UsageError` (exit 2) whose one-line message names the file and the problem.
    """
    if path is None:
        found = default_targets_path()
        if found is None:
            return TARGETS
        path = found
    file = Path(path)
    name = display_path(file)
    entries = _read_entries(file, name)
    merged = {t.name: t for t in TARGETS}
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        target = _target_from_entry(entry, merged, where=f"{name}: target {i + 1}")
        if target.name in seen:
            raise UsageError(
                f"{name}: target {i + 1}: the name '{target.name}' appears twice", slug="config"
            )
        seen.add(target.name)
        merged[target.name] = target
    return tuple(merged.values())


def _read_entries(file: Path, name: str) -> list[Any]:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{name}: missing: no such targets file", slug="config") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory, not a targets file", slug="config") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror}", slug="config") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not UTF-8 text", slug="config") from None
    if file.suffix.lower() == ".toml":
        try:
            import tomllib  # noqa: F401  (only to say which Python is needed)
        except ModuleNotFoundError:  # Python 3.10
            raise UsageError(
                f"{name}: TOML needs Python 3.11 or newer; write the targets as JSON",
                slug="config",
            ) from None
        try:
            doc: Any = parse_toml(text)
        except ValueError as exc:  # TOMLDecodeError, nesting or number limits
            raise UsageError(f"{name}: not valid TOML: {exc}", slug="config") from None
    else:
        try:
            doc = parse_json(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                slug="config",
            ) from None
        except ValueError as exc:  # nesting, integer or non-finite number limits
            raise UsageError(f"{name}: not valid JSON: {exc}", slug="config") from None
    if isinstance(doc, dict):
        unknown = sorted(set(doc) - {"targets"})
        if unknown:
            raise UsageError(
                f"{name}: unknown top-level key {unknown[0]!r} (expected 'targets')",
                slug="config",
            )
        if "targets" not in doc:
            raise UsageError(f"{name}: no 'targets' list", slug="config")
        doc = doc["targets"]
    if not isinstance(doc, list):
        raise UsageError(f"{name}: 'targets' must be a list of objects", slug="config")
    return doc


def _target_from_entry(entry: Any, known: Mapping[str, Target], *, where: str) -> Target:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: must be an object with named fields", slug="config")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise UsageError(
            f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})",
            slug="config",
        )
    tname = entry.get("name")
    if not isinstance(tname, str) or not _NAME_RE.match(tname):
        raise UsageError(
            f"{where}: 'name' must be lower-case letters, digits, '-', '_' or '.' (got {tname!r})",
            slug="config",
        )
    where = f"{where} ('{tname}')"
    base = known.get(tname)
    if base is None and "target_lufs" not in entry:
        raise UsageError(f"{where}: 'target_lufs' is required", slug="config")
    values: dict[str, Any] = {}
    for key in ("target_lufs", "true_peak_limit_dbtp", "tolerance_lu"):
        if key not in entry:
            continue
        value = entry[key]
        if value is None and key == "true_peak_limit_dbtp":
            values[key] = None
            continue
        lo, hi = _NUMBER_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{where}: '{key}' must be a number (got {value!r})", slug="config")
        if not (math.isfinite(value) and lo <= value <= hi):
            raise UsageError(
                f"{where}: '{key}' must be between {lo:g} and {hi:g} (got {value!r})",
                slug="config",
            )
        values[key] = float(value)
    if "policy" in entry:
        if entry["policy"] not in POLICIES:
            raise UsageError(
                f"{where}: 'policy' must be one of {', '.join(POLICIES)} (got {entry['policy']!r})",
                slug="config",
            )
        values["policy"] = entry["policy"]
    for key in ("source", "notes", "label"):
        if key in entry:
            if not isinstance(entry[key], str):
                raise UsageError(f"{where}: '{key}' must be text", slug="config")
            values[key] = entry[key]
    if base is not None:
        return replace(base, **values)
    values.setdefault("policy", POLICY_BOTH)
    values.setdefault("true_peak_limit_dbtp", None)
    values.setdefault("source", "user targets file")
    return Target(name=tname, **values)
