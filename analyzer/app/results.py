"""What each use case returns: frozen result objects holding the analyses, the derived figures and
the notes (messages for the user, as data: the caller decides how to show them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyzer.batching.runner import BatchResult
    from analyzer.comparison.album import AlbumReport
    from analyzer.comparison.metrics import Comparison
    from analyzer.comparison.profiles import ReferenceProfile
    from analyzer.mastering.chain import MasterResult
    from analyzer.mastering.propose import Proposal
    from analyzer.mastering.verify import Verification
    from analyzer.playback.codecs import CodecResult
    from analyzer.playback.devices import Device
    from analyzer.playback.platforms import PlatformPreview
    from analyzer.playback.render_group import RenderedDevice
    from analyzer.playback.translate import Translation
    from analyzer.types import TrackAnalysis

#: ``progress(label, done, total)``: what is being worked on (a file name, ``analysing NAME``,
#: a mastering stage) and how far (frames or steps). Called from worker threads too.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be measured (bad input, exit code 3), named in ``message``."""

    path: str
    message: str
    exit_code: int


@dataclass(frozen=True)
class AnalyzedTrack:
    """One measured file (or array) with its streaming-platform preview and, when asked, the
    lossy-codec round trip."""

    path: str
    analysis: TrackAnalysis
    platforms: tuple[PlatformPreview, ...]
    codec_check: tuple[CodecResult, ...] | None = None


@dataclass(frozen=True)
class AnalyzeRun:
    """Every measured file, in the order given, and every file that failed."""

    tracks: tuple[AnalyzedTrack, ...]
    failures: tuple[FileFailure, ...]

    @property
    def analyses(self) -> tuple[TrackAnalysis, ...]:
        return tuple(t.analysis for t in self.tracks)


@dataclass(frozen=True)
class CompareRun:
    """The mix against its references (or a profile), level-matched, with the platform preview
    and the default mastering proposal (None when ``with_proposal=False``). ``notes``
    (resampling, sections) are in the comparison
    too."""

    mix: TrackAnalysis
    references: tuple[TrackAnalysis, ...]
    reference_names: tuple[str, ...]
    comparison: Comparison
    platforms: tuple[PlatformPreview, ...]
    proposal: Proposal | None
    section: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class TranslateRun:
    """How the mix translates to each device, beside the references (or a profile's medians);
    with references or a profile also the default mastering proposal. ``reference_translations``
    are the references on the same devices and ``platforms`` the mix's platform preview (the
    HTML report shows both)."""

    mix: TrackAnalysis
    references: tuple[TrackAnalysis, ...]
    reference_names: tuple[str, ...]
    devices: tuple[Device, ...]
    translation: Translation
    reference_translations: tuple[Translation, ...]
    platforms: tuple[PlatformPreview, ...]
    comparison: Comparison | None
    proposal: Proposal | None
    notes: tuple[str, ...]
    #: With a render folder: the files written, from the same pass as the devices' effects.
    renders: tuple[RenderedDevice, ...] = ()


@dataclass(frozen=True)
class ProposeRun:
    """A mastering proposal for the mix, and what it was built from: the analyses, the
    comparison (None for a loudness target alone), the loudness goal and its source, the
    ceiling, and the profile's ranges when a profile was used."""

    mix_path: str
    mix: TrackAnalysis
    references: tuple[TrackAnalysis, ...]
    reference_names: tuple[str, ...]
    comparison: Comparison | None
    proposal: Proposal
    target_lufs: float | None
    target_source: str
    ceiling_dbtp: float
    profile_stats: Mapping[str, Any] | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class MasterRun:
    """The applied master: the proposal as applied (refitted once after heavy limiting), the
    written file's measurement and the verification against the plan and the references."""

    mix: TrackAnalysis
    references: tuple[TrackAnalysis, ...]
    reference_names: tuple[str, ...]
    comparison: Comparison | None
    proposal: Proposal
    engine: str
    output: str
    result: MasterResult
    verification: Verification
    notes: tuple[str, ...]
    #: One line per failed verification check (the master is written: ``master`` exits 5).
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchRun:
    """Every file measured by the batch (``result``, with its failures and notes), the
    per-file comparisons with the references or profile, the album check and each file's
    platform preview. ``result.interrupted``: Ctrl-C stopped it (nothing else was computed)."""

    result: BatchResult
    comparisons: tuple[Comparison, ...] | None
    reference_names: tuple[str, ...] | None
    album: AlbumReport | None
    platforms: tuple[tuple[PlatformPreview, ...], ...]


@dataclass(frozen=True)
class ProfileRun:
    """The built genre profile, where it was saved, and notes about the run (``--jobs``
    lowered to the cores)."""

    profile: ReferenceProfile
    path: Path
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoRun:
    """What :func:`analyzer.app.run_demo` wrote and measured."""

    mix_wav: Path
    reference_wav: Path
    analysis_json: Path
    master_wav: Path
    report_html: Path
    mix: TrackAnalysis
    reference: TrackAnalysis
    comparison: Comparison
    translation: Translation
    platforms: list[PlatformPreview]
    proposal: Proposal
    mastered: MasterResult
    verification: Verification
    view: Any  # the report's view (analyzer.report.view)
    seconds: float
