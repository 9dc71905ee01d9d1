"""``mixanalyzer watch``: the bounce-and-check loop. Every complete new bounce gets its delta
table on stdout; the page (``--html``) is rewritten and, with ``--serve``, reloads itself in
the browser."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from analyzer.cli.console import print_error, print_notes, stdout_console
from analyzer.cli.options import Force, Profile, Quiet, Ref, html_option
from analyzer.errors import EXIT_BAD_INPUT, UsageError

WatchHtml = html_option("Keep this HTML page up to date (its history goes beside it).")
Serve = Annotated[
    bool,
    typer.Option(
        "--serve",
        help="Serve the --html page on 127.0.0.1 (a free port, printed); it reloads itself "
        "on every bounce.",
    ),
]
History = Annotated[
    str | None,
    typer.Option(
        "--history",
        metavar="PATH",
        help="Append every bounce to this JSON-lines file (default with --html: beside the "
        "page; without --html: none).",
    ),
]
MaxBounces = Annotated[
    int | None,
    typer.Option("--max-bounces", metavar="N", help="Stop after N bounces (bad ones count)."),
]
Settle = Annotated[
    float,
    typer.Option(
        "--settle",
        metavar="SECONDS",
        help="A bounce is complete when its size has not changed this long and it reads whole.",
    ),
]


def watch(
    path: Annotated[
        str, typer.Argument(help="A bounce file or a folder of bounces.", metavar="PATH")
    ],
    ref: Ref = None,
    profile: Profile = None,
    html_path: WatchHtml = None,
    serve: Serve = False,
    history: History = None,
    max_bounces: MaxBounces = None,
    settle: Settle = 0.5,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Watch a bounce (or a folder of bounces) and compare every new one with references."""
    from analyzer.app.watching import WatchCallbacks, WatchSettings
    from analyzer.app.watching import watch as run_watch

    settings = WatchSettings(references=tuple(ref or ()), profile=profile, settle_s=settle,
                             give_up_s=max(5.0, 4 * settle), max_bounces=max_bounces)  # fmt: skip
    if serve and not html_path:
        raise UsageError("--serve needs --html PATH (the page it serves)")
    if html_path == "-":
        raise UsageError("--html needs a file path ('-' is only for --json)")
    if history == "-":
        raise UsageError("--history needs a file path ('-' is only for --json)")
    console = stdout_console()
    live: list[Any] = []

    def started(start: Any) -> None:
        from analyzer.io import display_path

        print_notes(start.notes)
        if serve:
            from analyzer.report.live import LiveServer

            live.append(LiveServer(start.html))
            live[0].announce(start.latest)
        lines = [f"watching {display_path(start.target)} (Ctrl-C to stop)"]
        if start.html:
            lines.append(f"page {display_path(start.html)}, history {display_path(start.history)}")
        elif start.history:
            lines.append(f"history {display_path(start.history)}")
        if live:
            lines.append(f"serving {live[0].url}")
        for line in lines:
            console.print(line, markup=False, highlight=False)
        sys.stdout.flush()

    def bounced(bounce: Any) -> None:
        if not quiet:
            from analyzer.report.terminal.watch import render_bounce

            render_bounce(console, bounce.entry)
        sys.stdout.flush()
        if live:
            live[0].announce(bounce.index)

    def failed(path: str, message: str) -> None:
        print_error(message)
        if live:
            live[0].announce(live[0].latest + 1)

    try:
        run = run_watch(path, settings, html=html_path, history=history, force=force,
                        callbacks=WatchCallbacks(bounced, failed, started))  # fmt: skip
    finally:
        for server in live:
            server.close()
    if run.failed:  # --max-bounces reached with a bad bounce among them
        raise typer.Exit(EXIT_BAD_INPUT)
