"""The measuring steps the use cases share, each defined once: a file analysed whole or by its
loudest section, a reference measured at the mix's rate, several files on both cores, the
platform preview, a profile loaded, and an output refused before any work."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.app.results import Progress

if TYPE_CHECKING:
    from analyzer.comparison.profiles import ReferenceProfile
    from analyzer.playback.platforms import PlatformPreview
    from analyzer.types import TrackAnalysis

#: ``compare --section loudest`` compares this much of each track (chorus against chorus).
LOUDEST_SECTION_S = 30.0
#: The meters' threads of each of two analyses run side by side: one (the two fill the two
#: cores; with a thread per meter each, `compare` with three references took 7.8 s instead of
#: 5.5 s and 250 MB instead of 163, at the same CPU time).
SIDE_BY_SIDE_THREADS: int | None = 1


def step_progress(progress: Progress | None, label: str) -> Callable[[int, int], None] | None:
    """A ``(done, total)`` callback that reports to ``progress`` under ``label``."""
    if progress is None:
        return None
    return lambda done, total: progress(label, done, total)


def refuse_existing_output(path: str | os.PathLike[str] | None, force: bool) -> None:
    """Refuse an existing output without ``force`` before any work (exit 4), and one that is
    not a regular file even with it; ``None`` and ``-`` (standard output) pass."""
    if not path:
        return
    from analyzer.io.write import check_output

    check_output(path, force)


def load_profile(profile: str | None) -> ReferenceProfile | None:
    """The genre profile named or found at ``profile`` (None: none), refused before any
    analysis when it is missing or malformed."""
    if not profile:
        return None
    from analyzer.comparison.profiles import load_profile as load

    return load(profile)


def profile_label(profile: ReferenceProfile) -> str:
    """How a profile is named among the references of a comparison."""
    return f"profile {profile.name} ({profile.n_tracks} tracks)"


def platform_preview(
    track: TrackAnalysis, targets: str | os.PathLike[str] | None = None
) -> tuple[PlatformPreview, ...]:
    """What each streaming platform's normalisation does to ``track`` (targets: the built-in
    table plus a JSON/TOML file; None: the user's file if present)."""
    from analyzer.playback.platforms import preview
    from analyzer.playback.user_targets import load_targets

    table = load_targets(targets)
    return tuple(preview(track.loudness.integrated_lufs, track.peaks.true_peak_dbtp, table))


def analyze_path(
    path: str,
    *,
    series: bool = False,
    progress: Progress | None = None,
    section_s: tuple[float, float] | None = None,
    resample_to_hz: int | None = None,
    threads: int | None = None,
) -> TrackAnalysis:
    """One streaming analysis of ``path``, reported to ``progress`` under the file's name
    (``threads``: the meters' threads, :func:`~analyzer.measure.engine.run_meters`)."""
    from analyzer.measure.engine import analyze_file

    report = step_progress(progress, Path(path).name)
    return analyze_file(path, keep_series=series, section_s=section_s,
                        resample_to_hz=resample_to_hz, progress=report,
                        threads=threads)  # fmt: skip


def measure_track(
    path: str,
    *,
    section: str = "whole",
    rate_hz: int | None = None,
    notes: list[str],
    series: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
) -> TrackAnalysis:
    """Analyse a track for a comparison: optionally at another rate (soxr), optionally only its
    loudest :data:`LOUDEST_SECTION_S` (found from the whole track's short-term loudness, then
    measured again on its own); what was done is added to ``notes``."""
    from analyzer.io import display_path
    from analyzer.measure.engine import loudest_section_s

    whole = analyze_path(path, series=series or section == "loudest", progress=progress,
                         resample_to_hz=rate_hz, threads=threads)  # fmt: skip
    if section != "loudest":
        return whole
    name = display_path(path)
    start = loudest_section_s(whole, LOUDEST_SECTION_S)
    if start is None:
        notes.append(f"{name}: not longer than {LOUDEST_SECTION_S:.0f} s, compared whole")
        return whole
    notes.append(f"{name}: loudest {LOUDEST_SECTION_S:.0f} s from {start:.1f} s")
    return analyze_path(path, series=series, progress=progress, threads=threads,
                        section_s=(start, LOUDEST_SECTION_S), resample_to_hz=rate_hz)  # fmt: skip


#: Where the recursions were not built ahead of time (:mod:`analyzer.dsp.native`), numba's
#: kernels (:mod:`analyzer.dsp.jit`) repay their load (~0.7 s of CPU, ~100 MB, waited for at the
#: first block) when the files measured together hold at least this many samples (12 minutes
#: of 44.1 kHz stereo): they save about 0.16 s of CPU per such minute. Measured with 4-minute
#: tracks, ``compare`` with three references: a median of 3.61 s and 4.9 s of CPU against
#: 3.84 s and 5.6 s with the numpy meters (five runs alternated); with one reference (8 minutes)
#: no gain. With the built recursions numba's load no longer pays: the same ``compare`` took
#: 2.60-2.69 s and 150 MB without it against 2.75-2.80 s and 257 MB with it (three runs each,
#: alternated, 2026-12-05 on the Xeon).
KERNELS_PAY_FROM_SAMPLES = 12 * 60 * 44100 * 2


def load_kernels_if_they_pay(paths: Sequence[str]) -> bool:
    """Opt this process in to numba's kernels when ``paths`` together hold at least
    ``KERNELS_PAY_FROM_SAMPLES`` samples and the recursions were not built ahead of time
    (opening each file validates it and names it in any error, in the order given). Returns
    whether it did."""
    from analyzer.dsp import jit
    from analyzer.io import open_audio

    total = 0
    for path in paths:
        with open_audio(path) as src:
            total += src.info.frames * src.info.channels
    if total < KERNELS_PAY_FROM_SAMPLES or jit.recursions_built():
        return False
    jit.start_loading()
    return True


def source_rate_hz(path: str) -> int:
    """The sample rate in ``path``'s header (opening it validates the file and names it in any
    error)."""
    from analyzer.io import open_audio

    with open_audio(path) as src:
        return src.info.sample_rate_hz


def measure_with_references(
    mix: str,
    references: Sequence[str],
    *,
    notes: list[str],
    section: str = "whole",
    progress: Progress | None = None,
    mix_series: bool = False,
    series: bool = False,
) -> tuple[TrackAnalysis, list[TrackAnalysis]]:
    """The mix and its references (at the mix's rate) measured side by side on both cores
    (:func:`measure_tracks`), the series kept for the mix when ``mix_series`` and for the
    references when ``series``: ``(mix, references)``."""
    rate = source_rate_hz(mix)
    measured = measure_tracks([mix, *references], notes=notes, section=section,
                              rate_of=lambda p, n: rate_for_reference(p, rate, n),
                              progress=progress,
                              series=[mix_series] + [series] * len(references))  # fmt: skip
    return measured[0], measured[1:]


def rate_for_reference(path: str, mix_rate_hz: int, notes: list[str]) -> int | None:
    """The rate to measure a reference at so that it compares with the mix: None when it has
    the mix's rate already, else the mix's rate (soxr VHQ; never done otherwise), with a note.
    Opening the file here validates it and names it in any error."""
    from analyzer.io import display_path

    rate = source_rate_hz(path)
    if rate == mix_rate_hz:
        return None
    notes.append(f"{display_path(path)}: resampled {rate} -> {mix_rate_hz} Hz (soxr VHQ)")
    return mix_rate_hz


def measure_tracks(
    paths: Sequence[str],
    *,
    notes: list[str],
    rate_of: Callable[[str, list[str]], int | None] = lambda path, notes: None,
    section: str = "whole",
    progress: Progress | None = None,
    series: bool | Sequence[bool] = False,
) -> list[TrackAnalysis]:
    """:func:`measure_track` for each path, at ``rate_of(path, notes)`` (None: its own) and
    with its series when ``series`` (one flag, or one per path) says so, two
    tracks at a time: one analysis keeps about 1.5 of the two cores busy (its meters run in
    threads beside the decoder), so two side by side fill them. Every rate is found (and each
    file opened, so a bad one is named) before any analysis; the results and the notes come in
    the order of ``paths``, and the first failure in that order is the one raised."""
    own: list[list[str]] = [[] for _ in paths]
    rates = [rate_of(p, n) for p, n in zip(paths, own, strict=True)]
    keep = [series] * len(paths) if isinstance(series, bool) else list(series)

    def one(i: int, threads: int | None = None) -> TrackAnalysis:
        return measure_track(paths[i], section=section, rate_hz=rates[i], notes=own[i],
                             series=keep[i], progress=progress, threads=threads)  # fmt: skip

    if len(paths) < 2:
        measured = [one(i) for i in range(len(paths))]
    else:
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="measure")
        try:
            measured = list(pool.map(lambda i: one(i, SIDE_BY_SIDE_THREADS), range(len(paths))))
        finally:  # a failure or Ctrl-C: start no more analyses
            pool.shutdown(wait=True, cancel_futures=True)
    for n in own:
        notes.extend(n)
    return measured
