"""The everyday commands a new user runs, timed side by side in one run against ffmpeg's
``ebur128`` on the same file: ``analyze``, ``translate --render`` (every built-in device),
``compare`` with three references and ``demo``, with ``--version`` for the start-up. Each figure
is the best of ``--repeat`` runs of the real command as a subprocess (start-up included), with
CPU time and peak RSS; the machine, the versions and the load average go beside them. The
README's command timings come from here.

    python benchmarks/bench_commands.py [--repeat 3] [--part all|render|codec]

``--part render`` times only ``translate --render`` (all ten devices) against ``analyze`` on the
same file: the time ratio (issue 15 asks for at most 3x) and the peak memory (at most 250 MB),
written to ``benchmarks/results/render.md``. ``--against PATH`` also times another build's
``translate --render`` (say ``../main/.venv/bin/mixanalyzer``) in the same rounds, for a
before/after measured in one run.

``--part codec`` times ``analyze FILE --codec-check`` (opus, vorbis and mp3 round trips) and
``analyze`` alone against ffmpeg encoding and decoding the same three codecs one after another
at the same settings (issue 17 asks for the codec check at or under that), written to
``benchmarks/results/codec.md``; ``--against PATH`` adds another build's codec check.
``all`` runs it after the command table.

Every part runs on the idle machine and again with one core kept busy (``bench_conditions``;
``--idle-only`` skips that), each ratio within its condition.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_conditions import BUSY, conditions, one_core_busy
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
RENDER_MD = HERE / "results" / "render.md"
CODEC_MD = HERE / "results" / "codec.md"
#: Issue 15's limits for ``translate --render`` (all devices) on a 4-minute track.
RENDER_MAX_RATIO = 3.0
RENDER_MAX_RSS_MB = 250.0
#: Issue 17: ``compare`` with N references in at most 1.2 x (N + 1) / 2 analyses' time.
COMPARE_REFS = 3
COMPARE_MAX_ANALYSES = 1.2 * (COMPARE_REFS + 1) / 2


def commands(
    mixanalyzer: str, ffmpeg: str | None, wav: Path, scratch: Path, refs: list[Path] = ()
) -> dict[str, list]:  # fmt: skip
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
    if refs:
        rows[f"mixanalyzer compare ({len(refs)} references)"] = [
            mixanalyzer, "compare", str(wav), *(a for r in refs for a in ("--ref", str(r))), "-q",
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


def render_lines(analyze: Run, render: Run) -> list[str]:
    """``translate --render`` against ``analyze``: time ratios (wall, CPU) and peak memory."""
    wall, cpu = render.wall_s / analyze.wall_s, render.cpu_s / analyze.cpu_s
    return [
        "| figure | analyze | translate --render (10 devices) | ratio | limit |",
        "|---|---:|---:|---:|---:|",
        f"| wall s | {analyze.wall_s:.2f} | {render.wall_s:.2f} | {wall:.1f}× | "
        f"{RENDER_MAX_RATIO:g}× |",
        f"| CPU s | {analyze.cpu_s:.2f} | {render.cpu_s:.2f} | {cpu:.1f}× | "
        f"{RENDER_MAX_RATIO:g}× |",
        f"| peak RSS MB | {analyze.peak_rss_mb:.0f} | {render.peak_rss_mb:.0f} | | "
        f"{RENDER_MAX_RSS_MB:g} |",
    ]


def compare_lines(analyze: Run, compare: Run) -> list[str]:
    """``compare`` with :data:`COMPARE_REFS` references against one ``analyze`` (issue 17)."""
    return [
        f"`compare` with {COMPARE_REFS} references: {compare.wall_s / analyze.wall_s:.2f} "
        f"analyses' wall time ({compare.cpu_s / analyze.cpu_s:.2f} of CPU); the limit is "
        f"{COMPARE_MAX_ANALYSES:.1f} (1.2 x (N + 1) / 2, both cores busy).",
    ]


def reference_wavs(tracks: list[Path]) -> list[Path]:
    """:data:`COMPARE_REFS` other 4-minute 44.1 kHz files, each from the corpus's tracks
    starting further on (so none is the benchmark file), made once."""
    return [make_wav(DATA_DIR / f"ref{i}_4min_44k1_16bit.wav", tracks[i:] + tracks[:i],
                     rate_hz=SHORT_RATE_HZ, seconds=SHORT_SECONDS, subtype="PCM_16")
            for i in range(1, COMPARE_REFS + 1)]  # fmt: skip


def bench_inputs(corpus_arg: str | None) -> tuple[Path, str, list[Path]]:
    """The 4-minute 44.1 kHz benchmark file and the references for ``compare`` (made once
    from the corpus), and the ``mixanalyzer`` beside this Python."""
    corpus = find_corpus(corpus_arg)
    tracks = [p for p, rate in corpus_tracks(corpus) if rate == SHORT_RATE_HZ]
    wav = make_wav(DATA_DIR / "short_4min_44k1_16bit.wav", tracks, rate_hz=SHORT_RATE_HZ,
                   seconds=SHORT_SECONDS, subtype="PCM_16")  # fmt: skip
    mixanalyzer = shutil.which("mixanalyzer", path=str(Path(sys.executable).parent))
    if mixanalyzer is None:
        sys.exit("benchmarks: no mixanalyzer beside this Python (run it from the venv)")
    return wav, mixanalyzer, reference_wavs(tracks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--corpus", default=None)
    parser.add_argument("--part", choices=("all", "render", "codec"), default="all")
    parser.add_argument(
        "--against",
        default=None,
        help="with --part render or codec: another build's mixanalyzer to time too",
    )
    parser.add_argument(
        "--idle-only", action="store_true", help="skip the runs with one core kept busy"
    )
    args = parser.parse_args(argv)
    wav, mixanalyzer, refs = bench_inputs(args.corpus)
    ffmpeg = shutil.which("ffmpeg")
    if args.part == "render":
        return render_part(mixanalyzer, wav, args.repeat, os.getloadavg(), ffmpeg, args.against)
    codec_texts = []
    if args.part == "all":
        texts = []
        for condition in conditions(args.idle_only):
            with one_core_busy(condition == BUSY):
                texts.append(command_section(condition, mixanalyzer, ffmpeg, wav, refs,
                                             args.repeat))  # fmt: skip
                codec_texts.append(codec_section(condition, mixanalyzer, wav, args.repeat,
                                                 ffmpeg, None))  # fmt: skip
        write_result(RESULTS_MD, "\n".join(texts))
    else:
        for condition in conditions(args.idle_only):
            with one_core_busy(condition == BUSY):
                codec_texts.append(codec_section(condition, mixanalyzer, wav, args.repeat,
                                                 ffmpeg, args.against))  # fmt: skip
    write_result(CODEC_MD, "\n".join(codec_texts))
    return 0


def write_result(path: Path, text: str) -> None:
    print(text)
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")


def command_section(
    condition: str, mixanalyzer: str, ffmpeg: str | None, wav: Path, refs: list[Path],
    repeat: int,
) -> str:  # fmt: skip
    """The command table in one condition (idle, or one core kept busy), ratios within it."""
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        results = {
            label: best_of(cmd, repeat)
            for label, cmd in commands(mixanalyzer, ffmpeg, wav, Path(scratch), refs).items()
        }
    anchor = next((r for label, r in results.items() if label.startswith("ffmpeg")), None)
    analyze = results["mixanalyzer analyze"]
    render = results["mixanalyzer translate --render (all devices)"]
    return "\n".join([
        f"## {condition}", "",
        f"Commands on {wav.name} ({SHORT_SECONDS / 60:g} min, 44.1 kHz, 16-bit), best of "
        f"{repeat}; `demo` and `--version` take no input file.", "",
        *machine_lines(ffmpeg, load_start), "", *render_table(results, anchor), "",
        "`translate --render` against `analyze`, from the rows above:", "",
        *render_lines(analyze, render), "",
        *compare_lines(analyze, results[f"mixanalyzer compare ({COMPARE_REFS} references)"]), "",
    ])  # fmt: skip


def render_part(
    mixanalyzer: str, wav: Path, repeat: int, load_start: tuple[float, ...], ffmpeg: str | None,
    against: str | None = None,
) -> int:  # fmt: skip
    """Only ``analyze`` and ``translate --render`` (every device), best of ``repeat``; with
    ``against`` (another build's ``mixanalyzer``, e.g. the main branch's), its ``translate
    --render`` too. The commands take turns in each round, so a load that comes and goes on a
    shared machine falls on all of them alike."""
    with tempfile.TemporaryDirectory() as scratch:
        rows = commands(mixanalyzer, None, wav, Path(scratch))
        cmds = {"analyze": rows["mixanalyzer analyze"],
                "render": rows["mixanalyzer translate --render (all devices)"]}  # fmt: skip
        if against:
            cmds["against"] = [against, *cmds["render"][1:]]
        runs: dict[str, list[Run]] = {k: [] for k in cmds}
        for _ in range(repeat):
            for key, argv in cmds.items():
                runs[key].append(best_of(argv, 1))
        best = {k: min(v, key=lambda r: r.wall_s) for k, v in runs.items()}
    lines = render_lines(best["analyze"], best["render"])
    if against:
        lines += ["", f"Same run, `{against}` (the build compared with):", "",
                  *render_lines(best["analyze"], best["against"])]  # fmt: skip
    lines += ["", "Every round (wall s, CPU s):", ""]
    lines += [f"- {k}: " + ", ".join(f"{r.wall_s:.2f}/{r.cpu_s:.2f}" for r in v)
              for k, v in runs.items()]  # fmt: skip
    text = "\n".join([
        f"translate --render (all devices) against analyze on {wav.name} "
        f"({SHORT_SECONDS / 60:g} min, 44.1 kHz, 16-bit), best of {repeat}.", "",
        *machine_lines(ffmpeg, load_start), "", *lines, "",
    ])  # fmt: skip
    print(text)
    RENDER_MD.parent.mkdir(exist_ok=True)
    RENDER_MD.write_text(text, encoding="utf-8")
    return 0


# --- the codec check against ffmpeg (issue 17) ---------------------------------------------

#: The codec check's settings (analyzer.playback.codecs) as ffmpeg options: Opus 160 kbps
#: stereo VBR at 48 kHz, Vorbis q5, LAME 256 kbps CBR at LAME's quality 3 (libsndfile never
#: sets it, so LAME's own default, 3, applies; ffmpeg's default would be 5).
FFMPEG_CODECS = {
    "opus.ogg": ["-c:a", "libopus", "-b:a", "160k", "-vbr", "on", "-ar", "48000", "-ac", "2"],
    "vorbis.ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    "mp3.mp3": ["-c:a", "libmp3lame", "-b:a", "256k", "-compression_level", "3"],
}


def ffmpeg_codec_runs(ffmpeg: str, wav: Path, scratch: Path) -> Run:
    """ffmpeg encoding then decoding (to null) each codec, one after another: times and CPU
    added up, peak RSS the largest."""
    quiet = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    runs = []
    for name, options in FFMPEG_CODECS.items():
        out = scratch / name
        runs.append(best_of([*quiet, "-i", str(wav), *options, str(out)], 1))
        runs.append(best_of([*quiet, "-i", str(out), "-f", "null", "-"], 1))
    return Run(wall_s=sum(r.wall_s for r in runs), cpu_s=sum(r.cpu_s for r in runs),
               peak_rss_mb=max(r.peak_rss_mb for r in runs), returncode=0, stdout="",
               stderr="")  # fmt: skip


def codec_libraries() -> str:
    """Which libsndfile this build's codec check uses per codec (the system's or the wheel's:
    their speed differs 3-4x, analyzer/io/codec.py)."""
    from analyzer.io.codec import library_label
    from analyzer.playback.codecs import CODECS, lossy_encoding

    return "; ".join(f"{c}: {library_label(lossy_encoding(c, SHORT_RATE_HZ))}" for c in CODECS)


def codec_section(
    condition: str, mixanalyzer: str, wav: Path, repeat: int, ffmpeg: str | None,
    against: str | None = None,
) -> str:  # fmt: skip
    """``analyze --codec-check``, ``analyze`` and the ffmpeg anchor taking turns in each round,
    best of ``repeat``; the ratio the issue asks for is codec check / ffmpeg."""
    load_start = os.getloadavg()
    if ffmpeg is None:
        sys.exit("bench_commands --part codec: no ffmpeg (benchmarks/setup.sh installs it)")
    cmds = {"analyze": [mixanalyzer, "analyze", str(wav), "-q"],
            "codec": [mixanalyzer, "analyze", str(wav), "-q", "--codec-check"]}  # fmt: skip
    if against:
        cmds["against"] = [against, *cmds["codec"][1:]]
    runs: dict[str, list[Run]] = {k: [] for k in ["ffmpeg", *cmds]}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeat):
            runs["ffmpeg"].append(ffmpeg_codec_runs(ffmpeg, wav, Path(scratch)))
            for key, argv in cmds.items():
                runs[key].append(best_of(argv, 1))
    best = {k: min(v, key=lambda r: r.wall_s) for k, v in runs.items()}
    labels = {"ffmpeg": "ffmpeg: opus, vorbis, mp3 encode + decode, one after another (anchor)",
              "analyze": "mixanalyzer analyze", "codec": "mixanalyzer analyze --codec-check",
              "against": f"{against} analyze --codec-check"}  # fmt: skip
    lines = ["| command | wall s | × ffmpeg | CPU s | × ffmpeg | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    anchor = best["ffmpeg"]
    for key, run in best.items():
        lines.append(f"| {labels[key]} | {run.wall_s:.2f} | {run.wall_s / anchor.wall_s:.2f} "
                     f"| {run.cpu_s:.2f} | {run.cpu_s / anchor.cpu_s:.2f} "
                     f"| {run.peak_rss_mb:.0f} |")  # fmt: skip
    lines += ["", "Every round (wall s / CPU s):", ""]
    lines += [f"- {k}: " + ", ".join(f"{r.wall_s:.2f}/{r.cpu_s:.2f}" for r in v)
              for k, v in runs.items()]  # fmt: skip
    return "\n".join([
        f"## {condition}", "",
        f"`analyze --codec-check` against ffmpeg's three round trips on {wav.name} "
        f"({SHORT_SECONDS / 60:g} min, 44.1 kHz, 16-bit), best of {repeat}; ffmpeg: "
        + "; ".join(" ".join(o) for o in FFMPEG_CODECS.values()) + ".", "",
        *machine_lines(ffmpeg, load_start), f"- Codec check's libraries: {codec_libraries()}",
        "", *lines, "",
    ])  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
