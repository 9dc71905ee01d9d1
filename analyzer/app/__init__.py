"""The application layer: one function per use case, typed settings in, frozen results out.

Nothing here prints; every error a user can cause is an :class:`~analyzer.errors.AnalyzerError`
with a one-line message. The command line (:mod:`analyzer.cli`) and Python callers use the same
functions::

    from analyzer import CompareSettings, compare
    run = compare("mix.wav", CompareSettings(references=["ref.wav"]))
    print(run.comparison.top_differences[0].text)
"""

from __future__ import annotations

from analyzer.app.analysis import analyze
from analyzer.app.batch_run import batch
from analyzer.app.comparing import compare
from analyzer.app.demo_run import run_demo
from analyzer.app.mastering_run import master, propose
from analyzer.app.profiles import build_profile
from analyzer.app.results import (
    AnalyzedTrack,
    AnalyzeRun,
    BatchRun,
    CompareRun,
    DemoRun,
    FileFailure,
    MasterRun,
    ProfileRun,
    ProposeRun,
    TranslateRun,
)
from analyzer.app.settings import (
    AnalyzeSettings,
    BatchSettings,
    CompareSettings,
    MasterSettings,
    ProfileSettings,
    TranslateSettings,
    WatchSettings,
)
from analyzer.app.translating import translate
from analyzer.app.watching import Bounce, WatchCallbacks, WatchRun, WatchStart, watch

__all__ = [
    "AnalyzeRun",
    "AnalyzeSettings",
    "AnalyzedTrack",
    "BatchRun",
    "BatchSettings",
    "Bounce",
    "CompareRun",
    "CompareSettings",
    "DemoRun",
    "FileFailure",
    "MasterRun",
    "MasterSettings",
    "ProfileRun",
    "ProfileSettings",
    "ProposeRun",
    "TranslateRun",
    "TranslateSettings",
    "WatchCallbacks",
    "WatchRun",
    "WatchSettings",
    "WatchStart",
    "analyze",
    "batch",
    "build_profile",
    "compare",
    "master",
    "propose",
    "run_demo",
    "translate",
    "watch",
]
