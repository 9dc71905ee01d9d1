"""Shared harness of the configuration-file fuzz targets (``fuzz_profile.py``,
``fuzz_targets.py``, ``fuzz_devices.py``): each input is written to a file (its first byte picks
``.json`` or ``.toml``) and handed to one parser. The only exceptions allowed are the project's
own :class:`~analyzer.errors.AnalyzerError` subclasses, with a one-line message that is safe for
a terminal; anything else (a RecursionError, an OverflowError, a KeyError...) is a finding and
stops the fuzzer with the input saved as ``crash-*``. A file that loads must hold only finite
numbers, checked by the target's own ``check``.

Run one (``pip install -e '.[fuzz]'``; ``NAME`` is profile, targets or devices)::

    mkdir -p fuzz/corpus-NAME && nice -n 19 python fuzz/fuzz_NAME.py fuzz/corpus-NAME \
        fuzz/seeds-NAME -max_total_time=600 -max_len=4096 -rss_limit_mb=6144

(``-max_len=32768`` for the profile: its seeds, the shipped profiles, are about 18 KB.)

``fuzz/seeds-NAME`` is made on first run from the shipped profiles, the built-in devices and
the built-in targets.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports():
    from analyzer.errors import AnalyzerError
    from analyzer.untrusted import terminal_safe

SUFFIXES = (".json", ".toml")
_DIR = Path(tempfile.mkdtemp(prefix="mixanalyzer-fuzz-", dir=os.environ.get("FUZZ_TMP")))


def make_target(load: Callable[[Path], Any], check: Callable[[Any], None]) -> Callable:
    """libFuzzer's entry point for the parser ``load`` (a path in, a value out)."""

    def test_one_input(data: bytes) -> None:
        if not data:
            return
        path = _DIR / f"input{SUFFIXES[data[0] % len(SUFFIXES)]}"
        path.write_bytes(data[1:])
        try:
            value = load(path)
        except AnalyzerError as exc:
            assert "\n" not in exc.message, exc.message
            assert exc.exit_code in (2, 3), exc.exit_code
            return
        check(value)

    return test_one_input


def assert_safe(text: str) -> None:
    """What a terminal renders from ``text`` after :func:`terminal_safe` has no escapes."""
    assert "\x1b" not in terminal_safe(text) and "\u202e" not in terminal_safe(text)


def run(name: str, load: Callable, check: Callable, seeds: Callable[[], Iterable]) -> None:
    """Write the seeds (when a ``seeds-NAME`` folder is named), then fuzz."""
    for arg in sys.argv[1:]:
        if not arg.startswith("-") and Path(arg).name == f"seeds-{name}":
            folder = Path(arg)
            folder.mkdir(parents=True, exist_ok=True)
            for i, (suffix, text) in enumerate(seeds()):
                first = bytes([SUFFIXES.index(suffix)])
                (folder / f"seed{i}{suffix}").write_bytes(first + text.encode())
    atheris.Setup(sys.argv, make_target(load, check))
    atheris.Fuzz()
