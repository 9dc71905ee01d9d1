"""``python -m analyzer ARGS`` in a process of its own, without paying the interpreter's start-up
each time (issue 17: the suite's CPU budget; 0.5 s of imports per command, a few hundred
commands).

A fork server (:mod:`multiprocessing`, ``forkserver``) is started once per test process with
numpy, scipy, soundfile, rich, typer and the whole CLI imported; each command is a fork of it:
its own process, its own file descriptors 1 and 2 (files the caller reads back), its own
environment, working folder, signal handlers and exit status, as ``subprocess.run`` would give.
Only the start-up differs, which is why the tests of the start-up itself (``--version`` before
numpy, the installed entry point, the wheel) keep a fresh interpreter. The fork server has one
thread, so forking it is safe (forking the test process, which has threads, would not be).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Imported once in the fork server: what the commands import lazily.
PRELOAD = [
    "numpy", "scipy.signal", "scipy.optimize", "scipy.fft", "soundfile", "soxr", "rich",
    "typer", "jinja2", "analyzer.cli.app", "analyzer.app", "analyzer.report.html",
]  # fmt: skip

_CONTEXT: multiprocessing.context.ForkServerContext | None = None

#: CPU seconds the forked commands used (with their own children): they are not this process's
#: children, so ``os.times`` here does not see them (the suite's CPU log adds this).
forked_cpu_s = 0.0


def _context() -> multiprocessing.context.ForkServerContext:
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([m for m in PRELOAD if _importable(m)])
        _CONTEXT = ctx
    return _CONTEXT


def _importable(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _child(
    args: list[str], cwd: str, env: dict[str, str], out: str, err: str, inp: str, cpu: str
) -> None:
    """Runs in the forked process: the streams, folder, environment and ``__main__`` a fresh
    ``python -m analyzer`` would have, then the CLI's own entry point."""
    import io

    for fd, path, flags in ((0, inp, os.O_RDONLY), (1, out, os.O_WRONLY), (2, err, os.O_WRONLY)):
        target = os.open(path, flags)
        os.dup2(target, fd)
        os.close(target)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                  encoding="utf-8", errors="strict")  # fmt: skip
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                  encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)  # fmt: skip
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    import analyzer.__main__ as entry
    from analyzer.cli import main

    sys.modules["__main__"] = entry  # click names the program from it, as for `python -m`
    sys.argv = [str(entry.__file__), *args]
    try:
        main()
    finally:
        import atexit

        atexit._run_exitfuncs()  # an interpreter's exit would; the fork's os._exit does not
        sys.stdout.flush()
        sys.stderr.flush()
        with open(cpu, "w", encoding="ascii") as f:
            f.write(repr(sum(os.times()[:4])))


def _text(data: bytes) -> str:
    """As ``subprocess.run(text=True)`` decodes: the locale's encoding, universal newlines."""
    import locale

    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def run_cli(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """``subprocess.run([python, -m, analyzer, *args], capture_output=True, text=True)``, from
    the fork server. A command still running after ``timeout`` seconds is killed and raises
    :class:`subprocess.TimeoutExpired`, as ``subprocess.run`` does."""
    argv = [os.fspath(a) for a in args]
    with tempfile.TemporaryDirectory(prefix="cli-run-") as tmp:
        out, err, inp, cpu = (os.path.join(tmp, n) for n in ("out", "err", "in", "cpu"))
        for path, text in ((out, ""), (err, ""), (inp, input or "")):
            Path(path).write_text(text, encoding="utf-8")
        proc = _context().Process(
            target=_child,
            args=(argv, os.fspath(cwd or os.getcwd()), dict(os.environ if env is None else env),
                  out, err, inp, cpu),
        )  # fmt: skip
        proc.start()
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired(["python", "-m", "analyzer", *argv], timeout)
        code = proc.exitcode
        global forked_cpu_s
        with contextlib.suppress(OSError, ValueError):
            forked_cpu_s += float(Path(cpu).read_text(encoding="ascii"))
        stdout, stderr = (_text(Path(p).read_bytes()) for p in (out, err))
    return subprocess.CompletedProcess(["python", "-m", "analyzer", *argv], code, stdout, stderr)
