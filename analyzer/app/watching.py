"""The ``watch`` use case: the bounce-and-check loop (issue 18, part 2).

A bounce file or a folder of bounces is watched with ``watchfiles`` (inotify and its
equivalents); each new or changed audio file is analysed once it is complete
(:mod:`analyzer.app.bounces`), against references measured once at the start or a genre
profile: the figures, their change since the previous bounce and against the references, the
top differences in words and the device scores (the band model of
:func:`analyzer.app.translating.translation_of`). With ``html`` the page is rewritten
atomically after every bounce and the entry appended to the history beside it
(``REPORT.history.jsonl``, one whole line per bounce). Nothing here prints: the caller gets each
bounce and each bad file through callbacks.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.app.bounces import (
    Settler,
    bounce_figures,
    error_entry,
    history_entry,
    reference_figures,
)
from analyzer.app.measuring import load_profile, measure_track, measure_tracks, profile_label
from analyzer.app.settings import TranslateSettings, WatchSettings
from analyzer.errors import AnalyzerError, OutputError, UsageError
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    from analyzer.comparison.metrics import Comparison
    from analyzer.comparison.profiles import ReferenceProfile
    from analyzer.playback.translate import Translation
    from analyzer.types import TrackAnalysis

#: How often the loop looks at files waiting to settle when nothing else happens (s).
TICK_S = 0.1


@dataclass(frozen=True)
class WatchStart:
    """What is watched, against what, and where the page and history go."""

    target: str
    references: tuple[str, ...]
    html: str | None
    history: str | None
    resumed: int  # history entries of an earlier session of this report
    latest: int  # the number of the last of them (0: none)
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Bounce:
    """One analysed bounce: its analysis, comparison, translation and its history entry."""

    index: int
    path: str
    mix: TrackAnalysis
    comparison: Comparison | None
    translation: Translation | None
    entry: Mapping[str, Any]


@dataclass(frozen=True)
class WatchRun:
    """How the watch ended: bounces analysed and bad ones."""

    analysed: int
    failed: int


@dataclass
class WatchCallbacks:
    """``on_bounce(bounce)`` after the page and the history are written; ``on_error(path,
    message)`` for a bad bounce; ``on_start(start)`` once the references are measured."""

    on_bounce: Callable[[Bounce], None] = lambda _b: None
    on_error: Callable[[str, str], None] = lambda _p, _m: None
    on_start: Callable[[WatchStart], None] = lambda _s: None


def history_path(html: str | os.PathLike[str]) -> str:
    """``REPORT.history.jsonl`` beside ``REPORT.html``."""
    p = Path(html)
    return os.fspath(p.with_name(p.stem + ".history.jsonl"))


@dataclass
class _Session:
    html: str | None
    history: str | None
    target: str
    names: tuple[str, ...]
    entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def next_index(self) -> int:
        return max((int(e.get("bounce", 0)) for e in self.entries), default=0) + 1

    def record(self, entry: dict[str, Any]) -> None:
        """Append the history line, then rewrite the page (both atomic in their way)."""
        from analyzer.io.history import append_json_line

        self.entries.append(entry)
        if self.history:
            append_json_line(self.history, entry)
        self.write_page()

    def write_page(self) -> None:
        if not self.html:
            return
        from analyzer.io import write_text_atomic
        from analyzer.report.watch_page import render_watch_page

        page = render_watch_page(self.entries, target=self.target, references=self.names)
        write_text_atomic(self.html, page, force=True)


def open_session(
    target: str, html: str | None, names: tuple[str, ...], *, force: bool, inputs: list[str],
    history: str | None = None,
) -> _Session:  # fmt: skip
    """Check the outputs and write the first page. The history is ``history``, else beside
    ``html`` (none without either). An existing page must be a watch page and an existing
    history a watch history, or ``force`` (which starts a new history); the history is
    continued then."""
    from analyzer.io.write import check_distinct, check_output
    from analyzer.report.watch_page import is_watch_page

    hist = history or (history_path(html) if html else None)
    if not hist:
        return _Session(None, None, target, names)
    outputs = [p for p in (html, hist) if p]
    check_distinct(inputs, outputs)
    for path in outputs:
        check_output(path, True)  # refuses what is no regular file, even with --force
    entries = _watch_history(hist) if os.path.lexists(hist) else []
    foreign = [p for p in outputs if os.path.lexists(p) and (
        not is_watch_page(p) if p == html else entries is None)]  # fmt: skip
    if foreign and not force:
        kind = "watch report" if foreign[0] == html else "watch history"
        raise OutputError(f"{foreign[0]}: exists and is not a mixanalyzer {kind}; give "
                          "--force to replace it", slug="exists")  # fmt: skip
    session = _Session(html, hist, target, names)
    if foreign and os.path.lexists(hist):
        os.unlink(hist)  # --force over another file: a new history
    elif entries:
        session.entries = entries
    session.write_page()
    return session


def _watch_history(path: str) -> list[dict[str, Any]] | None:
    """The entries of a history this module wrote, None for any other file: a regular file of
    JSON lines, every whole line a valid entry (an empty file, or a last line torn by a crash,
    still counts)."""
    from analyzer.io.history import read_json_lines

    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as fh:
            whole = [line for line in fh.read().split(b"\n")[:-1] if line.strip()]
        entries = read_json_lines(path)
    except (OSError, ValueError, OutputError):
        return None
    ours = len(entries) >= len(whole) and all(map(_valid_entry, entries))
    return entries if ours else None


def _valid_entry(e: dict[str, Any]) -> bool:
    """A history line of an earlier session in the shape this module writes (the file is
    read back, so it is checked: numbers where numbers go, text where text goes)."""
    if not all(isinstance(e.get(k), str) for k in ("path", "time")):
        return False
    if "error" in e:
        return isinstance(e["error"], str)
    numbers = [e.get(k) or {} for k in ("figures", "vs_previous", "vs_references", "references")]
    if not all(isinstance(d, dict) for d in numbers) or not e.get("figures"):
        return False
    ok = all(v is None or isinstance(v, int | float) for d in numbers for v in d.values())
    tops = e.get("top_differences", [])
    return ok and isinstance(tops, list) and all(isinstance(t, str) for t in tops)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def analyse_bounce(
    path: str, index: int, refs: list[TrackAnalysis], profile: ReferenceProfile | None,
    previous: Mapping[str, Any] | None,
) -> Bounce:  # fmt: skip
    """Measure one bounce and judge it against the references (or the profile)."""
    from analyzer.app.translating import translation_of

    t0 = time.perf_counter()
    notes: list[str] = []
    mix = measure_track(path, notes=notes, series=True)
    run = translation_of(mix, refs, TranslateSettings(), profile=profile, with_proposal=False)
    figures = bounce_figures(mix, run.comparison, run.translation)
    ref_figures = reference_figures(run.comparison, run.translation)
    tops = [d.text for d in run.comparison.top_differences] if run.comparison else []
    entry = history_entry(index, path, _now(), figures, ref_figures, previous, tops[:3],
                          time.perf_counter() - t0)  # fmt: skip
    return Bounce(index, path, mix, run.comparison, run.translation, entry)


@one_blas_thread
def watch(
    target: str | os.PathLike[str],
    settings: WatchSettings,
    *,
    html: str | os.PathLike[str] | None = None,
    history: str | os.PathLike[str] | None = None,
    force: bool = False,
    callbacks: WatchCallbacks | None = None,
    stop: threading.Event | None = None,
) -> WatchRun:
    """Watch ``target`` (a bounce file or a folder) until ``stop`` is set, ``max_bounces`` are
    done or the process is interrupted (KeyboardInterrupt). A file ``target`` that exists is
    analysed first (the baseline); in a folder only new or changed files count. A bounce that
    cannot be analysed goes to ``on_error`` and the watch goes on. Each bounce is appended to
    ``history`` (JSON lines; default with ``html``: :func:`history_path` beside it)."""
    import watchfiles

    cb = callbacks or WatchCallbacks()
    target = os.path.realpath(os.fspath(target))  # watchfiles reports real paths
    if not (os.path.isfile(target) or os.path.isdir(target)):
        raise UsageError(f"{target}: no such file or folder to watch")
    profile = load_profile(settings.profile)
    # A watch measures every bounce for as long as it runs: where the recursions were not built
    # ahead of time, numba's one-off load (~0.7 s, in the background while the references are
    # measured) buys the meters' compiled K-weighting.
    from analyzer.dsp import jit

    if not jit.recursions_built():
        jit.start_loading()
    notes: list[str] = []
    refs = measure_tracks(settings.references, notes=notes, series=True)
    names = (profile_label(profile),) if profile else settings.references
    inputs = [*settings.references, *([target] if os.path.isfile(target) else [])]
    session = open_session(
        target, os.fspath(html) if html else None, names, force=force, inputs=inputs,
        history=os.fspath(history) if history else None,
    )  # fmt: skip
    cb.on_start(WatchStart(target, names, session.html, session.history, len(session.entries),
                           session.next_index - 1, tuple(notes)))  # fmt: skip
    settler = Settler(settings.settle_s, settings.give_up_s)
    folder = target if os.path.isdir(target) else os.path.dirname(target)
    wanted = (lambda p: True) if folder == target else (lambda p: p == target)
    if folder != target:
        settler.seen([target], time.monotonic() - settings.settle_s)
    analysed = failed = 0
    limit = settings.max_bounces
    changes: set[tuple[Any, str]] = set()
    events = watchfiles.watch(folder, debounce=400, step=50, rust_timeout=int(TICK_S * 1000),
                              yield_on_timeout=True, recursive=False, stop_event=stop,
                              watch_filter=None)  # fmt: skip
    while True:
        settler.seen([os.path.realpath(p) for _, p in changes if wanted(os.path.realpath(p))],
                     time.monotonic())  # fmt: skip
        complete, bad = settler.ready(time.monotonic())
        for path in complete:
            version = settler.version_of(path)
            previous = next((e for e in reversed(session.entries) if "figures" in e), None)
            try:
                bounce = analyse_bounce(path, session.next_index, refs, profile, previous)
            except AnalyzerError as exc:
                bad.append((path, exc.message))
                settler.finished(path, version)
                continue
            settler.finished(path, version)
            session.record(dict(bounce.entry))
            analysed += 1
            cb.on_bounce(bounce)
        for path, message in bad:
            session.record(error_entry(session.next_index, path, _now(), message))
            failed += 1
            cb.on_error(path, message)
        if (limit is not None and analysed + failed >= limit) or (stop and stop.is_set()):
            break
        try:
            changes = next(events)
        except StopIteration:  # the stop event was set
            break
    return WatchRun(analysed, failed)
