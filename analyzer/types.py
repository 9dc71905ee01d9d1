"""Frozen result dataclasses. Units are in every field name; ``-inf`` means digital silence and
``None`` means undefined (the reason is in ``null_reasons``). JSON turns both into ``null``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, and what was actually decoded."""

    path: str
    sample_rate_hz: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate_hz


@dataclass(frozen=True)
class Series:
    """A regularly sampled series: value ``i`` belongs to the window ending at
    ``start_s + i / rate_hz``."""

    rate_hz: float
    start_s: float
    values: tuple[float, ...]


@dataclass(frozen=True)
class LoudnessStats:
    """ITU-R BS.1770-4 / EBU R128 loudness (Tech 3341 and 3342)."""

    integrated_lufs: float | None
    momentary_max_lufs: float | None
    short_term_max_lufs: float | None
    lra_lu: float | None
    lra_low_lufs: float | None
    lra_high_lufs: float | None
    relative_gate_lufs: float | None
    momentary: Series | None = None
    short_term: Series | None = None
    #: Largest momentary / short-term value between two 10 Hz updates (~1 ms resolution).
    momentary_hold: Series | None = None
    short_term_hold: Series | None = None
    null_reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PeakStats:
    """True peak (BS.1770-4 Annex 2) and sample peak, overall and per channel."""

    true_peak_dbtp: float
    true_peak_per_channel_dbtp: tuple[float, ...]
    sample_peak_dbfs: float
    sample_peak_per_channel_dbfs: tuple[float, ...]
    oversampling_factor: int


@dataclass(frozen=True)
class TrackAnalysis:
    """Everything measured on one file."""

    file: AudioInfo
    loudness: LoudnessStats
    peaks: PeakStats
    warnings: tuple[str, ...] = ()
