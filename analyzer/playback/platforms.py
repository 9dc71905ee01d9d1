"""Streaming-platform and broadcast loudness targets, the normalisation preview, and the
lossy-encode check.

Three parts:

* :data:`TARGETS`, the built-in table, and :func:`load_targets`, which adds the user's own
  targets from a JSON (or TOML) file. Every entry names its source and says what the source
  documents and what is an industry measurement.
* :func:`preview`: what each platform does to a master (the gain it applies, the loudness and true
  peak that result, and whether the platform's rule limits the gain), with plain warnings.
* :func:`codec_check` / :func:`codec_check_file`: encode to Opus, Vorbis and MP3 at typical
  streaming bitrates with libsndfile (through soundfile), decode, and measure the true peak of
  the round trip, where inter-sample overs appear.

Loudness is ITU-R BS.1770-4 integrated loudness (LUFS), peaks are BS.1770-4 Annex 2 true peaks
(dBTP), as measured by :mod:`analyzer.measure`.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.errors import InvalidAudioError, UsageError
from analyzer.io import display_path
from analyzer.paths import config_dir

# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

POLICY_BOTH = "both"
POLICY_DOWN_ONLY = "down_only"
POLICY_UP_LIMITED = "up_limited_by_true_peak"
POLICY_LIMITER = "limiter"
POLICIES = (POLICY_BOTH, POLICY_DOWN_ONLY, POLICY_UP_LIMITED, POLICY_LIMITER)
"""How a platform applies its gain:

* ``both``: turns loud tracks down and quiet tracks up by the full difference (a broadcaster
  normalising to a delivery specification).
* ``down_only``: turns loud tracks down, never turns quiet ones up (YouTube).
* ``up_limited_by_true_peak``: turns quiet tracks up only until the true peak reaches
  ``true_peak_limit_dbtp`` (Spotify normal: -1 dBTP); never adds a limiter.
* ``limiter``: turns quiet tracks up by the full difference and holds the peaks with a limiter
  whose threshold is ``true_peak_limit_dbtp`` (Spotify loud). The gain is therefore not
  peak-limited, but the limiter changes the sound of the peaks.
"""

#: A master turned down by more than this is "louder than needed".
LOUDER_THAN_NEEDED_DB = 1.0

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


TRUE_PEAK_SLACK_DB = 0.05


@dataclass(frozen=True)
class Target:
    """A loudness target: where a platform or a delivery specification puts a track.

    ``target_lufs`` is the integrated loudness (BS.1770-4) the platform plays tracks at;
    ``true_peak_limit_dbtp`` is the highest true peak the platform allows or advises after its
    gain (for the ``limiter`` policy: the limiter's threshold), None when it states none;
    ``policy`` is one of :data:`POLICIES`; ``tolerance_lu`` is the tolerance a delivery
    specification allows around the target (informational: the preview always computes the gain
    to the exact target). ``label`` is the name people read.
    """

    name: str
    target_lufs: float
    true_peak_limit_dbtp: float | None
    policy: str
    tolerance_lu: float = 0.0
    source: str = ""
    notes: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {self.policy!r}")

    @property
    def display_label(self) -> str:
        return self.label or self.name


TARGETS: tuple[Target, ...] = (
    # Spotify for Artists, "Loudness normalization"
    # (https://support.spotify.com/artists/article/loudness-normalization/). DOCUMENTED: tracks
    # are adjusted to -14 dB LUFS per ITU 1770; negative gain for loud masters; positive gain for
    # soft masters "considers the headroom of the track and leaves 1 dB headroom for lossy
    # encodings" - their example: -20 LUFS with a -5 dBFS true peak is lifted only to -16 LUFS.
    # Albums are normalised as a whole when played as an album (track normalisation in shuffle
    # and playlists). The web player and third-party devices do not normalise.
    Target(
        name="spotify",
        label="Spotify (normal)",
        target_lufs=-14.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_UP_LIMITED,
        source="Spotify for Artists, 'Loudness normalization' (support.spotify.com/artists)",
        notes=(
            "Documented: -14 LUFS (ITU 1770); quiet tracks are turned up only until the true "
            "peak reaches -1 dBTP; Spotify also warns that masters with true peaks above -2 dB "
            "can distort in encoding ('Track not as loud as others?')."
        ),
    ),
    # Same page. DOCUMENTED: the Premium "Loud" setting plays at -11 dB LUFS "regardless of
    # maximum True Peak", with a limiter that engages at -1 dB (sample values), 5 ms attack,
    # 100 ms decay. So the gain is not peak-limited; the limiter reshapes the peaks instead.
    Target(
        name="spotify-loud",
        label="Spotify (loud)",
        target_lufs=-11.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_LIMITER,
        source="Spotify for Artists, 'Loudness normalization' (support.spotify.com/artists)",
        notes=(
            "Documented: -11 LUFS regardless of true peak; a limiter engages at -1 dB sample "
            "value (5 ms attack, 100 ms decay). The gain is not peak-limited: the limiter "
            "changes the peaks, so the resulting loudness and peak are approximate."
        ),
    ),
    # Same page. DOCUMENTED: the Premium "Quiet" setting plays at -19 dB LUFS. The page states
    # the positive-gain headroom rule for normalisation in general; that it holds for the quiet
    # setting too is our reading.
    Target(
        name="spotify-quiet",
        label="Spotify (quiet)",
        target_lufs=-19.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_UP_LIMITED,
        source="Spotify for Artists, 'Loudness normalization' (support.spotify.com/artists)",
        notes=(
            "Documented: -19 LUFS. That positive gain stops at -1 dBTP as in the normal "
            "setting is our reading of the page."
        ),
    ),
    # Apple publishes no Sound Check target in LUFS. DOCUMENTED (Apple Digital Masters, formerly
    # "Mastered for iTunes", and its afconvert/afclip tools): leave headroom so that the AAC
    # encode does not clip. INDUSTRY MEASUREMENT: Sound Check plays at about -16 LUFS
    # (MeterPlugs, "Tidal adds loudness normalization", 2016; Bob Katz; AES TD1004) and turns
    # quieter tracks up only as far as their peaks allow, without a limiter. Sound Check is off
    # by default on some devices.
    Target(
        name="apple-music",
        label="Apple Music (Sound Check)",
        target_lufs=-16.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_UP_LIMITED,
        source=(
            "Apple Digital Masters (headroom for AAC); -16 LUFS is an industry measurement "
            "(MeterPlugs 2016, AES TD1004)"
        ),
        notes=(
            "Apple documents no LUFS target. -16 LUFS and 'turns up only as far as the peaks "
            "allow' are industry measurements; -1 dBTP is the usual Apple Digital Masters advice."
        ),
    ),
    # YouTube publishes no loudness specification. INDUSTRY MEASUREMENT: right-click > "Stats for
    # nerds" shows "Volume / Normalized (content loudness X dB)": the content loudness is the
    # video's loudness relative to YouTube's reference, measured at about -14 LUFS; the
    # "Normalized" percentage never exceeds 100 %, i.e. YouTube turns loud videos down and never
    # turns quiet ones up.
    Target(
        name="youtube",
        label="YouTube",
        target_lufs=-14.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_DOWN_ONLY,
        source="YouTube 'Stats for nerds' content loudness (industry measurement)",
        notes=(
            "YouTube documents nothing; -14 LUFS and down-only are read from 'Stats for nerds' "
            "(content loudness, 'Normalized' never above 100 %). -1 dBTP is the general advice "
            "for lossy encoding (AES TD1008)."
        ),
    ),
    # INDUSTRY REPORT FROM TIDAL: MeterPlugs, "Tidal adds loudness normalization" (2016), with
    # details supplied by Tidal: ITU-R BS.1770 measurement, -14 LUFS, and music quieter than
    # -14 LUFS is not raised. Tidal has not published a specification since.
    Target(
        name="tidal",
        label="Tidal",
        target_lufs=-14.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_DOWN_ONLY,
        source="MeterPlugs, 'Tidal adds loudness normalization' (2016, details from Tidal)",
        notes=(
            "-14 LUFS (BS.1770), quiet music not raised, as Tidal told MeterPlugs in 2016; "
            "not a published Tidal specification."
        ),
    ),
    # Amazon publishes no normalisation specification. INDUSTRY MEASUREMENT: -14 LUFS (loudness
    # preview tools such as MeterPlugs' Loudness Penalty); some guides advise -2 dBTP. No
    # documented boost of quiet tracks, so the preview assumes down-only (it never promises a
    # boost that may not happen).
    Target(
        name="amazon-music",
        label="Amazon Music",
        target_lufs=-14.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_DOWN_ONLY,
        source="industry measurement (MeterPlugs Loudness Penalty and others); no Amazon spec",
        notes=(
            "Amazon documents nothing; -14 LUFS is measured. Down-only is an assumption; some "
            "guides advise -2 dBTP rather than -1."
        ),
    ),
    # Deezer publishes no normalisation specification. INDUSTRY MEASUREMENT: -15 LUFS. Down-only
    # is an assumption, as for Amazon.
    Target(
        name="deezer",
        label="Deezer",
        target_lufs=-15.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_DOWN_ONLY,
        source="industry measurement (MeterPlugs Loudness Penalty and others); no Deezer spec",
        notes="Deezer documents nothing; -15 LUFS is measured; down-only is an assumption.",
    ),
    # EBU R 128 (2020), "Loudness normalisation and permitted maximum level of audio signals":
    # programme loudness -23.0 LUFS, tolerance +-0.5 LU (+-1 LU for live programmes where exact
    # normalisation is not achievable), maximum permitted true peak -1 dBTP (EBU Tech 3343
    # advises lower peaks, e.g. -2 or -3 dBTP, before lossy codecs). A broadcaster normalises
    # both ways.
    Target(
        name="ebu-r128",
        label="EBU R 128 broadcast",
        target_lufs=-23.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_BOTH,
        tolerance_lu=0.5,
        source="EBU R 128 (2020); EBU Tech 3341, 3343",
        notes="Documented: -23.0 LUFS +-0.5 LU, maximum true peak -1 dBTP.",
    ),
    # ATSC A/85:2013, "Techniques for Establishing and Maintaining Audio Loudness for Digital
    # Television" (implements the US CALM Act): target -24 LKFS, +-2 dB tolerance, true peak at
    # most -2 dBTP.
    Target(
        name="atsc-a85",
        label="ATSC A/85 broadcast (US)",
        target_lufs=-24.0,
        true_peak_limit_dbtp=-2.0,
        policy=POLICY_BOTH,
        tolerance_lu=2.0,
        source="ATSC A/85:2013 Recommended Practice",
        notes="Documented: -24 LKFS +-2 dB, true peak at most -2 dBTP.",
    ),
    # AES TD1008 (2021), "Recommendations for Loudness of Internet Audio Streaming and On-Demand
    # Distribution": music normalised track by track at a distribution loudness of -16 LUFS;
    # maximum peak -1 dBTP. Positive gain stopping at the peak limit (no limiter) is our reading
    # of a distributor following it.
    Target(
        name="aes-td1008",
        label="AES TD1008 (music, track)",
        target_lufs=-16.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_UP_LIMITED,
        source="AES TD1008 (2021), Table 1",
        notes="Documented: music track normalisation at -16 LUFS, maximum peak -1 dBTP.",
    ),
    # Same document: with album normalisation, the loudest track of the album plays at
    # -14 LUFS and the album's internal level differences are kept. For a single file this is the
    # level it would play at as the loudest track of its album.
    Target(
        name="aes-td1008-album",
        label="AES TD1008 (music, album)",
        target_lufs=-14.0,
        true_peak_limit_dbtp=-1.0,
        policy=POLICY_UP_LIMITED,
        source="AES TD1008 (2021), Table 1",
        notes=(
            "Documented: album normalisation puts the loudest track at -14 LUFS; this preview "
            "treats the file as that loudest track."
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# User targets
# ---------------------------------------------------------------------------------------------

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
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            raise UsageError(
                f"{name}: TOML needs Python 3.11 or newer; write the targets as JSON",
                slug="config",
            ) from None
        try:
            doc: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{name}: not valid TOML: {exc}", slug="config") from None
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{name}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                slug="config",
            ) from None
    if isinstance(doc, dict):
        unknown = sorted(set(doc) - {"targets"})
        if unknown:
            raise UsageError(
                f"{name}: unknown top-level key '{unknown[0]}' (expected 'targets')",
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
            f"{where}: unknown field '{unknown[0]}' (fields: {', '.join(sorted(_FIELDS))})",
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


def find_target(name: str, targets: Sequence[Target] = TARGETS) -> Target:
    """The target called ``name`` (case-insensitive); :class:`UsageError` listing the valid
    names when there is none."""
    wanted = name.strip().lower()
    for t in targets:
        if t.name == wanted:
            return t
    valid = ", ".join(t.name for t in targets)
    raise UsageError(f"unknown target '{name}' (valid: {valid})", slug="unknown-target")


# ---------------------------------------------------------------------------------------------
# Normalisation preview
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformPreview:
    """What one platform does to a master.

    ``gain_db`` is the gain the platform applies, ``result_lufs`` / ``result_true_peak_dbtp``
    the integrated loudness and true peak after it (for the ``limiter`` policy, after the
    limiter: approximate). ``limited_by`` is ``"true_peak"`` when the platform's true-peak rule
    caps a boost, ``"down_only"`` when the platform will not turn the track up, else None.
    """

    name: str
    label: str
    target_lufs: float
    gain_db: float
    result_lufs: float
    result_true_peak_dbtp: float
    limited_by: str | None
    warnings: tuple[str, ...]


def preview(
    integrated_lufs: float | None,
    true_peak_dbtp: float | None,
    targets: Sequence[Target] = TARGETS,
) -> list[PlatformPreview]:
    """Per target, the gain it applies to a track of ``integrated_lufs`` (BS.1770-4) and
    ``true_peak_dbtp`` (BS.1770-4 Annex 2), and the loudness and true peak that result.

    Returns ``[]`` when the loudness is undefined (None, -inf for silence, NaN) or the true peak
    is None/NaN: nothing can be normalised, and the caller says so. Examples (Spotify normal):
    -8 LUFS / +0.5 dBTP gets -6.0 dB; -20 LUFS / -5 dBTP gets +4.0 dB (not +6: the true peak
    stops at -1 dBTP), and YouTube 0 dB (it never turns up).
    """
    if integrated_lufs is None or not math.isfinite(integrated_lufs):
        return []
    if true_peak_dbtp is None or math.isnan(true_peak_dbtp):
        return []
    return [_preview_one(t, float(integrated_lufs), float(true_peak_dbtp)) for t in targets]


def _preview_one(target: Target, lufs: float, tp: float) -> PlatformPreview:
    raw = target.target_lufs - lufs
    limit = target.true_peak_limit_dbtp
    gain = raw
    limited_by: str | None = None
    warnings: list[str] = []
    if target.policy == POLICY_DOWN_ONLY and raw > 0:
        gain, limited_by = 0.0, "down_only"
        warnings.append(
            f"quieter than the target: the platform does not turn it up "
            f"(it plays {raw:.1f} dB below {target.target_lufs:g} LUFS)"
        )
    elif target.policy == POLICY_UP_LIMITED and raw > 0 and limit is not None:
        headroom = max(limit - tp, 0.0)
        if raw > headroom + 1e-9:
            gain, limited_by = headroom, "true_peak"
            warnings.append(
                f"turned up only {gain:+.1f} dB of the {raw:+.1f} dB needed: the true peak "
                f"stops at {limit:g} dBTP (it plays {raw - gain:.1f} dB below "
                f"{target.target_lufs:g} LUFS)"
            )
    result_lufs = lufs + gain
    result_tp = tp + gain
    limiter_holds = False
    if target.policy == POLICY_LIMITER and limit is not None and gain > 0 and result_tp > limit:
        reduction = result_tp - limit
        result_tp = limit
        limiter_holds = True
        warnings.append(
            f"the platform's limiter takes {reduction:.1f} dB off the peaks to hold them at "
            f"{limit:g} dB (it changes the sound; loudness and peak after it are approximate)"
        )
    if gain < -LOUDER_THAN_NEEDED_DB:
        warnings.append(
            f"louder than needed: the platform turns it down by {-gain:.1f} dB "
            "(headroom thrown away)"
        )
    # 0.05 dB: meters' true-peak readings differ by that much, so a master made to the limit on
    # another meter is not flagged for a hundredth of a dB.
    if limit is not None and not limiter_holds and result_tp > limit + TRUE_PEAK_SLACK_DB:
        warnings.append(
            f"true peak after normalisation above the platform's advice ({limit:g} dBTP): "
            f"{result_tp:+.1f} dBTP"
        )
    return PlatformPreview(
        name=target.name,
        label=target.display_label,
        target_lufs=target.target_lufs,
        gain_db=gain,
        result_lufs=result_lufs,
        result_true_peak_dbtp=result_tp,
        limited_by=limited_by,
        warnings=tuple(warnings),
    )


# ---------------------------------------------------------------------------------------------
# Lossy-encode check
# ---------------------------------------------------------------------------------------------

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(units_done, units_total)``; one unit is one input frame encoded or one
frame's worth decoded, plus one pass measuring the input: ``units_total`` is
``frames * (1 + 2 * len(codecs))``."""

CODECS = ("opus", "vorbis", "mp3")
OPUS_RATES_HZ = (8000, 12000, 16000, 24000, 48000)
MPEG_RATES_HZ = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
#: Streaming services deliver lossy audio at 44.1 or 48 kHz; higher rates are resampled first.
MAX_LOSSY_RATE_HZ = 48000
#: Typical streaming bitrates: Spotify's "High" Ogg Vorbis (q5, ~160 kbps stereo), YouTube's
#: Opus audio (~160 kbps stereo), a 256 kbps CBR MP3 (store/stream quality).
VORBIS_QUALITY = 0.5
OPUS_KBPS_PER_CHANNEL = 80
MP3_KBPS = 256
_BLOCK_FRAMES = 65536


@dataclass(frozen=True)
class CodecResult:
    """True peak before and after one lossy round trip (encode, then decode).

    ``true_peak_after_dbtp`` and ``intersample_overs_after`` (inter-sample intervals whose
    interpolated value exceeds 0 dBFS, as :class:`~analyzer.measure.truepeak.TruePeakMeter`
    counts them) are None when ``error`` says why the codec could not run.
    """

    codec: str
    bitrate_note: str
    true_peak_before_dbtp: float
    true_peak_after_dbtp: float | None
    intersample_overs_after: int | None
    error: str | None


@dataclass(frozen=True)
class _Encoding:
    codec: str
    format: str
    subtype: str
    rate_hz: int
    compression_level: float
    bitrate_mode: str | None
    note: str


BlockSource = Callable[[], Iterator[np.ndarray]]


def codec_check(
    x: np.ndarray,
    sample_rate_hz: int,
    *,
    codecs: Sequence[str] = CODECS,
    progress: ProgressCallback | None = None,
) -> list[CodecResult]:
    """Encode ``x`` (``(channels, frames)``, float, full scale 1.0) with each codec at a typical
    streaming bitrate, decode it, and measure the true peak of the decoded audio at its own rate.

    Codecs: ``opus`` (Ogg Opus, 80 kbps per channel; input resampled to 48 kHz with soxr unless
    it is at 8/12/16/24/48 kHz), ``vorbis`` (Ogg Vorbis q5, ~160 kbps stereo) and ``mp3``
    (MPEG-1 Layer III, 256 kbps CBR; 1 or 2 channels), all written by libsndfile through
    soundfile. Input above 48 kHz is resampled to 48 kHz (44.1 kHz for the 44.1 kHz family)
    first, as the services deliver. Every resampling is named in ``bitrate_note``. A codec that
    this libsndfile lacks, or that fails, gives a result with ``error`` set; it never raises.
    An unknown codec name raises :class:`UsageError`. Temporary files live in a
    :class:`tempfile.TemporaryDirectory` and are removed.
    """
    data = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if data.ndim != 2 or data.shape[1] == 0:
        raise InvalidAudioError("codec check: no audio frames", slug="empty")
    if not np.isfinite(data).all():
        raise InvalidAudioError("codec check: the audio holds NaN or infinite samples", slug="nan")

    def blocks() -> Iterator[np.ndarray]:
        for start in range(0, data.shape[1], _BLOCK_FRAMES):
            yield data[:, start : start + _BLOCK_FRAMES]

    return _codec_check(
        blocks, int(sample_rate_hz), data.shape[0], data.shape[1], codecs=codecs, progress=progress
    )


def codec_check_file(
    path: str | os.PathLike[str],
    *,
    codecs: Sequence[str] = CODECS,
    progress: ProgressCallback | None = None,
) -> list[CodecResult]:
    """:func:`codec_check` on a file, streamed block by block (memory stays flat): the file is
    read once per codec. Raises the loader's :class:`~analyzer.errors.AudioLoadError` /
    :class:`InvalidAudioError` for a bad file."""
    from analyzer.io import open_audio

    with open_audio(path) as src:
        info = src.info

    def blocks() -> Iterator[np.ndarray]:
        with open_audio(path) as s:
            yield from s.blocks(_BLOCK_FRAMES)

    return _codec_check(
        blocks, info.sample_rate_hz, info.channels, info.frames, codecs=codecs, progress=progress
    )


def _codec_check(
    blocks: BlockSource,
    sample_rate_hz: int,
    channels: int,
    frames: int,
    *,
    codecs: Sequence[str],
    progress: ProgressCallback | None,
) -> list[CodecResult]:
    from analyzer.measure.truepeak import TruePeakMeter

    unknown = [c for c in codecs if c not in CODECS]
    if unknown:
        raise UsageError(
            f"unknown codec '{unknown[0]}' (valid: {', '.join(CODECS)})", slug="unknown-codec"
        )
    total = frames * (1 + 2 * len(codecs))
    done = 0

    def advance(units: int) -> None:
        nonlocal done
        done = min(done + units, total)
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    meter = TruePeakMeter(sample_rate_hz, channels)
    for block in blocks():
        meter.feed(block)
        advance(block.shape[1])
    before = meter.result().true_peak_dbtp
    results: list[CodecResult] = []
    with tempfile.TemporaryDirectory(prefix="mixanalyzer-codec-") as tmp:
        for i, codec in enumerate(codecs):
            enc = _encoding(codec, sample_rate_hz)
            result = _round_trip(blocks, enc, sample_rate_hz, channels, frames, Path(tmp), advance)
            results.append(replace(result, true_peak_before_dbtp=before))
            done = frames * (1 + 2 * (i + 1))
            if progress:
                progress(done, total)
    return results


def _encoding(codec: str, rate_hz: int) -> _Encoding:
    """libsndfile settings for ``codec`` at a typical streaming bitrate (the compression-level
    mappings are libsndfile's: ogg_vorbis.c, ogg_opus.c, mpeg_l3_encode.c)."""
    if codec == "opus":
        rate = rate_hz if rate_hz in OPUS_RATES_HZ else 48000
        # libsndfile: bitrate = ((1 - level) * 250 kbps + 6 kbps) per channel.
        level = 1.0 - (OPUS_KBPS_PER_CHANNEL - 6) / 250.0
        note = (
            f"Ogg Opus {OPUS_KBPS_PER_CHANNEL} kbps per channel VBR "
            f"({2 * OPUS_KBPS_PER_CHANNEL} kbps stereo, like YouTube's Opus audio); "
            f"libsndfile compression_level {level:.3f}"
        )
        return _Encoding(codec, "OGG", "OPUS", rate, level, None, note)
    if codec == "vorbis":
        rate = _streaming_rate(rate_hz)
        # libsndfile: Vorbis VBR quality = 1 - level; quality 0.5 is "q5", ~160 kbps stereo.
        level = 1.0 - VORBIS_QUALITY
        note = (
            f"Ogg Vorbis q{VORBIS_QUALITY * 10:g} VBR (~160 kbps stereo, like Spotify's 'High'); "
            f"libsndfile compression_level {level:.3f}"
        )
        return _Encoding(codec, "OGG", "VORBIS", rate, level, None, note)
    # mp3
    rate = rate_hz if rate_hz in MPEG_RATES_HZ else _streaming_rate(rate_hz)
    if rate not in MPEG_RATES_HZ:
        rate = 48000
    # libsndfile (CBR/ABR): bitrate = max - level * (max - min), with (min, max) kbps of
    # (32, 320) at >= 32 kHz, (8, 160) at 16-24 kHz, (8, 64) below.
    lo, hi = (32, 320) if rate >= 32000 else (8, 160) if rate >= 16000 else (8, 64)
    kbps = min(max(MP3_KBPS, lo), hi)
    level = (hi - kbps) / (hi - lo)
    note = (
        f"MP3 (MPEG-1/2 Layer III, LAME) {kbps} kbps CBR; libsndfile compression_level "
        f"{level:.3f}, bitrate_mode CONSTANT"
    )
    return _Encoding(codec, "MP3", "MPEG_LAYER_III", rate, level, "CONSTANT", note)


def _streaming_rate(rate_hz: int) -> int:
    if rate_hz <= MAX_LOSSY_RATE_HZ:
        return rate_hz
    return 44100 if rate_hz % 11025 == 0 else 48000


def _round_trip(
    blocks: BlockSource,
    enc: _Encoding,
    rate_hz: int,
    channels: int,
    frames: int,
    tmp: Path,
    advance: Callable[[int], None],
) -> CodecResult:
    """Encode the blocks with ``enc`` to a file in ``tmp``, decode it and measure it."""
    import soundfile as sf

    from analyzer.measure.truepeak import TruePeakMeter

    note = enc.note
    if enc.rate_hz != rate_hz:
        note += f"; input resampled {rate_hz} -> {enc.rate_hz} Hz with soxr first"

    def failed(message: str) -> CodecResult:
        return CodecResult(enc.codec, note, math.nan, None, None, message)

    if enc.codec == "mp3" and channels > 2:
        return failed(f"MP3 carries 1 or 2 channels; this audio has {channels}")
    if enc.subtype not in sf.available_subtypes(enc.format):
        return failed(
            f"{enc.format}/{enc.subtype} is not available in this libsndfile "
            f"({sf.__libsndfile_version__})"
        )
    out = tmp / f"{enc.codec}.{'mp3' if enc.format == 'MP3' else 'ogg'}"
    try:
        resampler = None
        if enc.rate_hz != rate_hz:
            import soxr

            resampler = soxr.ResampleStream(
                rate_hz, enc.rate_hz, channels, dtype="float64", quality="VHQ"
            )
        with sf.SoundFile(
            str(out),
            "w",
            samplerate=enc.rate_hz,
            channels=channels,
            format=enc.format,
            subtype=enc.subtype,
            compression_level=enc.compression_level,
            bitrate_mode=enc.bitrate_mode,
        ) as f:
            for block in blocks():
                chunk = np.ascontiguousarray(block.T)
                if resampler is not None:
                    chunk = resampler.resample_chunk(chunk)
                if chunk.shape[0]:
                    f.write(chunk)
                advance(block.shape[1])
            if resampler is not None:
                tail = resampler.resample_chunk(np.zeros((0, channels)), last=True)
                if tail.shape[0]:
                    f.write(np.ascontiguousarray(tail))
        kbps = out.stat().st_size * 8 / (frames / rate_hz) / 1000
        note += f"; measured {kbps:.0f} kbps"
        decoded = 0
        with sf.SoundFile(str(out)) as f:
            meter = TruePeakMeter(int(f.samplerate), int(f.channels), track_windows=True)
            scale = rate_hz / f.samplerate
            while True:
                data = f.read(_BLOCK_FRAMES, dtype="float64", always_2d=True)
                if data.shape[0] == 0:
                    break
                meter.feed(np.ascontiguousarray(data.T))
                decoded += data.shape[0]
                advance(int(data.shape[0] * scale))
        if decoded == 0:
            return failed("the encoded file decoded to no audio")
        peaks = meter.result()
    except Exception as exc:  # libsndfile reports every failure as one error type
        text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return failed(f"{enc.format}/{enc.subtype} round trip failed: {text}")
    return CodecResult(
        codec=enc.codec,
        bitrate_note=note,
        true_peak_before_dbtp=math.nan,  # filled in by the caller
        true_peak_after_dbtp=peaks.true_peak_dbtp,
        intersample_overs_after=meter.intersample_overs,
        error=None,
    )
