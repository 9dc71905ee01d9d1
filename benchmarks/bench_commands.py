"""The everyday commands a new user runs, timed side by side in one run against ffmpeg's
``ebur128`` on the same file: ``analyze``, ``translate --render`` (every built-in device) and
``demo``, with ``--version`` for the start-up. Each figure is the best of ``--repeat`` runs of
the real command as a subprocess (start-up included), with CPU time and peak RSS; the machine,
the versions and the load average go beside them. The README's command timings come from here.

    python benchmarks/bench_commands.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_loudness import (
    DATA_DIR,
    SHORT_RATE_HZ,
    SHORT_SECONDS,
    Run,
    corpus_tracks,
    find_corpus,
    machine_lines,
    make_wav,
    run_measured,
)

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "results" / "commands.md"


def commands(mixanalyzer: str, ffmpeg: str | None, wav: Path, scratch: Path) -> dict[str, list]:
    """The rows: label -> argv (ffmpeg first: it is the anchor)."""
    rows: dict[str, list] = {}
    if ffmpeg:
        rows["ffmpeg -af ebur128=peak=true (anchor)"] = [
            ffmpeg, "-nostats", "-hide_banner", "-i", str(wav), "-af", "ebur128=peak=true",
            "-f", "null", "-",
        ]  # fmt: skip
    rows["mixanalyzer analyze"] = [mixanalyzer, "analyze", str(wav), "-q"]
    rows["mixanalyzer translate --render (all devices)"] = [
        mixanalyzer, "translate", str(wav), "-q", "--render", str(scratch / "render"), "--force",
    ]  # fmt: skip
    rows["mixanalyzer demo"] = [mixanalyzer, "demo", "--out", str(scratch / "demo"), "--force",
                                "-q"]  # fmt: skip
    rows["mixanalyzer --version"] = [mixanalyzer, "--version"]
    return rows


def best_of(argv: list[str], repeat: int) -> Run:
    runs = [run_measured(argv) for _ in range(repeat)]
    for run in runs:
        if run.returncode != 0:
            sys.exit(f"bench_commands: {argv[1] if len(argv) > 1 else argv[0]} failed:\n"
                     f"{run.stderr}")  # fmt: skip
    return min(runs, key=lambda r: r.wall_s)


def render_table(results: dict[str, Run], anchor: Run | None) -> list[str]:
    lines = ["| command | wall s | × ffmpeg | CPU s | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for label, run in results.items():
        ratio = f"{run.wall_s / anchor.wall_s:.2f}" if anchor else "—"
        lines.append(f"| {label} | {run.wall_s:.2f} | {ratio} | {run.cpu_s:.2f} "
                     f"| {run.peak_rss_mb:.0f} |")  # fmt: skip
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", default=None)
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    corpus = find_corpus(args.corpus)
    tracks = [p for p, rate in corpus_tracks(corpus) if rate == SHORT_RATE_HZ]
    wav = make_wav(DATA_DIR / "short_4min_44k1_16bit.wav", tracks, rate_hz=SHORT_RATE_HZ,
                   seconds=SHORT_SECONDS, subtype="PCM_16")  # fmt: skip
    mixanalyzer = shutil.which("mixanalyzer", path=str(Path(sys.executable).parent))
    if mixanalyzer is None:
        sys.exit("bench_commands: no mixanalyzer beside this Python (run it from the venv)")
    ffmpeg = shutil.which("ffmpeg")
    with tempfile.TemporaryDirectory() as scratch:
        results = {
            label: best_of(cmd, args.repeat)
            for label, cmd in commands(mixanalyzer, ffmpeg, wav, Path(scratch)).items()
        }
    anchor = next((r for label, r in results.items() if label.startswith("ffmpeg")), None)
    text = "\n".join([
        f"Commands on {wav.name} ({SHORT_SECONDS / 60:g} min, 44.1 kHz, 16-bit), best of "
        f"{args.repeat}; `demo` and `--version` take no input file.", "",
        *machine_lines(ffmpeg, load_start), "", *render_table(results, anchor), "",
    ])  # fmt: skip
    print(text)
    RESULTS_MD.parent.mkdir(exist_ok=True)
    RESULTS_MD.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
