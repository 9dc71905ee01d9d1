"""Independent readings of written files: libebur128 through pyebur128."""

from __future__ import annotations

import os

import numpy as np
import soundfile as sf


def pyebur128_reading(path: str | os.PathLike[str]) -> tuple[float, float]:
    """``(integrated LUFS, true peak dBTP)`` of a file by libebur128."""
    from pyebur128 import MeasurementMode, R128State, get_loudness_global, get_true_peak

    x, fs = sf.read(path, dtype="float64", always_2d=True)
    mode = MeasurementMode.MODE_I | MeasurementMode.MODE_TRUE_PEAK
    state = R128State(x.shape[1], fs, mode)
    x = np.ascontiguousarray(x)
    for start in range(0, x.shape[0], 65536):
        chunk = x[start : start + 65536]
        state.add_frames(chunk.ravel(), chunk.shape[0])
    tp = max(get_true_peak(state, c) for c in range(x.shape[1]))
    return get_loudness_global(state), 20 * np.log10(tp) if tp > 0 else -np.inf
