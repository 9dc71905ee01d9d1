"""Anchor for the loudness benchmark: libebur128 (via pyebur128) integrated loudness, LRA and
true peak, reading the file in blocks with soundfile. Prints one JSON object on stdout."""

from __future__ import annotations

import json
import math
import sys

import soundfile as sf
from pyebur128 import (
    MeasurementMode,
    R128State,
    get_loudness_global,
    get_loudness_range,
    get_true_peak,
)

BLOCK_FRAMES = 65536


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def measure(path: str) -> dict[str, float | None]:
    """Integrated loudness (LUFS), loudness range (LU) and true peak (dBTP) of one file."""
    info = sf.info(path)
    mode = MeasurementMode.MODE_I | MeasurementMode.MODE_LRA | MeasurementMode.MODE_TRUE_PEAK
    state = R128State(info.channels, info.samplerate, mode)
    for block in sf.blocks(path, blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
        state.add_frames(block.ravel(), block.shape[0])  # C order: channels interleaved
    peak = max(get_true_peak(state, ch) for ch in range(info.channels))  # linear amplitude
    return {
        "integrated_lufs": _finite(get_loudness_global(state)),
        "lra_lu": _finite(get_loudness_range(state)),
        "true_peak_dbtp": 20.0 * math.log10(peak) if peak > 0 else None,
    }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
