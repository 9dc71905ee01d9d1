"""Streaming-platform and broadcast loudness targets and the normalisation preview.

Two parts (the lossy-encode check is :mod:`analyzer.playback.codecs`):

* :data:`TARGETS`, the built-in table, and :func:`load_targets`, which adds the user's own
  targets from a JSON (or TOML) file. Every entry names its source and says what the source
  documents and what is an industry measurement.
* :func:`preview`: what each platform does to a master (the gain it applies, the loudness and true
  peak that result, and whether the platform's rule limits the gain), with plain warnings.

Loudness is ITU-R BS.1770-4 integrated loudness (LUFS), peaks are BS.1770-4 Annex 2 true peaks
(dBTP), as measured by :mod:`analyzer.measure`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from analyzer.errors import UsageError

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
