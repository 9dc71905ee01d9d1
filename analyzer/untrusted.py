"""Text from outside (files users share, the command line) made safe to parse and to show.

* :func:`parse_json` / :func:`parse_toml`: the standard parsers with their limits turned into
  one ``ValueError`` each: nesting deeper than :data:`MAX_DEPTH` (CPython's parsers recurse and
  raise ``RecursionError`` near 1,000 levels), integers too long to convert (CPython refuses
  more than 4,300 digits, ``sys.get_int_max_str_digits``) or beyond :data:`MAX_INT` (a 400-digit
  integer overflows ``float()``), and non-finite numbers (``NaN``, ``Infinity``, ``1e999``).
* :func:`terminal_safe`: control characters (C0, DEL, C1: ECMA-48 section 5, which covers ESC,
  CSI and OSC introducers) and Unicode bidirectional formatting characters (Unicode TR #9,
  section 2: the "Trojan Source" class, CVE-2021-42574) written as visible ``\\xNN`` /
  ``\\uNNNN`` escapes, so that nothing read from a file can drive the terminal.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Deepest nesting accepted in a configuration document (the project's own files use < 6).
MAX_DEPTH = 64
#: Largest integer magnitude accepted (a 64-bit count); anything larger is not a real setting.
MAX_INT = 2**63 - 1

# C0 (0x00-0x1f), DEL and C1 (0x80-0x9f); bidi embeddings/overrides/isolates and marks.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI}]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: object, *, keep_newlines: bool = False) -> str:
    """``str(text)`` with every control and bidi formatting character shown as an escape
    (``\\x1b``, ``\\u202e``); ``keep_newlines`` leaves line feeds (a renderer's line breaks)."""
    pattern = _UNSAFE_BUT_NEWLINE if keep_newlines else _UNSAFE
    return pattern.sub(_visible, str(text))


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number (strict JSON parsers reject it)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    digits = text.lstrip("+-").replace("_", "")
    if len(digits) > 19:  # before int(): a 5,000-digit string must not even be converted
        raise ValueError(f"the integer {text[:20]}... is out of range")
    return int(text)


def check_tree(doc: Any) -> Any:
    """``doc`` itself after checking, without recursion, its depth and every number in it."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(node, bool):
            continue
        elif isinstance(node, int) and abs(node) > MAX_INT:
            raise ValueError("an integer is out of range")
        elif isinstance(node, float) and not math.isfinite(node):
            raise ValueError("a number is not finite")
    return doc


def parse_json(text: str) -> Any:
    """``json.loads`` with the limits above; every failure is a ``ValueError`` (a
    ``json.JSONDecodeError`` for syntax, as before)."""
    try:
        doc = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    return check_tree(doc)


def parse_toml(text: str) -> Any:
    """``tomllib.loads`` with the limits above; every failure is a ``ValueError`` (a
    ``tomllib.TOMLDecodeError`` for syntax, as before). Needs Python 3.11."""
    import tomllib

    try:
        doc = tomllib.loads(text, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # CPython's 4,300-digit limit
            raise ValueError("an integer is out of range") from None
        raise
    return check_tree(doc)
