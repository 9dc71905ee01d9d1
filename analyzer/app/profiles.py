"""The ``reference build`` use case: analyse reference tracks in parallel and save a genre
profile (statistics, names and hashes only; never audio)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.app.measuring import refuse_existing_output
from analyzer.app.results import ProfileRun
from analyzer.app.settings import ProfileSettings
from analyzer.runtime import one_blas_thread

if TYPE_CHECKING:
    from analyzer.batching.profile_build import ProfileProgress


def profile_path(settings: ProfileSettings, output: str | os.PathLike[str] | None = None) -> Path:
    """Where the profile goes: ``output``, else ``NAME.json`` in the user's profile folder."""
    from analyzer.paths import user_profiles_dir

    return Path(output) if output else user_profiles_dir() / f"{settings.name}.json"


@one_blas_thread
def build_profile(
    paths: Sequence[str | os.PathLike[str]],
    settings: ProfileSettings,
    *,
    output: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: ProfileProgress | None = None,
) -> ProfileRun:
    """Analyse the audio files in ``paths`` (files, and folders searched recursively) and save
    their per-metric median and 10th/90th percentiles as a profile at :func:`profile_path`
    (refused when it exists unless ``force``, before the long analysis).
    ``progress(done, total, file_name)`` reports each file."""
    from analyzer.batching.executors import jobs_note
    from analyzer.batching.profile_build import build_profile as build
    from analyzer.comparison.profiles import save_profile

    target = profile_path(settings, output)
    from analyzer.io.write import check_distinct

    check_distinct(paths, [target])
    refuse_existing_output(str(target), force)
    profile = build(paths, name=settings.name, jobs=settings.jobs, progress=progress,
                    description=settings.description)  # fmt: skip
    save_profile(profile, target, force=force)
    note = jobs_note(settings.jobs)
    return ProfileRun(profile, target, notes=(note,) if note else ())
