"""The batch as CSV: one row per file, the fixed ``analyze`` keys flattened, then the cache,
warnings, comparison and album columns. Quoting and escaping are the csv module's (RFC 4180)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from analyzer.dsp.bands import BROAD_BAND_NAMES
from analyzer.report.json import lookup
from analyzer.report.numbers import rounded

if TYPE_CHECKING:
    from analyzer.batching.runner import BatchResult
    from analyzer.comparison.album import AlbumReport

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


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, allow_nan=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


#: What makes a spreadsheet read a text cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (a file named
    ``=HYPERLINK(...).wav``) gets a leading ``'``, which spreadsheets show as text (OWASP's
    advice for CSV injection); numbers, negative ones included, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def batch_csv(
    result: BatchResult,
    files: list[dict[str, Any]],
    *,
    album: AlbumReport | None = None,
) -> str:
    """One row per file: the fixed ``analyze`` keys flattened, then ``cached``, ``warnings``,
    the comparison and album columns when present; failed files get a row with ``error``.
    Quoting and escaping are the csv module's (RFC 4180); text that would run as a formula is
    made inert (:func:`formula_safe`)."""
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
            row["album.gain_db"] = _cell(rounded(g.gain_db, 2) if g else None)
            row["album.gain_reason"] = _cell(g.reason if g else None)
            o = outliers.get(path)
            row["album.outlier"] = _cell(o.text if o else None)
        writer.writerow({k: formula_safe(v) for k, v in row.items()})
    for e in result.errors:
        row = {c: "" for c in columns} | {"file.path": e.path, "error": e.message}
        writer.writerow({k: formula_safe(v) for k, v in row.items()})
    return buf.getvalue()
