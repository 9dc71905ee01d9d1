"""Comparing a snapshot of what a user sees (terminal text, a JSON document) with its golden copy.

The numbers in it come from float arithmetic whose last bits differ between CPUs (numpy's AVX-512
and AVX2 loops round differently, and numba compiles for the CPU it runs on), so a number the tool
rounds may land one unit of its last digit away on another machine: a master's ``lra_low_lufs``
read -10.9165 on an AMD EPYC with AVX2 and -10.9164 on a Xeon with AVX-512. That is no change of
code; anything more is.
"""

from __future__ import annotations

import difflib
import re

_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:[eE][-+]?\d+)?")


def same_but_last_digit(text: str, expected: str) -> bool:
    """``text`` equals ``expected`` byte for byte outside its numbers, integers are equal, and
    each other number is written with the same digits after the point (and exponent) and lies
    within one unit of its last digit of the expected one (a rounding that fell the other way on
    another CPU)."""
    if _NUMBER.sub("#", text) != _NUMBER.sub("#", expected):
        return False
    for a, b in zip(_NUMBER.finditer(text), _NUMBER.finditer(expected), strict=True):
        sa, sb = a.group(0), b.group(0)
        if sa == sb:
            continue
        decimals = len(b.group(1) or "")
        exp_a, exp_b = sa.lower().partition("e")[2], sb.lower().partition("e")[2]
        if len(a.group(1) or "") != decimals or exp_a != exp_b or not (decimals or exp_b):
            return False  # other digits, or an integer (a count: exact)
        unit = 10.0 ** (-decimals + (int(exp_b) if exp_b else 0))
        if abs(float(sa) - float(sb)) > 1.0001 * unit:
            return False
    return True


def assert_same_but_last_digit(text: str, expected: str, name: str) -> None:
    """Fails with a diff of ``text`` against the golden ``expected`` unless they are the same
    but for last digits (:func:`same_but_last_digit`)."""
    if text == expected or same_but_last_digit(text, expected):
        return
    diff = difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now")
    raise AssertionError(
        f"{name} changed (MIXANALYZER_UPDATE_SNAPSHOTS=1 to accept)\n" + "".join(diff)[:4000]
    )
