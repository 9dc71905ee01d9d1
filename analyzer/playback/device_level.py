"""The ``level`` part of a device's score: how much quieter the device plays the mix than it plays
typical programme at the same studio loudness.

The other parts are level-matched (the tonal curve) or bound to one region (the bass, the
presence band), so a mix whose loudness sits where a device does not play scored well there
although the device hardly plays it: a 35 Hz bass line alone lost 42 LU on the phone and scored
85 of 100. This part measures that loss.

* Typical programme: pink noise, equal power in every 1/3-octave band up to Nyquist, the same on
  both channels, the usual stand-in for programme material in loudspeaker measurement (IEC
  60268-1's simulated programme signal is band-limited pink noise). Its loudness change on the
  device is ``10 log10(sum_b k_b g_b / sum_b k_b)``, ``k_b`` the K-weighting power and ``g_b``
  the device's power gain in band ``b``: the device's own level and tilt, which every track
  shares.
* The mix's change is its ``loudness_change_lu`` (measured on the render, or the band model's)
  plus what the device's limiter takes (``limiting_lu``): the ``limiting`` part already counts
  that. Where the render has no loudness at all (nothing above the -70 LUFS gate) the band
  model's change of the linear path (``sum_b k_b P_lin,b`` re the studio) stands in.
* ``shortfall = typical - mix change`` (LU); the part is ``clip(3 (shortfall - 6), 0, 60)``.
  6 LU is twice the jump between consecutive tracks that the album check
  (:mod:`analyzer.comparison.album`) calls plainly heard: music is not pink noise, and a mix
  led by its low end plays a few LU under it on a small speaker as a matter of course (the
  sixteen corpus tracks: -3 to +2 LU on the phone, a drum-and-bass track -6, a bass-led
  track -9); past twice that jump the track is plainly the quiet one of a playlist there. At
  26 LU (60 points) the mix is practically not heard where other music plays at a normal
  level; with the ``bass`` part's 40 points at most, a mix the device cannot play scores 0.
"""

from __future__ import annotations

import math

import numpy as np

from analyzer.dsp.units import db_to_power, power_to_db
from analyzer.playback.device_parts import ScorePart, part

#: A mix quieter than typical programme on a device by more than this (LU) loses points.
LEVEL_TOLERANCE_LU = 6.0
#: Points per LU beyond the tolerance, and the most the part takes.
LEVEL_POINTS_PER_LU = 3.0
LEVEL_MAX_POINTS = 60.0
#: The part says so in a finding from this many points (1 LU beyond the tolerance) on.
FINDING_POINTS = 3.0
#: Beyond this shortfall (LU) what the device plays of the mix is rounding, not music (a mix
#: that cancels in a mono fold reads 100-140 LU).
NOTHING_HEARD_LU = 60.0
#: The basis of the parts that are not judged where the mix cancels in the device's mono fold.
NOT_JUDGED = "not judged: the mix cancels in the mono fold"
#: A band the device plays this far down (dB) or more counts as "where it does not play".
QUIET_BAND_DB = -10.0


def typical_change_lu(kw: np.ndarray, gains_db: np.ndarray, valid: np.ndarray) -> float:
    """The device's loudness change on typical programme (module docstring), LU."""
    k = np.where(valid, kw, 0.0)
    played = float(np.sum(k * db_to_power(gains_db)))
    return power_to_db(played, floor_db=-math.inf) - power_to_db(
        float(np.sum(k)), floor_db=-math.inf
    )


def level_part(
    kw: np.ndarray, gains_db: np.ndarray, valid: np.ndarray, mix: np.ndarray,
    change_lu: float | None, on: str, findings: list[str], parts: dict[str, ScorePart],
    fold_loss_lu: float | None = None,
) -> float | None:  # fmt: skip
    """The ``level`` part (module docstring) of a mix whose studio band powers are ``mix`` and
    whose loudness changes by ``change_lu`` on the device, limiter aside; a finding (``on``:
    "on the <device>") when it takes :data:`FINDING_POINTS` or more, whose advice follows the
    cause: the mono fold when ``fold_loss_lu`` (a mono device's fold loss, LU) is at least half
    the shortfall, else the spectrum. Returns the shortfall (LU; ``None`` when the mix has no
    K-weighted power or no change)."""
    studio = float(np.sum(kw * mix))
    if studio <= 0 or change_lu is None or np.isnan(change_lu):
        return None
    shortfall = typical_change_lu(kw, gains_db, valid) - change_lu
    d = min(LEVEL_MAX_POINTS, max(0.0, LEVEL_POINTS_PER_LU * (shortfall - LEVEL_TOLERANCE_LU)))
    figure = float(shortfall) if np.isfinite(shortfall) else None
    parts["level"] = part("level", d, figure, "LU", "quieter than typical programme (pink noise)")
    if d >= FINDING_POINTS:
        where = float(np.sum((kw * mix)[valid & (gains_db <= QUIET_BAND_DB)])) / studio
        how = (f"plays {shortfall:.1f} LU quieter" if shortfall < NOTHING_HEARD_LU
               else f"is not heard at all: more than {NOTHING_HEARD_LU:g} LU quieter")  # fmt: skip
        if fold_loss_lu is not None and fold_loss_lu >= 0.5 * shortfall:
            why = "most of it is lost in the mono fold: make the mix mono-compatible"
        else:
            why = (f"{100 * where:.0f} % of its loudness is where the device plays "
                   f"{-QUIET_BAND_DB:g} dB or more down: move energy or harmonics into the range "
                   "it plays")  # fmt: skip
        findings.append(f"{on} your mix {how} than typical programme at the same studio "
                        f"loudness ({why}) (-{d:.1f} points)")  # fmt: skip
    return figure


def not_judged(p: ScorePart) -> ScorePart:
    """``p`` with no points and no figure, said to be not judged."""
    return part(p.name, 0.0, None, p.unit, NOT_JUDGED)
