"""Versioned JSON of every result: one builder module per document, each document framed by
:func:`~analyzer.report.json.envelope.envelope` (``schema_version``, ``tool``, ``kind``).
:mod:`analyzer.report.json_load` reads them back."""

from __future__ import annotations

from typing import Any

from analyzer.report.json.analysis import (
    analyses_to_json,
    codec_results_to_list,
    platforms_to_list,
    track_body,
    track_to_dict,
)
from analyzer.report.json.batch import album_to_dict, batch_document, file_documents
from analyzer.report.json.comparison import (
    compare_document,
    comparison_to_dict,
    translate_document,
    translation_to_dict,
)
from analyzer.report.json.envelope import KINDS, SCHEMA_VERSION, envelope, tool_header
from analyzer.report.json.master import master_document, proposal_to_dict, verification_to_dict

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "album_to_dict",
    "analyses_to_json",
    "batch_document",
    "codec_results_to_list",
    "compare_document",
    "comparison_to_dict",
    "envelope",
    "file_documents",
    "lookup",
    "master_document",
    "platforms_to_list",
    "proposal_to_dict",
    "schema_text",
    "tool_header",
    "track_body",
    "track_to_dict",
    "translate_document",
    "translation_to_dict",
    "verification_to_dict",
]


def lookup(doc: dict[str, Any], dotted: str) -> Any:
    """``lookup(d, "loudness.lra_lu")``; raises KeyError when absent."""
    cur: Any = doc
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise KeyError(dotted)
        cur = cur[part]
    return cur


def schema_text() -> str:
    """The JSON Schema (draft 2020-12) of every document the CLI writes, shipped in the
    package."""
    from importlib.resources import files

    return files("analyzer.report").joinpath("schema.json").read_text(encoding="utf-8")
