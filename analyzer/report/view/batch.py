"""The report's ``batch`` section: one row per track and the album figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.numbers import finite, rounded
from analyzer.report.verdicts import true_peak_verdict
from analyzer.report.view.model import AlbumFigures, BatchTrackRow, BatchView
from analyzer.types import DEFAULT_CEILING_DBTP

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
    true_peak_dbtp, lra_lu, plr_db, gain_db, verdict, note} (absent figures are ``None``), ``album``
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
                str(t["name"]),
                *(rounded(t.get(k), 2) for k in _ROW_FIGURES),
                t.get("verdict"),
                t.get("note"),
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
    gain and why it was cut, a verdict) and the album figures."""
    gains = {g.path: g for g in album.gains} if album is not None else {}
    outliers = {o.path for o in album.outliers} if album is not None else set()
    rows = []
    for i, r in enumerate(result.files):
        dy, gain = r.dynamics, gains.get(r.file.path)
        rows.append({
            "name": r.file.path, "integrated_lufs": r.loudness.integrated_lufs,
            "true_peak_dbtp": r.peaks.true_peak_dbtp, "lra_lu": r.loudness.lra_lu,
            "plr_db": dy.plr_db if dy else None,
            "gain_db": None if gain is None else gain.gain_db,
            "verdict": _verdict(r, r.file.path in outliers,
                                None if comparisons is None else comparisons[i]),
            "note": None if gain is None else gain.reason,
        })  # fmt: skip
    figures = None
    notes: list[str] = [e.message for e in result.errors]
    if album is not None:
        figures = {"median_lufs": album.median_lufs,
                   "loudness_spread_lu": album.loudness_spread_lu,
                   "loudness_spread_after_lu": album.loudness_spread_after_lu}  # fmt: skip
        notes += [o.text for o in album.outliers] + list(album.notes)
    return batch_view(rows, album=figures, notes=notes)


def _verdict(track: Any, outlier: bool, comparison: Any) -> str:
    """One row's verdict in words: a track without an integrated loudness (silent, shorter than
    one gating block) says so and why, the true peak against the ceiling
    (:func:`analyzer.report.verdicts.true_peak_verdict`), an album outlier, and with references
    how many metrics fall outside their range; "ok" when nothing is out of line."""
    parts = []
    if finite(track.loudness.integrated_lufs) is None:
        why = track.loudness.null_reasons.get("integrated_lufs")
        parts.append(f"no integrated loudness ({why})" if why else "no integrated loudness")
    peak = true_peak_verdict(track.peaks.true_peak_dbtp)
    if peak == "bad":
        parts.append("true peak over 0 dBTP")
    elif peak == "warn":
        parts.append(f"true peak over {DEFAULT_CEILING_DBTP:g} dBTP")
    if outlier:
        parts.append("album outlier")
    if comparison is not None:
        outside = [m for m in comparison.metrics.values() if m.verdict not in (None, "within")]
        parts.append(f"{len(outside)} metrics outside the references" if outside
                     else "within the references")  # fmt: skip
    return "; ".join(parts) or "ok"
