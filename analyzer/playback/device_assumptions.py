"""The device-model parameters that no published measurement fixes, with the range of plausible
values each was chosen from (issue 15, "Device models that hold up").

Each entry names a built-in device, the index of the filter section (or ``None`` for a field of
the device itself), the attribute, and the plausible low and high values with the reason. The
test suite re-runs the translation at both ends of every range and checks that no finding flips
(tests/playback/test_device_assumptions.py). Parameters checked against a measurement in
``../shared/corpus`` (the earbud fits, the phone's and laptop's corners) are listed in the
README's device table instead, with their fit error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from analyzer.playback.device_models import BUILTIN_DEVICES, Device


@dataclass(frozen=True)
class Assumption:
    """One assumed parameter: ``device.filters[section].attribute`` (or ``device.attribute``
    when ``section`` is None) lies somewhere in ``low``…``high`` (``why`` says where from)."""

    device: str
    section: int | None
    attribute: str
    low: float
    high: float
    why: str


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("phone", 0, "cutoff_hz", 220.0, 600.0,
               "OnePlus 6T flat from 260 Hz; micro-speakers 300–630 Hz (Chang & Wang 2018)"),
    Assumption("phone", 1, "gain_db", 0.0, 8.0, "front-chamber presence resonance, no figure"),
    Assumption("phone", 2, "cutoff_hz", 10000.0, 18000.0, "micro-speaker treble limit"),
    Assumption("laptop", 0, "order", 2.0, 6.0, "'drops like a rock' below ≈ 300 Hz"),
    Assumption("laptop", 1, "cutoff_hz", 7000.0, 16000.0,
               "Framework 13 rolls off from 7 kHz, Dell E1505 flat to 10 kHz"),
    Assumption("laptop", None, "width", 0.2, 0.6, "speaker spacing 20–40 cm at 40–60 cm"),
    Assumption("bluetooth-speaker", 0, "cutoff_hz", 60.0, 120.0,
               "JBL Charge 6 'down to 56 Hz'; smaller units ≈ 100 Hz (issue 5)"),
    Assumption("bluetooth-speaker", 1, "cutoff_hz", 12000.0, 20000.0, "driver treble limit"),
    Assumption("tv", 0, "cutoff_hz", 100.0, 150.0, "issue 5: 100–150 Hz; no TV measurement"),
    Assumption("tv", 1, "gain_db", 0.0, 5.0, "dialogue emphasis of TV voice processing"),
    Assumption("tv", 2, "cutoff_hz", 8000.0, 16000.0, "slim down-firing drivers"),
    Assumption("car", 0, "corner_hz", 70.0, 90.0, "cabin-gain corner (glasswolf.net)"),
    Assumption("car", None, "balance_db", 1.5, 6.0, "driver seat: 3 dB reflections … 6 dB 1/r"),
    Assumption("club", 0, "cutoff_hz", 25.0, 40.0, "sub tuning, no figure"),
    Assumption("club", 1, "gain_db", 3.0, 9.0, "sub emphasis of club tunings, no figure"),
)  # fmt: skip


def with_value(assumption: Assumption, value: float) -> Device:
    """The built-in device of ``assumption`` with that parameter set to ``value``."""
    device = BUILTIN_DEVICES[assumption.device]
    if assumption.section is None:
        return dataclasses.replace(device, **{assumption.attribute: value})
    filters = list(device.filters)
    section = filters[assumption.section]
    current = getattr(section, assumption.attribute)
    cast = round(value) if isinstance(current, int) else float(value)
    filters[assumption.section] = dataclasses.replace(section, **{assumption.attribute: cast})
    return dataclasses.replace(device, filters=tuple(filters))
