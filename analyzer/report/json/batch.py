"""JSON of a batch.

The keys are fixed (README, "batch"): ``files`` (each object as ``analyze`` writes it, with
``file.path``; plus ``comparison`` when references or a profile were given), ``errors`` (list of
{path, message, exit_code}), ``cache`` ({hits, misses}) and, with ``--album``, ``album``
(``loudness_spread_lu``, ``tonal_spread_db``, ``outliers`` as {path, reasons}, ``gains_db`` as
path -> dB, and more beside them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.json.analysis import track_to_dict
from analyzer.report.json.comparison import comparison_to_dict
from analyzer.report.json.envelope import BATCH, document_text, envelope
from analyzer.report.numbers import rounded

if TYPE_CHECKING:
    from analyzer.batching.runner import BatchResult
    from analyzer.comparison.album import AlbumReport


def file_documents(
    result: BatchResult,
    *,
    series: bool = False,
    platforms: Sequence[Any] | None = None,
    comparisons: Sequence[Any] | None = None,
) -> list[dict[str, Any]]:
    """The per-file objects: as ``analyze`` writes them (``platforms`` per file, when given),
    plus ``comparison`` when given."""
    docs = []
    for i, r in enumerate(result.files):
        kw: dict[str, Any] = {"series": series}
        if platforms is not None:
            kw["platforms"] = platforms[i]
        doc = track_to_dict(r, **kw)
        if comparisons is not None:
            doc["comparison"] = comparison_to_dict(comparisons[i])
        docs.append(doc)
    return docs


def album_to_dict(album: AlbumReport) -> dict[str, Any]:
    """``album``: spreads, outliers ({path, reasons, ...}), ``gains_db`` (path -> dB) and the
    gains in detail with their true-peak check."""
    return {
        "n_tracks": album.n_tracks,
        "median_lufs": rounded(album.median_lufs, 2),
        "loudness_spread_lu": rounded(album.loudness_spread_lu, 2),
        "loudness_spread_after_lu": rounded(album.loudness_spread_after_lu, 2),
        "target_spread_lu": album.target_spread_lu,
        "ceiling_dbtp": album.ceiling_dbtp,
        "outlier_lu": album.outlier_lu,
        "outlier_tonal_db": album.outlier_tonal_db,
        "tonal_median_db": {k: rounded(v, 2) for k, v in album.tonal_median_db.items()},
        "tonal_spread_db": {k: rounded(v, 2) for k, v in album.tonal_spread_db.items()},
        "outliers": [
            {
                "path": o.path,
                "track": o.track,
                "loudness_delta_lu": rounded(o.loudness_delta_lu, 2),
                "reasons": list(o.reasons),
                "text": o.text,
            }
            for o in album.outliers
        ],
        "gains_db": {g.path: rounded(g.gain_db, 2) for g in album.gains},
        "gains": [
            {
                "path": g.path,
                "gain_db": rounded(g.gain_db, 2),
                "wanted_gain_db": rounded(g.wanted_gain_db, 2),
                "integrated_after_lufs": rounded(g.integrated_after_lufs, 2),
                "true_peak_after_dbtp": rounded(g.true_peak_after_dbtp, 2),
                "reason": g.reason,
            }
            for g in album.gains
        ],
        "notes": list(album.notes),
    }


def batch_document(
    result: BatchResult,
    files: list[dict[str, Any]],
    *,
    album: AlbumReport | None = None,
    references: Sequence[str] | None = None,
) -> str:
    """The ``batch`` document's text."""
    doc = envelope(BATCH, {
        "files": files,
        "errors": [
            {"path": e.path, "message": e.message, "exit_code": e.exit_code} for e in result.errors
        ],
        "cache": {"hits": result.cache_hits, "misses": result.cache_misses},
    })  # fmt: skip
    if references is not None:
        doc["references"] = list(references)
    if album is not None:
        doc["album"] = album_to_dict(album)
    return document_text(doc)
