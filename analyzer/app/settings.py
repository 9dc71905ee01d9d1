"""What a user asks of each use case, checked once: frozen settings objects whose constructors
raise :class:`~analyzer.errors.UsageError` naming the command-line option and its valid range.

The command line builds these from its options; a Python caller builds them directly. Paths of
references and profiles are part of the settings; the file a use case works on (the mix, the
output) is an argument of the use-case function.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from analyzer.errors import UsageError
from analyzer.types import DEFAULT_CEILING_DBTP

#: The mastering engines ``master`` can apply a proposal with.
ENGINES = ("native", "matchering")
#: ``compare --section``: whole tracks, or the loudest 30 s of each.
SECTIONS = ("whole", "loudest")
#: ``--target-lufs`` range (LUFS): quieter than -40 is no master, louder than -4 is no music
#: (and +14, a forgotten minus, must not crush a master).
TARGET_LUFS_RANGE = (-40.0, -4.0)
#: ``--ceiling`` range (dBTP) of ``master`` and ``batch --album``.
CEILING_DBTP_RANGE = (-20.0, 0.0)
#: ``translate --level-db-spl`` range: from a whisper to the threshold of pain (ISO 226 spans
#: the audible range to about 130 dB SPL; louder is no playback level).
LEVEL_DB_SPL_RANGE = (20.0, 130.0)
#: ``translate --speed-kmh``: the road-noise model is a car's (no car is faster).
MAX_SPEED_KMH = 300.0
#: ``batch --album-spread`` (LU): wider than 12 LU no longer says anything about an album.
MAX_ALBUM_SPREAD_LU = 12.0


def _paths(paths: Iterable[str | os.PathLike[str]] | str | None) -> tuple[str, ...]:
    """A tuple of ``str`` paths (one path given as a string counts as one path)."""
    if paths is None:
        return ()
    if isinstance(paths, str | os.PathLike):
        return (os.fspath(paths),)
    return tuple(os.fspath(p) for p in paths)


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)  # normalising a frozen dataclass in __post_init__


def _refs_or_profile(references: tuple[str, ...], profile: str | None) -> None:
    if references and profile:
        raise UsageError("give references with --ref or one --profile, not both")


def _check_ceiling(ceiling_dbtp: float) -> None:
    low, high = CEILING_DBTP_RANGE
    if not low <= ceiling_dbtp <= high:  # also refuses NaN
        raise UsageError(f"--ceiling {ceiling_dbtp:g}: expected {low:g} to {high:g} dBTP")


def _check_jobs(jobs: int | None) -> None:
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: expected 1 or more")


@dataclass(frozen=True)
class AnalyzeSettings:
    """``analyze``: keep the 10 Hz series, give the spectrum re the integrated loudness, the
    loudness-target table (``targets``: a JSON/TOML file; None: the user's file if present), and
    the lossy-codec round trip."""

    series: bool = False
    level_spectrum: bool = False
    targets: str | None = None
    codec_check: bool = False

    def __post_init__(self) -> None:
        if self.targets is not None:
            _set(self, "targets", os.fspath(self.targets))


@dataclass(frozen=True)
class CompareSettings:
    """``compare``: reference tracks or one genre profile (name or path), whole tracks or the
    loudest 30 s of each, the loudness-target table, and whether to keep the mix's series (the
    HTML report plots them)."""

    references: tuple[str, ...] = ()
    profile: str | None = None
    section: str = "whole"
    targets: str | None = None
    series: bool = False

    def __post_init__(self) -> None:
        _set(self, "references", _paths(self.references))
        if self.section not in SECTIONS:
            raise UsageError(f"--section {self.section!r}: expected 'whole' or 'loudest'")
        if bool(self.references) == bool(self.profile):
            raise UsageError("give references with --ref FILE (one or more) or one --profile")


@dataclass(frozen=True)
class TranslateSettings:
    """``translate``: optional references or profile to score beside the mix, the devices
    (names; None: every device of the table), an extra device file, the playback level
    (dB SPL; None: each device's own), the car's speed (km/h), whether to keep the mix's
    series, and the renders' loudness (LUFS, -60…0; None: the mix's) and container."""

    references: tuple[str, ...] = ()
    profile: str | None = None
    devices: tuple[str, ...] | None = None
    device_file: str | None = None
    level_db_spl: float | None = None
    speed_kmh: float = 100.0
    series: bool = False
    render_lufs: float | None = None
    render_format: str = "wav"

    def __post_init__(self) -> None:
        _set(self, "references", _paths(self.references))
        lo, hi = -60.0, 0.0  # analyzer.playback.render_group.RENDER_LUFS_RANGE
        if self.render_lufs is not None and not lo <= self.render_lufs <= hi:
            raise UsageError(f"--render-lufs {self.render_lufs:g}: expected {lo:g} to {hi:g} LUFS")
        if self.render_format not in ("wav", "flac"):
            raise UsageError(f"--render-format {self.render_format}: expected wav or flac")
        if self.devices is not None:
            _set(self, "devices", tuple(self.devices))
        _refs_or_profile(self.references, self.profile)
        low, high = LEVEL_DB_SPL_RANGE
        if self.level_db_spl is not None and not low <= self.level_db_spl <= high:
            raise UsageError(
                f"--level-db-spl {self.level_db_spl:g}: expected {low:g} to {high:g} dB SPL"
            )
        if not 0 < self.speed_kmh <= MAX_SPEED_KMH:  # also refuses NaN
            raise UsageError(
                f"--speed-kmh {self.speed_kmh:g}: expected more than 0 and at most "
                f"{MAX_SPEED_KMH:g} km/h"
            )


@dataclass(frozen=True)
class MasterSettings:
    """``master`` (and ``propose``): what to match and how far.

    References or a profile set the tone and width targets; the loudness goal is
    ``target_lufs``, a platform's ``target`` (e.g. ``"spotify"``), or the references' median.
    ``ceiling_dbtp`` None means -1 dBTP (or a platform's lower limit). ``amount`` (0-100 %)
    sets every dimension, ``amount_tone/width/loudness`` override it, ``only`` keeps one.
    ``engine``, ``linear_phase``, ``bit_depth`` and ``dither`` only matter when applying.
    ``target_lufs`` lies in ``TARGET_LUFS_RANGE``. The limiter may reach 9 dB of gain reduction
    (``HEAVY_LIMIT_DB``) unless ``allow_heavy_limiting``; ``raw_matchering`` keeps Matchering's
    output as it is (no true-peak limiter after it).
    ``force_match`` applies the tone even when the references are too far to match
    (:mod:`analyzer.mastering.tone_gate`); ``surgical`` allows bells narrower than Q 2.
    ``amounts`` (0-1 per dimension) is derived once here.
    """

    references: tuple[str, ...] = ()
    profile: str | None = None
    target_lufs: float | None = None
    target: str | None = None
    ceiling_dbtp: float | None = None
    engine: str = "native"
    fine: bool = False
    smoothing_octaves: float = 1.0 / 3.0
    linear_phase: bool = False
    max_moves: int = 6
    max_gain_db: float = 6.0
    amount: float | None = None
    amount_tone: float | None = None
    amount_width: float | None = None
    amount_loudness: float | None = None
    only: str | None = None
    bit_depth: str = "24"
    dither: bool = True
    allow_heavy_limiting: bool = False
    raw_matchering: bool = False
    force_match: bool = False
    surgical: bool = False
    amounts: Mapping[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from analyzer.mastering.settings import amounts_from

        _set(self, "references", _paths(self.references))
        refs = self.references
        if self.engine not in ENGINES:
            raise UsageError(f"--engine {self.engine!r}: expected one of {', '.join(ENGINES)}")
        _refs_or_profile(refs, self.profile)
        if self.target_lufs is not None and self.target is not None:
            raise UsageError("give --target-lufs or --target, not both")
        low, high = TARGET_LUFS_RANGE
        if self.target_lufs is not None and not low <= self.target_lufs <= high:
            raise UsageError(
                f"--target-lufs {self.target_lufs:g}: expected {low:g} to {high:g} LUFS"
            )
        if self.raw_matchering and self.engine != "matchering":
            raise UsageError("--raw-matchering goes with --engine matchering")
        if not (refs or self.profile or self.target_lufs is not None or self.target):
            raise UsageError("give --ref FILE, --profile NAME or a loudness target (--target-lufs)")
        if self.engine == "matchering" and not refs:
            raise UsageError("--engine matchering needs a reference track (--ref FILE)")
        if self.engine == "matchering" and (self.target_lufs is not None or self.target):
            raise UsageError(
                "--engine matchering sets the level from the reference's RMS: --target-lufs "
                "and --target go with --engine native"
            )
        if not 0 < self.max_moves <= 6 and self.max_moves != 0:
            raise UsageError(f"--max-moves {self.max_moves}: expected 0 to 6")
        if not (0 < self.max_gain_db <= 24 and math.isfinite(self.max_gain_db)):
            raise UsageError(
                f"--max-gain {self.max_gain_db:g}: expected more than 0 and at most 24 dB"
            )
        if not (1.0 / 12.0 <= self.smoothing_octaves <= 3.0):
            raise UsageError(f"--smoothing {self.smoothing_octaves:g}: expected 1/12 to 3 octaves")
        if self.ceiling_dbtp is not None:
            _check_ceiling(self.ceiling_dbtp)
        amounts = amounts_from(amount=self.amount, tone=self.amount_tone, width=self.amount_width,
                               loudness=self.amount_loudness, only=self.only)  # fmt: skip
        _set(self, "amounts", amounts)

    @property
    def effective_ceiling_dbtp(self) -> float:
        return DEFAULT_CEILING_DBTP if self.ceiling_dbtp is None else self.ceiling_dbtp


@dataclass(frozen=True)
class BatchSettings:
    """``batch``: references or a profile to compare each file with, the album check (its
    loudness window ``album_spread_lu`` and the true-peak ceiling a suggested gain respects),
    local processes (``jobs``) or a Dask ``scheduler``, the series, and the result cache."""

    references: tuple[str, ...] = ()
    profile: str | None = None
    album: bool = False
    album_spread_lu: float = 2.0
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP
    jobs: int | None = None
    scheduler: str | None = None
    series: bool = False
    use_cache: bool = True

    def __post_init__(self) -> None:
        _set(self, "references", _paths(self.references))
        _check_jobs(self.jobs)
        if self.jobs is not None and self.scheduler:
            raise UsageError(
                "--jobs and --scheduler: give one (the cluster decides its parallelism)"
            )
        _refs_or_profile(self.references, self.profile)
        if not 0 <= self.album_spread_lu <= MAX_ALBUM_SPREAD_LU:  # also refuses NaN
            raise UsageError(
                f"--album-spread {self.album_spread_lu:g}: expected 0 to {MAX_ALBUM_SPREAD_LU:g} LU"
            )
        _check_ceiling(self.ceiling_dbtp)


@dataclass(frozen=True)
class ProfileSettings:
    """``reference build``: the profile's name (1-64 letters, digits, ``.``, ``_``, ``-``), a
    one-line description (made printable here) and the number of parallel jobs."""

    name: str
    description: str = ""
    jobs: int | None = None

    def __post_init__(self) -> None:
        from analyzer.comparison.profiles import check_profile_name
        from analyzer.io import display_path

        _check_jobs(self.jobs)
        check_profile_name(self.name)
        _set(self, "description", display_path(self.description))  # printable UTF-8 only


@dataclass(frozen=True)
class WatchSettings:
    """``watch``: reference tracks or one genre profile; a file is complete when its size has
    not changed for ``settle_s`` (0.05-60 s) and the loader takes it whole; one still
    unreadable after ``give_up_s`` of quiet is reported as a bad bounce; ``max_bounces``
    (None: until stopped) ends the watch after that many bounces, bad ones included."""

    references: tuple[str, ...] = ()
    profile: str | None = None
    settle_s: float = 0.5
    give_up_s: float = 5.0
    max_bounces: int | None = None

    def __post_init__(self) -> None:
        _set(self, "references", _paths(self.references))
        _refs_or_profile(self.references, self.profile)
        if not (self.references or self.profile):
            raise UsageError("give references with --ref FILE (one or more) or one --profile")
        if not 0.05 <= self.settle_s <= 60:  # also refuses NaN
            raise UsageError(f"--settle {self.settle_s:g}: expected 0.05 to 60 s")
        if not self.settle_s <= self.give_up_s <= 3600:
            raise UsageError(f"give-up time {self.give_up_s:g} s: expected settle to 3600 s")
        if self.max_bounces is not None and self.max_bounces < 1:
            raise UsageError(f"--max-bounces {self.max_bounces}: expected 1 or more")
