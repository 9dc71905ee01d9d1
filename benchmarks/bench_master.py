"""Mastering benchmark: ``mixanalyzer master`` (native engine, with and without ``--fine``) against
Matchering 2.0 alone on the same 4-minute 44.1 kHz stereo pair in one run: wall time, CPU time and
peak RSS side by side, as ratios to Matchering.

The pair is made from one corpus music track and cached in benchmarks/data/: the reference is 4
minutes of the track (looped if shorter) as a 24-bit WAV; the mix is the same audio detuned with a
known EQ (low shelf -4 dB at 120 Hz, high shelf -5 dB at 6 kHz, +4 dB bell at 400 Hz) and turned
down 8 dB. Every command runs as a subprocess, measured as in bench_loudness.py (wall time around
spawn and ``os.wait4``, peak RSS from GNU time's ``%M``); each output is then measured with
``mixanalyzer analyze --json -`` (not timed). The Markdown table goes to stdout and to
benchmarks/results/master.md; the three masters stay in benchmarks/data/master_out/.

    python benchmarks/bench_master.py [--repeat 3] [--skip matchering ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import soundfile as sf
from bench_loudness import (
    GNU_TIME,
    Run,
    _cpu_model,
    _display,
    _executable,
    _first_line,
    _fmt,
    _mem_total_gb,
    _version,
    _warm_cache,
    corpus_tracks,
    find_corpus,
    looped_blocks,
    run_measured,
)

from analyzer.mastering.eq import EqMove, apply_eq

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA_DIR = HERE / "data"
RESULTS_MD = HERE / "results" / "master.md"
OUT_DIR = DATA_DIR / "master_out"
RATE_HZ = 44100
SECONDS = 240
SUBTYPE = "PCM_24"
DETUNE = (
    EqMove("low_shelf", 120.0, -4.0),
    EqMove("high_shelf", 6000.0, -5.0),
    EqMove("peaking", 400.0, 4.0, 1.0),
)
DETUNE_GAIN_DB = -8.0
CEILING_DBTP = -1.0  # the native engine's default true-peak ceiling
LOUDNESS_TOLERANCE_LU = 0.5  # "on target" for the table
GOAL_SPEEDUP = 4.0  # mixanalyzer master at least this many times faster than Matchering
GOAL_RSS_MB = 400.0

TOOLS = ("native", "native-fine", "matchering")
RATIO_TO = "matchering"


# --------------------------------------------------------------------------- test pair


def _pick_track(corpus: Path) -> Path:
    """The longest 44.1 kHz corpus track (ties: first by name), so that looping is rarest."""
    tracks = [p for p, rate in corpus_tracks(corpus) if rate == RATE_HZ]
    if not tracks:
        sys.exit("bench_master: the corpus has no 44.1 kHz music track")
    return max(tracks, key=lambda p: sf.info(str(p)).frames)


def _is_cached(path: Path) -> bool:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return False
    want = (RATE_HZ, 2, SECONDS * RATE_HZ, SUBTYPE)
    return (info.samplerate, info.channels, info.frames, info.subtype) == want


def _four_minutes(track: Path) -> np.ndarray:
    """``(frames, 2)`` float64: the first 4 minutes of the track, looped if it is shorter."""
    frames = SECONDS * RATE_HZ
    blocks, got = [], 0
    for block in looped_blocks([track], RATE_HZ):
        blocks.append(block[: frames - got])
        got += len(blocks[-1])
        if got >= frames:
            break
    return np.concatenate(blocks).astype(np.float64)


def _write(path: Path, audio: np.ndarray) -> None:
    partial = path.with_name(path.stem + ".partial.wav")
    sf.write(str(partial), np.clip(audio, -1.0, 1.0), RATE_HZ, subtype=SUBTYPE, format="WAV")
    os.replace(partial, path)


def make_pair(corpus: Path) -> tuple[Path, Path, str]:
    """``(mix, reference, track name)``, generated once and cached in data/."""
    track = _pick_track(corpus)
    mix = DATA_DIR / "master_mix_4min_44k1_24bit.wav"
    ref = DATA_DIR / "master_ref_4min_44k1_24bit.wav"
    stamp = DATA_DIR / "master_pair.source"  # which track the cached pair was made from
    if (
        _is_cached(mix)
        and _is_cached(ref)
        and stamp.exists()
        and stamp.read_text().strip() == track.name
    ):
        return mix, ref, track.name
    print(f"bench_master: generating the pair from {track.name} ...", file=sys.stderr)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    original = _four_minutes(track)
    _write(ref, original)
    detuned = apply_eq(original.T, DETUNE, RATE_HZ).T * 10.0 ** (DETUNE_GAIN_DB / 20.0)
    _write(mix, detuned)
    stamp.write_text(track.name + "\n")
    return mix, ref, track.name


# --------------------------------------------------------------------------- running


@dataclass
class Row:
    """The best of ``--repeat`` runs of one command, and what its output measures."""

    name: str
    command: list[str]
    output: Path
    runs: list[Run] = field(default_factory=list)
    loudness: dict[str, float | None] = field(default_factory=dict)
    error: str | None = None


def measure_loudness(mixanalyzer: str, path: Path) -> dict[str, float | None]:
    """Integrated loudness, LRA and true peak of one file by ``mixanalyzer analyze --json -``."""
    out = subprocess.run(
        [mixanalyzer, "analyze", str(path), "--json", "-", "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    loud = json.loads(out.stdout)["loudness"]
    return {k: loud.get(k) for k in ("integrated_lufs", "lra_lu", "true_peak_dbtp")}


def build_rows(python: str, mixanalyzer: str, mix: Path, ref: Path, out_dir: Path) -> list[Row]:
    def master(out: Path, *extra: str) -> list[str]:
        return [mixanalyzer, "master", str(mix), "--ref", str(ref), "-o", str(out), *extra]

    native, fine, mg = (out_dir / f"{n}.wav" for n in TOOLS)
    return [
        Row("mixanalyzer master", [*master(native), "--force", "-q"], native),
        Row("mixanalyzer master --fine", [*master(fine), "--fine", "--force", "-q"], fine),
        Row(
            "matchering (alone)",
            [python, str(HERE / "_anchor_matchering.py"), str(mix), str(ref), str(mg)],
            mg,
        ),
    ]


def measure_rows(rows: list[Row], repeat: int, mixanalyzer: str) -> None:
    """Run every row ``repeat`` times, round-robin so that slow drifts hit every tool alike."""
    for lap in range(repeat):
        for row in rows:
            if row.error:
                continue
            print(f"bench_master: [{lap + 1}/{repeat}] {row.name} ...", file=sys.stderr, flush=True)
            row.output.unlink(missing_ok=True)
            run = run_measured(row.command)
            if run.returncode != 0:
                last = (run.stderr.strip().splitlines() or ["(no stderr)"])[-1]
                row.error = f"exit {run.returncode}: {last}"
                continue
            row.runs.append(run)
            if lap == 0:
                try:
                    row.loudness = measure_loudness(mixanalyzer, row.output)
                except (OSError, ValueError, KeyError, subprocess.CalledProcessError) as exc:
                    row.error = f"could not measure its output: {type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- report


def machine_lines(load_start: tuple[float, ...]) -> list[str]:
    """The header: date, machine, versions, load average and the shared-machine caveat."""
    git = _first_line(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    blas = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")]
    load_end = os.getloadavg()
    return [
        f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {_cpu_model()}; {os.cpu_count()} cores "
        f"({len(os.sched_getaffinity(0))} usable); RAM {_mem_total_gb()}; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; numpy {np.__version__}; "
        f"scipy {_version('scipy')}; soundfile {sf.__version__} "
        f"(libsndfile {sf.__libsndfile_version__}); soxr {_version('soxr')}",
        f"- mixanalyzer {_version('mixanalyzer')} (git {git}); matchering {_version('matchering')}",
        "- Peak RSS: "
        + (
            "GNU time %M of each command"
            if GNU_TIME
            else "os.wait4 ru_maxrss (no /usr/bin/time: floored at this script's own RSS)"
        ),
        f"- Environment: {', '.join(blas) if blas else 'no OPENBLAS_* variables set'}",
        f"- Load average (1 min) at start {load_start[0]:.2f}, at end {load_end[0]:.2f}",
        "- Shared machine: 2 cores, with other jobs (test suites) running at the same time, so "
        "wall times are noisy; best of the repeats is kept.",
    ]


def goal_lines(rows: list[Row], best: dict[str, float | None], anchor: float | None) -> list[str]:
    """Whether each native command met the goals: speed against Matchering, peak RSS."""
    lines = []
    for r in rows:
        wall = best[r.name]
        if r.output.stem == RATIO_TO or wall is None:
            continue
        speed = anchor / wall if anchor else None
        rss = max(x.peak_rss_mb for x in r.runs)
        lines.append(
            f"- {r.name}: {_fmt(speed, 2)}x Matchering's speed (goal ≥ {GOAL_SPEEDUP:g}x: "
            f"{'met' if speed and speed >= GOAL_SPEEDUP else 'NOT met'}); peak RSS {rss:.0f} MB "
            f"(goal ≤ {GOAL_RSS_MB:g} MB: {'met' if rss <= GOAL_RSS_MB else 'NOT met'})"
        )
    return lines


def render(
    rows: list[Row],
    pair: tuple[Path, Path, str],
    pair_loudness: dict[str, dict[str, float | None]],
    header: list[str],
    repeat: int,
) -> str:
    """The whole Markdown report."""
    mix, ref, track = pair
    best = {r.name: min((x.wall_s for x in r.runs), default=None) for r in rows}
    anchor = next((best[r.name] for r in rows if r.output.stem == RATIO_TO), None)
    target = pair_loudness[ref.name].get("integrated_lufs")
    out = ["# Mastering benchmark: mixanalyzer master and Matchering", "", *header, ""]
    out += [
        "## Test pair",
        "",
        f"Made from `{track}` (44.1 kHz corpus music). Mix: the same 4 minutes through "
        + ", ".join(f"{m.kind} {m.frequency_hz:g} Hz {m.gain_db:+g} dB" for m in DETUNE)
        + f", then {DETUNE_GAIN_DB:+g} dB.",
        "",
        "| file | duration | format | size MB | integrated LUFS | LRA LU | true peak dBTP |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for f in (mix, ref):
        info = sf.info(str(f))
        loud = pair_loudness[f.name]
        out.append(
            f"| {f.name} | {info.duration / 60:.1f} min | {info.samplerate} Hz "
            f"{info.channels} ch {info.subtype} | {f.stat().st_size / 1e6:.0f} "
            f"| {_fmt(loud.get('integrated_lufs'), 2)} | {_fmt(loud.get('lra_lu'), 2)} "
            f"| {_fmt(loud.get('true_peak_dbtp'), 2)} |"
        )
    out += [
        "",
        "## Results",
        "",
        f"Best of {repeat} run(s): lowest wall and CPU time, highest peak RSS. "
        "Matchering / this = Matchering's wall time / this command's (above 1: faster than "
        "Matchering). CPU = user + sys of the process. Output loudness measured by "
        "`mixanalyzer analyze --json -`; the target is the reference's integrated loudness "
        f"({_fmt(target, 2)} LUFS) and, for the native engine, a true peak at most "
        f"{CEILING_DBTP:g} dBTP (Matchering's limiter holds sample peaks: its true peak is "
        "shown as it is).",
        "",
        "| command | wall s | CPU s | peak RSS MB | Matchering / this "
        "| out LUFS | Δ target LU | out true peak dBTP | LRA LU | on target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.error or not r.runs:
            out.append(f"| {r.name} | failed | | | | | | | | |")
            continue
        wall = best[r.name]
        lufs = r.loudness.get("integrated_lufs")
        delta = lufs - target if lufs is not None and target is not None else None
        tp = r.loudness.get("true_peak_dbtp")
        checks = [delta is not None and abs(delta) <= LOUDNESS_TOLERANCE_LU]
        if r.output.stem != RATIO_TO:  # Matchering does not promise a true-peak ceiling
            checks.append(tp is not None and tp <= CEILING_DBTP + 0.005)
        on_target = "yes" if all(checks) else "no"
        out.append(
            f"| {r.name} | {wall:.2f} | {min(x.cpu_s for x in r.runs):.2f} "
            f"| {max(x.peak_rss_mb for x in r.runs):.0f} "
            f"| {f'{anchor / wall:.2f}' if anchor and wall else '—'} "
            f"| {_fmt(lufs, 2)} | {_fmt(delta, 2)} "
            f"| {_fmt(tp, 2)} | {_fmt(r.loudness.get('lra_lu'), 2)} | {on_target} |"
        )
    out += ["", *goal_lines(rows, best, anchor)]
    failures = [r for r in rows if r.error]
    if failures:
        out += ["", "## Failures", ""]
        out += [f"- {r.name}: {r.error}" for r in failures]
    out += ["", "## Commands", ""]
    out += [f"- {r.name}: `{_display(r.command)}`" for r in rows]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=TOOLS, help="skip a command (repeatable)"
    )
    parser.add_argument("--corpus", help="corpus folder (default $MIXANALYZER_CORPUS or ../shared)")
    parser.add_argument("--out", type=Path, default=RESULTS_MD, help="Markdown report path")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the pair, measure every command, print and write the report."""
    args = parse_args(argv)
    load_start = os.getloadavg()
    pair = make_pair(find_corpus(args.corpus))
    mix, ref, _ = pair
    mixanalyzer = _executable("mixanalyzer")
    if mixanalyzer is None:
        sys.exit("bench_master: mixanalyzer executable not found (make install first)")
    pair_loudness = {f.name: measure_loudness(mixanalyzer, f) for f in (mix, ref)}
    OUT_DIR.mkdir(parents=True, exist_ok=True)  # the outputs stay there for listening
    rows = build_rows(sys.executable, mixanalyzer, mix, ref, OUT_DIR)
    rows = [r for r, t in zip(rows, TOOLS, strict=True) if t not in args.skip]
    for f in (mix, ref):
        _warm_cache(f)
    measure_rows(rows, args.repeat, mixanalyzer)
    report = render(rows, pair, pair_loudness, machine_lines(load_start), args.repeat)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"bench_master: wrote {_display([str(args.out.resolve())])}", file=sys.stderr)
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
