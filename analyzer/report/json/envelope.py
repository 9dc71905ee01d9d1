"""The frame of every JSON document: ``schema_version``, ``tool`` and ``kind``.

``kind`` names what the document holds, so a reader dispatches on it instead of guessing from
the keys (:func:`analyzer.report.json_load.load_document`). ``SCHEMA_VERSION`` changes when a key
changes meaning or disappears; new keys beside the old ones (``kind`` itself) do not change it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from analyzer.version import __version__

SCHEMA_VERSION = 1
TOOL_NAME = "mixanalyzer"

#: The document kinds: one file's analysis, several files' analyses, a comparison with
#: references, a translation to playback devices, a master (or its dry run), a batch.
ANALYSIS = "analysis"
ANALYSES = "analyses"
COMPARISON = "comparison"
TRANSLATION = "translation"
MASTER = "master"
BATCH = "batch"
KINDS = (ANALYSIS, ANALYSES, COMPARISON, TRANSLATION, MASTER, BATCH)


def tool_header() -> dict[str, Any]:
    """``schema_version`` and ``tool``: the head of every document and of every per-file object
    inside one."""
    return {"schema_version": SCHEMA_VERSION, "tool": {"name": TOOL_NAME, "version": __version__}}


def envelope(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A whole document: :func:`tool_header`, ``kind``, then ``body``'s keys in order. Raises
    ``ValueError`` on a kind not in :data:`KINDS`."""
    if kind not in KINDS:
        raise ValueError(f"unknown JSON document kind {kind!r}")
    return {**tool_header(), "kind": kind, **body}


def document_text(doc: Mapping[str, Any]) -> str:
    """Strict JSON (no NaN or infinity), indented, with a final newline."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"
