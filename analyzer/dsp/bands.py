"""The band tables, once: ISO 266 / IEC 61260-1 fractional-octave centres and the six broad
tonal-balance bands with every label the reports use.

Every module that speaks of bands (the spectrum meter, the comparison, the album check, the
playback models, the terminal, JSON, CSV and HTML reports) takes them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Base-ten octave ratio, IEC 61260-1:2014 eq. 1.
OCTAVE_RATIO = 10.0 ** (3.0 / 10.0)
REFERENCE_HZ = 1000.0

#: ISO 266 nominal third-octave centres, 20 Hz - 20 kHz (band numbers x = -17 ... 13 re 1 kHz).
THIRD_OCTAVE_NOMINAL_HZ: tuple[float, ...] = (
    20.0, 25.0, 31.5, 40.0, 50.0, 63.0, 80.0, 100.0, 125.0, 160.0, 200.0, 250.0, 315.0, 400.0,
    500.0, 630.0, 800.0, 1000.0, 1250.0, 1600.0, 2000.0, 2500.0, 3150.0, 4000.0, 5000.0, 6300.0,
    8000.0, 10000.0, 12500.0, 16000.0, 20000.0,
)  # fmt: skip
_THIRD_X = np.arange(-17, 14)
#: Exact midband frequencies (IEC 61260-1 eq. 2, odd bandwidth designator b = 3).
THIRD_OCTAVE_EXACT_HZ: tuple[float, ...] = tuple(REFERENCE_HZ * OCTAVE_RATIO ** (_THIRD_X / 3))

_R20 = (1.0, 1.12, 1.25, 1.4, 1.6, 1.8, 2.0, 2.24, 2.5, 2.8,
        3.15, 3.55, 4.0, 4.5, 5.0, 5.6, 6.3, 7.1, 8.0, 9.0)  # fmt: skip
_SIXTH_X = np.arange(-34, 27)  # 20 Hz ... 20 kHz in 1/6-octave steps
SIXTH_OCTAVE_EXACT_HZ: tuple[float, ...] = tuple(REFERENCE_HZ * OCTAVE_RATIO ** (_SIXTH_X / 6))
#: ISO 3 R20 preferred numbers as labels of the 1/6-octave centres.
SIXTH_OCTAVE_NOMINAL_HZ: tuple[float, ...] = tuple(
    round(_R20[int(x) % 20] * 10.0 ** (3 + int(x) // 20), 6) for x in _SIXTH_X
)


@dataclass(frozen=True)
class BroadBand:
    """One broad tonal-balance band ``[lo_hz, hi_hz)`` and the words that name it.

    ``noun`` is used in sentences ("low end 3.1 dB lighter"), ``label`` and ``range_text`` in
    tables and plots, ``terminal_label`` in the fixed-width terminal table (ASCII only).
    """

    key: str
    lo_hz: float
    hi_hz: float
    noun: str
    label: str
    range_text: str
    terminal_label: str


BROAD_BANDS: tuple[BroadBand, ...] = (
    BroadBand("sub", 20.0, 60.0, "sub-bass", "sub", "< 60 Hz", "sub  <60"),
    BroadBand("low", 60.0, 250.0, "low end", "low", "60–250 Hz", "low  60-250"),
    BroadBand("low_mid", 250.0, 2000.0, "low mids", "low mids", "250 Hz–2 kHz", "lo-mid 250-2k"),
    BroadBand("high_mid", 2000.0, 6000.0, "high mids", "high mids", "2–6 kHz", "hi-mid 2k-6k"),
    BroadBand("high", 6000.0, 12000.0, "highs", "highs", "6–12 kHz", "high 6k-12k"),
    BroadBand("air", 12000.0, 20000.0, "air", "air", "> 12 kHz", "air  >12k"),
)
#: The broad bands by key, in order from low to high.
BROAD_BAND_BY_KEY: dict[str, BroadBand] = {b.key: b for b in BROAD_BANDS}
#: Broad tonal-balance bands (Hz). The audible range 20 Hz - 20 kHz is the reference total:
#: sub-sonic content (DC offset, rumble) and ultrasonic content count in no band.
BROAD_BANDS_HZ: dict[str, tuple[float, float]] = {b.key: (b.lo_hz, b.hi_hz) for b in BROAD_BANDS}
BROAD_BAND_NAMES: tuple[str, ...] = tuple(BROAD_BAND_BY_KEY)


def broad_band_of(hz: float) -> str | None:
    """The key of the broad band that holds ``hz`` (20 kHz and above count as the top band),
    or None below 20 Hz."""
    for band in BROAD_BANDS:
        if band.lo_hz <= hz < band.hi_hz:
            return band.key
    top = BROAD_BANDS[-1]
    return top.key if hz >= top.lo_hz else None  # the top band is closed: 20 kHz is "air"
