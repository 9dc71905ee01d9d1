"""``watch``: when a bounce is complete, and what one bounce says (figures, changes since the
previous bounce and against the references) as one history entry.

A DAW writes a bounce in pieces, often over seconds (a real-time bounce over minutes). A file
is taken as complete when its size and modification time have not changed for ``settle_s``
AND the loader opens it whole: a WAV/AIFF whose header declares more audio than the file holds
(the data written so far) is refused by :mod:`analyzer.io.source` as truncated, and an Ogg
stream that does not end on its last page likewise. An empty or truncated file that stays so
for ``give_up_s`` is a bad bounce, and so is, once settled, a file that is no audio the loader
reads: its error is reported once for that version of the file, and a later change is
considered again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from analyzer.comparison.metrics import Comparison
    from analyzer.playback.translate import Translation
    from analyzer.types import TrackAnalysis

#: The figures of the delta table, in order: (key in the entry, label, unit).
CORE_FIGURES = (
    ("integrated_lufs", "Integrated", "LUFS"),
    ("true_peak_dbtp", "True peak", "dBTP"),
    ("plr_db", "PLR", "dB"),
    ("lra_lu", "LRA", "LU"),
)
#: Extensions libsndfile reads that a DAW bounces to (lower case, with the dot).
AUDIO_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".ogg", ".oga",
                    ".opus", ".mp3", ".caf", ".w64", ".rf64")  # fmt: skip


def is_candidate(path: str) -> bool:
    """An audio file by its extension, not hidden (a DAW's or our own temporary file)."""
    name = os.path.basename(path)
    return not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS)


def _version(path: str) -> tuple[int, int] | None:
    """``(size, mtime_ns)`` of a regular file, None when it is gone or is no regular file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    import stat

    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


@dataclass
class _Pending:
    version: tuple[int, int]
    since: float  # when this version was first seen
    reported: bool = False  # its error was given already


@dataclass
class Settler:
    """Files seen changing, until each is complete (see the module's docstring). ``done``
    holds the versions analysed or refused already, so a repeated event never analyses the
    same bounce twice."""

    settle_s: float
    give_up_s: float
    pending: dict[str, _Pending] = field(default_factory=dict)
    done: dict[str, tuple[int, int]] = field(default_factory=dict)

    def seen(self, paths: Iterable[str], now: float) -> None:
        """Paths reported changed by the file-system watcher (any order, repeats allowed)."""
        for path in paths:
            if not is_candidate(path):
                continue
            version = _version(path)
            if version is None:
                self.pending.pop(path, None)
                continue
            if self.done.get(path) == version:
                continue
            old = self.pending.get(path)
            if old is None or old.version != version:
                self.pending[path] = _Pending(version, now)

    def ready(self, now: float) -> tuple[list[str], list[tuple[str, str]]]:
        """``(complete paths, [(path, error)])``: the bounces to analyse now (oldest first)
        and the bad ones to report (once per version)."""
        complete, bad = [], []
        for path, p in sorted(self.pending.items(), key=lambda kv: kv[1].since):
            version = _version(path)
            if version is None:
                del self.pending[path]
                continue
            if version != p.version:
                self.pending[path] = _Pending(version, now)
                continue
            if now - p.since < self.settle_s:
                continue
            problem = header_problem(path)
            if problem is None:
                complete.append(path)
            elif p.reported:
                continue
            elif not still_writing(path) or now - p.since >= self.give_up_s:
                p.reported = True
                bad.append((path, problem))
        return complete, bad

    def finished(self, path: str, version: tuple[int, int] | None = None) -> None:
        """``path`` was analysed (or refused by the analysis) at its current version."""
        p = self.pending.pop(path, None)
        v = version or (p.version if p else _version(path))
        if v is not None:
            self.done[path] = v

    def version_of(self, path: str) -> tuple[int, int] | None:
        p = self.pending.get(path)
        return p.version if p else None


def header_problem(path: str) -> str | None:
    """Why the loader does not take ``path`` whole yet (None: it does). Opening runs the
    truncation checks (declared data size against the bytes present, a clean Ogg end)."""
    from analyzer.io import open_audio

    try:
        with open_audio(path) as src:
            if src.info.frames <= 0:
                return f"{os.path.basename(path)}: no audio frames yet"
    except AnalyzerError as exc:
        return exc.message
    return None


def still_writing(path: str) -> bool:
    """Whether a file the loader refuses may still be on its way: empty, or its header
    declaring more than it holds (a bounce written in pieces). Any other refusal (not audio
    at all) is final for this version of the file."""
    from analyzer.errors import AudioLoadError
    from analyzer.io import open_audio

    try:
        if os.path.getsize(path) == 0:
            return True
        with open_audio(path):
            return False
    except AudioLoadError as exc:
        return exc.slug in ("truncated", "empty")
    except (AnalyzerError, OSError):
        return False


# --------------------------------------------------------------------------------------------
# One bounce as figures and a history entry
# --------------------------------------------------------------------------------------------


def bounce_figures(
    mix: TrackAnalysis, comparison: Comparison | None, translation: Translation | None
) -> dict[str, float | None]:
    """The figures the table and the history follow: integrated, true peak, PLR, LRA, the six
    tonal bands (``tonal.BAND``) and the device scores (``score.DEVICE``)."""
    from analyzer.comparison.metrics import track_metrics

    metrics = track_metrics(mix)
    out = {key: metrics.get(key) for key, _, _ in CORE_FIGURES}
    out.update({k: v for k, v in metrics.items() if k.startswith("tonal.")})
    if translation is not None:
        out.update({f"score.{d.name}": d.score for d in translation.devices})
    return {k: None if v is None else round(float(v), 4) for k, v in out.items()}


def reference_figures(
    comparison: Comparison | None, translation: Translation | None
) -> dict[str, float | None]:
    """The references' median of each figure (a device: the references' score there)."""
    out: dict[str, float | None] = {}
    if comparison is not None:
        for key, m in comparison.metrics.items():
            if key in dict.fromkeys(k for k, _, _ in CORE_FIGURES) or key.startswith("tonal."):
                out[key] = m.median
    if translation is not None:
        out.update({f"score.{d.name}": d.reference_score for d in translation.devices})
    return out


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 4)


def history_entry(
    index: int, path: str, when: str, figures: Mapping[str, float | None],
    references: Mapping[str, float | None], previous: Mapping[str, Any] | None,
    top_differences: Iterable[str], seconds: float,
) -> dict[str, Any]:  # fmt: skip
    """One line of the history: the bounce's figures, their change since the previous bounce
    (``vs_previous``; absent for the first) and their distance from the references' median
    (``vs_references``), the top differences in words and the analysis time."""
    prev = (previous or {}).get("figures") or {}
    return {
        "bounce": index,
        "path": path,
        "time": when,
        "figures": dict(figures),
        "vs_previous": {k: _minus(v, prev.get(k)) for k, v in figures.items()} if prev else None,
        "vs_references": {k: _minus(v, references.get(k)) for k, v in figures.items()},
        "references": dict(references),
        "top_differences": list(top_differences),
        "analysis_s": round(seconds, 3),
    }


def error_entry(index: int, path: str, when: str, message: str) -> dict[str, Any]:
    """The history line of a bounce that could not be analysed."""
    return {"bounce": index, "path": path, "time": when, "error": message}
