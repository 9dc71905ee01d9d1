"""Settings are checked once, when built: each bad value is a UsageError naming the command-line
option and what it accepts."""

from __future__ import annotations

import pytest

from analyzer.app import (
    BatchSettings,
    CompareSettings,
    MasterSettings,
    ProfileSettings,
    TranslateSettings,
)
from analyzer.errors import ProfileError, UsageError

REF = ("ref.wav",)

BAD = [
    (CompareSettings, {"references": REF, "section": "chorus"}, ["--section", "'loudest'"]),
    (CompareSettings, {}, ["--ref", "--profile"]),
    (CompareSettings, {"references": REF, "profile": "rock"}, ["--ref", "--profile"]),
    (TranslateSettings, {"references": REF, "profile": "rock"}, ["--ref", "--profile"]),
    (TranslateSettings, {"speed_kmh": 0.0}, ["--speed-kmh", "more than 0"]),
    (TranslateSettings, {"speed_kmh": float("inf")}, ["--speed-kmh", "more than 0"]),
    (TranslateSettings, {"level_db_spl": float("nan")}, ["--level-db-spl", "20 to 130 dB SPL"]),
    (TranslateSettings, {"level_db_spl": 1e308}, ["--level-db-spl", "20 to 130 dB SPL"]),
    (TranslateSettings, {"speed_kmh": 1e308}, ["--speed-kmh", "at most 300 km/h"]),
    (TranslateSettings, {"speed_kmh": float("nan")}, ["--speed-kmh", "at most 300 km/h"]),
    (MasterSettings, {"references": REF, "engine": "magic"}, ["--engine", "native, matchering"]),
    (MasterSettings, {"references": REF, "profile": "rock"}, ["--ref", "--profile"]),
    (MasterSettings, {"target_lufs": -14.0, "target": "spotify"}, ["--target-lufs", "--target"]),
    (MasterSettings, {}, ["--ref", "--profile", "--target-lufs"]),
    (MasterSettings, {"target_lufs": -14.0, "engine": "matchering"}, ["matchering", "--ref"]),
    (MasterSettings, {"references": REF, "max_moves": 7}, ["--max-moves", "0 to 6"]),
    (MasterSettings, {"references": REF, "max_moves": -1}, ["--max-moves", "0 to 6"]),
    (MasterSettings, {"references": REF, "max_gain_db": 0.0}, ["--max-gain", "at most 24 dB"]),
    (MasterSettings, {"references": REF, "max_gain_db": 25.0}, ["--max-gain", "at most 24 dB"]),
    (MasterSettings, {"references": REF, "smoothing_octaves": 4.0}, ["--smoothing", "1/12 to 3"]),
    (MasterSettings, {"references": REF, "ceiling_dbtp": 0.5}, ["--ceiling", "-20 to 0 dBTP"]),
    (MasterSettings, {"references": REF, "ceiling_dbtp": -21.0}, ["--ceiling", "-20 to 0"]),
    (MasterSettings, {"references": REF, "amount": 101.0}, ["--amount", "between 0 and 100"]),
    (MasterSettings, {"references": REF, "amount_tone": -1.0}, ["--amount", "tone", "0 and 100"]),
    (MasterSettings, {"references": REF, "only": "bass"}, ["--only", "tone, width, loudness"]),
    (BatchSettings, {"jobs": 0}, ["--jobs 0", "1 or more"]),
    (BatchSettings, {"jobs": 2, "scheduler": "tcp://h:8786"}, ["--jobs", "--scheduler"]),
    (BatchSettings, {"references": REF, "profile": "rock"}, ["--ref", "--profile"]),
    (BatchSettings, {"album_spread_lu": -1.0}, ["--album-spread", "0 to 12 LU"]),
    (BatchSettings, {"album_spread_lu": float("nan")}, ["--album-spread", "0 to 12 LU"]),
    (BatchSettings, {"ceiling_dbtp": float("nan")}, ["--ceiling", "-20 to 0 dBTP"]),
    (BatchSettings, {"ceiling_dbtp": 3.0}, ["--ceiling", "-20 to 0 dBTP"]),
    (MasterSettings, {"references": REF, "ceiling_dbtp": float("nan")}, ["--ceiling", "-20"]),
    (MasterSettings, {"references": REF, "smoothing_octaves": float("nan")}, ["--smoothing"]),
    (ProfileSettings, {"name": "ok", "jobs": 0}, ["--jobs 0", "1 or more"]),
]


@pytest.mark.parametrize(("cls", "kwargs", "says"), BAD)
def test_bad_settings_name_the_option_and_the_range(cls, kwargs, says) -> None:
    with pytest.raises(UsageError) as err:
        cls(**kwargs)
    for text in says:
        assert text in err.value.message, (kwargs, err.value.message)


def test_a_bad_profile_name_is_refused() -> None:
    with pytest.raises(ProfileError, match="bad profile name"):
        ProfileSettings(name=".hidden")


def test_good_settings_are_frozen_and_normalised() -> None:
    from dataclasses import FrozenInstanceError
    from pathlib import Path

    s = MasterSettings(references=[Path("a.wav")], amount=50.0, only="tone")
    assert s.references == ("a.wav",)
    assert s.amounts == {"tone": 0.5, "width": 0.0, "loudness": 0.0}
    assert s.effective_ceiling_dbtp == -1.0
    with pytest.raises(FrozenInstanceError):
        s.engine = "matchering"  # type: ignore[misc]
    assert CompareSettings(references="one.wav").references == ("one.wav",)
    assert ProfileSettings(name="p", description="a\tb").description == "a\\tb"
