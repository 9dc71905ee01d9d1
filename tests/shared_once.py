"""A value made once for the whole test run, however many xdist workers need it.

The first worker to ask makes it under an exclusive lock and pickles it into the run's shared
temporary folder; the others wait on the lock and read it back. (xdist's ``loadgroup`` would
send the tests to one worker instead, but with pytest 9.2 its group marks are ignored: it sets
``item._nodeid``, which pytest no longer reads.)
"""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's folder every worker sees (the parent of the workers' own base folders)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` run by one process of the test run, in ``folder`` (its own, empty, under
    the shared folder), its result pickled and returned to every process that asks."""
    root = shared_folder(tmp_path_factory)
    folder, result = root / f"once-{name}", root / f"once-{name}.pickle"
    with open(root / f"once-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if result.exists():
            return pickle.loads(result.read_bytes())
        folder.mkdir()
        value = make(folder)
        part = result.with_suffix(".part")
        part.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        part.rename(result)
        return value
