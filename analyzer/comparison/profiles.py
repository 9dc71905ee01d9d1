"""Genre profiles: per-metric ranges over a set of reference tracks, saved as versioned JSON.

A :class:`ReferenceProfile` is what :func:`analyzer.comparison.compare` needs from a set of
references (its ``profile_stats``): for every metric of :func:`analyzer.comparison.track_metrics`,
the median and the 10th/90th percentiles over the tracks
(:func:`analyzer.measure.stats.range_stats`).
It also records how it was made: the number of tracks, the profile schema version, the analysis
settings version (:data:`analyzer.measure.ANALYSIS_SETTINGS_VERSION`), the tool version and, per
track, its file name (never an absolute path), the SHA-256 of its content, its duration and
sample rate. No audio is ever stored.

Profiles are found by name in :func:`profile_dirs`: the user's folder
(``$MIXANALYZER_CONFIG_DIR/profiles`` or ``~/.config/mixanalyzer/profiles``) and then the
profiles shipped inside the package (``analyzer/comparison/profile_data``, read with
:mod:`importlib.resources`); a user's profile shadows a shipped one of the same name. Building a
profile from audio is :mod:`analyzer.batching.profile_build`.

A profile made with other analysis settings than the running version measures different
things, so :func:`load_profile` refuses it (:class:`ProfileError`, exit code 2) and says how to
rebuild it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from analyzer.errors import ProfileError
from analyzer.io import display_path, write_text_atomic
from analyzer.measure.stats import RangeStats
from analyzer.paths import shipped_profiles, user_profiles_dir
from analyzer.untrusted import parse_json, terminal_safe

#: Version of the profile JSON layout; bumped when a key changes meaning or is removed.
PROFILE_SCHEMA_VERSION = 1
#: The ``kind`` of a profile document, beside the report documents' kinds (analysis, comparison...).
PROFILE_KIND = "profile"

#: A profile name is also its file name: letters, digits, ``.``, ``_`` and ``-``, no leading dot.
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")

_REQUIRED_KEYS = (
    "schema_version",
    "name",
    "analysis_settings_version",
    "tool_version",
    "created_utc",
    "n_tracks",
    "metrics",
    "provenance",
)


@dataclass(frozen=True)
class TrackProvenance:
    """Where one track of a profile came from. ``file`` is a name relative to the folder it was
    found in (or the bare file name), never an absolute path; ``sha256`` is of the file's bytes."""

    file: str
    sha256: str
    duration_s: float
    sample_rate_hz: int
    licence: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class ReferenceProfile:
    """Per-metric ranges over a set of reference tracks, with how and from what they were made.

    ``metrics`` maps every :func:`analyzer.comparison.track_metrics` key to its
    :class:`~analyzer.comparison.RangeStats` over the tracks (``n`` = tracks where it is defined);
    pass it as ``profile_stats`` to :func:`analyzer.comparison.compare`.
    """

    name: str
    schema_version: int
    analysis_settings_version: int
    tool_version: str
    n_tracks: int
    metrics: Mapping[str, RangeStats]
    provenance: tuple[TrackProvenance, ...]
    created_utc: str
    description: str = field(default="")
    #: What the analysis warned about the tracks (silent, too short, DC offset, ...); shown by
    #: ``reference build``, never saved.
    warnings: tuple[str, ...] = field(default=(), compare=False)


def _analysis_settings_version() -> int:
    from analyzer.measure import ANALYSIS_SETTINGS_VERSION

    return ANALYSIS_SETTINGS_VERSION


def check_profile_name(name: str) -> None:
    """Raise :class:`ProfileError` unless ``name`` can serve as a file name on every system:
    1-64 letters, digits, ``.``, ``_`` or ``-``, not starting with a dot."""
    if not _NAME_RE.match(name):
        raise ProfileError(
            f"{display_path(name)!r}: bad profile name: use 1-64 letters, digits, '.', '_' or "
            "'-', not starting with '.'"
        )


# --------------------------------------------------------------------------------------------
# JSON


def profile_to_dict(profile: ReferenceProfile) -> dict[str, Any]:
    """The JSON document of a profile (``None`` becomes ``null``; never NaN)."""
    return {
        "schema_version": profile.schema_version,
        "kind": PROFILE_KIND,
        "name": profile.name,
        "description": profile.description,
        "analysis_settings_version": profile.analysis_settings_version,
        "tool_version": profile.tool_version,
        "created_utc": profile.created_utc,
        "n_tracks": profile.n_tracks,
        "metrics": {
            k: {"median": s.median, "p10": s.p10, "p90": s.p90, "n": s.n}
            for k, s in profile.metrics.items()
        },
        "provenance": [asdict(p) for p in profile.provenance],
    }


def save_profile(
    profile: ReferenceProfile, path: str | os.PathLike[str], *, force: bool = False
) -> None:
    """Write ``profile`` as JSON to ``path`` atomically. An existing file is replaced only with
    ``force`` (otherwise :class:`~analyzer.errors.OutputError`, exit 4)."""
    text = json.dumps(profile_to_dict(profile), indent=2, allow_nan=False, ensure_ascii=False)
    write_text_atomic(path, text + "\n", force=force)


def profile_dirs() -> list[Path]:
    """The folders searched for profiles by name, in lookup order: the user's folder
    (:func:`analyzer.paths.user_profiles_dir`; listed whether or not it exists yet, since that
    is where new profiles go) and then the profiles shipped inside the package."""
    dirs = [user_profiles_dir()]
    shipped = shipped_profiles_dir()
    if shipped is not None:
        dirs.append(shipped)
    return dirs


def shipped_profiles_dir() -> Path | None:
    """The folder of the profiles shipped inside the package
    (:func:`analyzer.paths.shipped_profiles`), or ``None`` when the package is not installed as
    plain files (a zip import), where no shipped profile can be listed."""
    folder = shipped_profiles()
    return folder if isinstance(folder, Path) and folder.is_dir() else None


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or os.sep in text or text.startswith(".")


def resolve_profile(path_or_name: str | os.PathLike[str]) -> Path:
    """The file for a profile given as a path or by name (first match in :func:`profile_dirs`);
    raises :class:`ProfileError` when there is none."""
    text = os.fspath(path_or_name)
    if isinstance(path_or_name, os.PathLike) or _looks_like_path(text) or Path(text).is_file():
        return Path(text)
    for d in profile_dirs():
        candidate = d / f"{text}.json"
        if candidate.is_file():
            return candidate
    looked = ", ".join(display_path(d) for d in profile_dirs())
    raise ProfileError(
        f"{display_path(text)}: no such profile (looked in {looked}; "
        "`mixanalyzer reference list` shows the profiles found)",
        slug="profile-missing",
    )


def load_profile(path_or_name: str | os.PathLike[str]) -> ReferenceProfile:
    """Read a profile from a JSON file, or by name from :func:`profile_dirs`.

    Refused with a one-line :class:`ProfileError` (exit 2) naming the file: missing or
    unreadable, malformed JSON, missing keys or bad values, a schema newer than
    :data:`PROFILE_SCHEMA_VERSION`, or analysis settings other than the running version.
    """
    path = resolve_profile(path_or_name)
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{shown}: no such profile file", slug="profile-missing") from None
    except IsADirectoryError:
        raise ProfileError(f"{shown}: is a directory, not a profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ProfileError(f"{shown}: unreadable profile: {reason}") from None
    try:
        doc = parse_json(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{shown}: malformed profile JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except ValueError as exc:  # nesting, integer or non-finite number limits
        raise ProfileError(f"{shown}: malformed profile JSON: {exc}") from None
    return profile_from_dict(doc, source=shown)


def profile_from_dict(doc: Any, *, source: str = "<profile>") -> ReferenceProfile:
    """Validate a decoded profile document (see :func:`load_profile`); ``source`` names it in
    error messages."""
    if not isinstance(doc, dict):
        raise ProfileError(f"{source}: malformed profile: expected a JSON object at the top")
    kind = doc.get("kind", PROFILE_KIND)  # profiles written before 'kind' existed have none
    if kind != PROFILE_KIND:
        raise ProfileError(f"{source}: not a profile: a JSON document of kind {str(kind)!r}")
    schema = doc.get("schema_version")
    if not _is_int(schema) or schema < 1:
        raise ProfileError(f"{source}: malformed profile: missing or bad schema_version")
    if schema > PROFILE_SCHEMA_VERSION:
        raise ProfileError(
            f"{source}: profile schema v{schema} is newer than this mixanalyzer reads "
            f"(v{PROFILE_SCHEMA_VERSION}): upgrade mixanalyzer",
            slug="profile-version",
        )
    settings = doc.get("analysis_settings_version")
    current = _analysis_settings_version()
    if not _is_int(settings):
        raise ProfileError(f"{source}: malformed profile: missing or bad analysis_settings_version")
    if settings != current:
        raise ProfileError(
            f"{source}: built with analysis settings v{settings}, this is v{current}: "
            "rebuild it with `mixanalyzer reference build`",
            slug="profile-version",
        )
    missing = [k for k in _REQUIRED_KEYS if k not in doc]
    if missing:
        raise ProfileError(f"{source}: malformed profile: missing keys: {', '.join(missing)}")

    def bad(what: str) -> ProfileError:
        return ProfileError(f"{source}: malformed profile: bad value for {what}")

    for key in ("name", "tool_version", "created_utc"):
        if not isinstance(doc[key], str):
            raise bad(key)
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise bad("description")
    if not _is_int(doc["n_tracks"]) or doc["n_tracks"] < 0:
        raise bad("n_tracks")
    if not isinstance(doc["metrics"], dict):
        raise bad("metrics")
    metrics: dict[str, RangeStats] = {}
    for raw_key, entry in doc["metrics"].items():
        key = terminal_safe(raw_key)  # in messages: a key holding a newline stays one line
        if not isinstance(entry, dict) or any(k not in entry for k in ("median", "p10", "p90")):
            raise bad(f"metrics.{key}")
        values = [entry["median"], entry["p10"], entry["p90"]]
        if not all(v is None or _is_number(v) for v in values):
            raise bad(f"metrics.{key}")
        n = entry.get("n", 0)
        if not _is_int(n) or n < 0:
            raise bad(f"metrics.{key}.n")
        med, p10, p90 = (None if v is None else float(v) for v in values)
        _check_metric(source, str(key), med, p10, p90)
        metrics[str(raw_key)] = RangeStats(med, p10, p90, int(n))
    if not isinstance(doc["provenance"], list):
        raise bad("provenance")
    provenance = []
    for i, item in enumerate(doc["provenance"]):
        try:
            provenance.append(_provenance_from_dict(item))
        except (TypeError, ValueError, KeyError):
            raise bad(f"provenance[{i}]") from None
    return ReferenceProfile(
        name=doc["name"],
        schema_version=int(schema),
        analysis_settings_version=int(settings),
        tool_version=doc["tool_version"],
        n_tracks=int(doc["n_tracks"]),
        metrics=metrics,
        provenance=tuple(provenance),
        created_utc=doc["created_utc"],
        description=description,
    )


#: Range of every profile statistic: each is a level in dB or LU (digital audio spans about
#: -200 to +30), a correlation or a 0-100 score, so a value outside is no measurement.
METRIC_RANGE = (-300.0, 300.0)


def _check_metric(source: str, key: str, *values: float | None) -> None:
    """A metric's ``(median, p10, p90)``: each in :data:`METRIC_RANGE`, p10 <= median <= p90."""
    low, high = METRIC_RANGE
    for name, v in zip(("median", "p10", "p90"), values, strict=True):
        if v is not None and not low <= v <= high:
            raise ProfileError(
                f"{source}: malformed profile: metrics.{key}.{name} {v:.6g} is outside "
                f"{low:g} to {high:g}"
            )
    med, p10, p90 = values
    if med is not None and p10 is not None and p90 is not None and not p10 <= med <= p90:
        raise ProfileError(
            f"{source}: malformed profile: metrics.{key}: expected p10 <= median <= p90"
        )


def _provenance_from_dict(item: Any) -> TrackProvenance:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    file, sha = item["file"], item["sha256"]
    duration, rate = item["duration_s"], item["sample_rate_hz"]
    if not isinstance(file, str) or not isinstance(sha, str):
        raise TypeError("file and sha256 must be strings")
    if not _is_number(duration) or not _is_int(rate):
        raise TypeError("duration_s and sample_rate_hz must be numbers")
    licence, source = item.get("licence"), item.get("source")
    if not (licence is None or isinstance(licence, str)):
        raise TypeError("licence must be a string")
    if not (source is None or isinstance(source, str)):
        raise TypeError("source must be a string")
    return TrackProvenance(file, sha, float(duration), int(rate), licence, source)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def list_profiles() -> list[tuple[str, Path, ReferenceProfile | str]]:
    """Every ``*.json`` file in :func:`profile_dirs`, in lookup order and by name within each
    folder: ``(name, path, profile)``, or the one-line error message in place of the profile
    when it cannot be loaded (e.g. built with other analysis settings)."""
    out: list[tuple[str, Path, ReferenceProfile | str]] = []
    for d in profile_dirs():
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.json")):
            try:
                loaded: ReferenceProfile | str = load_profile(path)
            except ProfileError as exc:
                loaded = exc.message
            out.append((path.stem, path, loaded))
    return out
