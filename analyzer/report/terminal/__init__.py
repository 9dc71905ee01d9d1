"""Rich terminal views (colour on a terminal, plain text when piped): one module per subject,
every renderer re-exported here."""

from analyzer.report.terminal.analysis import (
    BAND_LABELS,
    render_character,
    render_platforms,
    render_track,
    render_track_findings,
)
from analyzer.report.terminal.batch import render_album, render_batch
from analyzer.report.terminal.cells import VERDICT_STYLE
from analyzer.report.terminal.comparison import (
    TONAL_BAR_DB,
    render_comparison,
    render_findings,
    render_tonal_bars,
    render_translation,
    tonal_bar,
)
from analyzer.report.terminal.mastering import (
    render_matchering,
    render_proposal,
    render_verification,
)

__all__ = [
    "BAND_LABELS",
    "TONAL_BAR_DB",
    "VERDICT_STYLE",
    "render_album",
    "render_batch",
    "render_character",
    "render_comparison",
    "render_findings",
    "render_matchering",
    "render_platforms",
    "render_proposal",
    "render_tonal_bars",
    "render_track",
    "render_track_findings",
    "render_translation",
    "render_verification",
    "tonal_bar",
]
