"""Mastering benchmark: ``mixanalyzer master`` against Matchering 2.0 alone on two 4-minute
44.1 kHz stereo pairs, measured in one run on an idle machine and again with one core kept busy
(a ``yes > /dev/null`` process started and stopped here): wall time, CPU time and peak RSS, as
ratios to Matchering's wall time in the same condition (issue 17: ≤ 0.25 idle, ≤ 0.5 busy).

The pairs are made from corpus music and cached in benchmarks/data/. The reference is 4 minutes
of the longest 44.1 kHz track (looped if shorter) as a 24-bit WAV. *Detuned*: the mix is the same
audio through a known EQ (low shelf -4 dB at 120 Hz, high shelf -5 dB at 6 kHz, +4 dB bell at
400 Hz) turned down 8 dB. *Two different tracks*: the mix is 4 minutes of ``OTHER_TRACK`` (a
string orchestra). ``--before DIR`` times another source tree beside this one (DIR first on
``sys.path``, same venv; checked before timing), so before/after come from the same run. Every
command runs as a subprocess, measured as in bench_loudness.py (wall time around spawn and
``os.wait4``, peak RSS from GNU time's ``%M``); each output is then measured with ``mixanalyzer
analyze --json -`` (not timed). The Markdown report (with numpy's SIMD line) goes to stdout and
to benchmarks/results/master.md; the masters stay in benchmarks/data/master_out/.

    python benchmarks/bench_master.py [--repeat 2] [--before DIR] [--fine] [--idle-only]
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
from bench_conditions import (
    BUSY,
    IDLE,
    before_command,
    check_before,
    conditions,
    one_core_busy,
    simd_line,
)
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
GOAL_RSS_MB = 400.0

RATIO_TO = "matchering"
#: The dissimilar pair's mix: a string orchestra against the reference's electronic track.
OTHER_TRACK = "librosa--Brahms_Hungarian_Dance_5_string_orchestra.hq.ogg"
GOAL_RATIO_IDLE = 0.25  # issue 17: master wall time ÷ Matchering's, idle machine
GOAL_RATIO_BUSY = 0.5  # ... with one core kept busy


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


def make_other(corpus: Path, reference_track: str) -> tuple[Path, str]:
    """The mix of the dissimilar pair: 4 minutes of another track (``OTHER_TRACK`` when the
    corpus has it), against the same reference; generated once and cached in data/."""
    tracks = [p for p, rate in corpus_tracks(corpus) if rate == RATE_HZ]
    others = [p for p in tracks if p.name != reference_track]
    if not others:
        sys.exit("bench_master: the corpus has no second 44.1 kHz music track")
    track = next((p for p in others if p.name == OTHER_TRACK), others[0])
    mix = DATA_DIR / "master_other_4min_44k1_24bit.wav"
    stamp = DATA_DIR / "master_other.source"
    if not (_is_cached(mix) and stamp.exists() and stamp.read_text().strip() == track.name):
        print(f"bench_master: generating the other mix from {track.name} ...", file=sys.stderr)
        _write(mix, _four_minutes(track))
        stamp.write_text(track.name + "\n")
    return mix, track.name


def build_rows(
    python: str, mixanalyzer: str, mix: Path, ref: Path, out_dir: Path, args: argparse.Namespace
) -> list[Row]:
    """The commands of one pair: this tree's master, the ``--before`` tree's (same venv, its
    source first on PYTHONPATH), ``--fine`` when asked, and Matchering alone."""

    def master(exe: list[str], out: Path, *extra: str) -> list[str]:
        return [*exe, "master", str(mix), "--ref", str(ref), "-o", str(out), *extra, "--force",
                "-q"]  # fmt: skip

    tag = mix.stem.split("_")[1]
    rows = [Row("mixanalyzer master", master([mixanalyzer], out_dir / f"{tag}-native.wav"),
                out_dir / f"{tag}-native.wav")]  # fmt: skip
    if args.before:
        exe = before_command(python, args.before)
        out = out_dir / f"{tag}-before.wav"
        rows.append(Row("mixanalyzer master (before)", master(exe, out), out))
    if args.fine:
        out = out_dir / f"{tag}-fine.wav"
        rows.append(Row("mixanalyzer master --fine", master([mixanalyzer], out, "--fine"), out))
    out = out_dir / f"{tag}-{RATIO_TO}.wav"
    rows.append(Row("matchering (alone)",
                    [python, str(HERE / "_anchor_matchering.py"), str(mix), str(ref), str(out)],
                    out))  # fmt: skip
    return rows


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
    """The header: date, machine, versions, SIMD, load average and the shared-machine caveat."""
    git = _first_line(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    blas = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")]
    return [
        f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {_cpu_model()}; {os.cpu_count()} cores "
        f"({len(os.sched_getaffinity(0))} usable); RAM {_mem_total_gb()}; "
        f"{platform.system()} {platform.release()}",
        f"- numpy SIMD (numpy.show_runtime()): {simd_line()}",
        f"- Python {platform.python_version()}; numpy {np.__version__}; "
        f"scipy {_version('scipy')}; numba {_version('numba')}; soundfile {sf.__version__} "
        f"(libsndfile {sf.__libsndfile_version__}); soxr {_version('soxr')}",
        f"- mixanalyzer {_version('mixanalyzer')} (git {git}); matchering {_version('matchering')}",
        "- Peak RSS: " + ("GNU time %M of each command" if GNU_TIME else "os.wait4 ru_maxrss"),
        f"- Environment: {', '.join(blas) if blas else 'no OPENBLAS_* variables set'}",
        f"- Load average (1 min) at start {load_start[0]:.2f}, at end {os.getloadavg()[0]:.2f}",
        "- Shared machine: other jobs (other sessions' test suites) may run at the same time, so "
        "wall times are noisy; the best of the repeats is kept.",
    ]


def pair_lines(pairs: list[tuple[str, Path, Path]], loud: dict[str, dict]) -> list[str]:
    out = ["## Test pairs", "",
           "| pair | file | format | integrated LUFS | LRA LU | true peak dBTP |",
           "|---|---|---|---:|---:|---:|"]  # fmt: skip
    for label, mix, ref in pairs:
        for f in (mix, ref):
            info, m = sf.info(str(f)), loud[f.name]
            out.append(
                f"| {label} | {f.name} | {info.duration / 60:.1f} min {info.samplerate} Hz "
                f"{info.subtype} | {_fmt(m.get('integrated_lufs'), 2)} "
                f"| {_fmt(m.get('lra_lu'), 2)} | {_fmt(m.get('true_peak_dbtp'), 2)} |"
            )
    return out


def result_lines(condition: str, label: str, rows: list[Row], target: float | None) -> list[str]:
    """One table row per command: best wall, CPU, RSS, ratio to Matchering (this ÷ it)."""
    best = {r.name: min((x.wall_s for x in r.runs), default=None) for r in rows}
    anchor = next((best[r.name] for r in rows if r.output.stem.endswith(RATIO_TO)), None)
    out = []
    for r in rows:
        wall = best[r.name]
        if r.error or wall is None:
            out.append(f"| {condition} | {label} | {r.name} | failed: {r.error} | | | | | | |")
            continue
        lufs = r.loudness.get("integrated_lufs")
        delta = lufs - target if lufs is not None and target is not None else None
        tp = r.loudness.get("true_peak_dbtp")
        checks = [delta is not None and abs(delta) <= LOUDNESS_TOLERANCE_LU]
        if not r.output.stem.endswith(RATIO_TO):  # Matchering promises no true-peak ceiling
            checks.append(tp is not None and tp <= CEILING_DBTP + 0.005)
        out.append(
            f"| {condition} | {label} | {r.name} | {wall:.2f} "
            f"| {min(x.cpu_s for x in r.runs):.2f} | {max(x.peak_rss_mb for x in r.runs):.0f} "
            f"| {f'{wall / anchor:.2f}' if anchor else '—'} | {_fmt(delta, 2)} | {_fmt(tp, 2)} "
            f"| {'yes' if all(checks) else 'no'} |"
        )
    return out


def render(header: list[str], pairs: list[tuple[str, Path, Path]], loud: dict[str, dict],
           tables: list[str], repeat: int, commands: list[Row]) -> str:  # fmt: skip
    """The whole Markdown report."""
    out = ["# Mastering benchmark: mixanalyzer master and Matchering", "", *header, ""]
    out += pair_lines(pairs, loud)
    out += [
        "", "## Results", "",
        f"Best of {repeat} run(s) (lowest wall and CPU, highest peak RSS). ratio = this "
        "command's wall time ÷ Matchering's in the same condition (below 1: faster; the goal "
        f"is ≤ {GOAL_RATIO_IDLE:g} idle and ≤ {GOAL_RATIO_BUSY:g} with one core busy). "
        "'one core busy': a `yes > /dev/null` process runs throughout. Δ target: output "
        "integrated loudness minus the reference's; on target: within "
        f"{LOUDNESS_TOLERANCE_LU:g} LU and (native) a true peak ≤ {CEILING_DBTP:g} dBTP.",
        "",
        "| condition | pair | command | wall s | CPU s | peak RSS MB | ratio | Δ target LU "
        "| out true peak dBTP | on target |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
        *tables, "", "## Commands", "",
    ]  # fmt: skip
    out += [f"- {r.name}: `{_display(r.command)}`" for r in commands]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs (default 2)")
    parser.add_argument("--fine", action="store_true", help="also time master --fine")
    parser.add_argument("--idle-only", action="store_true", help="skip the one-core-busy runs")
    parser.add_argument("--before", type=Path, help="another source tree (e.g. `git archive "
                        "main`) timed beside this one: before/after in the same run")  # fmt: skip
    parser.add_argument("--corpus", help="corpus folder (default $MIXANALYZER_CORPUS or ../shared)")
    parser.add_argument("--out", type=Path, default=RESULTS_MD, help="Markdown report path")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the pairs, measure every command idle and with one core busy, report."""
    args = parse_args(argv)
    load_start = os.getloadavg()
    corpus = find_corpus(args.corpus)
    mix, ref, track = make_pair(corpus)
    other, _ = make_other(corpus, track)
    pairs = [("detuned (shelved copy)", mix, ref), ("two different tracks", other, ref)]
    mixanalyzer = _executable("mixanalyzer")
    if mixanalyzer is None:
        sys.exit("bench_master: mixanalyzer executable not found (make install first)")
    if args.before:
        check_before(sys.executable, args.before)
    loud = {f.name: measure_loudness(mixanalyzer, f) for f in (mix, other, ref)}
    OUT_DIR.mkdir(parents=True, exist_ok=True)  # the outputs stay there for listening
    tables: list[str] = []
    failed = False
    commands: list[Row] = []
    for condition in conditions(args.idle_only):
        with one_core_busy(condition == BUSY):
            for label, m, r in pairs:
                for f in (m, r):
                    _warm_cache(f)
                rows = build_rows(sys.executable, mixanalyzer, m, r, OUT_DIR, args)
                commands += rows if condition == IDLE else []
                measure_rows(rows, args.repeat, mixanalyzer)
                tables += result_lines(condition, label, rows, loud[r.name].get("integrated_lufs"))
                failed = failed or any(x.error for x in rows)
    report = render(machine_lines(load_start), pairs, loud, tables, args.repeat, commands)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"bench_master: wrote {_display([str(args.out.resolve())])}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
