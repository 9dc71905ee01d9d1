"""The ``mixanalyzer`` command: a thin typer layer. The only place that prints and that turns an
:class:`~analyzer.errors.AnalyzerError` into a one-line message and an exit code."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from analyzer.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    AnalyzerError,
    AudioLoadError,
    CheckFailedError,
    OutputError,
    UsageError,
)
from analyzer.runtime import tune_process
from analyzer.types import DEFAULT_CEILING_DBTP
from analyzer.version import __version__

app = typer.Typer(
    name="mixanalyzer",
    help="Measure music mixes: BS.1770-4 / EBU R128 loudness, loudness range and true peak.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

PROGRESS_MIN_DURATION_S = 5.0

FAIL_ON_ALIASES = {
    "integrated": "loudness.integrated_lufs",
    "momentary-max": "loudness.momentary_max_lufs",
    "short-term-max": "loudness.short_term_max_lufs",
    "lra": "loudness.lra_lu",
    "true-peak": "loudness.true_peak_dbtp",
    "sample-peak": "loudness.sample_peak_dbfs",
}
_FAIL_ON_RE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*$")


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _stdout_console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _version_callback(value: bool) -> None:
    if value:
        print(f"mixanalyzer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Measure music mixes."""


def _parse_fail_on(specs: list[str]) -> list[tuple[str, str, str, float]]:
    checks = []
    for spec in specs:
        m = _FAIL_ON_RE.match(spec)
        if not m:
            raise UsageError(
                f"--fail-on {spec!r}: expected KEY OP NUMBER, e.g. 'true-peak>-1.0' "
                f"(keys: {', '.join(FAIL_ON_ALIASES)} or a dotted JSON key; OP: > >= < <=)"
            )
        key, op, value = m.groups()
        checks.append((spec.strip(), FAIL_ON_ALIASES.get(key, key), op, float(value)))
    return checks


def _evaluate_checks(doc: dict[str, Any], checks: list[tuple[str, str, str, float]]) -> list[str]:
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
        crossed = {
            ">": value > limit,
            ">=": value >= limit,
            "<": value < limit,
            "<=": value <= limit,
        }[op]
        if crossed:
            failures.append(f"{path}: {key} = {value} fails '{spec}'")
    return failures


def _check_output(path: str | None, force: bool) -> None:
    """Refuse an existing output without ``--force`` before any work (exit 4)."""
    if not path or path == "-":
        return
    from analyzer.io import display_path

    try:
        exists = Path(path).exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise OutputError(f"{display_path(path)}: cannot write: {exc.strerror}") from None
    if exists and not force:
        raise OutputError(f"{display_path(path)}: exists (use --force to overwrite)")


def _check_html(path: str | None, force: bool) -> None:
    if path == "-":  # a 5 MB page on a terminal helps nobody
        raise UsageError("--html needs a file path ('-' is only for --json)")
    _check_output(path, force)


def _analyze_with_progress(path: str, *, series: bool, show_progress: bool, **kw: Any) -> Any:
    from analyzer.measure.engine import analyze_file

    return _with_progress(
        lambda progress: analyze_file(path, keep_series=series, progress=progress, **kw),
        Path(path).name,
        show_progress,
    )


@app.command()
def analyze(
    files: Annotated[
        list[str],
        typer.Argument(help="Audio files to measure.", show_default=False, metavar="FILE"),
    ],
    json_path: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="PATH", help="Write versioned JSON to this path ('-' for stdout)."
        ),
    ] = None,
    series: Annotated[
        bool, typer.Option("--series", help="Include momentary and short-term series (10 Hz).")
    ] = False,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="CHECK",
            help="Exit 5 if a check is crossed, e.g. 'true-peak>-1' or 'integrated<-16'. "
            "Repeatable.",
        ),
    ] = None,
    level_spectrum: Annotated[
        bool,
        typer.Option(
            "--level-spectrum",
            help="Give spectrum band levels relative to the integrated loudness (dB re LUFS), "
            "so tracks at different levels compare directly.",
        ),
    ] = False,
    targets: Annotated[
        str | None,
        typer.Option(
            "--targets",
            metavar="PATH",
            help="Extra or overriding loudness targets (JSON/TOML; default: the user's "
            "~/.config/mixanalyzer/targets.json if present).",
        ),
    ] = None,
    codec_check: Annotated[
        bool,
        typer.Option(
            "--codec-check",
            help="Encode to Opus, Vorbis and MP3, decode, and report the true peak afterwards.",
        ),
    ] = False,
    html_path: Annotated[
        str | None,
        typer.Option(
            "--html", metavar="PATH", help="Write a self-contained HTML report with plots."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table on stdout.")] = False,
) -> None:
    """Measure loudness, true peak, dynamics, stereo image and tonal balance; preview
    streaming-platform normalisation."""
    from analyzer.io import write_text_atomic
    from analyzer.playback.user_targets import load_targets
    from analyzer.report.json import analyses_to_json, track_to_dict
    from analyzer.report.terminal import render_character, render_platforms, render_track

    checks = _parse_fail_on(fail_on or [])
    _check_output(json_path, force)
    _check_html(html_path, force)
    target_table = load_targets(targets)
    extras: list[dict[str, Any]] = []
    to_stdout_json = json_path == "-"
    out = _stdout_console() if not (quiet or to_stdout_json) else None
    results = []
    measured: list[str] = []
    errors: list[dict[str, Any]] = []
    for f in files:
        try:
            show = not quiet and sys.stderr.isatty() and _duration_hint(f) > PROGRESS_MIN_DURATION_S
            # The HTML report plots the series; the JSON holds them only with --series.
            result = _analyze_with_progress(f, series=series or bool(html_path), show_progress=show)
        except AnalyzerError as exc:
            if exc.exit_code != EXIT_BAD_INPUT:
                raise
            _print_error(exc.message)
            errors.append({"path": f, "message": exc.message, "exit_code": exc.exit_code})
            continue
        if level_spectrum and result.spectrum is not None:
            from dataclasses import replace

            from analyzer.measure.spectrum import levelled

            spectrum = levelled(result.spectrum, result.loudness.integrated_lufs)
            result = replace(result, spectrum=spectrum)
        platforms, codec = _platforms_and_codecs(
            f, result, target_table, codec_check=codec_check, quiet=quiet
        )
        results.append(result)
        measured.append(f)
        extras.append({"platforms": platforms, "codec_check": codec})
        if out is not None:
            render_track(out, result)
            render_character(out, result)
            render_platforms(out, platforms, codec)
        _print_warnings(result.warnings)

    # Checks first: a bad --fail-on key is a usage error before anything is written.
    failures = [
        msg
        for r, e in zip(results, extras, strict=True)
        for msg in _evaluate_checks(track_to_dict(r, **e), checks)
    ]
    if json_path and (results or len(files) > 1):
        text = analyses_to_json(
            results, series=series, several=len(files) > 1, errors=errors, extras=extras
        )
        if to_stdout_json:
            sys.stdout.write(text)
        else:
            write_text_atomic(json_path, text, force=force)
    if html_path and results:
        from analyzer.io import read_tags
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view

        view = build_view(
            "analyze",
            results,
            platforms=[e["platforms"] for e in extras],
            tags=[read_tags(f) for f in measured],
        )
        write_html(html_path, view, force=force)
    if errors:
        if len(files) > 1:
            _print_error(f"{len(errors)} of {len(files)} files could not be measured")
        raise typer.Exit(EXIT_BAD_INPUT)
    if failures:
        for msg in failures[:-1]:
            _print_error(msg)
        raise CheckFailedError(failures[-1])


def _platforms_and_codecs(
    path: str, result: Any, target_table: Any, *, codec_check: bool, quiet: bool
) -> tuple[list[Any], list[Any] | None]:
    """The platform preview of a measured file, and the lossy round trip when asked."""
    from analyzer.playback.codecs import codec_check_file
    from analyzer.playback.platforms import preview

    platforms = preview(result.loudness.integrated_lufs, result.peaks.true_peak_dbtp, target_table)
    codec = None
    if codec_check:
        show = not quiet and sys.stderr.isatty()
        codec = _with_progress(
            lambda progress: codec_check_file(path, progress=progress),
            f"codec check {Path(path).name}",
            show,
        )
    return platforms, codec


def _with_progress(run: Any, label: str, show: bool) -> Any:
    """Call ``run(progress)`` with a stderr progress bar (or none)."""
    if not show:
        return run(None)
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from analyzer.io import display_path

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=_stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task(escape(display_path(label)), total=1)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1))

        return run(progress)


def _duration_hint(path: str) -> float:
    try:
        import soundfile as sf

        info = sf.info(path)
        return info.frames / info.samplerate
    except Exception:
        return 0.0


def _measure_for_compare(
    path: str, *, section: str, rate_hz: int | None, notes: list[str], series: bool = False
) -> Any:
    """Analyse a track for comparison: optionally at another rate (soxr), optionally only its
    loudest 30 s."""
    from analyzer.io import display_path
    from analyzer.measure.engine import loudest_section_s

    name = display_path(path)
    show = sys.stderr.isatty()
    whole = _analyze_with_progress(
        path, series=series or section == "loudest", show_progress=show, resample_to_hz=rate_hz
    )
    if section != "loudest":
        return whole
    start = loudest_section_s(whole, LOUDEST_SECTION_S)
    if start is None:
        notes.append(f"{name}: not longer than {LOUDEST_SECTION_S:.0f} s, compared whole")
        return whole
    notes.append(f"{name}: loudest {LOUDEST_SECTION_S:.0f} s from {start:.1f} s")
    return _analyze_with_progress(
        path,
        series=series,
        show_progress=show,
        section_s=(start, LOUDEST_SECTION_S),
        resample_to_hz=rate_hz,
    )


LOUDEST_SECTION_S = 30.0


@app.command()
def compare(
    mix: Annotated[str, typer.Argument(help="The mix to compare.", metavar="MIX")],
    ref: Annotated[
        list[str] | None,
        typer.Option("--ref", metavar="FILE", help="A reference track (repeatable)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME_OR_PATH", help="A genre profile instead."),
    ] = None,
    section: Annotated[
        str,
        typer.Option(
            "--section",
            metavar="whole|loudest",
            help="Compare whole tracks, or the loudest 30 s of each (chorus against chorus).",
        ),
    ] = "whole",
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="PATH", help="Write JSON to this path ('-' for stdout)."),
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option("--targets", metavar="PATH", help="Extra or overriding loudness targets."),
    ] = None,
    html_path: Annotated[
        str | None,
        typer.Option(
            "--html", metavar="PATH", help="Write a self-contained HTML report with plots."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table on stdout.")] = False,
) -> None:
    """Compare a mix with reference tracks or a genre profile, level-matched."""
    from analyzer.comparison.metrics import compare as run_compare
    from analyzer.io import write_text_atomic
    from analyzer.report.json import compare_document
    from analyzer.report.terminal import render_comparison, render_platforms, render_tonal_bars

    if section not in ("whole", "loudest"):
        raise UsageError(f"--section {section!r}: expected 'whole' or 'loudest'")
    if bool(ref) == bool(profile):
        raise UsageError("give references with --ref FILE (one or more) or one --profile")
    _check_output(json_path, force)
    _check_html(html_path, force)
    prof = None
    if profile:
        from analyzer.comparison.profiles import load_profile

        prof = load_profile(profile)  # a bad profile is refused before any analysis
    notes: list[str] = []
    refs: list[Any] = []
    mix_result = _measure_for_compare(
        mix, section=section, rate_hz=None, notes=notes, series=bool(html_path)
    )
    rate = mix_result.file.sample_rate_hz
    if prof is not None:
        if section == "loudest":
            notes.append("the profile's ranges describe whole tracks")
        comp = run_compare(
            mix_result,
            profile_stats=prof.metrics,
            reference_names=[f"profile {prof.name} ({prof.n_tracks} tracks)"],
            notes=notes,
        )
    else:
        from analyzer.io import display_path, open_audio

        for r in ref or []:
            with open_audio(r) as src:  # validates the file, names it in any error
                r_rate = src.info.sample_rate_hz
            if r_rate != rate:
                notes.append(f"{display_path(r)}: resampled {r_rate} -> {rate} Hz (soxr VHQ)")
            refs.append(
                _measure_for_compare(
                    r, section=section, rate_hz=rate if r_rate != rate else None, notes=notes
                )
            )
        for r_result in refs:
            _print_warnings(r_result.warnings)
        names = [r.file.path for r in refs]
        unique = [n if names.count(n) == 1 else f"{n} #{i + 1}" for i, n in enumerate(names)]
        comp = run_compare(mix_result, refs, reference_names=unique, notes=notes)
    from analyzer.playback.platforms import preview
    from analyzer.playback.user_targets import load_targets

    platforms = preview(
        mix_result.loudness.integrated_lufs, mix_result.peaks.true_peak_dbtp, load_targets(targets)
    )
    from analyzer.mastering.proposal import default_proposal
    from analyzer.report.json import proposal_to_dict
    from analyzer.report.terminal import render_proposal

    proposal = default_proposal(mix_result, comp)
    doc = compare_document(
        mix_result, comp, section=section, platforms=platforms,
        proposal=proposal_to_dict(proposal),
    )  # fmt: skip
    if json_path == "-":
        sys.stdout.write(doc)
    elif json_path:
        write_text_atomic(json_path, doc, force=force)
    if html_path:
        from analyzer.io import read_tags
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view

        view = build_view(
            "compare", [mix_result], platforms=[platforms], tags=[read_tags(mix)],
            comparison=comp, references=refs, section=section,
        )  # fmt: skip
        write_html(html_path, view, force=force)
    if not quiet and json_path != "-":
        from analyzer.report.view import comparison_view

        console = _stdout_console()
        render_comparison(console, comp)
        render_tonal_bars(console, comparison_view(comp).tonal)
        render_platforms(console, platforms)
        render_proposal(console, proposal, title="proposed master (apply: mixanalyzer master)")
    _print_warnings(mix_result.warnings)


@app.command()
def translate(
    mix: Annotated[str, typer.Argument(help="The mix to check.", metavar="MIX")],
    ref: Annotated[
        list[str] | None,
        typer.Option("--ref", metavar="FILE", help="A reference track to score beside the mix."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", metavar="NAME_OR_PATH", help="Score beside a genre profile instead."
        ),
    ] = None,
    devices: Annotated[
        str | None,
        typer.Option(
            "--devices", metavar="LIST", help="Comma-separated device names (default: all)."
        ),
    ] = None,
    device_file: Annotated[
        str | None,
        typer.Option("--device-file", metavar="PATH", help="Extra devices (JSON/TOML)."),
    ] = None,
    level_db_spl: Annotated[
        float | None,
        typer.Option(
            "--level-db-spl", metavar="N", help="Playback level (default: each device's own)."
        ),
    ] = None,
    speed_kmh: Annotated[
        float, typer.Option("--speed-kmh", metavar="N", help="Car speed for road noise.")
    ] = 100.0,
    render: Annotated[
        str | None,
        typer.Option(
            "--render",
            metavar="DIR",
            help="Also write what each device would play: DIR/<mix>.<device>.wav.",
        ),
    ] = None,
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="PATH", help="Write JSON to this path ('-' for stdout)."),
    ] = None,
    html_path: Annotated[
        str | None,
        typer.Option(
            "--html", metavar="PATH", help="Write a self-contained HTML report with plots."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table on stdout.")] = False,
) -> None:
    """How the mix translates to earbuds, phone, laptop, Bluetooth speaker, TV, car and club,
    beside the references on the same devices."""
    from analyzer.io import write_text_atomic
    from analyzer.playback.devices import load_devices
    from analyzer.playback.translate import translate as run_translate
    from analyzer.report.json import translate_document
    from analyzer.report.terminal import render_translation

    _check_output(json_path, force)
    _check_html(html_path, force)
    if ref and profile:
        raise UsageError("give references with --ref or one --profile, not both")
    prof = None
    if profile:
        from analyzer.comparison.profiles import load_profile

        prof = load_profile(profile)
    table = load_devices(device_file)
    chosen = list(table.values())
    if devices:
        by_name = {d.name: d for d in chosen}
        wanted = [n.strip() for n in devices.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise UsageError(
                f"--devices: unknown {', '.join(unknown)} (known: {', '.join(by_name)})"
            )
        chosen = [by_name[n] for n in wanted]
    show = sys.stderr.isatty() and not quiet
    mix_result = _analyze_with_progress(mix, series=bool(html_path), show_progress=show)
    refs = [_analyze_with_progress(r, series=False, show_progress=show) for r in ref or []]
    for r_result in refs:
        _print_warnings(r_result.warnings)
    tr = run_translate(
        mix_result, chosen, references=refs, level_db_spl=level_db_spl, speed_kmh=speed_kmh
    )
    if prof is not None:
        from dataclasses import replace

        scored = []
        for d in tr.devices:
            stats = prof.metrics.get(f"translation.{d.name}.score")
            scored.append(replace(d, reference_score=stats.median if stats else None))
        tr = replace(tr, devices=tuple(scored))
    reference_names = [r.file.path for r in refs] + (
        [f"profile {prof.name} ({prof.n_tracks} tracks)"] if prof is not None else []
    )
    proposal = None
    if refs or prof is not None:
        from analyzer.comparison.metrics import compare as run_compare
        from analyzer.mastering.proposal import default_proposal

        comp = (
            run_compare(mix_result, refs) if refs
            else run_compare(mix_result, profile_stats=prof.metrics)  # type: ignore[union-attr]
        )  # fmt: skip
        proposal = default_proposal(mix_result, comp)
    text = translate_document(mix_result, reference_names, tr, proposal=proposal)
    if json_path == "-":
        sys.stdout.write(text)
    elif json_path:
        write_text_atomic(json_path, text, force=force)
    if html_path:
        from analyzer.io import read_tags
        from analyzer.playback.platforms import preview
        from analyzer.playback.user_targets import load_targets
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view

        platforms = preview(
            mix_result.loudness.integrated_lufs, mix_result.peaks.true_peak_dbtp, load_targets(None)
        )
        view = build_view(
            "translate", [mix_result], platforms=[platforms], tags=[read_tags(mix)],
            translation=tr, reference_translations=[run_translate(r, chosen) for r in refs],
            reference_names=reference_names,
        )  # fmt: skip
        write_html(html_path, view, force=force)
    if not quiet and json_path != "-":
        render_translation(_stdout_console(), tr)
        if proposal is not None:
            from analyzer.report.terminal import render_proposal

            render_proposal(
                _stdout_console(), proposal, title="proposed master (apply: mixanalyzer master)"
            )
    _print_warnings(mix_result.warnings)
    if render:
        from analyzer.io import display_path
        from analyzer.playback.render import render_file

        written = _with_progress(
            lambda progress: render_file(
                mix, chosen, render, level_db_spl=level_db_spl, speed_kmh=speed_kmh,
                force=force, progress=progress,
            ),
            f"rendering {Path(mix).name}",
            show,
        )  # fmt: skip
        if not quiet:
            for path in written:
                print(f"wrote {display_path(path)}", file=sys.stderr)


@app.command()
def demo(
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="Folder for the demo files and report.")
    ] = ("reports/demo"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the report's path.")] = False,
) -> None:
    """Synthesise a faulty mix and a reference, run the whole pipeline (analyse, compare,
    translate, master) and write an HTML report; no files or network needed."""
    from analyzer.demo import run_demo
    from analyzer.io import display_path
    from analyzer.report.terminal import (
        render_character,
        render_comparison,
        render_findings,
        render_platforms,
        render_tonal_bars,
        render_track,
        render_translation,
    )

    run = run_demo(out, force=force)
    console = _stdout_console()
    if not quiet:
        render_track(console, run.mix)
        render_character(console, run.mix)
        render_comparison(console, run.comparison)
        render_tonal_bars(console, run.view.comparison.tonal)
        render_translation(console, run.translation)
        render_platforms(console, run.platforms)
        render_findings(console, run.view.findings)
        from analyzer.report.terminal import render_proposal, render_verification

        render_proposal(console, run.proposal, title="master (applied)")
        render_verification(console, run.verification, run.mastered)
        _print_warnings(run.mix.warnings)
        console.print(
            f"wrote {display_path(run.mix_wav)}, {display_path(run.reference_wav)}, "
            f"{display_path(run.master_wav)} and {display_path(run.analysis_json)} "
            f"in {run.seconds:.1f} s",
            markup=False,
        )
    console.print(f"report: {display_path(run.report_html)}", markup=False, soft_wrap=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of every JSON document this tool writes."""
    from analyzer.report.json import schema_text

    sys.stdout.write(schema_text())


reference_app = typer.Typer(
    help="Build and list genre reference profiles.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(reference_app, name="reference")


@reference_app.command("build")
def reference_build(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Reference tracks, or folders searched recursively for audio files.",
            show_default=False,
            metavar="FILES_OR_DIRS",
        ),
    ],
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="Profile name (letters, digits, . _ -).")
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the profile here (default: the user's profile folder, NAME.json).",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", metavar="N", help="Files analysed in parallel (default: cores)."
        ),
    ] = None,
    description: Annotated[
        str, typer.Option("--description", metavar="TEXT", help="One line saved in the profile.")
    ] = "",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing profile.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No message on stdout.")] = False,
) -> None:
    """Analyse reference tracks in parallel and write a genre profile (statistics, names and
    hashes only; never audio)."""
    from analyzer.batching.profile_build import build_profile
    from analyzer.comparison.profiles import check_profile_name, save_profile
    from analyzer.io import display_path
    from analyzer.paths import user_profiles_dir

    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: expected 1 or more")
    check_profile_name(name)
    description = display_path(description)  # printable UTF-8 only
    target = Path(output) if output else user_profiles_dir() / f"{name}.json"
    _check_output(str(target), force)  # before the (long) analysis, not after
    show = sys.stderr.isatty() and not quiet
    profile = _with_file_progress(
        lambda progress: build_profile(
            paths, name=name, jobs=jobs, progress=progress, description=description
        ),
        show,
    )
    save_profile(profile, target, force=force)
    _print_warnings(profile.warnings)
    if quiet:
        return
    _stdout_console().print(
        f"wrote {display_path(target)}: profile {profile.name!r} from {profile.n_tracks} "
        f"track{'s' if profile.n_tracks != 1 else ''}",
        markup=False,
    )


def _with_file_progress(run: Any, show: bool) -> Any:
    """Call ``run(progress)`` with a files-done bar on stderr (or none)."""
    if not show:
        return run(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=_stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, file_name: str) -> None:
            bar.update(task, completed=done, total=total, description=file_name)

        return run(progress)


@reference_app.command("list")
def reference_list() -> None:
    """Show the profiles in the user's profile folder and the shipped references/ folder."""
    from rich.markup import escape
    from rich.table import Table

    from analyzer.comparison.profiles import ReferenceProfile, list_profiles, profile_dirs
    from analyzer.io import display_path

    table = Table(title="reference profiles", title_justify="left")
    for col in ("name", "tracks", "integrated (median)", "built"):
        table.add_column(col, no_wrap=True)
    table.add_column("file", overflow="fold")
    seen: set[str] = set()
    problems: list[str] = []
    for name, path, loaded in list_profiles():
        label = f"{name} (shadowed)" if name in seen else name
        seen.add(name)
        if isinstance(loaded, ReferenceProfile):
            lufs = loaded.metrics.get("integrated_lufs")
            med = f"{lufs.median:.1f} LUFS" if lufs and lufs.median is not None else "-"
            table.add_row(
                escape(label), str(loaded.n_tracks), med, loaded.created_utc[:10],
                escape(display_path(path)),
            )  # fmt: skip
        else:
            table.add_row(
                escape(label), "-", "unusable (see below)", "", escape(display_path(path))
            )
            problems.append(loaded)
    console = _stdout_console()
    if not table.row_count:
        folders = ", ".join(display_path(d) for d in profile_dirs())
        console.print(f"no profiles found (looked in {folders})", markup=False)
        return
    console.print(table)
    for message in problems:
        console.print(f"unusable: {message}", markup=False, soft_wrap=True)


@app.command()
def batch(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Audio files, or folders searched recursively for audio files.",
            show_default=False,
            metavar="PATHS",
        ),
    ],
    ref: Annotated[
        list[str] | None,
        typer.Option("--ref", metavar="FILE", help="Compare every file with these references."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME_OR_PATH", help="Or with a genre profile."),
    ] = None,
    album: Annotated[
        bool,
        typer.Option("--album", help="Album consistency: spreads, outliers, suggested gains."),
    ] = False,
    album_spread: Annotated[
        float,
        typer.Option(
            "--album-spread",
            metavar="LU",
            help="Loudness window around the album median that the gains aim for "
            "(0: every track at the median).",
        ),
    ] = 2.0,
    ceiling: Annotated[
        float,
        typer.Option(
            "--ceiling", metavar="DBTP", help="True-peak ceiling that a suggested gain respects."
        ),
    ] = DEFAULT_CEILING_DBTP,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", metavar="N", help="Files analysed in parallel (default: cores)."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="Run the jobs on a Dask cluster, e.g. tcp://host:8786 "
            "(pip install 'mixanalyzer[dask]').",
        ),
    ] = None,
    csv_path: Annotated[
        str | None,
        typer.Option("--csv", metavar="PATH", help="Write one CSV row per file ('-' for stdout)."),
    ] = None,
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="PATH", help="Write JSON to this path ('-' for stdout)."),
    ] = None,
    html_path: Annotated[
        str | None,
        typer.Option("--html", metavar="PATH", help="Write a self-contained HTML report."),
    ] = None,
    series: Annotated[
        bool, typer.Option("--series", help="Include momentary and short-term series (10 Hz).")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table on stdout.")] = False,
) -> None:
    """Analyse many files in parallel (through the result cache), optionally compare each with
    references or a profile, and check an album's consistency."""
    from analyzer.batching.runner import compare_each, reference_stats, run_batch
    from analyzer.io import write_text_atomic
    from analyzer.playback.platforms import preview
    from analyzer.playback.user_targets import load_targets
    from analyzer.report.csv import batch_csv
    from analyzer.report.json import batch_document, file_documents
    from analyzer.report.terminal import render_album, render_batch

    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs {jobs}: expected 1 or more")
    if jobs is not None and scheduler:
        raise UsageError("--jobs and --scheduler: give one (the cluster decides its parallelism)")
    if ref and profile:
        raise UsageError("give references with --ref or one --profile, not both")
    if album_spread < 0:
        raise UsageError(f"--album-spread {album_spread}: expected 0 or more")
    if json_path == "-" and csv_path == "-":
        raise UsageError("--json - and --csv -: only one of them can go to stdout")
    for out in (json_path, csv_path):
        _check_output(out, force)
    _check_html(html_path, force)
    prof = None
    if profile:
        from analyzer.comparison.profiles import load_profile

        prof = load_profile(profile)  # a bad profile is refused before any analysis
    to_stdout = "-" in (json_path, csv_path)
    show = sys.stderr.isatty() and not quiet
    result = _with_batch_progress(
        lambda progress: run_batch(
            paths, jobs=jobs, scheduler=scheduler, keep_series=series,
            use_cache=not no_cache, progress=progress,
        ),
        show,
    )  # fmt: skip
    if result.interrupted:
        from analyzer.io import display_path

        console = _stdout_console()
        if not quiet and result.files:
            render_batch(console, result)
        print(
            f"mixanalyzer: interrupted: {len(result.files)} of {result.total_files} files "
            "finished (kept in the cache); no --json/--csv/--html written",
            file=sys.stderr,
        )
        for analysis in result.files:
            print(f"  finished: {display_path(analysis.file.path)}", file=sys.stderr)
        raise typer.Exit(130)
    if not result.files and not result.errors:
        from analyzer.io import display_path

        shown = ", ".join(display_path(p) for p in paths)
        raise AudioLoadError(f"{shown}: no audio files found", slug="missing")
    for note in result.notes:
        print(f"mixanalyzer: warning: {note}", file=sys.stderr)
    for analysis in result.files:
        _print_warnings(analysis.warnings)

    comparisons = None
    reference_names: list[str] | None = None
    if prof is not None:
        reference_names = [f"profile {prof.name} ({prof.n_tracks} tracks)"]
        comparisons = compare_each(result.files, prof.metrics, reference_names)
    elif ref:
        refs = run_batch(ref, jobs=jobs, scheduler=scheduler, use_cache=not no_cache)
        if refs.errors:
            for e in refs.errors[:-1]:
                _print_error(e.message)
            raise AudioLoadError(refs.errors[-1].message)
        reference_names = [r.file.path for r in refs.files]
        comparisons = compare_each(result.files, reference_stats(refs.files), reference_names)

    report = None
    if album:
        from analyzer.comparison.album import album_report

        report = album_report(result.files, spread_lu=album_spread, ceiling_dbtp=ceiling)
    table = load_targets(None)
    platforms = [
        preview(r.loudness.integrated_lufs, r.peaks.true_peak_dbtp, table) for r in result.files
    ]
    docs = file_documents(result, series=series, platforms=platforms, comparisons=comparisons)
    if json_path:
        text = batch_document(result, docs, album=report, references=reference_names)
        if json_path == "-":
            sys.stdout.write(text)
        else:
            write_text_atomic(json_path, text, force=force)
    if csv_path:
        text = batch_csv(result, docs, album=report)
        if csv_path == "-":
            sys.stdout.write(text)
        else:
            write_text_atomic(csv_path, text, force=force)
    if html_path:
        from analyzer.report.html import write_html
        from analyzer.report.view import batch_view_for, build_view

        view = build_view(
            "batch", [], batch=batch_view_for(result, report, comparisons),
            notes=list(result.notes), title=f"mixanalyzer batch: {len(result.files)} files",
        )  # fmt: skip
        write_html(html_path, view, force=force)
    if not quiet and not to_stdout:
        console = _stdout_console()
        render_batch(console, result, comparisons=comparisons)
        if report is not None:
            render_album(console, report)
    if result.errors:
        total = len(result.files) + len(result.errors)
        if total > 1:
            _print_error(f"{len(result.errors)} of {total} files could not be measured")
        internal = any(e.exit_code == EXIT_INTERNAL for e in result.errors)
        raise typer.Exit(EXIT_INTERNAL if internal else EXIT_BAD_INPUT)


def _with_batch_progress(run: Any, show: bool) -> Any:
    """Call ``run(progress)`` with one overall files-done bar on stderr (or none); a file that
    fails is named on its own line as soon as it fails."""
    if not show:

        def plain(done: int, total: int, name: str, error: str | None) -> None:
            if error:
                _print_error(error)

        return run(plain)
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=_stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, name: str, error: str | None) -> None:
            if error:
                bar.console.print(f"mixanalyzer: error: {error}", markup=False, highlight=False)
            bar.update(task, completed=done, total=total, description=escape(name))

        return run(progress)


cache_app = typer.Typer(help="The result cache.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(cache_app, name="cache")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached result."""
    from analyzer.batching.cache import clear_cache, default_cache_path
    from analyzer.io import display_path

    held = clear_cache()
    print(f"cleared {held} cached result{'s' if held != 1 else ''} "
          f"({display_path(default_cache_path())})")  # fmt: skip


def _print_error(message: str) -> None:
    print(f"mixanalyzer: error: {message}", file=sys.stderr)


def _print_warnings(warnings: tuple[str, ...]) -> None:
    for w in warnings:
        print(f"mixanalyzer: warning: {w}", file=sys.stderr)


# The master verb lives in its own module; importing it registers it on ``app``.
from analyzer import cli_master  # noqa: E402, F401


def main() -> None:
    """Console entry point: runs the app and maps errors to one line and an exit code."""
    if sys.argv[1:] == ["--version"]:  # fast path: no typer/rich import
        print(f"mixanalyzer {__version__}")
        return
    tune_process()  # before numpy is first imported (commands import it lazily)
    try:
        app(standalone_mode=True)
    except AnalyzerError as exc:
        _print_error(exc.message)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("mixanalyzer: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # a bug: one line, unless asked for the traceback
        if os.environ.get("MIXANALYZER_DEBUG"):
            raise
        print(
            f"mixanalyzer: internal error: {type(exc).__name__}: {exc} "
            "(set MIXANALYZER_DEBUG=1 for the traceback; please report it)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
