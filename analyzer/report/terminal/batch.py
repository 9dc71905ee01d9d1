"""Terminal tables of a batch: one row per file, and the album report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.numbers import finite, number
from analyzer.report.terminal.cells import fmt_dash, keep_names_to_two_lines

if TYPE_CHECKING:
    from analyzer.batching.runner import BatchResult
    from analyzer.comparison.album import AlbumReport


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

    table = Table(title="batch", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("file", overflow="fold")
    file_column = table.columns[-1]
    # Units in the headers (which may wrap), so the numbers leave the file names room.
    for col in ("integrated LUFS", "true peak dBTP", "LRA LU", "PLR dB", "tilt dB/oct", "cache"):
        table.add_column(col, justify="right")
    if comparisons is not None:
        table.add_column("largest difference from the references", overflow="fold")
    keep_names_to_two_lines(file_column, (f.file.path for f in result.files), console.width)
    for i, (r, cached) in enumerate(zip(result.files, result.from_cache, strict=True)):
        dy, sp = r.dynamics, r.spectrum
        row = [
            str(i + 1),
            escape(r.file.path),
            fmt_dash(finite(r.loudness.integrated_lufs), ".1f"),
            fmt_dash(finite(r.peaks.true_peak_dbtp), ".1f"),
            fmt_dash(finite(r.loudness.lra_lu), ".1f"),
            fmt_dash(finite(dy.plr_db) if dy else None, ".1f"),
            fmt_dash(finite(sp.tilt_db_per_octave) if sp else None, ".2f"),
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
    keep_names_to_two_lines(table.columns[0], (g.path for g in album.gains), console.width)
    for col in ("gain", "loudness after", "true peak after"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for g in album.gains:
        table.add_row(
            escape(g.path),
            f"{number(g.gain_db, '+.1f')} dB",
            fmt_dash(g.integrated_after_lufs, ".1f", "LUFS"),
            fmt_dash(g.true_peak_after_dbtp, ".1f", "dBTP"),
            escape(g.reason or ""),
        )
    console.print(table)
