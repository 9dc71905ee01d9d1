"""The assumed device parameters (analyzer.playback.device_assumptions): every one lies inside
its stated range, and no finding flips between the two ends of the range (issue 15, "Device
models that hold up": a sensitivity test)."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.measure.engine import analyze_array
from analyzer.playback.device_assumptions import ASSUMPTIONS, with_value
from analyzer.playback.device_metrics import device_translation
from analyzer.playback.device_models import BUILTIN_DEVICES
from tests.signals import db_to_amp, pink_noise

FS = 44100


@pytest.fixture(scope="module")
def mixes():
    """Two mixes a finding could flip on: a bass-heavy mix with harmonics and a narrow pink
    mix with a quiet top (seeded, 3 s)."""
    t = np.arange(3 * FS) / FS
    k = np.arange(1, 20)
    saw = np.sum(np.sin(2 * np.pi * 50.0 * k[:, None] * t) / k[:, None], axis=0)
    bass = db_to_amp(-12.0) * saw / 2 + db_to_amp(-30.0) * np.sin(2 * np.pi * 2500 * t)
    pink = db_to_amp(-20.0) * pink_noise(3.0, FS, channels=1, seed=3)[0]
    side = db_to_amp(-32.0) * pink_noise(3.0, FS, channels=1, seed=4)[0]
    return [analyze_array(np.stack([bass, bass]), FS),
            analyze_array(np.stack([pink + side, pink - side]), FS)]  # fmt: skip


def _findings(track, device) -> dict[str, bool]:
    """Which deductions are in force (a finding is shown when its deduction is > 0)."""
    _, detail = device_translation(track, device, None, 100.0)
    return {k: v > 0.5 for k, v in detail.deductions.items()}


#: Ranges inside which a finding does flip (found by this test): the tonal finding on a
#: bass-heavy mix depends on where the Bluetooth speaker's bass falls (60 vs 120 Hz) and on the
#: club's sub emphasis (3 vs 9 dB). No source pins either; a measurement (e.g. the spinorama
#: Sonos Roam data, SOURCES.md) is needed, so these stay open.
FLIPS = {("bluetooth-speaker", 0, "cutoff_hz"), ("club", 1, "gain_db")}
CASES = [
    pytest.param(a, marks=pytest.mark.xfail(strict=True, reason="flips: no source pins it"))
    if (a.device, a.section, a.attribute) in FLIPS else a
    for a in ASSUMPTIONS
]  # fmt: skip


@pytest.mark.parametrize("a", CASES, ids=lambda a: f"{a.device}.{a.section}.{a.attribute}")
def test_no_finding_flips_inside_the_range(mixes, a) -> None:
    device = BUILTIN_DEVICES[a.device]
    current = getattr(device if a.section is None else device.filters[a.section], a.attribute)
    assert a.low <= current <= a.high, "the model's value is outside its own range"
    for track in mixes:
        here = _findings(track, device)
        for value in (a.low, a.high):
            assert _findings(track, with_value(a, value)) == here, (a, value)
