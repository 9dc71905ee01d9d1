"""The ``compare`` use case: a mix against reference tracks or a genre profile, level-matched,
with the platform preview and the mastering proposal that ``master`` would apply."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from analyzer.app.measuring import (
    load_kernels_if_they_pay,
    load_profile,
    measure_track,
    measure_with_references,
    platform_preview,
    profile_label,
)
from analyzer.app.results import CompareRun, Progress
from analyzer.app.settings import CompareSettings
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    from analyzer.types import TrackAnalysis


def unique_names(names: list[str]) -> list[str]:
    """Reference names, a repeated one numbered by its position (``a.wav #2``)."""
    return [n if names.count(n) == 1 else f"{n} #{i + 1}" for i, n in enumerate(names)]


@one_blas_thread
def compare(
    mix: str | os.PathLike[str],
    settings: CompareSettings,
    *,
    progress: Progress | None = None,
    with_proposal: bool = True,
) -> CompareRun:
    """Measure ``mix`` and the references (at the mix's rate, whole or by their loudest 30 s)
    or load the profile, and compare: per-metric verdicts, ranked differences, the platform
    preview and the default proposal (full amounts, the references' median loudness, -1 dBTP;
    ``with_proposal=False`` skips its fit, for a caller that proposes with its own settings).
    A bad profile is refused before any analysis."""
    from analyzer.comparison.metrics import compare as compare_analyses
    from analyzer.mastering.proposal import default_proposal

    mix = os.fspath(mix)
    profile = load_profile(settings.profile)
    notes: list[str] = []
    refs: list[TrackAnalysis] = []
    if profile is not None:
        mix_result = measure_track(mix, section=settings.section, notes=notes,
                                   series=settings.series, progress=progress)  # fmt: skip
        if settings.section == "loudest":
            notes.append("the profile's ranges describe whole tracks")
        names = [profile_label(profile)]
        comparison = compare_analyses(mix_result, profile_stats=profile.metrics,
                                      reference_names=names, notes=notes)  # fmt: skip
    else:
        load_kernels_if_they_pay([mix, *settings.references])
        mix_result, refs = measure_with_references(
            mix, settings.references, notes=notes, section=settings.section,
            progress=progress, mix_series=settings.series)  # fmt: skip
        names = unique_names([r.file.path for r in refs])
        comparison = compare_analyses(mix_result, refs, reference_names=names, notes=notes)
    return CompareRun(
        mix=mix_result, references=tuple(refs), reference_names=tuple(names),
        comparison=comparison, platforms=platform_preview(mix_result, settings.targets),
        proposal=default_proposal(mix_result, comparison) if with_proposal else None,
        section=settings.section,
        notes=tuple(notes),
    )  # fmt: skip
