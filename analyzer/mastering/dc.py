"""Taking a DC offset out before the gain and the limiter.

A DC offset (each channel's mean sample value, the analysis' ``dc_offset``) adds to every peak
on one side: the gain raises it with the music and the limiter spends its ceiling on it. A mix
with a 0.3 offset was mastered with 9 dB of limiting 100 % of the time and still missed its
target by 1.1 LU. The analysis says to remove an offset that carries at least
:data:`~analyzer.measure.dynamics.DC_POWER_SHARE` of the signal's power (its ``dc_offset``
finding); the master does so, first in the chain, by the same rule, whenever it applies a
gain (a loudness target and a loudness amount above 0: ``--amount 0`` and ``--only tone`` or
``width`` leave it).

It subtracts each channel's mean, as measured over the whole mix. A constant offset goes exactly
so, with no phase shift and no start-up transient: a DC-blocking high-pass (the usual 5-20 Hz
filter) would start with a step of the whole offset at the first sample, decaying over
``1 / (2 pi fc)``, and shift the phase of the lowest octave. K-weighting does not pass DC, so
the loudness is unchanged; the peaks are what changes, and the master measures them after this
stage before it sets the limiter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analyzer.measure.dynamics import DC_POWER_SHARE, dc_power_share, mostly_dc
from analyzer.types import TrackAnalysis


@dataclass(frozen=True)
class DcRemoval:
    """The offsets to subtract (per channel, linear full scale) and the share of the mix's
    power they carry."""

    offsets: tuple[float, ...]
    share_of_power: float

    @property
    def why(self) -> str:
        worst = max(self.offsets, key=abs)
        return (
            f"remove DC offset: the mix carries {worst:+.4f} of DC ({100 * self.share_of_power:.1f}"
            " % of its power), which the gain and the limiter would spend headroom on"
        )


def propose_dc_removal(mix: TrackAnalysis) -> DcRemoval | None:
    """The removal of ``mix``'s DC offset when it carries at least ``DC_POWER_SHARE`` of the
    power (module docstring); ``None`` otherwise, and for a mix that is mostly offset (the
    master refuses those)."""
    dy = mix.dynamics
    if dy is None or not dy.dc_offset:
        return None
    share = dc_power_share(dy.dc_offset, dy.crest_factor_db, mix.peaks.sample_peak_dbfs)
    if share is None or share < DC_POWER_SHARE:
        return None
    if mostly_dc(dy.dc_offset, mix.peaks.sample_peak_dbfs):
        return None
    return DcRemoval(tuple(float(v) for v in dy.dc_offset), float(share))


def peak_without_dc_dbtp(mix: TrackAnalysis, removal: DcRemoval | None) -> float | None:
    """The true peak the loudness plan predicts from (dBTP): the mix's, or with ``removal``
    its estimate once the offset is out. Per channel (an offset on one channel does not lower
    another channel's peak): each channel's true peak less its own offset, the loudest of
    them. The subtraction assumes the music swings about equally either side of its offset,
    so that the extreme lies on the offset's side; the analysis keeps unsigned peaks, so a
    channel whose extreme lies on the other side is under-estimated by up to twice its offset.
    It is an estimate, as the plan is: the native engine measures the peak after this stage
    before it sets the limiter."""
    tp = mix.peaks.true_peak_dbtp
    if removal is None or tp is None or not math.isfinite(tp):
        return tp
    per = mix.peaks.true_peak_per_channel_dbtp
    if len(per) != len(removal.offsets):
        return tp
    left = [
        10.0 ** (p / 20.0) - abs(dc) if math.isfinite(p) else 0.0
        for p, dc in zip(per, removal.offsets, strict=True)
    ]
    loudest = max(left)
    return 20.0 * math.log10(loudest) if loudest > 0 else tp


class DcRemover:
    """Streaming stage: each channel minus its offset."""

    def __init__(self, removal: DcRemoval, channels: int) -> None:
        if len(removal.offsets) != channels:
            raise ValueError(f"{len(removal.offsets)} offsets for {channels} channels")
        self._offsets = np.asarray(removal.offsets, dtype=np.float64)[:, None]

    def process(self, x: np.ndarray) -> np.ndarray:
        return x - self._offsets


__all__ = ["DcRemoval", "DcRemover", "peak_without_dc_dbtp", "propose_dc_removal"]
