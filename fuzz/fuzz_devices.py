"""Coverage-guided fuzz target (atheris) for the device-file parser
(:func:`analyzer.playback.device_file.load_devices`); a device that loads must have a finite
magnitude response from 10 Hz to 24 kHz. See ``config_fuzz.py`` for how to run it."""

from __future__ import annotations

import json

import atheris
import numpy as np
from config_fuzz import assert_safe, run

with atheris.instrument_imports():
    from analyzer.playback.device_file import device_to_dict, load_devices
    from analyzer.playback.device_models import BUILTIN_DEVICES
    from analyzer.playback.device_response import magnitude_db

FREQS_HZ = np.geomspace(10.0, 24_000.0, 64)


def check(devices) -> None:
    for name, device in devices.items():
        if name in BUILTIN_DEVICES and BUILTIN_DEVICES[name] == device:
            continue
        assert_safe(device.label)
        assert np.all(np.isfinite(magnitude_db(device, FREQS_HZ))), name


def seeds():
    for device in BUILTIN_DEVICES.values():
        yield ".json", json.dumps({"devices": [device_to_dict(device)]})
    yield (
        ".toml",
        (
            '[[devices]]\nname = "x"\nchannels_mode = "mono"\nright_delay_ms = 1.5\n'
            '[[devices.filters]]\ntype = "high_pass"\ncutoff_hz = 120.0\norder = 2\n'
            '[devices.level]\nkind = "bass_limiter"\ncrossovers_hz = [150.0]\n'
            "thresholds_db_spl = [90.0]\nratio = 4.0\nattack_ms = 5.0\nrelease_ms = 100.0\n"
        ),
    )


if __name__ == "__main__":
    run("devices", load_devices, check, seeds)
