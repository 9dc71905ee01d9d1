"""``mixanalyzer translate``: how the mix plays on everyday devices, beside references or a
profile, and optionally what each device would play."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from analyzer.cli.console import (
    PROPOSAL_TITLE,
    print_notes,
    print_warnings,
    stdout_console,
)
from analyzer.cli.options import Force, Html, Json, Quiet, profile_option, ref_option
from analyzer.cli.output import check_outputs, emit
from analyzer.cli.progress import progress_bar
from analyzer.untrusted import terminal_safe

TranslateRef = ref_option("A reference track to score beside the mix.")
TranslateProfile = profile_option("Score beside a genre profile instead.")


MixOption = Annotated[str, typer.Argument(help="The mix to check.", metavar="MIX")]
DevicesOption = Annotated[
    str | None,
    typer.Option("--devices", metavar="LIST", help="Comma-separated device names (default: all)."),
]
DeviceFileOption = Annotated[
    str | None,
    typer.Option("--device-file", metavar="PATH", help="Extra devices (JSON/TOML)."),
]
LevelDbSplOption = Annotated[
    float | None,
    typer.Option(
        "--level-db-spl", metavar="N", help="Playback level (default: each device's own)."
    ),
]
SpeedKmhOption = Annotated[
    float, typer.Option("--speed-kmh", metavar="N", help="Car speed for road noise.")
]
RenderOption = Annotated[
    str | None,
    typer.Option(
        "--render",
        metavar="DIR",
        help="Also write what each device would play: DIR/<mix>.<device>.wav.",
    ),
]


def translate(
    mix: MixOption,
    ref: TranslateRef = None,
    profile: TranslateProfile = None,
    devices: DevicesOption = None,
    device_file: DeviceFileOption = None,
    level_db_spl: LevelDbSplOption = None,
    speed_kmh: SpeedKmhOption = 100.0,
    render: RenderOption = None,
    json_path: Json = None,
    html_path: Html = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """How the mix translates to earbuds, phone, laptop, Bluetooth speaker, TV, car and club,
    beside the references on the same devices."""
    from analyzer.app import TranslateSettings
    from analyzer.app import translate as run_translate
    from analyzer.app.translating import render_devices
    from analyzer.report.json import translate_document
    from analyzer.report.terminal import render_translation

    check_outputs(json_path, force=force, html=html_path)
    names = [n.strip() for n in devices.split(",") if n.strip()] if devices else None
    settings = TranslateSettings(
        references=tuple(ref or ()), profile=profile, devices=names, device_file=device_file,
        level_db_spl=level_db_spl, speed_kmh=speed_kmh, series=bool(html_path),
    )  # fmt: skip
    show = sys.stderr.isatty() and not quiet
    with progress_bar(show) as bar:
        run = run_translate(mix, settings, progress=bar.step if bar else None)
    for r_result in run.references:
        print_warnings(r_result.warnings)
    mix_result, tr, proposal = run.mix, run.translation, run.proposal
    reference_names = list(run.reference_names)
    emit(json_path, translate_document(mix_result, reference_names, tr, proposal=proposal),
         force=force)  # fmt: skip
    if html_path:
        from analyzer.io import read_tags
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view

        view = build_view(
            "translate", [mix_result], platforms=[list(run.platforms)], tags=[read_tags(mix)],
            translation=tr, reference_translations=list(run.reference_translations),
            reference_names=reference_names,
        )  # fmt: skip
        write_html(html_path, view, force=force)
    if not quiet and json_path != "-":
        render_translation(stdout_console(), tr)
        if proposal is not None:
            from analyzer.report.terminal import render_proposal

            render_proposal(stdout_console(), proposal, title=PROPOSAL_TITLE)
    print_notes(run.notes)
    print_warnings(mix_result.warnings)
    if render:
        from analyzer.io import display_path

        with progress_bar(show) as bar:
            written = render_devices(mix, run, settings, render, force=force,
                                     progress=bar.step if bar else None)  # fmt: skip
        if not quiet:
            for path in written:
                print(f"wrote {terminal_safe(display_path(path))}", file=sys.stderr)
