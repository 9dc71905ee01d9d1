"""Coverage-guided fuzz target (atheris) for the loudness-targets parser
(:func:`analyzer.playback.user_targets.load_targets`); see ``config_fuzz.py`` for how to run
it."""

from __future__ import annotations

import json
import math

import atheris
from config_fuzz import run

with atheris.instrument_imports():
    from analyzer.playback.user_targets import load_targets


def check(targets) -> None:
    for t in targets:
        assert math.isfinite(t.target_lufs), t
        assert t.true_peak_limit_dbtp is None or math.isfinite(t.true_peak_limit_dbtp), t


def seeds():
    yield ".json", json.dumps({"targets": [{"name": "spotify", "target_lufs": -15}]})
    yield ".json", json.dumps([{"name": "club", "target_lufs": -9, "policy": "both",
                                "true_peak_limit_dbtp": -0.5, "tolerance_lu": 1.0,
                                "label": "Club", "notes": "n", "source": "s"}])  # fmt: skip
    yield ".toml", '[[targets]]\nname = "radio"\ntarget_lufs = -23.0\ntrue_peak_limit_dbtp = -1\n'


if __name__ == "__main__":
    run("targets", load_targets, check, seeds)
