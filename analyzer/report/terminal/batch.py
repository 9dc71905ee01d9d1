"""Terminal tables of a batch: one row per file, and the album report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from analyzer.report.numbers import finite, number
from analyzer.report.terminal.cells import fmt_dash, name_room, two_line_names
from analyzer.report.terminal.fit import fit_width

if TYPE_CHECKING:
    from analyzer.batching.runner import BatchResult
    from analyzer.comparison.album import AlbumReport

#: What the batch table's short headers mean.
BATCH_CAPTION = (
    "LUFS: integrated loudness · dBTP: true peak · LRA in LU · PLR in dB · tilt in dB/oct"
)


def render_batch(
    console: Any,
    result: BatchResult,
    *,
    comparisons: Sequence[Any] | None = None,
) -> None:
    """One row per file: loudness, true peak, LRA, PLR, tilt, whether it came from the cache;
    then, numbered as the rows, the largest difference from the references when there are
    some."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="batch", title_justify="left", caption=BATCH_CAPTION)
    table.add_column("#", justify="right")
    table.add_column("file", overflow="fold")
    # Short headers, the units in the caption: the numbers leave the file names room.
    headers = ("LUFS", "dBTP", "LRA", "PLR", "tilt", "cache")
    for col in headers:
        table.add_column(col, justify="right", no_wrap=True)
    rows = []
    for i, (r, cached) in enumerate(zip(result.files, result.from_cache, strict=True)):
        dy, sp = r.dynamics, r.spectrum
        rows.append([
            str(i + 1),
            fmt_dash(finite(r.loudness.integrated_lufs), ".1f"),
            fmt_dash(finite(r.peaks.true_peak_dbtp), ".1f"),
            fmt_dash(finite(r.loudness.lra_lu), ".1f"),
            fmt_dash(finite(dy.plr_db) if dy else None, ".1f"),
            fmt_dash(finite(sp.tilt_db_per_octave) if sp else None, ".2f"),
            "hit" if cached else "",
        ])  # fmt: skip
    columns = [["#", *(r[0] for r in rows)]] + [
        [h, *(r[k + 1] for r in rows)] for k, h in enumerate(headers)
    ]  # fmt: skip
    names, table.columns[1].min_width = two_line_names(
        [r.file.path for r in result.files], name_room(console.width, columns)
    )
    for row, name in zip(rows, names, strict=True):
        table.add_row(row[0], escape(name), *row[1:])
    console.print(fit_width(console, table))
    if comparisons is not None:  # sentences: under the table, where they have the full width
        console.print("largest difference from the references:", markup=False)
        for i, comp in enumerate(comparisons):
            top = comp.top_differences
            text = top[0].text if top else "within the references' range"
            console.print(f"  {i + 1}. {text}", markup=False, highlight=False)
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
    rows = [[f"{number(g.gain_db, '+.1f')} dB", fmt_dash(g.integrated_after_lufs, ".1f", "LUFS"),
             fmt_dash(g.true_peak_after_dbtp, ".1f", "dBTP")] for g in album.gains]  # fmt: skip
    columns = [[h, *(r[k] for r in rows)]
               for k, h in enumerate(("gain", "loudness after", "true peak after"))]  # fmt: skip
    room = name_room(console.width, [*columns, ["note"]])
    names, table.columns[0].min_width = two_line_names([g.path for g in album.gains], room)
    for g, name, row in zip(album.gains, names, rows, strict=True):
        table.add_row(escape(name), *row, escape(g.reason or ""))
    console.print(fit_width(console, table))
