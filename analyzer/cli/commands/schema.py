"""``mixanalyzer schema``: the JSON Schema of every document the tool writes."""

from __future__ import annotations

import sys


def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of every JSON document this tool writes."""
    from analyzer.report.json import schema_text

    sys.stdout.write(schema_text())
