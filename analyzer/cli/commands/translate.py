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
from analyzer.cli.options import Force, Html, Json, Listen, Quiet, profile_option, ref_option
from analyzer.cli.output import check_outputs, emit, existing_files
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
        help="Also write what each device would play: DIR/<mix>.<device>.wav (24-bit, at the "
        "mix's loudness, true peak <= -1 dBTP; mono devices mono).",
    ),
]
RenderLufsOption = Annotated[
    float | None,
    typer.Option("--render-lufs", metavar="N",
                 help="Loudness of the renders (LUFS, -60 to 0; default: the mix's)."),
]  # fmt: skip
RenderFormatOption = Annotated[
    str, typer.Option("--render-format", metavar="FMT", help="Render container: wav or flac.")
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
    render_lufs: RenderLufsOption = None,
    render_format: RenderFormatOption = "wav",
    json_path: Json = None,
    html_path: Html = None,
    listen: Listen = False,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """How the mix translates to earbuds, phone, laptop, Bluetooth speaker, TV, car and club,
    beside the references on the same devices."""
    from analyzer.app import TranslateSettings
    from analyzer.app import translate as run_translate
    from analyzer.app.translating import render_targets
    from analyzer.report.json import translate_document
    from analyzer.report.terminal import render_translation

    names = [n.strip() for n in devices.split(",") if n.strip()] if devices else None
    settings = TranslateSettings(
        references=tuple(ref or ()), profile=profile, devices=names, device_file=device_file,
        level_db_spl=level_db_spl, speed_kmh=speed_kmh, series=bool(html_path),
        render_lufs=render_lufs, render_format=render_format,
    )  # fmt: skip
    renders = render_targets(mix, settings, render) if render else []
    inputs = [mix, *(ref or ()), *existing_files(profile, device_file)]
    check_outputs(json_path, *renders, force=force, html=html_path, inputs=inputs, listen=listen)
    show = sys.stderr.isatty() and not quiet
    with progress_bar(show) as bar:
        run = run_translate(mix, settings, progress=bar.step if bar else None,
                            render_dir=render, force=force)  # fmt: skip
    for r_result in run.references:
        print_warnings(r_result.warnings)
    mix_result, tr, proposal = run.mix, run.translation, run.proposal
    reference_names = list(run.reference_names)
    written = run.renders
    gains = {w.name: w.gain_db for w in written} if render else None
    emit(json_path, translate_document(mix_result, reference_names, tr, proposal=proposal,
                                       render_gains_db=gains), force=force)  # fmt: skip
    if html_path:
        from analyzer.io import read_tags
        from analyzer.report.html import write_html
        from analyzer.report.view import build_view, master_view_for

        proposed = None if proposal is None else master_view_for(
            proposal, mix_result.file.sample_rate_hz, proposed_only=True)  # fmt: skip
        view = build_view(
            "translate", [mix_result], platforms=[list(run.platforms)], tags=[read_tags(mix)],
            translation=tr, reference_translations=list(run.reference_translations),
            reference_names=reference_names, master=proposed,
        )  # fmt: skip
        clips = None
        if listen:
            from analyzer.app.listening import listen_clips

            clips = listen_clips(mix, [] if profile else list(ref or ()),
                                 devices=list(run.devices), speed_kmh=speed_kmh)  # fmt: skip
        write_html(html_path, view, force=force, listen=clips)
    if not quiet and json_path != "-":
        render_translation(stdout_console(), tr)
        if proposal is not None:
            from analyzer.report.terminal import render_proposal

            render_proposal(stdout_console(), proposal, title=PROPOSAL_TITLE)
    print_notes(run.notes)
    print_warnings(mix_result.warnings)
    if render and not quiet:
        from analyzer.io import display_path

        for w in written:
            tp = f", true peak {w.true_peak_dbtp:.1f} dBTP" if w.true_peak_dbtp is not None else ""
            print(f"wrote {terminal_safe(display_path(w.path))} (gain {w.gain_db:+.1f} dB{tp})",
                  file=sys.stderr)  # fmt: skip
