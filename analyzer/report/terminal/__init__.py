"""Rich terminal views (colour on a terminal, plain text when piped): one module per subject,
every renderer re-exported here. The re-exports are imported on first use (PEP 562), so a
command pays only for the renderers it uses (``analyze`` does not import the comparison's,
the batch's or the master's, nor the view model they read)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.lazy import lazy_exports

#: Where each re-exported name lives.
_HOME = {
    "BAND_LABELS": "analysis",
    "render_character": "analysis",
    "render_platforms": "analysis",
    "render_track": "analysis",
    "render_track_findings": "analysis",
    "render_album": "batch",
    "render_batch": "batch",
    "VERDICT_STYLE": "cells",
    "TONAL_BAR_DB": "comparison",
    "render_comparison": "comparison",
    "render_findings": "comparison",
    "render_tonal_bars": "comparison",
    "render_translation": "comparison",
    "tonal_bar": "comparison",
    "render_matchering": "mastering",
    "render_proposal": "mastering",
    "render_verification": "mastering",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _HOME)


if TYPE_CHECKING:
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
