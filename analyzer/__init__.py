"""mixanalyzer: measure, compare, translate and master music mixes.

The public API is imported lazily so that ``mixanalyzer --version`` and the CLI start fast:
``from analyzer import analyze_file`` loads numpy and soundfile only when first used.
"""

from __future__ import annotations

from typing import Any

from analyzer.version import __version__

__all__ = ["__version__", "analyze_array", "analyze_file", "open_audio"]


def __getattr__(name: str) -> Any:
    if name in ("analyze_file", "analyze_array"):
        from analyzer.measure import engine

        return getattr(engine, name)
    if name == "open_audio":
        from analyzer import io

        return io.open_audio
    raise AttributeError(f"module 'analyzer' has no attribute {name!r}")
