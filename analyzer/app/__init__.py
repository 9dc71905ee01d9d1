"""The application layer: one function per use case, typed settings in, frozen results out.

Nothing here prints; every error a user can cause is an :class:`~analyzer.errors.AnalyzerError`
with a one-line message. The command line (:mod:`analyzer.cli`) and Python callers use the same
functions::

    from analyzer import CompareSettings, compare
    run = compare("mix.wav", CompareSettings(references=["ref.wav"]))
    print(run.comparison.top_differences[0].text)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from analyzer.lazy import lazy_exports

#: Where each use case, settings class and result lives. They are imported on first use
#: (PEP 562), so a command pays only for its own use case (``analyze`` does not import the
#: translation's devices, the master's solver or the watch loop).
_HOME = {
    "analyze": "analysis",
    "batch": "batch_run",
    "compare": "comparing",
    "run_demo": "demo_run",
    "master": "mastering_run",
    "propose": "mastering_run",
    "build_profile": "profiles",
    "AnalyzedTrack": "results",
    "AnalyzeRun": "results",
    "BatchRun": "results",
    "CompareRun": "results",
    "DemoRun": "results",
    "FileFailure": "results",
    "MasterRun": "results",
    "ProfileRun": "results",
    "ProposeRun": "results",
    "TranslateRun": "results",
    "AnalyzeSettings": "settings",
    "BatchSettings": "settings",
    "CompareSettings": "settings",
    "MasterSettings": "settings",
    "ProfileSettings": "settings",
    "TranslateSettings": "settings",
    "WatchSettings": "settings",
    "translate": "translating",
    "Bounce": "watching",
    "WatchCallbacks": "watching",
    "WatchRun": "watching",
    "WatchStart": "watching",
    "watch": "watching",
}

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


__getattr__, __dir__ = lazy_exports(__name__, _HOME)


if TYPE_CHECKING:
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
