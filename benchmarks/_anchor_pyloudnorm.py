"""Anchor for the loudness benchmark: pyloudnorm integrated loudness, reading the whole file into
memory with soundfile (its documented usage). Prints one JSON object on stdout."""

from __future__ import annotations

import json
import math
import sys

import pyloudnorm as pyln
import soundfile as sf


def measure(path: str) -> dict[str, float | None]:
    """Integrated loudness (LUFS) of one file."""
    data, rate = sf.read(path)
    value = float(pyln.Meter(rate).integrated_loudness(data))
    return {"integrated_lufs": value if math.isfinite(value) else None}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
