"""Batch benchmark: files per minute over the corpus music with 1 and 2 local jobs, on a Dask
LocalCluster, and a cold against a warm result cache.

Every figure is the wall time of the real command, ``mixanalyzer batch DIR -q --json OUT``, run
as a subprocess (interpreter start-up included). Each of ``--repeat`` rounds runs every
configuration once, interleaved, so that a burst of other work on a shared machine falls on all
of them alike; the best round of each is reported:

* ``--jobs 1`` and ``--jobs 2`` with ``--no-cache``: the speed-up of the local process pool;
* ``--scheduler tcp://127.0.0.1:PORT`` with ``--no-cache``, on a LocalCluster started here first
  (2 worker processes, 1 thread each, loopback; its start-up is reported, not counted: the
  command meets an existing cluster);
* a cold cache (a new, empty cache folder) and then a warm one (the same folder again, every
  file a hit), with ``--jobs 2``; the ratio per round is given too.

The Markdown table goes to stdout and to benchmarks/results/batch-latest.md.

    python benchmarks/bench_batch.py [--repeat 1] [--corpus DIR] [--skip-dask]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_MD = HERE / "results" / "batch-latest.md"
LOADS: list[float] = []


def find_corpus(cli_value: str | None) -> Path:
    raw = cli_value or os.environ.get("MIXANALYZER_CORPUS") or str(ROOT.parent / "shared/corpus")
    path = Path(raw)
    if not (path / "music").is_dir():
        sys.exit(f"bench_batch: no corpus music at {path / 'music'} (use --corpus)")
    return path


def run_cli(args: list[str], cache_dir: Path) -> tuple[float, dict]:
    """Wall time of one ``mixanalyzer batch`` run and its JSON document (the 1-minute load
    average of the machine at the end is kept in ``LOADS``: other users' work shows there)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        env = dict(os.environ, MIXANALYZER_CACHE_DIR=str(cache_dir))
        cmd = [sys.executable, "-m", "analyzer", "batch", *args, "-q", "--json", str(out)]
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - start
        LOADS.append(os.getloadavg()[0])
        if proc.returncode != 0:
            sys.exit(f"bench_batch: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
        return wall, json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="best of N rounds (default 1)")
    parser.add_argument("--corpus", help="corpus folder (default $MIXANALYZER_CORPUS or ../shared)")
    parser.add_argument("--skip-dask", action="store_true", help="leave out the Dask cluster")
    parser.add_argument("--out", type=Path, default=RESULTS_MD, help="Markdown report path")
    args = parser.parse_args(argv)
    music = find_corpus(args.corpus) / "music"
    n_files = sum(1 for p in music.iterdir() if p.suffix in (".ogg", ".opus", ".wav", ".flac"))
    configs: dict[str, list[str]] = {
        "jobs1": ["--jobs", "1", "--no-cache"],
        "jobs2": ["--jobs", "2", "--no-cache"],
    }
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in ("jobs1", "jobs2", "dask")}
    times |= {"cold": [], "warm": []}
    docs: dict[str, dict] = {}
    up = 0.0
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if not args.skip_dask:
            import distributed

            start = time.perf_counter()
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=None, silence_logs=logging.ERROR,
                )
            )  # fmt: skip
            up = time.perf_counter() - start
            configs["dask"] = ["--scheduler", cluster.scheduler_address, "--no-cache"]
        # Rounds: every configuration once per round, so that a burst of other users' work on
        # this shared machine falls on all of them alike; the best round of each is reported.
        for r in range(args.repeat):
            for name, extra in configs.items():
                wall, doc = run_cli([str(music), *extra], tmp / "unused")
                times[name].append((wall, LOADS[-1]))
                docs.setdefault(name, doc)
            cache = tmp / f"cache{r}"
            cold, _ = run_cli([str(music), "--jobs", "2"], cache)
            times["cold"].append((cold, LOADS[-1]))
            warm, doc = run_cli([str(music), "--jobs", "2"], cache)
            times["warm"].append((warm, LOADS[-1]))
            assert doc["cache"] == {"hits": n_files, "misses": 0}, doc["cache"]
            docs.setdefault("warm", doc)

    ref = docs["jobs1"]
    assert len(ref["files"]) == n_files and not ref["errors"], ref["errors"]
    for name, doc in docs.items():
        assert doc["files"] == ref["files"], f"{name} disagrees with --jobs 1"
    audio_min = sum(f["file"]["duration_s"] for f in ref["files"]) / 60
    best = {k: min(v) for k, v in times.items() if v}
    t1 = best["jobs1"][0]
    rows: list[tuple[str, float, str, float]] = [
        ("`--jobs 1`, no cache", *best["jobs1"][:1], "", best["jobs1"][1]),
        (
            "`--jobs 2`, no cache",
            best["jobs2"][0],
            f"speed-up {t1 / best['jobs2'][0]:.2f}× over 1 job",
            best["jobs2"][1],
        ),
    ]
    if "dask" in best:
        rows.append(
            (
                "`--scheduler` (Dask LocalCluster, 2 workers × 1 thread), no cache",
                best["dask"][0],
                f"speed-up {t1 / best['dask'][0]:.2f}× over 1 job; cluster start-up {up:.1f} s "
                "not counted",
                best["dask"][1],
            )
        )
    ratios = [c[0] / w[0] for c, w in zip(times["cold"], times["warm"], strict=True)]
    rows.append(("`--jobs 2`, cold cache (all misses)", *best["cold"][:1], "", best["cold"][1]))
    rows.append(
        (
            "`--jobs 2`, warm cache (all hits)",
            best["warm"][0],
            f"{best['cold'][0] / best['warm'][0]:.0f}× faster than the cold run (per round: "
            + ", ".join(f"{x:.0f}×" for x in ratios)
            + ")",
            best["warm"][1],
        )
    )

    import numpy

    from analyzer.version import __version__

    lines = [
        f"`mixanalyzer batch` over the corpus music: {n_files} files, {audio_min:.1f} min of "
        f"audio (Vorbis/Opus). {datetime.now(timezone.utc):%Y-%m-%d}, {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"mixanalyzer {__version__}; best of {args.repeat} rounds; wall time of the whole command "
        "(start-up included). Load avg: the machine's 1-minute load average after the run "
        "(a shared machine: above 2, other work competed for the 2 cores).",
        "",
        "| run | wall s | files/min | load avg | note |",
        "|---|---:|---:|---:|---|",
    ]
    for label, wall, note, load in rows:
        lines.append(f"| {label} | {wall:.2f} | {n_files / wall * 60:.0f} | {load:.1f} | {note} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
