"""Loudness benchmark: mixanalyzer against anchor tools (ffmpeg ebur128, libebur128 via pyebur128,
pyloudnorm) on the same files in one run, wall time and peak RSS side by side, as ratios to ffmpeg.

Test files are made from the corpus music and cached in benchmarks/data/. Every command runs as
a subprocess; wall time is taken around spawn and ``os.wait4`` (which also gives CPU time), peak
RSS from GNU time's ``%M``. Every tool runs on an idle machine and again with one core kept busy
(``bench_conditions``; ``--idle-only`` skips that), each ratio within its condition. The
Markdown table goes to stdout and to benchmarks/results/latest.md.

    python benchmarks/bench_loudness.py [--minutes 60] [--repeat 1] [--skip pyloudnorm ...]
        [--idle-only]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from bench_conditions import (
    BUSY,
    before_command,
    check_before,
    conditions,
    one_core_busy,
    simd_line,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA_DIR = HERE / "data"
RESULTS_MD = HERE / "results" / "latest.md"
AUDIO_SUFFIXES = (".ogg", ".opus")
BLOCK_FRAMES = 65536
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

LONG_RATE_HZ = 48000
SHORT_RATE_HZ = 44100
SHORT_SECONDS = 240

FILE_TOOLS = ("ffmpeg", "mixanalyzer", "mixanalyzer-before", "mixanalyzer-translate", "pyebur128",
              "pyloudnorm")  # fmt: skip
STARTUP_TOOLS = ("ffmpeg-version", "mixanalyzer-version", "import-scipy")
ALL_TOOLS = FILE_TOOLS + STARTUP_TOOLS

Readings = dict[str, float | None]


# --------------------------------------------------------------------------- test files


def find_corpus(cli_value: str | None) -> Path:
    """The corpus folder: --corpus, else $MIXANALYZER_CORPUS, else ../shared/corpus of the repo."""
    raw = cli_value or os.environ.get("MIXANALYZER_CORPUS")
    corpus = Path(raw).expanduser() if raw else ROOT.parent / "shared" / "corpus"
    if not (corpus / "music").is_dir():
        sys.exit(f"bench_loudness: no music folder in corpus {corpus} (set MIXANALYZER_CORPUS)")
    return corpus


def corpus_tracks(corpus: Path) -> list[tuple[Path, int]]:
    """Every readable music track of the corpus, sorted by name, with its sample rate."""
    tracks = []
    for path in sorted((corpus / "music").iterdir()):
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        try:
            tracks.append((path, sf.info(str(path)).samplerate))
        except (sf.LibsndfileError, RuntimeError) as exc:
            print(f"bench_loudness: skipping {path.name}: {exc}", file=sys.stderr)
    return tracks


def _stereo(block: np.ndarray) -> np.ndarray:
    if block.shape[1] == 2:
        return block
    if block.shape[1] == 1:
        return np.repeat(block, 2, axis=1)
    return np.ascontiguousarray(block[:, :2])


def decode_blocks(path: Path, rate_hz: int) -> Iterator[np.ndarray]:
    """Stereo float32 blocks of one track at ``rate_hz`` (streaming soxr resampling if needed)."""
    with sf.SoundFile(str(path)) as src:
        stream = None
        if src.samplerate != rate_hz:
            stream = soxr.ResampleStream(src.samplerate, rate_hz, 2, dtype="float32")
        for block in src.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
            block = _stereo(block)
            yield stream.resample_chunk(block) if stream else block
        if stream:
            yield stream.resample_chunk(np.zeros((0, 2), np.float32), last=True)


def looped_blocks(tracks: list[Path], rate_hz: int) -> Iterator[np.ndarray]:
    """Blocks of the tracks one after another, starting over at the end of the list."""
    for lap in itertools.count():
        got = 0
        for path in tracks:
            for block in decode_blocks(path, rate_hz):
                got += len(block)
                yield block
        if got == 0:
            raise RuntimeError(f"corpus tracks gave no audio on lap {lap}")


def _is_cached(path: Path, rate_hz: int, frames: int, subtype: str) -> bool:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return False
    return (info.samplerate, info.channels, info.frames, info.subtype) == (
        rate_hz,
        2,
        frames,
        subtype,
    )


def make_wav(path: Path, tracks: list[Path], *, rate_hz: int, seconds: float, subtype: str) -> Path:
    """Write (or reuse) a stereo WAV of ``seconds`` made of the tracks, block by block."""
    frames = round(seconds * rate_hz)
    if _is_cached(path, rate_hz, frames, subtype):
        return path
    print(f"bench_loudness: generating {path.name} ({seconds / 60:g} min) ...", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.wav")
    written = 0
    with sf.SoundFile(
        str(partial), "w", samplerate=rate_hz, channels=2, subtype=subtype, format="WAV"
    ) as out:
        for block in looped_blocks(tracks, rate_hz):
            take = block[: frames - written]
            out.write(np.clip(take, -1.0, 1.0))  # float to PCM must not wrap around
            written += len(take)
            if written >= frames:
                break
    os.replace(partial, path)
    return path


def make_test_files(corpus: Path, minutes: float) -> list[Path]:
    """The long 48 kHz 24-bit file and the 4-minute 44.1 kHz 16-bit file, cached in data/."""
    tracks = corpus_tracks(corpus)
    if not tracks:
        sys.exit(f"bench_loudness: no {'/'.join(AUDIO_SUFFIXES)} music in {corpus / 'music'}")
    at_44k1 = [p for p, rate in tracks if rate == SHORT_RATE_HZ]
    if not at_44k1:
        sys.exit("bench_loudness: the corpus has no 44.1 kHz music track")
    long_name = f"long_{minutes:g}min_48k_24bit.wav"
    return [
        make_wav(
            DATA_DIR / long_name,
            [p for p, _ in tracks],
            rate_hz=LONG_RATE_HZ,
            seconds=minutes * 60,
            subtype="PCM_24",
        ),
        make_wav(
            DATA_DIR / "short_4min_44k1_16bit.wav",
            at_44k1,
            rate_hz=SHORT_RATE_HZ,
            seconds=SHORT_SECONDS,
            subtype="PCM_16",
        ),
    ]


# --------------------------------------------------------------------------- running tools


@dataclass
class Run:
    """One measured subprocess."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


def run_measured(cmd: list[str]) -> Run:
    """Run ``cmd`` to completion: wall time, user+sys CPU time and peak RSS.

    CPU time comes from ``os.wait4``. Peak RSS comes from GNU time's ``%M`` when /usr/bin/time
    exists: a child spawned straight from this (numpy-laden) process inherits its RSS high-water
    mark at exec, so ``wait4``'s ``ru_maxrss`` can never be lower than ours. GNU time is small,
    so the tool it starts reports its own peak.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as rss,
    ):
        argv = [GNU_TIME, "-o", rss.name, "-f", "%M", *cmd] if GNU_TIME else cmd
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak_kib = usage.ru_maxrss  # KiB on Linux
        if GNU_TIME:
            lines = rss.read().split()  # "Command exited with non-zero status N" comes first
            peak_kib = int(lines[-1]) if lines and lines[-1].isdigit() else peak_kib
        out.seek(0)
        err.seek(0)
        return Run(
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=peak_kib / 1024,
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def _number(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def parse_ffmpeg(run: Run, _: Path) -> Readings:
    """Integrated loudness, LRA and true peak from the ebur128 filter's summary on stderr."""
    summary = run.stderr.rpartition("Summary:")[2]
    found: Readings = {}
    for key, pattern in (
        ("integrated_lufs", r"^\s*I:\s+(\S+) LUFS"),
        ("lra_lu", r"^\s*LRA:\s+(\S+) LU"),
        ("true_peak_dbtp", r"^\s*Peak:\s+(\S+) dBFS"),
    ):
        m = re.search(pattern, summary, re.MULTILINE)
        found[key] = _number(m.group(1)) if m else None
    return found


def parse_mixanalyzer(_: Run, json_path: Path) -> Readings:
    """The three readings from mixanalyzer's JSON."""
    doc = json.loads(json_path.read_text())
    loud = doc.get("mix", doc)["loudness"]  # translate nests the mix's analysis under "mix"
    return {k: loud.get(k) for k in ("integrated_lufs", "lra_lu", "true_peak_dbtp")}


def parse_stdout_json(run: Run, _: Path) -> Readings:
    """The JSON object an anchor helper printed."""
    return json.loads(run.stdout.strip().splitlines()[-1])


def no_readings(_: Run, __: Path) -> Readings:
    return {}


@dataclass
class Tool:
    """A command to measure: ``argv(file, json_out)`` and how to read its results."""

    name: str
    argv: Callable[[Path, Path], list[str]]
    parse: Callable[[Run, Path], Readings]
    reference: str  # the tool whose wall time the ratio is taken against


@dataclass
class Row:
    """The best of ``--repeat`` runs of one tool on one file."""

    file: str
    tool: Tool
    command: list[str]
    condition: str = "idle"
    runs: list[Run] = field(default_factory=list)
    readings: Readings = field(default_factory=dict)
    error: str | None = None


def build_tools(
    python: str, mixanalyzer: str, ffmpeg: str, before: Path | None = None
) -> dict[str, Tool]:
    """Every tool the benchmark knows, by its --skip name (``mixanalyzer-before``: the
    ``--before`` tree's ``analyze``, when given)."""
    old = before_command(python, before) if before else [mixanalyzer]
    return {
        "mixanalyzer-before": Tool(
            "mixanalyzer analyze (before)",
            lambda f, j: [*old, "analyze", str(f), "--json", str(j), "--force", "-q"],
            parse_mixanalyzer,
            "ffmpeg",
        ),
        "ffmpeg": Tool(
            "ffmpeg",
            lambda f, _: [
                *(ffmpeg, "-nostats", "-hide_banner", "-i", str(f)),
                *("-af", "ebur128=peak=true", "-f", "null", "-"),
            ],
            parse_ffmpeg,
            "ffmpeg",
        ),
        "mixanalyzer": Tool(
            "mixanalyzer",
            lambda f, j: [mixanalyzer, "analyze", str(f), "--json", str(j), "--force", "-q"],
            parse_mixanalyzer,
            "ffmpeg",
        ),
        "mixanalyzer-translate": Tool(
            "mixanalyzer translate (all devices)",
            lambda f, j: [mixanalyzer, "translate", str(f), "--json", str(j), "--force", "-q"],
            parse_mixanalyzer,
            "ffmpeg",
        ),
        "pyebur128": Tool(
            "pyebur128",
            lambda f, _: [python, str(HERE / "_anchor_pyebur128.py"), str(f)],
            parse_stdout_json,
            "ffmpeg",
        ),
        "pyloudnorm": Tool(
            "pyloudnorm",
            lambda f, _: [python, str(HERE / "_anchor_pyloudnorm.py"), str(f)],
            parse_stdout_json,
            "ffmpeg",
        ),
        "ffmpeg-version": Tool(
            "ffmpeg -version", lambda _, __: [ffmpeg, "-version"], no_readings, "ffmpeg -version"
        ),
        "mixanalyzer-version": Tool(
            "mixanalyzer --version",
            lambda _, __: [mixanalyzer, "--version"],
            no_readings,
            "ffmpeg -version",
        ),
        "import-scipy": Tool(
            "python -c 'import scipy.signal'",
            lambda _, __: [python, "-c", "import scipy.signal"],
            no_readings,
            "ffmpeg -version",
        ),
    }


def measure_rows(rows: list[Row], repeat: int, json_out: Path) -> None:
    """Run every row ``repeat`` times, round-robin so that slow drifts hit every tool alike."""
    for lap in range(repeat):
        for row in rows:
            if row.error:
                continue
            label = f"[{lap + 1}/{repeat}] {row.tool.name} on {row.file} ({row.condition})"
            print(f"bench_loudness: {label} ...", file=sys.stderr, flush=True)
            json_out.unlink(missing_ok=True)  # never read a previous file's results
            run = run_measured(row.command)
            if run.returncode != 0:
                last = (run.stderr.strip().splitlines() or ["(no stderr)"])[-1]
                row.error = f"exit {run.returncode}: {last}"
                continue
            row.runs.append(run)
            if lap == 0:
                try:
                    row.readings = row.tool.parse(run, json_out)
                except (OSError, ValueError, KeyError, IndexError) as exc:
                    row.error = f"could not read its results: {type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- report


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (out.stdout.strip().splitlines() or ["unknown"])[0]


def _ffmpeg_version(ffmpeg: str | None) -> str:
    if not ffmpeg:
        return "ffmpeg not found"
    words = _first_line([ffmpeg, "-version"]).split()  # "ffmpeg version 5.1.9-0+deb12u1 ..."
    return f"ffmpeg {words[2]}" if len(words) > 2 else "ffmpeg (unknown version)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GB"
    except OSError:
        pass
    return "unknown"


def machine_lines(ffmpeg: str | None, load_start: tuple[float, ...]) -> list[str]:
    """The header: date, machine, versions, OPENBLAS_* variables, load average."""
    git = _first_line(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    blas = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_")]
    load_end = os.getloadavg()
    lines = [
        f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {_cpu_model()}; {os.cpu_count()} cores "
        f"({len(os.sched_getaffinity(0))} usable); RAM {_mem_total_gb()}; "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}; numpy {np.__version__}; "
        f"scipy {_version('scipy')}; soundfile {sf.__version__} "
        f"(libsndfile {sf.__libsndfile_version__}); soxr {_version('soxr')}",
        f"- mixanalyzer {_version('mixanalyzer')} (git {git}); "
        f"{_ffmpeg_version(ffmpeg)}; "
        f"pyebur128 {_version('pyebur128')}; pyloudnorm {_version('pyloudnorm')}",
        "- Peak RSS: "
        + (
            "GNU time %M of each command"
            if GNU_TIME
            else "os.wait4 ru_maxrss (no /usr/bin/time: floored at this script's own RSS)"
        ),
        f"- numpy SIMD (numpy.show_runtime()): {simd_line()}",
        f"- Environment: {', '.join(blas) if blas else 'no OPENBLAS_* variables set'}",
        f"- Load average (1 min) at start {load_start[0]:.2f}, at end {load_end[0]:.2f}",
    ]
    return lines


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _display(cmd: list[str]) -> str:
    shown = []
    for arg in cmd:
        p = Path(arg)
        shown.append(
            str(p.relative_to(ROOT)) if p.is_absolute() and p.is_relative_to(ROOT) else arg
        )
    return shlex.join(shown)


def render(rows: list[Row], files: list[Path], header: list[str], repeat: int) -> str:
    """The whole Markdown report."""
    best = {id(r): min((x.wall_s for x in r.runs), default=None) for r in rows}
    ref_wall = {(r.condition, r.file, r.tool.name): best[id(r)] for r in rows}
    out = ["# Loudness benchmark: mixanalyzer and anchor tools", "", *header, ""]
    out += ["## Test files", "", "| file | duration | format | size MB |", "|---|---:|---|---:|"]
    for f in files:
        info = sf.info(str(f))
        out.append(
            f"| {f.name} | {info.duration / 60:.1f} min | {info.samplerate} Hz "
            f"{info.channels} ch {info.subtype} | {f.stat().st_size / 1e6:.0f} |"
        )
    out += [
        "",
        "## Results",
        "",
        f"Best of {repeat} run(s): lowest wall and CPU time, highest peak RSS. "
        "x ffmpeg = wall time / ffmpeg's wall time on the same file in the same condition "
        "(below 1 is faster; 'one core busy': a `yes > /dev/null` process runs throughout); "
        "start-up rows are compared with `ffmpeg -version`. CPU = user + sys of the process.",
        "",
        "| condition | file | tool | wall s | x ffmpeg | CPU s | peak RSS MB "
        "| integrated LUFS | LRA LU | true peak dBTP |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r.error or not r.runs:
            out.append(f"| {r.condition} | {r.file} | {r.tool.name} | failed | | | | | | |")
            continue
        wall = best[id(r)]
        ref = ref_wall.get((r.condition, r.file, r.tool.reference))
        ratio = f"{wall / ref:.2f}" if wall is not None and ref else "—"
        out.append(
            f"| {r.condition} | {r.file} | {r.tool.name} | {wall:.2f} | {ratio} "
            f"| {min(x.cpu_s for x in r.runs):.2f} "
            f"| {max(x.peak_rss_mb for x in r.runs):.0f} "
            f"| {_fmt(r.readings.get('integrated_lufs'), 2)} "
            f"| {_fmt(r.readings.get('lra_lu'), 2)} "
            f"| {_fmt(r.readings.get('true_peak_dbtp'), 2)} |"
        )
    failures = [r for r in rows if r.error]
    if failures:
        out += ["", "## Failures", ""]
        out += [f"- {r.tool.name} on {r.file} ({r.condition}): {r.error}" for r in failures]
    out += ["", "## Commands", ""]
    seen: set[str] = set()
    for r in rows:
        if r.tool.name not in seen:
            seen.add(r.tool.name)
            out.append(f"- {r.tool.name}: `{_display(r.command)}`")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def _warm_cache(path: Path) -> None:
    """Read the file once so that the first tool measured does not pay for the disk."""
    with path.open("rb") as fh:
        while fh.read(1 << 24):
            pass


def _executable(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    venv = ROOT / ".venv" / "bin" / name
    return str(venv) if venv.exists() else shutil.which(name)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes", type=float, default=60.0, help="length of the long file (default 60)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=ALL_TOOLS, help="skip a tool (repeatable)"
    )
    parser.add_argument("--corpus", help="corpus folder (default $MIXANALYZER_CORPUS or ../shared)")
    parser.add_argument("--out", type=Path, default=RESULTS_MD, help="Markdown report path")
    parser.add_argument("--idle-only", action="store_true", help="skip the one-core-busy runs")
    parser.add_argument(
        "--before", type=Path,
        help="another source tree (git archive REV | tar -x -C DIR) whose analyze runs beside",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.repeat < 1:
        parser.error("--minutes must be > 0 and --repeat >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the test files, measure every tool, print and write the report."""
    args = parse_args(argv)
    load_start = os.getloadavg()
    files = make_test_files(find_corpus(args.corpus), args.minutes)
    ffmpeg = shutil.which("ffmpeg")
    mixanalyzer = _executable("mixanalyzer")
    wanted = [t for t in ALL_TOOLS if t not in args.skip]
    if args.before:
        check_before(sys.executable, args.before)
    else:
        wanted.remove("mixanalyzer-before")
    missing = {"ffmpeg": ffmpeg, "ffmpeg-version": ffmpeg, "mixanalyzer": mixanalyzer}
    missing["mixanalyzer-version"] = mixanalyzer
    missing["mixanalyzer-translate"] = mixanalyzer
    for name in [t for t in wanted if t in missing and missing[t] is None]:
        print(f"bench_loudness: {name}: executable not found, skipped", file=sys.stderr)
        wanted.remove(name)
    tools = build_tools(sys.executable, mixanalyzer or "mixanalyzer", ffmpeg or "ffmpeg",
                        args.before)  # fmt: skip

    json_out = DATA_DIR / "mixanalyzer.json"
    rows: list[Row] = []
    for condition in conditions(args.idle_only):
        with one_core_busy(condition == BUSY):
            now = [Row(f.name, tools[t], tools[t].argv(f, json_out), condition)
                   for f in files for t in wanted if t in FILE_TOOLS]  # fmt: skip
            now += [Row("(start-up)", tools[t], tools[t].argv(Path(), Path()), condition)
                    for t in wanted if t in STARTUP_TOOLS]  # fmt: skip
            for f in files:
                _warm_cache(f)
            measure_rows(now, args.repeat, json_out)
            rows += now

    report = render(rows, files, machine_lines(ffmpeg, load_start), args.repeat)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"bench_loudness: wrote {_display([str(args.out.resolve())])}", file=sys.stderr)
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
