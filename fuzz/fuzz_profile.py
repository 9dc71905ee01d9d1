"""Coverage-guided fuzz target (atheris) for the profile parser
(:func:`analyzer.comparison.profiles.load_profile`); see ``config_fuzz.py`` for how to run it."""

from __future__ import annotations

import math
from pathlib import Path

import atheris
from config_fuzz import assert_safe, run

with atheris.instrument_imports():
    from analyzer.comparison.profiles import load_profile


def check(profile) -> None:
    for key, stats in profile.metrics.items():
        assert_safe(key)
        for v in (stats.median, stats.p10, stats.p90):
            assert v is None or math.isfinite(v), (key, v)


def seeds():
    import analyzer.comparison.profile_data as data

    for path in sorted(Path(data.__file__).parent.glob("*.json")):
        yield ".json", path.read_text()


if __name__ == "__main__":
    run("profile", load_profile, check, seeds)
