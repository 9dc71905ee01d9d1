"""Long-file benchmark (issue 9): a 2-hour 96 kHz 24-bit stereo WAV made from corpus music
(about 4.1 GB, cached in benchmarks/data/, never committed), then peak RSS (GNU time ``%M``) and
wall time of ``mixanalyzer analyze``, ``translate`` and ``master --target-lufs -14 -o OUT``.

Each command runs with its stderr on a pseudo-terminal, as a user's would be, so that its
progress bar is drawn; the benchmark counts the bar's redraws and the longest silence between
two of them ("progress shown throughout"). The master written is deleted after it is measured.

    python benchmarks/bench_long.py [--minutes 120] [--skip master] [--keep]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_loudness import DATA_DIR, GNU_TIME, corpus_tracks, find_corpus, make_wav  # noqa: E402

RATE_HZ = 96000
RESULTS_MD = HERE / "results" / "long.md"


@dataclass
class Measured:
    """One command: wall time, peak RSS, exit code, progress redraws and the longest gap."""

    label: str
    wall_s: float
    peak_rss_mb: float | None
    returncode: int
    redraws: int
    longest_gap_s: float
    tail: str


def run_on_pty(label: str, cmd: list[str]) -> Measured:
    """Run ``cmd`` under GNU time with stderr on a pseudo-terminal; time's report goes to a
    file so that it does not mix with the progress bar."""
    rss_file = Path(tempfile.mkstemp(prefix="bench-long-", suffix=".rss")[1])
    full = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME else cmd
    master_fd, slave_fd = pty.openpty()
    env = dict(os.environ, COLUMNS="100", OPENBLAS_NUM_THREADS="1")
    start = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=slave_fd, env=env)
    os.close(slave_fd)
    redraws, last, longest = 0, start, 0.0
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master_fd], [], [], 1.0)
        if ready:
            try:
                data = os.read(master_fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            now = time.perf_counter()
            redraws += 1
            longest = max(longest, now - last)
            last = now
            chunks = [*chunks[-20:], data]
        elif proc.poll() is not None:
            break
    proc.wait()
    wall = time.perf_counter() - start
    os.close(master_fd)
    longest = max(longest, time.perf_counter() - last)
    rss = None
    text = rss_file.read_text().strip().splitlines() if rss_file.exists() else []
    if text and text[-1].isdigit():
        rss = int(text[-1]) / 1024.0
    rss_file.unlink(missing_ok=True)
    tail = b"".join(chunks).decode("utf-8", "replace")[-300:]
    return Measured(label, wall, rss, proc.returncode, redraws, longest, tail)


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the long file and measure the three commands."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=120.0)
    ap.add_argument("--corpus")
    ap.add_argument("--skip", nargs="*", default=[], choices=["analyze", "translate", "master"])
    ap.add_argument("--keep", action="store_true", help="keep the generated WAV")
    args = ap.parse_args(argv)
    need = args.minutes * 60 * RATE_HZ * 2 * 3 * 2.1  # the input, the master, some slack
    free = shutil.disk_usage(DATA_DIR.parent).free
    if free < need:
        print(f"bench_long: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed: use --minutes",
              file=sys.stderr)  # fmt: skip
        return 1
    tracks = [p for p, _ in corpus_tracks(find_corpus(args.corpus))]
    path = DATA_DIR / f"long_{args.minutes:g}min_96k_24bit.wav"
    t0 = time.perf_counter()
    make_wav(path, tracks, rate_hz=RATE_HZ, seconds=args.minutes * 60, subtype="PCM_24")
    print(f"bench_long: {path.name}: {path.stat().st_size / 1e9:.2f} GB "
          f"(ready in {time.perf_counter() - t0:.0f} s)", file=sys.stderr)  # fmt: skip
    exe = shutil.which("mixanalyzer") or str(Path(sys.executable).parent / "mixanalyzer")
    out = DATA_DIR / "long_master.wav"
    out.unlink(missing_ok=True)
    commands = {
        # (an output that is a device, /dev/null too, is refused: the JSON goes to a file)
        "analyze": [exe, "analyze", str(path), "--json", str(DATA_DIR / "long.json"), "--force"],
        "translate": [
            exe,
            "translate",
            str(path),
            "--json",
            str(DATA_DIR / "long.json"),
            "--force",
        ],
        "master": [exe, "master", str(path), "--target-lufs", "-14", "-o", str(out)],
    }
    rows = []
    for label, cmd in commands.items():
        if label in args.skip:
            continue
        m = run_on_pty(label, cmd)
        rows.append(m)
        print(f"bench_long: {label}: {m.wall_s:.1f} s, peak RSS {m.peak_rss_mb} MB, exit "
              f"{m.returncode}, {m.redraws} progress redraws, longest gap {m.longest_gap_s:.1f} s",
              file=sys.stderr)  # fmt: skip
        if m.returncode:
            print(m.tail, file=sys.stderr)
    out.unlink(missing_ok=True)
    (DATA_DIR / "long.json").unlink(missing_ok=True)
    if not args.keep:
        path.unlink(missing_ok=True)
    lines = [
        f"{args.minutes:g} min, 96 kHz 24-bit stereo WAV from corpus music; "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores",
        "",
        "| command | wall s | peak RSS MB | exit | progress redraws | longest gap s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {m.label} | {m.wall_s:.1f} | {m.peak_rss_mb or float('nan'):.0f} | {m.returncode} "
        f"| {m.redraws} | {m.longest_gap_s:.1f} |"
        for m in rows
    ]
    text = "\n".join(lines) + "\n"
    RESULTS_MD.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_MD.write_text(text)
    print(text)
    return 0 if all(m.returncode == 0 for m in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
