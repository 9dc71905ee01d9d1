"""Rebuild the shipped genre profiles (``analyzer/comparison/profile_data/``, package data) from
the shared test corpus.

Usage (from the repository root)::

    .venv/bin/python references/build_profiles.py ../shared/corpus [--out DIR] [--jobs N]

The corpus is the one described in its ``SOURCES.md``; only its tracks whose licence allows
commercial use are listed below (no CC BY-NC track is used). Each track's SHA-256 is recorded in
the profile, so a rebuild from different files shows up as different hashes. The music itself
is never copied: a profile holds only statistics, file names and hashes.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from analyzer.batching.profile_build import build_profile
from analyzer.comparison.profiles import ReferenceProfile, save_profile
from analyzer.errors import AnalyzerError

#: Where the package keeps its shipped profiles (read with importlib.resources when installed).
SHIPPED_PROFILES = Path(__file__).resolve().parents[1] / "analyzer" / "comparison" / "profile_data"


@dataclass(frozen=True)
class Track:
    """One corpus track, with the attribution its licence asks for (from SOURCES.md)."""

    file: str  # relative to the corpus folder
    credit: str  # author — title
    licence: str
    origin: str


@dataclass(frozen=True)
class ProfileSpec:
    name: str
    description: str
    tracks: tuple[Track, ...]


PROFILES: tuple[ProfileSpec, ...] = (
    ProfileSpec(
        "electronic",
        "Electronic game music, from a hyper-compressed industrial master (-8 LUFS) to "
        "synth-pop (-15 LUFS). Small demonstration profile: 3 tracks.",
        (
            Track(
                "music/nexuiz--brokenlight.ogg",
                'blkrbt — "Broken Light" (Nexuiz soundtrack)',
                "GPL-2+",
                "Debian package nexuiz-music 2.5.2-12, "
                "/usr/share/games/nexuiz/data/music.pk3 -> sound/cdtracks/brokenlight.ogg",
            ),
            Track(
                "music/nexuiz--digital-pursuit.ogg",
                'Parapraxis — "Digital Pursuit" (Nexuiz soundtrack)',
                "GPL-2+",
                "Debian package nexuiz-music 2.5.2-12, "
                "/usr/share/games/nexuiz/data/music.pk3 -> sound/cdtracks/digital-pursuit.ogg",
            ),
            Track(
                "music/frozen-bubble--frozen-mainzik-1p.ogg",
                "Matthias Le Bidan — Frozen Bubble main music (1-player)",
                "GPL-2",
                "Debian package frozen-bubble-data 2.212-11, "
                "/usr/share/games/frozen-bubble/snd/frozen-mainzik-1p.ogg",
            ),
        ),
    ),
    ProfileSpec(
        "orchestral",
        "Orchestral and string-orchestra recordings with wide dynamics (LRA 9-16 LU). "
        "Small demonstration profile: 2 tracks.",
        (
            Track(
                "music/librosa--Brahms_Hungarian_Dance_5_string_orchestra.hq.ogg",
                "J. Brahms — Hungarian Dance No. 5 (string-orchestra arr.), "
                "performed by the US Army Strings (Musopen)",
                "Public Domain (PD Mark 1.0)",
                "github librosa/data @ 450cdd8a002c98e7bdbfebb309fc1ed024001f77, audio/"
                "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg",
            ),
            Track(
                "music/wesnoth--journeys_end.ogg",
                'Mattias Westlund — "Journey\'s End" (The Battle for Wesnoth OST, 2009)',
                "GPL-2+",
                "Debian package wesnoth-1.16-music 1:1.16.9-1, "
                "/usr/share/games/wesnoth/1.16/data/core/music/journeys_end.ogg",
            ),
        ),
    ),
    ProfileSpec(
        "ambient",
        "Ambient and electronic game-score pieces: quiet to moderate level (-22 to -17 LUFS), "
        "slow movement. Small demonstration profile: 3 tracks.",
        (
            Track(
                "music/singularity--Maxstack_-_Nebula.ogg",
                'Maxstack — "Nebula" (Endgame: Singularity, 2012)',
                "CC BY-SA 3.0",
                "Debian package singularity-music 007-2, /usr/share/games/singularity/music/"
                "Nebula.ogg",
            ),
            Track(
                "music/lincity-ng--Robert_van_Herk_-_Architectural_Contemplations.ogg",
                'Robert van Herk — "Architectural Contemplations" (LinCity-NG)',
                "GPL-2+",
                "Debian package lincity-ng-data 2.9~git20150314-5, /usr/share/games/lincity-ng/"
                "music/default/03 - Robert van Herk - Architectural Contemplations.ogg",
            ),
            Track(
                "music/warzone2100--Martin_Severn_-_track3.opus",
                'Martin Severn — "Track 3" (Warzone 2100 original soundtrack, 1999)',
                "GPL-2+",
                "Debian package warzone2100-music 4.3.3-3, /usr/share/games/warzone2100/music/"
                "albums/original_soundtrack/track3.opus",
            ),
        ),
    ),
    ProfileSpec(
        "acoustic-band",
        "Small acoustic bands: folk-pop with lead vocal, jazz/lounge and blues. "
        "Small demonstration profile: 3 tracks.",
        (
            Track(
                "music/librosa--Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg",
                "Karissa Hobbs — \"Let's Go Fishin'\" (album Age of Flowers, Free Music Archive)",
                "CC BY 3.0",
                "github librosa/data @ 450cdd8a002c98e7bdbfebb309fc1ed024001f77, "
                "audio/Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg",
            ),
            Track(
                "music/librosa--Kevin_MacLeod_-_Vibe_Ace.hq.ogg",
                'Kevin MacLeod — "Vibe Ace" (via Free Music Archive)',
                "CC BY 3.0",
                "github librosa/data @ 450cdd8a002c98e7bdbfebb309fc1ed024001f77, "
                "audio/Kevin_MacLeod_-_Vibe_Ace.hq.ogg",
            ),
            Track(
                "music/lincity-ng--Robert_van_Herk_-_City_Blues.ogg",
                'Robert van Herk — "City Blues" (LinCity-NG)',
                "GPL-2+",
                "Debian package lincity-ng-data 2.9~git20150314-5, /usr/share/games/lincity-ng/"
                "music/default/02 - Robert van Herk - City Blues.ogg",
            ),
        ),
    ),
)


def _check_licences() -> None:
    """Refuse to build from anything under a non-commercial licence."""
    for spec in PROFILES:
        for t in spec.tracks:
            if "NC" in t.licence.upper().replace("-", " ").split():
                raise SystemExit(f"{t.file}: licence {t.licence!r} is non-commercial")


def build(spec: ProfileSpec, corpus: Path, *, jobs: int | None) -> ReferenceProfile:
    """Build one profile and attach each track's licence and attribution to its provenance."""
    profile = build_profile(
        [corpus / t.file for t in spec.tracks],
        name=spec.name,
        jobs=jobs,
        description=spec.description,
    )
    by_name = {Path(t.file).name: t for t in spec.tracks}
    provenance = []
    for p in profile.provenance:
        track = by_name[p.file]
        provenance.append(
            replace(p, licence=track.licence, source=f"{track.credit}; {track.origin}")
        )
    return replace(profile, provenance=tuple(provenance))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="the shared corpus folder (holds music/)")
    parser.add_argument("--out", type=Path, default=SHIPPED_PROFILES)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes")
    parser.add_argument("--only", action="append", help="build only this profile (repeatable)")
    args = parser.parse_args(argv)
    _check_licences()
    try:
        for spec in PROFILES:
            if args.only and spec.name not in args.only:
                continue
            profile = build(spec, args.corpus, jobs=args.jobs)
            out = args.out / f"{spec.name}.json"
            save_profile(profile, out, force=True)
            print(f"{out}: {profile.n_tracks} tracks")
    except AnalyzerError as exc:
        print(f"build_profiles: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
