"""The ``mixanalyzer master`` command (registered on the app in :mod:`analyzer.cli`): propose,
apply with the native or the Matchering engine, and verify. Presentation only; the work is in
:mod:`analyzer.mastering`."""

from __future__ import annotations

import math
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer

from analyzer.cli import (
    _check_html,
    _check_output,
    _print_warnings,
    _stderr_console,
    _stdout_console,
    app,
)
from analyzer.errors import InvalidAudioError, UsageError

ENGINES = ("native", "matchering")


def _analyze_all(paths: list[tuple[str, int | None]], show: bool) -> list[Any]:
    """Analyse files on both cores (one thread each; every meter inside runs threaded too),
    ``(path, resample_to_hz or None)``, with one progress bar per file."""
    from analyzer.measure.engine import analyze_file

    def run(item: tuple[str, int | None], progress: Any = None) -> Any:
        path, rate = item
        return analyze_file(path, keep_series=True, resample_to_hz=rate, progress=progress)

    if not show:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(run, paths))
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn

    from analyzer.io import display_path

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        console=_stderr_console(), transient=True,
    ) as bar:  # fmt: skip
        tasks = [bar.add_task(escape(f"analysing {display_path(Path(p).name)}"), total=1)
                 for p, _ in paths]  # fmt: skip

        def job(i: int) -> Any:
            return run(paths[i], lambda d, t: bar.update(tasks[i], completed=d, total=max(t, 1)))

        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(job, range(len(paths))))


#: A file whose mean is at least this share of its peak is mostly offset, not music.
DC_REFUSAL_SHARE = 0.5


def _refuse_dc(path: str, result: Any) -> None:
    """Refuse a mix or reference that is mostly DC offset: the limiter would spend the ceiling on
    the offset, and its loudness is only the click of its onset (exit 3)."""
    from analyzer.io import display_path

    peak_dbfs = result.peaks.sample_peak_dbfs
    if peak_dbfs is None or not math.isfinite(peak_dbfs):
        return
    peak = 10.0 ** (peak_dbfs / 20.0)
    dc = max(result.dynamics.dc_offset, key=abs, default=0.0)
    if abs(dc) >= DC_REFUSAL_SHARE * peak:
        raise InvalidAudioError(
            f"{display_path(path)}: mostly DC offset ({dc:+.3f} of a {peak:.3f} peak): nothing "
            "to master; remove the offset (high-pass) first",
            slug="dc",
        )


def _stage_progress(show: bool) -> tuple[Any, Any]:
    """A context manager and a ``progress(stage, done, total)`` callback (or a no-op)."""
    import contextlib

    if not show:
        return contextlib.nullcontext(), None
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), console=_stderr_console(), transient=True,
    )  # fmt: skip
    task = bar.add_task("mastering", total=1)

    def progress(stage: str, done: int, total: int) -> None:
        bar.update(task, description=stage, completed=done, total=max(total, 1))

    return bar, progress


@app.command()
def master(
    mix: Annotated[str, typer.Argument(help="The mix to master.", metavar="MIX")],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="OUT", help="The master to write (.wav/.flac)."),
    ] = None,
    ref: Annotated[
        list[str] | None,
        typer.Option("--ref", metavar="FILE", help="A reference track (repeatable)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME_OR_PATH", help="A genre profile instead."),
    ] = None,
    target_lufs: Annotated[
        float | None,
        typer.Option("--target-lufs", metavar="LUFS", help="Integrated loudness to reach."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", metavar="PLATFORM", help="A platform's target, e.g. spotify."),
    ] = None,
    ceiling: Annotated[
        float | None,
        typer.Option("--ceiling", metavar="DBTP", help="True-peak ceiling (default -1.0)."),
    ] = None,
    engine: Annotated[
        str, typer.Option("--engine", metavar="native|matchering", help="Mastering engine.")
    ] = "native",
    fine: Annotated[
        bool, typer.Option("--fine", help="Add a smoothed linear-phase match-EQ curve.")
    ] = False,
    smoothing: Annotated[
        float,
        typer.Option("--smoothing", metavar="OCTAVES", help="Smoothing of the --fine curve."),
    ] = 1.0 / 3.0,
    linear_phase: Annotated[
        bool, typer.Option("--linear-phase", help="Apply the EQ moves as a linear-phase FIR.")
    ] = False,
    max_moves: Annotated[
        int, typer.Option("--max-moves", metavar="N", help="At most N parametric moves.")
    ] = 6,
    max_gain: Annotated[
        float, typer.Option("--max-gain", metavar="DB", help="Largest gain of a move.")
    ] = 6.0,
    amount: Annotated[
        float | None,
        typer.Option("--amount", metavar="PCT", help="How much of the match, 0-100 (all)."),
    ] = None,
    amount_tone: Annotated[
        float | None, typer.Option("--amount-tone", metavar="PCT", help="Tone amount, 0-100.")
    ] = None,
    amount_width: Annotated[
        float | None, typer.Option("--amount-width", metavar="PCT", help="Width amount, 0-100.")
    ] = None,
    amount_loudness: Annotated[
        float | None,
        typer.Option("--amount-loudness", metavar="PCT", help="Loudness amount, 0-100."),
    ] = None,
    only: Annotated[
        str | None,
        typer.Option("--only", metavar="tone|width|loudness", help="Match one dimension only."),
    ] = None,
    bit_depth: Annotated[
        str, typer.Option("--bit-depth", metavar="16|24|32f", help="Output bit depth.")
    ] = "24",
    no_dither: Annotated[
        bool, typer.Option("--no-dither", help="No TPDF dither at 16 bits.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the proposal; write no audio.")
    ] = False,
    json_path: Annotated[
        str | None,
        typer.Option("--json", metavar="PATH", help="Write JSON to this path ('-' for stdout)."),
    ] = None,
    html_path: Annotated[
        str | None,
        typer.Option("--html", metavar="PATH", help="Write a self-contained HTML report."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing outputs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables on stdout.")] = False,
) -> None:
    """Propose corrective mastering (EQ moves, width, limiter to a target), apply it on request
    and prove the result by measuring the written master."""
    from analyzer.comparison.metrics import compare as run_compare
    from analyzer.io import display_path, open_audio, write_text_atomic
    from analyzer.io.write import check_paths, output_format
    from analyzer.mastering.apply import run_master
    from analyzer.mastering.proposal import build_proposal, reference_loudness
    from analyzer.mastering.settings import amounts_from
    from analyzer.mastering.verify import verify
    from analyzer.report.json import master_document
    from analyzer.report.terminal import render_proposal, render_verification
    from analyzer.types import DEFAULT_CEILING_DBTP

    if engine not in ENGINES:
        raise UsageError(f"--engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if ref and profile:
        raise UsageError("give references with --ref or one --profile, not both")
    if target_lufs is not None and target is not None:
        raise UsageError("give --target-lufs or --target, not both")
    if not (ref or profile or target_lufs is not None or target):
        raise UsageError("give --ref FILE, --profile NAME or a loudness target (--target-lufs)")
    if output is None and not dry_run:
        raise UsageError("give the output with -o OUT (or --dry-run to only see the proposal)")
    if engine == "matchering" and not ref:
        raise UsageError("--engine matchering needs a reference track (--ref FILE)")
    if not 0 < max_moves <= 6 and max_moves != 0:
        raise UsageError(f"--max-moves {max_moves}: expected 0 to 6")
    if not (0 < max_gain <= 24 and math.isfinite(max_gain)):
        raise UsageError(f"--max-gain {max_gain:g}: expected more than 0 and at most 24 dB")
    if not (1.0 / 12.0 <= smoothing <= 3.0):
        raise UsageError(f"--smoothing {smoothing:g}: expected 1/12 to 3 octaves")
    if ceiling is not None and not (-20.0 <= ceiling <= 0.0):
        raise UsageError(f"--ceiling {ceiling:g}: expected -20 to 0 dBTP")
    amounts = amounts_from(amount=amount, tone=amount_tone, width=amount_width,
                           loudness=amount_loudness, only=only)  # fmt: skip
    fmt = None
    if output is not None and not dry_run:
        fmt = output_format(output, bit_depth, dither=not no_dither)
        check_paths(mix, output)
        _check_output(output, force)
    _check_output(json_path, force)
    _check_html(html_path, force)
    prof = None
    if profile:
        from analyzer.comparison.profiles import load_profile

        prof = load_profile(profile)
    with open_audio(mix) as src:
        info = src.info
    if info.channels > 2:
        raise InvalidAudioError(
            f"{display_path(mix)}: {info.channels} channels: master handles mono and stereo "
            "mixes (fold a surround mix down first)",
            slug="channels",
        )
    notes: list[str] = []
    jobs: list[tuple[str, int | None]] = [(mix, None)]
    for r in ref or []:
        with open_audio(r) as src:
            r_rate = src.info.sample_rate_hz
        if r_rate != info.sample_rate_hz:
            notes.append(
                f"{display_path(r)}: resampled {r_rate} -> {info.sample_rate_hz} Hz (soxr VHQ)"
            )
        jobs.append((r, info.sample_rate_hz if r_rate != info.sample_rate_hz else None))
    show = not quiet and sys.stderr.isatty()
    analyses = _analyze_all(jobs, show)
    mix_result, refs = analyses[0], analyses[1:]
    for r_path, r_result in zip(ref or [], refs, strict=True):
        lufs = r_result.loudness.integrated_lufs
        if lufs is None or not math.isfinite(lufs):
            raise InvalidAudioError(
                f"{display_path(r_path)}: the reference is silent or too short to measure: "
                "nothing to match",
                slug="silent-reference",
            )
    mix_lufs = mix_result.loudness.integrated_lufs
    if mix_lufs is None or not math.isfinite(mix_lufs):
        raise InvalidAudioError(
            f"{display_path(mix)}: the mix is silent or shorter than 400 ms: nothing to master",
            slug="silent",
        )
    for path, analysed in zip([mix, *(ref or [])], analyses, strict=True):
        _refuse_dc(path, analysed)
    if refs and info.channels == 1 and any(r.file.channels == 2 for r in refs):
        notes.append("the mix is mono: the references' stereo width is not matched")
    comparison = None
    profile_stats = None
    if prof is not None:
        profile_stats = prof.metrics
        comparison = run_compare(mix_result, profile_stats=profile_stats,
                                 reference_names=[f"profile {prof.name}"], notes=notes)  # fmt: skip
    elif refs:
        comparison = run_compare(mix_result, refs, notes=notes)
    ceiling_dbtp = DEFAULT_CEILING_DBTP if ceiling is None else ceiling
    if target_lufs is not None:
        goal, source = float(target_lufs), "--target-lufs"
    elif target is not None:
        from analyzer.playback.platforms import find_target
        from analyzer.playback.user_targets import load_targets

        t = find_target(target, load_targets(None))
        goal, source = t.target_lufs, t.display_label
        if ceiling is None and t.true_peak_limit_dbtp is not None:
            ceiling_dbtp = min(ceiling_dbtp, t.true_peak_limit_dbtp)
    else:
        goal = reference_loudness(comparison) if comparison is not None else None
        source = "the references' median loudness" if refs else "the profile's median loudness"
    kw: dict[str, Any] = dict(
        target_lufs=goal, target_source=source, ceiling_dbtp=ceiling_dbtp, amounts=amounts,
        fine=fine, smoothing_octaves=smoothing, max_moves=max_moves, max_gain_db=max_gain,
    )  # fmt: skip
    proposal = build_proposal(mix_result, comparison, **kw)
    console = _stdout_console()
    to_stdout = json_path == "-"
    if not quiet and not to_stdout:
        render_proposal(console, proposal)
    result = verification = None
    ref_names = [display_path(r) for r in ref or []] or ([f"profile {prof.name}"] if prof else [])
    if not dry_run:
        assert output is not None and fmt is not None
        bar, progress = _stage_progress(show)
        with bar:
            if engine == "native":
                proposal, result, verification = run_master(
                    mix, output, mix_result, comparison, proposal,
                    lambda shift: build_proposal(mix_result, comparison, limiter_shift_db=shift,
                                                 **kw),
                    references=refs, profile_stats=profile_stats, fmt=fmt,
                    linear_phase=linear_phase, force=force, progress=progress,
                )  # fmt: skip
            else:
                from analyzer.mastering.matchering import master_matchering

                if progress:
                    progress("Matchering", 0, 1)
                if len(ref or []) > 1:
                    notes.append("Matchering matches one reference: the first one was used")
                result = master_matchering(mix, (ref or [])[0], output, mix_result, fmt=fmt,
                                           ceiling_dbtp=ceiling_dbtp, force=force)  # fmt: skip
                verification = verify(mix_result, result.analysis, comparison=comparison,
                                      references=refs, plan=proposal.loudness)  # fmt: skip
        if not quiet and not to_stdout:
            render_verification(console, verification, result)
            console.print(f"wrote {display_path(output)}", markup=False)
    doc = master_document(
        mix=mix_result, proposal=proposal, engine=engine, result=result,
        verification=verification, references=ref_names, notes=notes,
    )  # fmt: skip
    if to_stdout:
        sys.stdout.write(doc)
    elif json_path:
        write_text_atomic(json_path, doc, force=force)
    if html_path:
        from analyzer.io import read_tags
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view, master_view_for

        tracks = [mix_result] + ([result.analysis] if result is not None else [])
        view = build_view(
            "master", tracks, tags=[read_tags(mix)] + [None] * (len(tracks) - 1),
            comparison=comparison, references=refs,
            reference_names=ref_names if prof is None else [],
            master=master_view_for(proposal, info.sample_rate_hz, engine=engine, result=result,
                                   verification=verification, notes=notes),
        )  # fmt: skip
        write_html(html_path, view, force=force)
    for note in notes:
        print(f"mixanalyzer: note: {note}", file=sys.stderr)
    _print_warnings(mix_result.warnings)
    if result is not None:
        _print_warnings(result.warnings)
