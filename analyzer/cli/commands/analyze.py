"""``mixanalyzer analyze``: measure files, preview the platforms, optionally check codecs and
fail on thresholds (``--fail-on``)."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from analyzer.cli.console import print_error, print_warnings, stdout_console
from analyzer.cli.options import Force, Html, Quiet, Series, json_option, targets_option
from analyzer.cli.output import check_outputs, emit, existing_files
from analyzer.cli.progress import progress_bar
from analyzer.errors import EXIT_BAD_INPUT, CheckFailedError, UsageError

#: A file shorter than this gets no progress bar (it would only flash).
PROGRESS_MIN_DURATION_S = 5.0

FAIL_ON_ALIASES = {
    "integrated": "loudness.integrated_lufs",
    "momentary-max": "loudness.momentary_max_lufs",
    "short-term-max": "loudness.short_term_max_lufs",
    "lra": "loudness.lra_lu",
    "true-peak": "loudness.true_peak_dbtp",
    "sample-peak": "loudness.sample_peak_dbfs",
}
VersionedJson = json_option("Write versioned JSON to this path ('-' for stdout).")
UserTargets = targets_option(
    "Extra or overriding loudness targets (JSON/TOML; default: the user's "
    "~/.config/mixanalyzer/targets.json if present)."
)
_FAIL_ON_RE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*$")


def parse_fail_on(specs: list[str]) -> list[tuple[str, str, str, float]]:
    """``(spec, dotted JSON key, operator, limit)`` of each ``--fail-on`` check."""
    checks = []
    for spec in specs:
        m = _FAIL_ON_RE.match(spec)
        if not m:
            raise UsageError(
                f"--fail-on {spec!r}: expected KEY OP NUMBER, e.g. 'true-peak>-1.0' "
                f"(keys: {', '.join(FAIL_ON_ALIASES)} or a dotted JSON key; OP: > >= < <=)"
            )
        key, op, value = m.groups()
        if not math.isfinite(float(value)):  # 400 digits parse as inf: no check can cross it
            raise UsageError(f"--fail-on {spec!r}: the number must be finite")
        checks.append((spec.strip(), FAIL_ON_ALIASES.get(key, key), op, float(value)))
    return checks


def evaluate_checks(doc: dict[str, Any], checks: list[tuple[str, str, str, float]]) -> list[str]:
    """The failure message of each check that the file's JSON document crosses."""
    from analyzer.report.json import lookup

    failures = []
    path = doc["file"]["path"]
    for spec, key, op, limit in checks:
        try:
            value = lookup(doc, key)
        except KeyError:
            raise UsageError(f"--fail-on {spec!r}: no such key {key!r} in the results") from None
        if value is None:
            failures.append(f"{path}: {key} is null, so '{spec}' cannot pass")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"--fail-on {spec!r}: {key} is not a number")
        crossed = {">": value > limit, ">=": value >= limit, "<": value < limit,
                   "<=": value <= limit}[op]  # fmt: skip
        if crossed:
            failures.append(f"{path}: {key} = {value} fails '{spec}'")
    return failures


def _duration_s(path: str) -> float:
    """The file's duration, 0 when it cannot be read (the analysis will say why)."""
    try:
        from analyzer.io import open_audio

        with open_audio(path) as src:
            return src.info.duration_s
    except Exception:
        return 0.0


FilesOption = Annotated[
    list[str],
    typer.Argument(help="Audio files to measure.", show_default=False, metavar="FILE"),
]
FailOnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        metavar="CHECK",
        help="Exit 5 if a check is crossed, e.g. 'true-peak>-1' or 'integrated<-16'. Repeatable.",
    ),
]
LevelSpectrumOption = Annotated[
    bool,
    typer.Option(
        "--level-spectrum",
        help="Give spectrum band levels relative to the integrated loudness (dB re LUFS), "
        "so tracks at different levels compare directly.",
    ),
]
CodecCheckOption = Annotated[
    bool,
    typer.Option(
        "--codec-check",
        help="Encode to Opus, Vorbis and MP3, decode, and report the true peak afterwards.",
    ),
]


def analyze(
    files: FilesOption,
    json_path: VersionedJson = None,
    series: Series = False,
    fail_on: FailOnOption = None,
    level_spectrum: LevelSpectrumOption = False,
    targets: UserTargets = None,
    codec_check: CodecCheckOption = False,
    html_path: Html = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Measure loudness, true peak, dynamics, stereo image and tonal balance; preview
    streaming-platform normalisation."""
    from analyzer.app import AnalyzeSettings, FileFailure
    from analyzer.app import analyze as run_analyze
    from analyzer.report.findings import track_findings
    from analyzer.report.json import analyses_to_json, track_to_dict
    from analyzer.report.terminal import (
        render_character,
        render_platforms,
        render_track,
        render_track_findings,
    )

    checks = parse_fail_on(fail_on or [])
    check_outputs(json_path, force=force, html=html_path, inputs=[*files, *existing_files(targets)])
    # The HTML report plots the series; the JSON holds them only with --series.
    settings = AnalyzeSettings(series=series or bool(html_path), level_spectrum=level_spectrum,
                               targets=targets, codec_check=codec_check)  # fmt: skip
    out = stdout_console() if not (quiet or json_path == "-") else None
    show = not quiet and sys.stderr.isatty()
    long_files = {Path(f).name for f in files if show and _duration_s(f) > PROGRESS_MIN_DURATION_S}

    def shown(track: Any) -> None:
        if isinstance(track, FileFailure):
            print_error(track.message)
            return
        if out is not None:
            render_track(out, track.analysis)
            render_character(out, track.analysis)
            render_platforms(out, list(track.platforms), _codec(track), louder_line=False)
            render_track_findings(out, track_findings(track.analysis, track.platforms))
        print_warnings(track.analysis.warnings)

    with progress_bar(show, only=lambda label: label.startswith("codec check ")
                      or label in long_files) as bar:  # fmt: skip
        run = run_analyze(files, settings, progress=bar.step if bar else None, on_track=shown)
    extras = [{"platforms": list(t.platforms), "codec_check": _codec(t)} for t in run.tracks]
    results = [t.analysis for t in run.tracks]
    errors = [{"path": f.path, "message": f.message, "exit_code": f.exit_code}
              for f in run.failures]  # fmt: skip
    # Checks first: a bad --fail-on key is a usage error before anything is written.
    failures = [
        msg
        for r, e in zip(results, extras, strict=True)
        for msg in evaluate_checks(track_to_dict(r, **e), checks)
    ]
    if json_path and (results or len(files) > 1):
        emit(json_path, analyses_to_json(results, series=series, several=len(files) > 1,
                                         errors=errors, extras=extras), force=force)  # fmt: skip
    if html_path and results:
        _write_html(html_path, run, force=force)
    if errors:
        if len(files) > 1:
            print_error(f"{len(errors)} of {len(files)} files could not be measured")
        raise typer.Exit(EXIT_BAD_INPUT)
    if failures:
        for msg in failures[:-1]:
            print_error(msg)
        raise CheckFailedError(failures[-1])


def _codec(track: Any) -> list[Any] | None:
    return None if track.codec_check is None else list(track.codec_check)


def _write_html(path: str, run: Any, *, force: bool) -> None:
    from analyzer.io import read_tags
    from analyzer.report.html import write_html
    from analyzer.report.view import build_view

    view = build_view(
        "analyze",
        [t.analysis for t in run.tracks],
        platforms=[list(t.platforms) for t in run.tracks],
        tags=[read_tags(t.path) for t in run.tracks],
    )
    write_html(path, view, force=force)
