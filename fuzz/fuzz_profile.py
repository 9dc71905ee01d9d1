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
    """The shipped profiles written compact (about 18 KB each, so run with -max_len=32768:
    libFuzzer cuts every input to -max_len, and a cut profile is only a JSON syntax error),
    and each cut down to its first 12 metrics (2 KB), which the mutations reach more often."""
    import json

    import analyzer.comparison.profile_data as data

    for path in sorted(Path(data.__file__).parent.glob("*.json")):
        doc = json.loads(path.read_text())
        yield ".json", json.dumps(doc, separators=(",", ":"))
        doc["metrics"] = dict(list(doc["metrics"].items())[:12])
        yield ".json", json.dumps(doc, separators=(",", ":"))


if __name__ == "__main__":
    run("profile", load_profile, check, seeds)
