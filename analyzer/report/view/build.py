"""The whole report view: the tracks, the comparison merged into the mix's rows, the
translation, the master and batch sections, and the findings ranked by source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analyzer.report.view.comparison import comparison_view, translation_view
from analyzer.report.view.model import (
    BatchView,
    ComparisonView,
    Finding,
    MasterView,
    ReportView,
    ToolInfo,
    TrackView,
    TranslationView,
)
from analyzer.report.view.track import track_view
from analyzer.types import TrackAnalysis
from analyzer.version import __version__

VIEW_VERSION = 1
#: "Louder than needed" is one finding naming every platform (the track's findings), not a
#: warning per platform.
_LOUDER = "louder than needed"
#: Without ranked differences, the first finding of this many worst devices is shown.
WORST_DEVICES_SHOWN = 3


def _translation_findings(trans: TranslationView) -> list[Finding]:
    findings = [Finding("translate", t) for t in trans.ranked_differences]
    if not trans.ranked_differences:
        worst = sorted(
            (d for d in trans.devices if d.findings),
            key=lambda d: d.score if d.score is not None else 100.0,
        )
        findings += [Finding("translate", d.findings[0]) for d in worst[:WORST_DEVICES_SHOWN]]
    return findings


def _track_findings(tv: TrackView) -> list[Finding]:
    """The track's findings (out of spec, errors first), its platforms' other warnings, and
    the analysis warnings (degenerate input)."""
    findings = [Finding("findings", f.text, f.severity) for f in tv.findings]
    shown = set()
    for p in tv.platforms:
        for w in p.warnings:
            if _LOUDER not in w and w not in shown:
                shown.add(w)
                findings.append(Finding("platforms", f"{p.label}: {w}"))
    return findings + [Finding("analysis", w) for w in tv.warnings]


def findings_of(
    kind: str,
    tracks: Sequence[TrackView],
    comp: ComparisonView | None,
    trans: TranslationView | None,
    master: MasterView | None,
) -> tuple[Finding, ...]:
    """What matters most, ranked by source: the comparison's differences, the translation's,
    the track's findings (out of spec, errors first), the platforms' other warnings and the
    analysis warnings (of the mix; of every track for
    ``analyze``), then the master's notes."""
    findings: list[Finding] = []
    if comp is not None:
        findings += [Finding("compare", d.text) for d in comp.top_differences]
    if trans is not None:
        findings += _translation_findings(trans)
    for tv in tracks[:1] if kind != "analyze" else tracks:
        findings += _track_findings(tv)
    if master is not None:
        findings += [Finding("master", n) for n in master.notes]
    return tuple(findings)


def build_view(
    kind: str,
    tracks: Sequence[TrackAnalysis],
    *,
    platforms: Sequence[Sequence[Any] | None] | None = None,
    tags: Sequence[Mapping[str, str] | None] | None = None,
    comparison: Any = None,
    references: Sequence[TrackAnalysis] = (),
    reference_names: Sequence[str] = (),
    section: str = "whole",
    translation: Any = None,
    reference_translations: Sequence[Any] = (),
    notes: Sequence[str] = (),
    master: MasterView | None = None,
    batch: BatchView | None = None,
    title: str | None = None,
) -> ReportView:
    """The whole report. ``tracks[0]`` is the mix for compare / translate; ``platforms`` and
    ``tags`` go per track. ``master`` / ``batch`` come from
    :func:`~analyzer.report.view.master_view_for` / :func:`~analyzer.report.view.batch_view_for`
    (or :func:`~analyzer.report.view.master_view` / :func:`~analyzer.report.view.batch_view`)."""
    platforms = list(platforms or [None] * len(tracks))
    tags = list(tags or [None] * len(tracks))
    comp = comparison_view(comparison, references, section) if comparison is not None else None
    tviews = tuple(
        track_view(t, platforms=p, tags=g, role="mix" if i == 0 else "track",
                   comparison=comp if i == 0 else None)
        for i, (t, p, g) in enumerate(zip(tracks, platforms, tags, strict=True))
    )  # fmt: skip
    trans = (
        translation_view(translation, reference_translations) if translation is not None else None
    )
    first = tviews[0].name if tviews else "report"
    return ReportView(
        view_version=VIEW_VERSION,
        kind=kind,
        title=title or f"mixanalyzer {kind}: {first}",
        tool=ToolInfo("mixanalyzer", __version__),
        tracks=tviews,
        references=tuple(reference_names) or (comp.references if comp else ()),
        comparison=comp,
        translation=trans,
        findings=findings_of(kind, tviews, comp, trans, master),
        notes=tuple(notes),
        master=master,
        batch=batch,
    )
