"""Faults while writing (issue 9): a full disk, a read-only folder, a process killed mid-write.

Every case checks the same three things: nothing under the final name unless it is complete
(outputs are written to a hidden ``.NAME.XXXXXXXX.part`` beside it and renamed), the input's
bytes unchanged (SHA-256 before and after), and one clear line with exit code 4.

Where the kernel can give the fault for real it does: a 256 KiB tmpfs for the full disk (when
this process may mount one, as root in CI), and a folder of mode 555 for a command that has
dropped root's CAP_DAC_OVERRIDE. The in-process variants raise the exact error the system gives
(``LibsndfileError(2)`` from libsndfile on a full disk, as measured on the tmpfs; ``ENOSPC``
from ``fsync``; ``EACCES`` from ``mkstemp``) so that they run anywhere.
"""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli.test_bad_input_matrix import _without_dac_override, cli
from tests.signals import pink_noise

FS = 48000


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "mix.wav"
    sf.write(path, 0.1 * pink_noise(3.0, FS, seed=2).T, FS, subtype="PCM_24")
    return path


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path / "config"))


def one_line(stderr: str, *needles: str) -> None:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("mixanalyzer: error: "), stderr
    assert "Traceback" not in stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


#: Each command writes into the folder OUT; %s is the mix.
COMMANDS = {
    "master": ["master", "%s", "--target-lufs", "-14", "-o", "OUT/m.wav"],
    "master --json": ["master", "%s", "--target-lufs", "-14", "--dry-run", "--json", "OUT/m.json"],
    "analyze --json": ["analyze", "%s", "--json", "OUT/a.json"],
    "analyze --html": ["analyze", "%s", "--html", "OUT/a.html", "-q"],
    "translate --render": ["translate", "%s", "--devices", "phone", "--render", "OUT", "-q"],
    "translate --render flac": ["translate", "%s", "--devices", "phone", "--render", "OUT", "-q",
                                "--render-format", "flac"],
}  # fmt: skip


def args_for(name: str, mix: Path, out: Path) -> list[str]:
    return [str(mix) if a == "%s" else a.replace("OUT", str(out)) for a in COMMANDS[name]]


# --------------------------------------------------------------------------------------------
# A full disk


@pytest.fixture
def tiny_tmpfs(tmp_path: Path):
    """A real 256 KiB file system, when this process may mount one."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}); the in-process test "
                    "below covers the same code")  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("name", ["master", "analyze --html", "translate --render"])
def test_full_disk_for_real(name: str, tiny_tmpfs: Path, mix: Path, capsys) -> None:
    before = sha256(mix)
    run = cli(capsys, *args_for(name, mix, tiny_tmpfs))
    assert run.code == 4, run.stderr
    one_line(run.stderr, "cannot write", "No space left on device")
    assert list(tiny_tmpfs.iterdir()) == []  # no partial file, no temporary
    assert sha256(mix) == before


@pytest.mark.parametrize("name", ["master", "translate --render flac"])
def test_full_disk_in_audio_writer(
    name: str, tmp_path: Path, mix: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libsndfile's own error on a full disk, raised after the first block is written."""
    calls = []
    real_write = sf.SoundFile.write

    def fill_up(self, data):
        calls.append(len(data))
        if len(calls) > 1:
            raise sf.LibsndfileError(2, "")  # what a full tmpfs gives: "System error."
        return real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", fill_up)
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(mix)
    run = cli(capsys, *args_for(name, mix, out))
    assert run.code == 4, run.stderr
    one_line(run.stderr, "cannot write: System error")
    assert len(calls) > 1 and list(out.iterdir()) == []
    assert sha256(mix) == before


def test_full_disk_in_render_wav_writer(
    tmp_path: Path, mix: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renders' own 24-bit WAV writer (numpy, not libsndfile): the system's ENOSPC on the
    write after the header and the first block."""
    from analyzer.io.pcm24 import Pcm24WavWriter

    calls = []
    real_init = Pcm24WavWriter.__init__

    class FillingUp:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            calls.append(len(data))
            if len(calls) > 2:  # the header, one block, then a full disk
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

    def init(self, *a, **kw):
        real_init(self, *a, **kw)
        self._file = FillingUp(self._file)

    monkeypatch.setattr(Pcm24WavWriter, "__init__", init)
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(mix)
    run = cli(capsys, *args_for("translate --render", mix, out))
    assert run.code == 4, run.stderr
    one_line(run.stderr, "cannot write: No space left on device")
    assert len(calls) > 2 and list(out.iterdir()) == []
    assert sha256(mix) == before


@pytest.mark.parametrize("name", ["master --json", "analyze --json", "analyze --html"])
def test_full_disk_in_text_writer(
    name: str, tmp_path: Path, mix: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delayed-allocation file system reports a full disk at ``fsync``."""

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(mix)
    run = cli(capsys, *args_for(name, mix, out))
    assert run.code == 4, run.stderr
    one_line(run.stderr, "cannot write: No space left on device")
    assert list(out.iterdir()) == []
    assert sha256(mix) == before


# --------------------------------------------------------------------------------------------
# A read-only folder


@pytest.mark.parametrize("name", list(COMMANDS))
def test_read_only_folder_for_real(name: str, tmp_path: Path, mix: Path) -> None:
    """Mode 555: as root the command runs without CAP_DAC_OVERRIDE, so the kernel refuses."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    before = sha256(mix)
    extra = {"preexec_fn": _without_dac_override} if os.geteuid() == 0 else {}
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    proc = subprocess.run([sys.executable, "-m", "analyzer", *args_for(name, mix, out)],
                          capture_output=True, text=True, env=env, timeout=120,
                          **extra)  # fmt: skip
    assert proc.returncode == 4, proc.stderr
    one_line(proc.stderr, "cannot write: Permission denied")
    assert list(out.iterdir()) == []
    assert sha256(mix) == before


def test_read_only_folder_in_process(
    tmp_path: Path, mix: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args, **kw):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    for name in ("master", "analyze --json"):
        out = tmp_path / name.replace(" ", "")
        out.mkdir()
        run = cli(capsys, *args_for(name, mix, out))
        assert run.code == 4, run.stderr
        one_line(run.stderr, "cannot write: Permission denied")
        assert list(out.iterdir()) == []


# --------------------------------------------------------------------------------------------
# Names


def test_output_names_at_and_over_the_limit(tmp_path: Path, mix: Path, capsys) -> None:
    """A 255-byte output name is written (its temporary's name is shortened to fit); a 300-byte
    one is refused in one line."""
    longest = tmp_path / ("m" * 251 + ".wav")
    run = cli(capsys, "master", mix, "--target-lufs", "-14", "-o", longest, "-q")
    assert run.code == 0, run.stderr
    assert sf.info(longest).frames == 3 * FS
    too_long = tmp_path / ("j" * 300 + ".json")
    run = cli(capsys, "analyze", mix, "--json", too_long)
    assert run.code == 4
    one_line(run.stderr, "cannot write: File name too long")


# --------------------------------------------------------------------------------------------
# Killed mid-write


def test_killed_while_writing_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    """SIGKILL a real ``mixanalyzer master`` as soon as its temporary appears: the final name
    never exists, the input is unchanged. The temporary (hidden, unique) stays behind: nothing
    can remove it after SIGKILL; a later run never reads or reuses it."""
    src = tmp_path / "long.wav"
    sf.write(src, 0.1 * pink_noise(40.0, FS, seed=8).T, FS, subtype="PCM_24")
    before = sha256(src)
    out = tmp_path / "out"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "analyzer", "master", str(src),
                             "--target-lufs", "-14", "-o", str(out / "m.wav"), "-q"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 120
    parts: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        parts = [p for p in out.iterdir() if p.name.endswith(".part")]
        if parts and parts[0].stat().st_size > 44:  # audio is being written
            break
        time.sleep(0.005)
    assert parts and proc.poll() is None, "the write was not caught in progress"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "m.wav").exists()
    left = [p.name for p in out.iterdir()]
    assert all(n.startswith(".m.wav.") and n.endswith(".part") for n in left), left
    assert sha256(src) == before
    # A new run is not disturbed by the leftover and writes the complete file.
    again = subprocess.run([sys.executable, "-m", "analyzer", "master", str(src),
                            "--target-lufs", "-14", "-o", str(out / "m.wav"), "-q"],
                           env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert sf.info(out / "m.wav").frames == 40 * FS
    assert np.isfinite(sf.read(out / "m.wav")[0]).all()
