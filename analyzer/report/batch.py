"""Batch outputs: the JSON document, the CSV table and the terminal tables.

The JSON keys are fixed (README, "batch"): ``files`` (each object as ``analyze`` writes it,
with ``file.path``; plus ``comparison`` when references or a profile were given), ``errors``
(list of {path, message, exit_code}), ``cache`` ({hits, misses}) and, with ``--album``,
``album`` (``loudness_spread_lu``, ``tonal_spread_db``, ``outliers`` as {path, reasons},
``gains_db`` as path -> dB, and more beside them).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from analyzer.batching.runner import BatchResult
from analyzer.comparison.album import AlbumReport
from analyzer.dsp.bands import BROAD_BAND_NAMES
from analyzer.report.json import SCHEMA_VERSION, _num, comparison_to_dict, lookup, track_to_dict
from analyzer.version import __version__

#: The fixed ``analyze`` keys, flattened, in CSV column order. A mapping becomes one column per
#: key (``stereo.width_per_band_db.low``); a list becomes one cell of JSON text.
CSV_KEYS = (
    "file.path",
    "file.format",
    "file.subtype",
    "file.sample_rate_hz",
    "file.channels",
    "file.duration_s",
    "loudness.integrated_lufs",
    "loudness.momentary_max_lufs",
    "loudness.short_term_max_lufs",
    "loudness.lra_lu",
    "loudness.true_peak_dbtp",
    "loudness.sample_peak_dbfs",
    "loudness.true_peak_per_channel_dbtp",
    "dynamics.crest_factor_db",
    "dynamics.plr_db",
    "dynamics.psr_max_db",
    "dynamics.psr_median_db",
    "dynamics.dr",
    "dynamics.dc_offset",
    "dynamics.clipped_runs",
    "dynamics.intersample_overs",
    "stereo.correlation",
    "stereo.correlation_p5",
    "stereo.side_to_mid_db",
    "stereo.width_per_band_db",
    "stereo.mono_loss_lu",
    "stereo.mono_loss_per_band_lu",
    "stereo.balance_db",
    "stereo.flags",
    "spectrum.tonal_balance_db",
    "spectrum.tilt_db_per_octave",
    "spectrum.third_octave_hz",
    "spectrum.third_octave_db",
)
#: Comparison metrics given a column each (delta and verdict) in the CSV.
CSV_COMPARISON_METRICS = (
    "integrated_lufs",
    "lra_lu",
    "true_peak_dbtp",
    "plr_db",
    "psr_median_db",
    "crest_factor_db",
    *(f"tonal.{b}" for b in BROAD_BAND_NAMES),
    "tilt_db_per_octave",
    "correlation",
)


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
        "median_lufs": _num(album.median_lufs, 2),
        "loudness_spread_lu": _num(album.loudness_spread_lu, 2),
        "loudness_spread_after_lu": _num(album.loudness_spread_after_lu, 2),
        "target_spread_lu": album.target_spread_lu,
        "ceiling_dbtp": album.ceiling_dbtp,
        "outlier_lu": album.outlier_lu,
        "outlier_tonal_db": album.outlier_tonal_db,
        "tonal_median_db": {k: _num(v, 2) for k, v in album.tonal_median_db.items()},
        "tonal_spread_db": {k: _num(v, 2) for k, v in album.tonal_spread_db.items()},
        "outliers": [
            {
                "path": o.path,
                "track": o.track,
                "loudness_delta_lu": _num(o.loudness_delta_lu, 2),
                "reasons": list(o.reasons),
                "text": o.text,
            }
            for o in album.outliers
        ],
        "gains_db": {g.path: _num(g.gain_db, 2) for g in album.gains},
        "gains": [
            {
                "path": g.path,
                "gain_db": _num(g.gain_db, 2),
                "wanted_gain_db": _num(g.wanted_gain_db, 2),
                "integrated_after_lufs": _num(g.integrated_after_lufs, 2),
                "true_peak_after_dbtp": _num(g.true_peak_after_dbtp, 2),
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
    """The batch JSON text."""
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mixanalyzer", "version": __version__},
        "files": files,
        "errors": [
            {"path": e.path, "message": e.message, "exit_code": e.exit_code} for e in result.errors
        ],
        "cache": {"hits": result.cache_hits, "misses": result.cache_misses},
    }
    if references is not None:
        doc["references"] = list(references)
    if album is not None:
        doc["album"] = album_to_dict(album)
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def batch_view_for(
    result: BatchResult, album: AlbumReport | None, comparisons: Sequence[Any] | None
) -> dict[str, Any]:
    """The report's ``batch`` section: one row per file (name, loudness, peaks, the album gain,
    the comparison's verdict on integrated loudness) and the album figures."""
    from analyzer.report.view import batch_view

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


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, allow_nan=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def batch_csv(
    result: BatchResult,
    files: list[dict[str, Any]],
    *,
    album: AlbumReport | None = None,
) -> str:
    """One row per file: the fixed ``analyze`` keys flattened, then ``cached``, ``warnings``,
    the comparison and album columns when present; failed files get a row with ``error``.
    Quoting and escaping are the csv module's (RFC 4180)."""
    columns: list[str] = []
    for key in CSV_KEYS:
        if key.endswith(("_per_band_db", "_per_band_lu", "tonal_balance_db")):
            columns += [f"{key}.{b}" for b in BROAD_BAND_NAMES]
        else:
            columns.append(key)
    columns += ["cached", "warnings", "error"]
    has_comparison = any("comparison" in d for d in files)
    if has_comparison:
        for m in CSV_COMPARISON_METRICS:
            columns += [f"comparison.{m}.delta", f"comparison.{m}.verdict"]
        columns.append("comparison.top_differences")
    gains = {g.path: g for g in album.gains} if album else {}
    outliers = {o.path: o for o in album.outliers} if album else {}
    if album is not None:
        columns += ["album.gain_db", "album.gain_reason", "album.outlier"]

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for doc, cached in zip(files, result.from_cache, strict=True):
        row: dict[str, Any] = {}
        for col in columns:
            try:
                row[col] = _cell(lookup(doc, col))
            except KeyError:
                row[col] = ""
        row["cached"] = _cell(cached)
        row["warnings"] = "; ".join(doc.get("warnings", []))
        if has_comparison and "comparison" in doc:
            comp = doc["comparison"]
            for m in CSV_COMPARISON_METRICS:
                entry = comp["metrics"].get(m, {})
                row[f"comparison.{m}.delta"] = _cell(entry.get("delta"))
                row[f"comparison.{m}.verdict"] = _cell(entry.get("verdict"))
            row["comparison.top_differences"] = "; ".join(
                d["text"] for d in comp["top_differences"]
            )
        path = doc["file"]["path"]
        if album is not None:
            g = gains.get(path)
            row["album.gain_db"] = _cell(_num(g.gain_db, 2) if g else None)
            row["album.gain_reason"] = _cell(g.reason if g else None)
            o = outliers.get(path)
            row["album.outlier"] = _cell(o.text if o else None)
        writer.writerow(row)
    for e in result.errors:
        writer.writerow({c: "" for c in columns} | {"file.path": e.path, "error": e.message})
    return buf.getvalue()


def _fmt(v: float | None, unit: str, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f} {unit}".rstrip()


def render_batch(
    console: Any,
    result: BatchResult,
    *,
    comparisons: Sequence[Any] | None = None,
) -> None:
    """One row per file: loudness, true peak, LRA, PLR, tilt, whether it came from the cache,
    and the largest difference from the references when there are some."""
    from rich.markup import escape
    from rich.table import Table

    from analyzer.comparison.metrics import _finite

    table = Table(title="batch", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("file", overflow="fold")
    for col in ("integrated", "true peak", "LRA", "PLR", "tilt", "cache"):
        table.add_column(col, justify="right", no_wrap=True)
    if comparisons is not None:
        table.add_column("largest difference from the references", overflow="fold")
    for i, (r, cached) in enumerate(zip(result.files, result.from_cache, strict=True)):
        dy, sp = r.dynamics, r.spectrum
        row = [
            str(i + 1),
            escape(r.file.path),
            _fmt(_finite(r.loudness.integrated_lufs), "LUFS"),
            _fmt(_finite(r.peaks.true_peak_dbtp), "dBTP"),
            _fmt(_finite(r.loudness.lra_lu), "LU"),
            _fmt(_finite(dy.plr_db) if dy else None, "dB"),
            _fmt(_finite(sp.tilt_db_per_octave) if sp else None, "dB/oct", 2),
            "hit" if cached else "",
        ]
        if comparisons is not None:
            top = comparisons[i].top_differences
            row.append(escape(top[0].text) if top else "within the references' range")
        table.add_row(*row)
    console.print(table)
    console.print(
        f"{len(result.files)} measured, {len(result.errors)} failed; cache: "
        f"{result.cache_hits} hits, {result.cache_misses} misses; {result.elapsed_s:.1f} s "
        f"({result.executor})",
        markup=False,
    )


def render_album(console: Any, album: AlbumReport) -> None:
    """The album report: spreads, outliers in words, and the suggested gains."""
    from rich.markup import escape
    from rich.table import Table

    if album.n_tracks == 0:
        console.print("album: no track has an integrated loudness", markup=False)
        return
    console.print(
        f"album: {album.n_tracks} tracks, median {album.median_lufs:.1f} LUFS, loudness spread "
        f"{album.loudness_spread_lu:.1f} LU (after the gains: "
        f"{album.loudness_spread_after_lu:.1f} LU; target {album.target_spread_lu:g} LU)",
        markup=False,
    )
    spreads = ", ".join(
        f"{k} {v:.1f} dB" for k, v in album.tonal_spread_db.items() if v is not None
    )
    console.print(f"tonal balance spread per band: {spreads}", markup=False)
    for o in album.outliers:
        console.print(f"outlier: {o.text}", markup=False, soft_wrap=True)
    for n in album.notes:
        console.print(f"note: {n}", markup=False)
    table = Table(title="suggested album gains", title_justify="left")
    table.add_column("file", overflow="fold")
    for col in ("gain", "loudness after", "true peak after"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for g in album.gains:
        table.add_row(
            escape(g.path), f"{g.gain_db:+.1f} dB", _fmt(g.integrated_after_lufs, "LUFS"),
            _fmt(g.true_peak_after_dbtp, "dBTP"), escape(g.reason or ""),
        )  # fmt: skip
    console.print(table)
