"""The report's ``batch`` section: one row per track and the album figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.numbers import rounded
from analyzer.report.view.model import AlbumFigures, BatchTrackRow, BatchView

if TYPE_CHECKING:  # the batch runner loads only when a batch section is built
    from analyzer.batching.runner import BatchResult
    from analyzer.comparison.album import AlbumReport

_ROW_FIGURES = ("integrated_lufs", "true_peak_dbtp", "lra_lu", "plr_db", "gain_db")


def batch_view(
    tracks: Sequence[Mapping[str, Any]],
    *,
    album: Mapping[str, float | None] | None = None,
    notes: Sequence[str] = (),
) -> BatchView:
    """The ``batch`` section from plain data: ``tracks`` as {name, integrated_lufs,
    true_peak_dbtp, lra_lu, plr_db, gain_db, verdict} (absent figures are ``None``), ``album``
    as {median_lufs, loudness_spread_lu, loudness_spread_after_lu}."""
    figures = None
    if album is not None:
        figures = AlbumFigures(
            rounded(album.get("median_lufs"), 2),
            rounded(album.get("loudness_spread_lu"), 2),
            rounded(album.get("loudness_spread_after_lu"), 2),
        )
    return BatchView(
        tracks=tuple(
            BatchTrackRow(
                str(t["name"]), *(rounded(t.get(k), 2) for k in _ROW_FIGURES), t.get("verdict")
            )
            for t in tracks
        ),
        album=figures,
        notes=tuple(notes),
    )


def batch_view_for(
    result: BatchResult, album: AlbumReport | None, comparisons: Sequence[Any] | None
) -> BatchView:
    """The ``batch`` section of a batch run: one row per file (name, loudness, peaks, the album
    gain, the comparison's verdict on every metric) and the album figures."""
    gains = {g.path: g.gain_db for g in album.gains} if album is not None else {}
    rows = []
    for i, r in enumerate(result.files):
        verdict = None
        if comparisons is not None:
            worst = [m.verdict for m in comparisons[i].metrics.values()
                     if m.verdict not in (None, "within")]  # fmt: skip
            verdict = f"{len(worst)} outside" if worst else "within"
        dy = r.dynamics
        rows.append({
            "name": r.file.path, "integrated_lufs": r.loudness.integrated_lufs,
            "true_peak_dbtp": r.peaks.true_peak_dbtp, "lra_lu": r.loudness.lra_lu,
            "plr_db": dy.plr_db if dy else None, "gain_db": gains.get(r.file.path),
            "verdict": verdict,
        })  # fmt: skip
    figures = None
    notes: list[str] = [e.message for e in result.errors]
    if album is not None:
        figures = {"median_lufs": album.median_lufs,
                   "loudness_spread_lu": album.loudness_spread_lu,
                   "loudness_spread_after_lu": album.loudness_spread_after_lu}  # fmt: skip
        notes += [o.text for o in album.outliers] + list(album.notes)
    return batch_view(rows, album=figures, notes=notes)
