"""The report's view: frozen dataclasses holding what people see, built once from the result
types (:mod:`analyzer.report.view`) and read by the HTML template (Jinja2 reads attributes), the
plot figures and the terminal.

Every number is finite and rounded, or ``None`` (undefined or silent); every sequence is a
tuple. Sections are present (not ``None``) only when their data is. ``dataclasses.asdict`` of a
view is strict JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analyzer.report.findings import TrackFinding

Floats = tuple[float | None, ...]


@dataclass(frozen=True)
class ToolInfo:
    name: str
    version: str


@dataclass(frozen=True)
class SummaryCard:
    """One figure of a track's summary; ``verdict`` (good / warn / bad) colours it."""

    key: str
    label: str
    value: float | None
    unit: str
    verdict: str | None
    reason: str | None


@dataclass(frozen=True)
class PlatformRow:
    """The normalisation preview of one platform."""

    name: str
    label: str
    target_lufs: float | None
    gain_db: float | None
    result_lufs: float | None
    result_true_peak_dbtp: float | None
    limited_by: str | None
    warnings: tuple[str, ...]
    #: The true peak after the platform's gain passes the default ceiling.
    peak_above_ceiling: bool


@dataclass(frozen=True)
class SpectrumCurve:
    """1/6-octave spectrum, dB re ``re`` (the track's integrated loudness, or dBFS)."""

    hz: tuple[float, ...]
    db: Floats
    re: str


@dataclass(frozen=True)
class TonalRow:
    """One broad band of a track's tonal balance; with a comparison (``compared``), the
    references' range, the delta and the verdict."""

    band: str
    label: str
    range: str
    mix_db: float | None
    compared: bool = False
    median: float | None = None
    p10: float | None = None
    p90: float | None = None
    delta: float | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class SeriesView:
    """A decimated series (:func:`analyzer.report.view.track.decimate`)."""

    t_s: tuple[float, ...]
    values: Floats


@dataclass(frozen=True)
class TargetLine:
    lufs: float
    label: str


@dataclass(frozen=True)
class LoudnessSeries:
    momentary: SeriesView | None
    short_term: SeriesView | None
    integrated_lufs: float | None
    targets: tuple[TargetLine, ...]


@dataclass(frozen=True)
class PeakSeries:
    true_peak_3s: SeriesView | None
    psr: SeriesView | None
    true_peak_dbtp: float | None


@dataclass(frozen=True)
class WidthRow:
    """Stereo width (side / mid) of one broad band, with the references' range when compared."""

    band: str
    label: str
    mix_db: float | None
    median: float | None = None
    p10: float | None = None
    p90: float | None = None
    verdict: str | None = None


@dataclass(frozen=True)
class StereoView:
    correlation: float | None
    correlation_p5: float | None
    side_to_mid_db: float | None
    mono_loss_lu: float | None
    balance_db: float | None
    flags: tuple[str, ...]
    correlation_series: SeriesView | None
    width: tuple[WidthRow, ...]


@dataclass(frozen=True)
class TrackView:
    """One track: file facts, tags, summary cards, platforms, spectrum, tonal balance, series
    and stereo image."""

    role: str
    name: str
    path: str
    tags: Mapping[str, str]
    format: str
    sample_rate_hz: int
    channels: int
    duration_s: float | None
    summary: tuple[SummaryCard, ...]
    platforms: tuple[PlatformRow, ...]
    spectrum: SpectrumCurve | None
    tonal_balance: tuple[TonalRow, ...]
    tilt_db_per_octave: float | None
    loudness_series: LoudnessSeries | None
    peak_series: PeakSeries | None
    stereo: StereoView | None
    warnings: tuple[str, ...]
    #: What is out of spec, with what to do and where (:mod:`analyzer.report.findings`).
    findings: tuple[TrackFinding, ...] = ()


@dataclass(frozen=True)
class MetricRow:
    """One metric of the comparison: the mix, the references' median and 10-90 % range."""

    metric: str
    label: str
    mix: float | None
    median: float | None
    p10: float | None
    p90: float | None
    delta: float | None
    verdict: str | None
    band: str | None = None
    range: str | None = None


@dataclass(frozen=True)
class ReferenceSpectrum:
    """The references' median and 10-90 % band, level-matched."""

    hz: tuple[float, ...]
    median: Floats
    p10: Floats
    p90: Floats
    resolution: str


@dataclass(frozen=True)
class ReferenceGain:
    reference: str
    gain_db: float | None


@dataclass(frozen=True)
class DifferenceRow:
    metric: str
    score: float | None
    text: str


@dataclass(frozen=True)
class ComparisonView:
    section: str
    references: tuple[str, ...]
    metrics: tuple[MetricRow, ...]
    tonal: tuple[MetricRow, ...]
    width: tuple[MetricRow, ...]
    third_octave_out: tuple[MetricRow, ...]
    reference_spectrum: ReferenceSpectrum | None
    reference_gains_db: tuple[ReferenceGain, ...]
    top_differences: tuple[DifferenceRow, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class DeviceTonalRow:
    band: str
    label: str
    mix_db: float | None
    ref_db: float | None


@dataclass(frozen=True)
class DeviceCurve:
    """The level-matched 1/3-octave curve through a device: the mix and the references'
    median."""

    hz: tuple[float, ...]
    mix: Floats
    ref_median: Floats | None


@dataclass(frozen=True)
class ScorePartView:
    """One named part of a device's score: the points it takes off and the figure behind them."""

    name: str
    label: str
    points: float | None
    figure: float | None
    unit: str
    basis: str


@dataclass(frozen=True)
class DeviceView:
    name: str
    label: str
    score: float | None
    grade: str | None
    reference_score: float | None
    loudness_change_lu: float | None
    bass_survival: float | None
    harmonic_bass_db: float | None
    mono_loss_lu: float | None
    masked_bands: tuple[str, ...]
    tonal: tuple[DeviceTonalRow, ...]
    findings: tuple[str, ...]
    curve: DeviceCurve | None
    parts: tuple[ScorePartView, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class TranslationView:
    devices: tuple[DeviceView, ...]
    spread: float | None
    ranked_differences: tuple[str, ...]


@dataclass(frozen=True)
class EqMoveView:
    kind: str
    freq_hz: float | None
    gain_db: float | None
    q: float | None
    reason: str


@dataclass(frozen=True)
class ResponseCurve:
    hz: Floats
    db: Floats


@dataclass(frozen=True)
class BeforeAfterRow:
    label: str
    unit: str
    before: float | None
    after: float | None


@dataclass(frozen=True)
class MasterView:
    """The ``master`` section: proposed EQ moves, their response and the before/after table."""

    engine: str
    moves: tuple[EqMoveView, ...]
    response: ResponseCurve | None
    before_after: tuple[BeforeAfterRow, ...]
    output: str | None
    notes: tuple[str, ...]
    #: The verification's checks ({name: passed, None when not checked}), in order.
    checks: tuple[tuple[str, bool | None], ...] = ()
    #: True where the section shows a proposal that was not applied (compare, translate).
    proposed_only: bool = False


@dataclass(frozen=True)
class BatchTrackRow:
    name: str
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    lra_lu: float | None
    plr_db: float | None
    gain_db: float | None
    verdict: str | None
    #: Why the suggested album gain is less than wanted (the true-peak cut), when it is.
    note: str | None = None


@dataclass(frozen=True)
class AlbumFigures:
    median_lufs: float | None
    loudness_spread_lu: float | None
    loudness_spread_after_lu: float | None


@dataclass(frozen=True)
class BatchView:
    """The ``batch`` section: one row per track and the album figures."""

    tracks: tuple[BatchTrackRow, ...]
    album: AlbumFigures | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    source: str
    text: str
    severity: str | None = None


@dataclass(frozen=True)
class ReportView:
    """The whole report. ``kind`` names the command ("analyze", "compare", "translate",
    "master", "batch", "demo"); ``tracks[0]`` is the mix for compare / translate."""

    view_version: int
    kind: str
    title: str
    tool: ToolInfo
    tracks: tuple[TrackView, ...]
    references: tuple[str, ...]
    comparison: ComparisonView | None
    translation: TranslationView | None
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    master: MasterView | None
    batch: BatchView | None
