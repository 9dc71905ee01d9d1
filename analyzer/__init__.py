"""mixanalyzer: measure, compare, translate and master music mixes.

The public API is imported lazily so that ``mixanalyzer --version`` and the CLI start fast:
``from analyzer import compare`` loads numpy and soundfile only when first used. The use cases
(:mod:`analyzer.app`): ``analyze``, ``compare``, ``translate``, ``propose``, ``master``,
``batch``, ``build_profile``, ``watch`` and their settings classes; the measuring core:
``analyze_file``, ``analyze_array``, ``open_audio``.
"""

from __future__ import annotations

from typing import Any

from analyzer.version import __version__

#: The use cases and their settings (:mod:`analyzer.app`).
_USE_CASES = (
    *("analyze", "compare", "translate", "propose", "master", "batch", "build_profile"),
    *("watch", "AnalyzeSettings", "CompareSettings", "TranslateSettings", "MasterSettings"),
    *("BatchSettings", "ProfileSettings", "WatchSettings", "WatchCallbacks"),
)
#: Public name -> module that defines it (imported on first use).
_LAZY = {
    "analyze_file": "analyzer.measure.engine",
    "analyze_array": "analyzer.measure.engine",
    "open_audio": "analyzer.io",
    **dict.fromkeys(_USE_CASES, "analyzer.app"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
