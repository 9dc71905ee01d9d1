"""Genre profiles: per-metric ranges over a set of reference tracks, saved as versioned JSON.

A :class:`ReferenceProfile` is what :func:`analyzer.comparison.compare` needs from a set of
references (its ``profile_stats``): for every metric of :func:`analyzer.comparison.track_metrics`,
the median and the 10th/90th percentiles over the tracks (:func:`analyzer.comparison.range_stats`).
It also records how it was made: the number of tracks, the profile schema version, the analysis
settings version (:data:`analyzer.measure.ANALYSIS_SETTINGS_VERSION`), the tool version and, per
track, its file name (never an absolute path), the SHA-256 of its content, its duration and
sample rate. No audio is ever stored.

Profiles are found by name in :func:`profile_dirs`: the user's folder
(``$MIXANALYZER_CONFIG_DIR/profiles`` or ``~/.config/mixanalyzer/profiles``) and then the shipped
``references/`` folder of the repository; a user's profile shadows a shipped one of the same name.

A profile made with other analysis settings than the running version measures different
things, so :func:`load_profile` refuses it (:class:`ProfileError`, exit code 2) and says how to
rebuild it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from analyzer.comparison.metrics import RangeStats, range_stats
from analyzer.errors import EXIT_USAGE, AnalyzerError, AudioLoadError
from analyzer.io import display_path, write_text_atomic
from analyzer.types import TrackAnalysis

#: Version of the profile JSON layout; bumped when a key changes meaning or is removed.
PROFILE_SCHEMA_VERSION = 1

#: File name extensions (lower case, no dot) taken from folders: what libsndfile reads.
AUDIO_EXTENSIONS = frozenset(
    {"wav", "wave", "aif", "aiff", "aifc", "flac", "ogg", "oga", "opus", "mp3"}
    | {"w64", "rf64", "caf"}
)

#: A profile name is also its file name: letters, digits, ``.``, ``_`` and ``-``, no leading dot.
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")

_HASH_CHUNK_BYTES = 1 << 20
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

ProfileProgress = Callable[[int, int, str], None]
"""Called as ``progress(files_done, files_total, file_name)`` after each file is analysed."""


class ProfileError(AnalyzerError):
    """A profile cannot be used: not found, malformed, a newer schema, other analysis settings,
    a bad profile name, or no audio files to build from (exit 2)."""

    exit_code = EXIT_USAGE
    slug = "profile"


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


# --------------------------------------------------------------------------------------------
# Building


def find_audio_files(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, str]]:
    """Expand files and folders into ``(path, provenance name)`` pairs, in a stable order.

    A folder is searched recursively for files whose extension is in :data:`AUDIO_EXTENSIONS`
    (hidden files and folders are skipped), sorted by their path relative to the folder, which
    is also their provenance name. A file given explicitly is taken whatever its extension
    (the analysis says if it is not audio) and named by its bare file name. The same file
    reached twice is taken once. A path that does not exist raises :class:`AudioLoadError`.
    """
    out: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def add(path: Path, name: str) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append((path, name))

    for raw in paths:
        path = Path(raw)
        try:
            path.stat()
        except FileNotFoundError:
            pass  # reported as missing below
        except OSError as exc:  # a name too long, a folder we may not enter, ...
            raise AudioLoadError(
                f"{display_path(path)}: unreadable: {exc.strerror}", slug="unreadable"
            ) from None
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    ext = f.rsplit(".", 1)[-1].lower() if "." in f else ""
                    if not f.startswith(".") and ext in AUDIO_EXTENSIONS:
                        full = Path(root) / f
                        rel = display_path(full.relative_to(path).as_posix())
                        found.append((rel, full))
            for rel, full in sorted(found):
                add(full, rel)
        elif path.exists():
            add(path, display_path(path.name))
        else:
            raise AudioLoadError(f"{display_path(path)}: missing: no such file", slug="missing")
    return out


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def profile_metrics(analysis: TrackAnalysis) -> dict[str, float | None]:
    """What a profile records of one track: :func:`analyzer.comparison.track_metrics` plus the
    per-device translation scores (``translation.<device>.score``), so that
    ``translate --profile`` can score a mix beside the genre on every playback system."""
    from analyzer.comparison.metrics import track_metrics
    from analyzer.playback.translate import translate

    metrics = track_metrics(analysis)
    for device in translate(analysis).devices:
        metrics[f"translation.{device.name}.score"] = device.score
    return metrics


def _analyze_one(path: str, threads: int | None) -> dict[str, Any]:
    """Worker: the metric vector, duration, rate and content hash of one file (plain data only,
    so that little crosses the process boundary)."""
    from analyzer.measure.engine import analyze_file

    analysis = analyze_file(path, threads=threads)
    return {
        "metrics": profile_metrics(analysis),
        "duration_s": float(analysis.file.duration_s),
        "sample_rate_hz": int(analysis.file.sample_rate_hz),
        "sha256": _sha256_file(Path(path)),
        "warnings": list(analysis.warnings),
    }


def _preflight(path: Path) -> None:
    """Open the file's header so that a missing, unsupported or truncated file is reported
    before any work starts, in the order the files were given."""
    from analyzer.io import open_audio

    with open_audio(path):
        pass


def build_profile(
    paths: Sequence[str | os.PathLike[str]],
    *,
    name: str,
    jobs: int | None = None,
    progress: ProfileProgress | None = None,
    description: str = "",
) -> ReferenceProfile:
    """Analyse the audio files in ``paths`` (files and folders, searched recursively) and
    reduce them to a profile: per metric, the median and 10th/90th percentiles over the tracks.

    Files are analysed in parallel by ``jobs`` processes (default ``os.cpu_count()``; with one
    job, in this process). Each worker returns only the metric vector, duration, sample rate and
    SHA-256 of its file. Each worker analyses with one meter thread when several jobs run, so
    the cores are not oversubscribed; the figures are the same either way.

    Bad files stop the build: a profile that silently left out a track would misdescribe the
    set. Every file's header is checked first, in the order given, so a missing, unsupported or
    truncated file raises its :class:`AnalyzerError` (naming the file, exit code 3) before any
    analysis; a file that fails while decoding cancels the remaining work and raises its own
    error. A bad ``name`` or no audio files raise :class:`ProfileError`.
    """
    check_profile_name(name)
    files = find_audio_files(paths)
    if not files:
        shown = ", ".join(display_path(p) for p in paths) or "(no paths given)"
        raise ProfileError(f"{shown}: no audio files found to build profile {name!r}")
    for path, _ in files:
        _preflight(path)

    n_jobs = max(1, min(int(jobs or os.cpu_count() or 1), len(files)))
    results: list[dict[str, Any] | None] = [None] * len(files)
    if n_jobs == 1:
        for i, (path, rel) in enumerate(files):
            results[i] = _analyze_one(str(path), None)
            if progress:
                progress(i + 1, len(files), rel)
    else:
        _run_pool(files, n_jobs, results, progress)

    done = [r for r in results if r is not None]
    keys: dict[str, None] = {}
    for r in done:
        keys.update(dict.fromkeys(r["metrics"]))
    metrics = {k: range_stats([r["metrics"].get(k) for r in done]) for k in keys}
    provenance = tuple(
        TrackProvenance(
            file=rel,
            sha256=r["sha256"],
            duration_s=r["duration_s"],
            sample_rate_hz=r["sample_rate_hz"],
        )
        for (_, rel), r in zip(files, done, strict=True)
    )
    return ReferenceProfile(
        name=name,
        schema_version=PROFILE_SCHEMA_VERSION,
        analysis_settings_version=_analysis_settings_version(),
        tool_version=_tool_version(),
        n_tracks=len(done),
        metrics=metrics,
        provenance=provenance,
        created_utc=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        description=description,
        warnings=tuple(w for r in done for w in r["warnings"]),
    )


def _run_pool(
    files: list[tuple[Path, str]],
    n_jobs: int,
    results: list[dict[str, Any] | None],
    progress: ProfileProgress | None,
) -> None:
    """Analyse ``files`` with ``n_jobs`` worker processes, filling ``results`` in input order;
    the first failure cancels what has not started and is raised."""
    import multiprocessing

    from analyzer.runtime import tune_process

    # "spawn": a fresh interpreter per worker, safe whatever threads the caller has running
    # (forking a multi-threaded process can deadlock and is deprecated from Python 3.12). The
    # workers are our own processes, so they get the CLI's allocator and BLAS tuning.
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=tune_process)
    try:
        futures: dict[Future[dict[str, Any]], int] = {
            pool.submit(_analyze_one, str(path), 1): i for i, (path, _) in enumerate(files)
        }
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            results[i] = fut.result()  # re-raises the worker's AnalyzerError
            if progress:
                progress(done, len(files), files[i][1])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _analysis_settings_version() -> int:
    from analyzer.measure import ANALYSIS_SETTINGS_VERSION

    return ANALYSIS_SETTINGS_VERSION


def _tool_version() -> str:
    from analyzer.version import __version__

    return __version__


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
    (``profiles`` in :func:`analyzer.paths.config_dir`; listed whether or not it exists yet,
    since that is where new profiles go) and then the repository's shipped ``references/``
    folder (only if it exists)."""
    from analyzer.paths import config_dir

    dirs = [config_dir() / "profiles"]
    shipped = shipped_profiles_dir()
    if shipped is not None:
        dirs.append(shipped)
    return dirs


def user_profiles_dir() -> Path:
    """Where ``reference build`` writes a profile when no output path is given."""
    return profile_dirs()[0]


def shipped_profiles_dir() -> Path | None:
    """The repository's ``references/`` folder, or ``None`` when it is not there (an install
    without the source tree)."""
    import analyzer

    path = Path(analyzer.__file__).resolve().parents[1] / "references"
    return path if path.is_dir() else None


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
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{shown}: malformed profile JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    return profile_from_dict(doc, source=shown)


def profile_from_dict(doc: Any, *, source: str = "<profile>") -> ReferenceProfile:
    """Validate a decoded profile document (see :func:`load_profile`); ``source`` names it in
    error messages."""
    if not isinstance(doc, dict):
        raise ProfileError(f"{source}: malformed profile: expected a JSON object at the top")
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
    for key, entry in doc["metrics"].items():
        if not isinstance(entry, dict) or any(k not in entry for k in ("median", "p10", "p90")):
            raise bad(f"metrics.{key}")
        values = [entry["median"], entry["p10"], entry["p90"]]
        if not all(v is None or _is_number(v) for v in values):
            raise bad(f"metrics.{key}")
        n = entry.get("n", 0)
        if not _is_int(n) or n < 0:
            raise bad(f"metrics.{key}.n")
        med, p10, p90 = (None if v is None else float(v) for v in values)
        metrics[str(key)] = RangeStats(med, p10, p90, int(n))
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
