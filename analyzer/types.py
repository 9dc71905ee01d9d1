"""Frozen result dataclasses. Units are in every field name; ``-inf`` means digital silence and
``None`` means undefined (the reason is in ``null_reasons``). JSON turns both into ``null``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The true-peak ceiling a master, a normalisation gain or an album gain keeps by default (dBTP):
#: the streaming platforms' advice (Spotify for Artists, AES TD1008, EBU R128 s1).
DEFAULT_CEILING_DBTP = -1.0


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
    #: Integrated loudness of the mono fold-down (L + R) / 2 on both speakers (stereo only).
    fold_down_integrated_lufs: float | None = None
    momentary: Series | None = None
    short_term: Series | None = None
    #: Largest momentary / short-term value between two 10 Hz updates (~1 ms resolution).
    momentary_hold: Series | None = None
    short_term_hold: Series | None = None
    null_reasons: Mapping[str, str] = field(default_factory=dict)
    #: Start (s) of the loudest 3 s short-term window (None when there is none).
    short_term_max_at_s: float | None = None


@dataclass(frozen=True)
class PeakStats:
    """True peak (BS.1770-4 Annex 2) and sample peak, overall and per channel."""

    true_peak_dbtp: float
    true_peak_per_channel_dbtp: tuple[float, ...]
    sample_peak_dbfs: float
    sample_peak_per_channel_dbfs: tuple[float, ...]
    oversampling_factor: int
    #: Start (s) of the 100 ms that holds the largest true peak (None when not tracked).
    true_peak_at_s: float | None = None


@dataclass(frozen=True)
class SpectrumStats:
    """Long-term average spectrum (Welch) reduced to fractional-octave bands.

    Levels are band powers in dB relative to a full-scale sine's power (a full-scale sine reads
    0 dB in its band): ``10 log10(2 * band mean-square)``. The "mix" spectrum is the mean over
    channels. ``None`` marks a band with no power (silence) or above Nyquist.
    """

    third_octave_hz: tuple[float, ...]
    third_octave_db: tuple[float | None, ...]
    third_octave_db_per_channel: tuple[tuple[float | None, ...], ...]
    third_octave_mid_db: tuple[float | None, ...] | None  # None for mono files
    third_octave_side_db: tuple[float | None, ...] | None
    sixth_octave_hz: tuple[float, ...]
    sixth_octave_db: tuple[float | None, ...]  # smoothed curve for plots
    tonal_balance_db: Mapping[str, float | None]  # band name -> dB re the track's total power
    tilt_db_per_octave: float | None
    frame_size: int
    frames_averaged: int
    #: Set when band levels were taken relative to this integrated loudness (dB re LUFS).
    levelled_to_lufs: float | None = None


@dataclass(frozen=True)
class StereoStats:
    """Stereo image of a two-channel file (channels beyond the first two are ignored)."""

    correlation: float | None
    correlation_min: float | None  # over 400 ms blocks
    correlation_p5: float | None
    correlation_below_zero_share: float | None  # share of 400 ms blocks with r < 0
    side_to_mid_db: float | None
    width_per_band_db: Mapping[str, float | None]
    mono_loss_lu: float | None
    mono_loss_per_band_lu: Mapping[str, float | None]
    balance_db: float | None  # L minus R level, dB
    flags: tuple[str, ...]  # mono, dual_mono, polarity_inverted, silent_channel
    #: Pearson r of each 400 ms block (hop 100 ms, first ending at 0.4 s); silent blocks NaN.
    correlation_series: Series | None = None
    #: Start (s) of the 400 ms block of lowest correlation (None when there is none).
    correlation_min_at_s: float | None = None


@dataclass(frozen=True)
class DynamicsStats:
    """Dynamics: crest factor, PLR/PSR, DR, DC offset, clipping and inter-sample overs."""

    crest_factor_db: float | None
    plr_db: float | None
    psr_max_db: float | None
    psr_median_db: float | None
    dr: int | None
    dr_per_channel: tuple[float | None, ...]
    dc_offset: tuple[float, ...]  # mean sample value per channel (linear, full scale = 1)
    clipped_runs: int
    clipped_run_positions_s: tuple[float, ...]  # start of each run (first 100)
    intersample_overs: int
    psr: Series | None = None


@dataclass(frozen=True)
class TrackAnalysis:
    """Everything measured on one file."""

    file: AudioInfo
    loudness: LoudnessStats
    peaks: PeakStats
    spectrum: SpectrumStats | None = None
    stereo: StereoStats | None = None
    dynamics: DynamicsStats | None = None
    warnings: tuple[str, ...] = ()
