"""``watch`` latency: from a finished bounce to its table on stdout and to the served page's
reload event. ``mixanalyzer watch FOLDER --ref REF --html PAGE --serve`` runs as a user runs it
(default ``--settle 0.5``); each bounce is the 4-minute 44.1 kHz benchmark file written under a
hidden name in the folder and renamed into place (a finished bounce appears at once, as a DAW
that renders to a temporary file does). The clock starts after the rename; it stops when the
``bounce N`` table title reaches stdout, and when the page's event stream announces bounce N
(the page is rewritten before that). The figure includes the settle time, by design: it is
what a user waits for.

    python benchmarks/bench_watch.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_commands import bench_inputs
from bench_loudness import SHORT_SECONDS, machine_lines

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "results" / "watch.md"


def _sigint_default() -> None:
    """The watch is stopped with SIGINT, as Ctrl-C would: a benchmark started in the background
    (``make bench &``) passes SIGINT on ignored, which the CLI rightly keeps (as for ``nohup``),
    so the child gets SIGINT's default as a terminal's foreground job has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Watch:
    """The watch process, with the arrival times of its tables and of its page events."""

    def __init__(self, mixanalyzer: str, folder: Path, ref: Path, page: Path) -> None:
        self.proc = subprocess.Popen(
            [mixanalyzer, "watch", str(folder), "--ref", str(ref), "--html", str(page),
             "--serve"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            preexec_fn=_sigint_default,
        )  # fmt: skip
        self.tables: dict[int, float] = {}
        self.events: dict[int, float] = {}
        self.url = ""
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if m := re.match(r"serving (http://[\d.:]+/)", line):
                self.url = m.group(1)
                break
        threading.Thread(target=self._read_tables, daemon=True).start()
        threading.Thread(target=self._read_events, daemon=True).start()

    def _read_tables(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if m := re.match(r"bounce (\d+):", line.strip()):
                self.tables[int(m.group(1))] = time.perf_counter()

    def _read_events(self) -> None:
        host, port = re.match(r"http://([\d.]+):(\d+)/", self.url).groups()  # type: ignore[union-attr]
        conn = http.client.HTTPConnection(host, int(port))
        conn.request("GET", "/events")
        resp = conn.getresponse()
        for raw in resp:
            if raw.startswith(b"data: "):
                self.events[int(raw[6:])] = time.perf_counter()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", default=None)
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    wav, mixanalyzer, _ = bench_inputs(args.corpus)
    data = wav.read_bytes()
    table_s, event_s = [], []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "bounces"
        folder.mkdir()
        watch = Watch(mixanalyzer, folder, wav, Path(scratch) / "watch.html")
        try:
            for n in range(1, args.repeat + 1):
                hidden = folder / f".bounce{n}.wav.part"
                hidden.write_bytes(data)
                os.replace(hidden, folder / f"bounce{n}.wav")
                t0 = time.perf_counter()
                while n not in watch.tables or n not in watch.events:
                    if watch.proc.poll() is not None:
                        sys.exit("bench_watch: the watch ended early")
                    time.sleep(0.01)
                table_s.append(watch.tables[n] - t0)
                event_s.append(watch.events[n] - t0)
        finally:
            watch.stop()
        history = (Path(scratch) / "watch.history.jsonl").read_text().splitlines()
        analysis_s = [json.loads(line)["analysis_s"] for line in history]
    text = "\n".join([
        f"`watch` latency on {wav.name} ({SHORT_SECONDS / 60:g} min, 44.1 kHz, 16-bit, one "
        f"reference), {args.repeat} bounces, default --settle 0.5 s included:", "",
        *machine_lines(None, load_start), "",
        "| from a finished bounce to | median | each |", "|---|---:|---|",
        f"| its table on stdout | {statistics.median(table_s):.2f} s | "
        + ", ".join(f"{t:.2f}" for t in table_s) + " |",
        f"| the page rewritten and its reload event | {statistics.median(event_s):.2f} s | "
        + ", ".join(f"{t:.2f}" for t in event_s) + " |",
        f"| (of which the analysis, `analysis_s`) | {statistics.median(analysis_s):.2f} s | "
        + ", ".join(f"{t:.2f}" for t in analysis_s) + " |", "",
    ])  # fmt: skip
    print(text)
    RESULTS_MD.parent.mkdir(exist_ok=True)
    RESULTS_MD.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
