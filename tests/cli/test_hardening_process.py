"""Issue 16, classes 9, 12, 14 and 15 (the scheduler): signals, the environment and the
output streams, resources, and Dask schedulers that are not what they claim.

Signals are real: the test process sends SIGTERM or SIGINT to itself from inside the command
(in-process, the CLI's own handlers take it) at the moment it writes or reads; a batch's pool
workers are checked with a real ``mixanalyzer`` process killed from outside. Schedulers are
real sockets on 127.0.0.1: one that accepts and never answers, one that answers garbage, and a
Dask scheduler with no worker, with the wait bounded by ``MIXANALYZER_SCHEDULER_TIMEOUT_S``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analyzer.errors import EXIT_OUTPUT, EXIT_USAGE
from tests.cli.test_bad_input_matrix import Run, cli
from tests.cli.test_hardening_matrix import (  # noqa: F401 (a fixture)
    _private_dirs,
    no_part_files,
    one_line,
    write_noise,
)


@pytest.fixture
def mix(tmp_path: Path) -> Path:
    return write_noise(tmp_path / "mix.wav")


def interrupted(run: Run, code: int) -> None:
    """Exit ``code`` (128 + the signal) with one ``mixanalyzer:`` line and no traceback."""
    lines = [ln for ln in run.stderr.splitlines() if ln.strip() and "warning:" not in ln]
    assert run.code == code, (run.code, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    assert len(lines) == 1 and lines[0].startswith("mixanalyzer: ") and "interrupted" in lines[0]


# --------------------------------------------------------------------------------------------
# Class 9: signals


def _signal_on_first_call(monkeypatch, owner: object, name: str, signum: int) -> None:
    """``owner.name`` sends ``signum`` to this process on its first call, then goes on: the
    signal arrives in the middle of that step, as a ``kill`` from outside would."""
    real = getattr(owner, name)
    sent = []

    def wrapper(*a, **kw):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signum)
        return real(*a, **kw)

    monkeypatch.setattr(owner, name, wrapper)


def _hook_audio_write(monkeypatch, signum):
    from analyzer.io.write import AtomicWavWriter

    _signal_on_first_call(monkeypatch, AtomicWavWriter, "write", signum)


def _hook_render_write(monkeypatch, signum):
    from analyzer.io.pcm24 import Pcm24WavWriter

    _signal_on_first_call(monkeypatch, Pcm24WavWriter, "write_gained", signum)


def _hook_text_write(monkeypatch, signum):
    _signal_on_first_call(monkeypatch, os, "fsync", signum)


def _hook_read(monkeypatch, signum):
    from analyzer.io.source import AudioSource

    _signal_on_first_call(monkeypatch, AudioSource, "blocks", signum)


SIGNAL_CASES = {
    "master, writing the master": (
        _hook_audio_write, ["master", "{mix}", "--target-lufs", "-14", "-o", "{o}/m.wav"]),
    "translate, writing a render": (
        _hook_render_write, ["translate", "{mix}", "--devices", "phone", "--render", "{o}/r"]),
    "analyze, writing the JSON": (_hook_text_write, ["analyze", "{mix}", "--json", "{o}/a.json"]),
    "analyze, reading": (_hook_read, ["analyze", "{mix}", "--json", "{o}/a.json"]),
    "compare, reading": (
        _hook_read, ["compare", "{mix}", "--ref", "{mix}", "--json", "{o}/c.json"]),
    "reference build, writing": (
        _hook_text_write, ["reference", "build", "{mix}", "--name", "x", "-o", "{o}/p.json"]),
}  # fmt: skip


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("case", list(SIGNAL_CASES))
def test_a_signal_leaves_nothing_behind(
    case: str, sig: int, tmp_path: Path, mix: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """SIGTERM is handled as SIGINT: cleanup, one line, 128 + the signal; no output, no
    hidden ``.part`` file."""
    hook, args = SIGNAL_CASES[case]
    out = tmp_path / "o"
    out.mkdir()
    hook(monkeypatch, sig)
    # A test run started in the background inherits SIGINT ignored, which the CLI keeps (as
    # for nohup); a terminal's Ctrl-C is what is tested here.
    inherited = signal.signal(sig, signal.default_int_handler)
    try:
        run = cli(capsys, *(a.format(mix=mix, o=out) for a in args), "-q")
    finally:
        signal.signal(sig, inherited)
    interrupted(run, 128 + sig)
    assert [p for p in out.rglob("*") if p.is_file()] == []
    no_part_files(tmp_path)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(check, seconds: float) -> bool:
    """Poll ``check`` until true (a bound against hanging, not a speed check)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_batch_leaves_no_process(sig: int, tmp_path: Path) -> None:
    """``kill`` (SIGTERM) or ``kill -9`` of a running batch, the parent only (not its group):
    every pool worker and the resource tracker end with it; SIGTERM also prints one line and
    exits 143."""
    folder = tmp_path / "lib"
    for i in range(4):
        write_noise(folder / f"t{i}.wav", 0.1, seed=20 + i, seconds=20.0)
    env = {**os.environ, "MIXANALYZER_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("MIXANALYZER_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "batch", str(folder), "--jobs", "2", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    below: set[int] = set()
    try:
        assert _wait_until(lambda: len(_descendants(proc.pid)) >= 3, 60), "no workers started"
        below = _descendants(proc.pid)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        left = not _wait_until(lambda: not any(_alive(p) for p in below), 30)
        assert not left, [p for p in below if _alive(p)]
    finally:  # (a failure must not leave them running either)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pid in below:
            if _alive(pid) and b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, err
        assert "Traceback" not in err and "interrupted" in err, err


# --------------------------------------------------------------------------------------------
# Class 12: the environment and the output streams


def test_cache_clear_of_a_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    cache = tmp_path / "c"
    (cache / "results.sqlite3").mkdir(parents=True)
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(cache))
    one_line(cli(capsys, "cache", "clear"), EXIT_OUTPUT, "not a regular file")
    assert (cache / "results.sqlite3").is_dir()


def test_cache_clear_of_a_read_only_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    """Deleting is refused by the system (root ignores mode bits: ``unlink`` raises what a
    read-only folder gives a user)."""
    cache = tmp_path / "c"
    cache.mkdir()
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(cache))
    write_noise(tmp_path / "t.wav")
    assert cli(capsys, "batch", tmp_path / "t.wav", "--jobs", "1", "-q").code == 0

    def refuse(self, *a, **kw):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    one_line(cli(capsys, "cache", "clear"), EXIT_OUTPUT, "cannot delete", "Permission denied")


@pytest.mark.parametrize("value", ["~nosuchuser-x9/cache", "~nosuchuser-x9"])
@pytest.mark.parametrize("verb", ["cache clear", "batch"])
def test_cache_dir_of_no_such_user(value: str, verb: str, tmp_path: Path, monkeypatch,
                                   capsys) -> None:  # fmt: skip
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", value)
    track = write_noise(tmp_path / "t.wav")
    args = ["cache", "clear"] if verb == "cache clear" else ["batch", track, "--jobs", "1", "-q"]
    one_line(cli(capsys, *args), EXIT_OUTPUT, "no such user")


def test_relative_xdg_cache_home_is_ignored(tmp_path: Path, monkeypatch, capsys) -> None:
    """XDG Base Directory Specification: a relative path in $XDG_CACHE_HOME is invalid."""
    monkeypatch.delenv("MIXANALYZER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "batch", write_noise(tmp_path / "t.wav"), "--jobs", "1", "-q").code == 0
    assert not (tmp_path / "relative").exists()
    assert (tmp_path / "home" / ".cache" / "mixanalyzer" / "results.sqlite3").is_file()


@pytest.fixture
def stdout_to(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Point ``sys.stdout`` at a stream of the test's choosing for one command."""
    opened = []

    def use(stream) -> None:
        opened.append(stream)
        monkeypatch.setattr(sys, "stdout", stream)

    yield use
    for stream in opened:
        with contextlib.suppress(OSError):
            stream.close()


STDOUT_CASES = {
    "table": ["analyze", "{mix}"],
    "--json -": ["analyze", "{mix}", "--json", "-", "-q"],
    "batch --csv -": ["batch", "{mix}", "--csv", "-", "-q", "--jobs", "1"],
}


@pytest.mark.parametrize("case", list(STDOUT_CASES))
def test_stdout_on_a_full_disk(case: str, mix: Path, stdout_to, capsys) -> None:
    stdout_to(open("/dev/full", "w"))  # noqa: SIM115
    run = cli(capsys, *(a.format(mix=mix) for a in STDOUT_CASES[case]))
    one_line(run, EXIT_OUTPUT, "standard output: cannot write", "No space left on device")


@pytest.mark.parametrize("case", list(STDOUT_CASES))
def test_stdout_reader_gone(case: str, mix: Path, stdout_to, capsys) -> None:
    """``| head -1`` once head has gone: a quiet exit 141, as a shell reports SIGPIPE."""
    read, write = os.pipe()
    os.close(read)
    stdout_to(os.fdopen(write, "w"))
    run = cli(capsys, *(a.format(mix=mix) for a in STDOUT_CASES[case]))
    assert run.code == 141, run.stderr
    assert not [ln for ln in run.stderr.splitlines() if "warning:" not in ln], run.stderr


def test_closed_stdout(mix: Path) -> None:
    """Started with standard output closed (``>&-``): a quiet exit 141."""
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", "analyze", str(mix)], stderr=subprocess.PIPE,
        text=True, env=env, timeout=120, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert proc.returncode == 141, proc.stderr
    assert not [ln for ln in proc.stderr.splitlines() if "warning:" not in ln], proc.stderr


# --------------------------------------------------------------------------------------------
# Class 14: never more processes than cores or files


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every local pool a command starts (run serially here: no interpreters)."""
    import analyzer.batching.executors as executors

    sizes: list[int] = []

    class CountingPool(executors.SerialExecutor):
        def __init__(self, jobs: int | None = None) -> None:
            sizes.append(int(jobs or 0))

    monkeypatch.setattr(executors, "LocalExecutor", CountingPool)
    return sizes


@pytest.mark.parametrize("jobs", ["10000", "9" * 30])
def test_jobs_lowered_to_the_cores(jobs: str, tmp_path: Path, pools: list[int], capsys) -> None:
    from analyzer.batching.executors import usable_cores

    folder = tmp_path / "lib"
    for i in range(3):
        write_noise(folder / f"t{i}.wav", 0.1, seed=30 + i, seconds=0.5)
    run = cli(capsys, "batch", folder, "--jobs", jobs, "-q", "--no-cache")
    assert run.code == 0, run.stderr
    assert f"--jobs {jobs} lowered to {usable_cores()}" in run.stderr
    assert all(1 < n <= min(usable_cores(), 3) for n in pools), pools


def test_reference_build_jobs_lowered(tmp_path: Path, monkeypatch, capsys) -> None:
    import analyzer.batching.profile_build as profile_build
    from analyzer.batching.executors import usable_cores

    sizes: list[int] = []

    def serial_pool(files, n_jobs, results, progress) -> None:
        sizes.append(n_jobs)
        for i, f in enumerate(files):
            results[i] = profile_build.analyze_profile_track(f.path, 1)

    monkeypatch.setattr(profile_build, "_run_pool", serial_pool)
    tracks = [write_noise(tmp_path / f"{n}.wav", 0.1, seed=i) for i, n in enumerate("ab")]
    run = cli(capsys, "reference", "build", *tracks, "--name", "x", "--jobs", "10000", "-o",
              tmp_path / "p.json", "-q")  # fmt: skip
    assert run.code == 0, run.stderr
    assert f"--jobs 10000 lowered to {usable_cores()}" in run.stderr
    assert all(n <= min(usable_cores(), 2) for n in sizes), sizes


# --------------------------------------------------------------------------------------------
# Class 15: schedulers that are not what they claim


class _FakeServer:
    """A TCP server on 127.0.0.1 that accepts and then says ``answer`` (or nothing), holding
    every connection open until closed."""

    def __init__(self, answer: bytes | None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.answer is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(self.answer)

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


GARBAGE = b"\xff" * 8 + b"\x00\x01garbage" * 64


@pytest.mark.parametrize(
    ("answer", "says"),
    [(None, "no answer within 2 s"), (GARBAGE, "does not speak Dask's protocol")],
    ids=["accepts and never answers", "answers garbage"],
)
def test_a_server_that_is_not_a_scheduler(
    answer: bytes | None, says: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    """One line, and nothing after it: a half-made Dask client once printed a traceback from
    its ``__del__`` as the interpreter went (``Exception ignored in: Client.__del__``), so this
    runs as a real process to its end."""
    pytest.importorskip("distributed")
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    env["MIXANALYZER_SCHEDULER_TIMEOUT_S"] = "2"
    server = _FakeServer(answer)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "analyzer", "batch", str(write_noise(tmp_path / "t.wav")),
             "--scheduler", server.address, "--no-cache", "-q"],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
    finally:
        server.close()
    line = one_line(Run(proc.returncode, proc.stdout, proc.stderr), EXIT_USAGE, says)
    assert "MemoryError" not in line


def test_a_scheduler_with_no_worker(tmp_path: Path, monkeypatch, capsys) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("MIXANALYZER_SCHEDULER_TIMEOUT_S", "2")
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cl:  # fmt: skip
        run = cli(capsys, "batch", write_noise(tmp_path / "t.wav"), "--scheduler",
                  cl.scheduler_address, "--no-cache", "-q")  # fmt: skip
    one_line(run, EXIT_USAGE, "no worker joined within 2 s")


@pytest.mark.parametrize("address", ["not a url", "tcp://", "http://x y:1", "\x1b[2Jx:1"])
def test_not_a_scheduler_address(address: str, tmp_path: Path, capsys) -> None:
    pytest.importorskip("distributed")
    run = cli(capsys, "batch", write_noise(tmp_path / "t.wav"), "--scheduler", address, "-q")
    one_line(run, EXIT_USAGE, "not a scheduler address")
    assert "\x1b" not in run.stderr
