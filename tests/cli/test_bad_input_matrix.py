"""The bad-input matrix (issue 9): every hostile or degenerate input through every verb that takes
audio, in each audio slot (the mix, ``--ref``, the files of ``reference build``).

Each cell runs the real command line in-process (``analyzer.cli.main``, so the exit-code
mapping is the one users get) and checks: the documented exit code, one clear line on stderr
naming the cause (or, when the input is measurable, only warnings), no traceback, and no output
file (nor a ``.part`` temporary) left behind when the command fails. A few cells also run in a
subprocess below, to prove the installed entry point behaves the same. The README's
"Reliability" table is this file's ``EXPECTED``.
"""

from __future__ import annotations

import builtins
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.signals import pink_noise

# A numpy RuntimeWarning (overflow, NaN in a cast) is a bug here: it once hid a runaway gain.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

FS = 48000
SLOTS = (
    "analyze", "compare", "compare --ref", "translate", "translate --ref", "master",
    "master --ref", "reference build",
)  # fmt: skip


# --------------------------------------------------------------------------------------------
# The files


def _write(path: Path, data: np.ndarray, fs: int = FS, subtype: str = "PCM_24", **kw) -> Path:
    sf.write(path, np.asarray(data).T, fs, subtype=subtype, **kw)
    return path


def _music(seconds: float = 2.0, fs: int = FS, channels: int = 2, seed: int = 3) -> np.ndarray:
    return 0.1 * pink_noise(seconds, fs, channels=channels, seed=seed)


def _truncated(d: Path) -> Path:
    full = _write(d / "full.wav", _music())
    out = d / "truncated.wav"
    out.write_bytes(full.read_bytes()[: 44 + 30000])
    return out


def _huge_claim(d: Path) -> Path:
    """A RIFF and data size of nearly 4 GiB on a 1 s file."""
    raw = bytearray(_write(d / "small.wav", _music(1.0)).read_bytes())
    assert raw[36:40] == b"data"
    raw[4:8] = struct.pack("<I", 0xFFFFFFF0)
    raw[40:44] = struct.pack("<I", 0xFFFFFF00)
    out = d / "huge.wav"
    out.write_bytes(bytes(raw))
    return out


def _open_size(d: Path) -> Path:
    """A streaming writer's WAV (ffmpeg to a pipe): sizes left at 0xFFFFFFFF, data to EOF."""
    raw = bytearray(_write(d / "small.wav", _music(1.5)).read_bytes())
    raw[4:8] = raw[40:44] = struct.pack("<I", 0xFFFFFFFF)
    out = d / "open-size.wav"
    out.write_bytes(bytes(raw))
    return out


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name

    return make


def _array(name: str, data: Callable[[], np.ndarray], fs: int = FS, **kw) -> Callable:
    return lambda d: _write(d / name, data(), fs, **kw)


def _with_bad_value(value: float) -> np.ndarray:
    x = _music(1.0)
    x[1, 12345] = value
    return x


def _silent_channel() -> np.ndarray:
    x = _music()
    x[1] = 0.0
    return x


def _square() -> np.ndarray:
    t = np.arange(2 * FS) / FS
    return np.tile(np.sign(np.sin(2 * np.pi * 1000.0 * t)), (2, 1))  # full scale, 48 samples


def _directory(d: Path) -> Path:
    (d / "folder.wav").mkdir()
    return d / "folder.wav"


def _non_utf8(d: Path) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(d), b"mix-\xff\xfe.wav")))
    with open(path, "wb") as fh:  # soundfile cannot open such a name itself
        sf.write(fh, _music().T, FS, format="WAV", subtype="PCM_24")
    return path


def _long_name(d: Path) -> Path:
    """The longest name Linux allows (255 bytes)."""
    return _write(d / ("m" * 251 + ".wav"), _music())


def _too_long_name(d: Path) -> Path:
    return d / ("m" * 300 + ".wav")


#: Each case: how to make the file.
MAKERS: dict[str, Callable[[Path], Path]] = {
    "truncated WAV": _truncated,
    "WAV claiming 4 GiB": _huge_claim,
    "WAV with open size (streamed)": _open_size,
    "0-byte file": _bytes("empty.wav", b""),
    "text renamed .wav": _bytes("text.wav", b"this is not audio\n" * 20),
    "PNG renamed .wav": _bytes("image.wav", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300)),
    "directory": _directory,
    "missing file": lambda d: d / "nope.wav",
    "0.2 s file": _array("short.wav", lambda: _music(0.2)),
    "all-silent file": _array("silent.wav", lambda: np.zeros((2, 2 * FS))),
    "one silent channel": _array("half.wav", _silent_channel),
    "NaN in float WAV": _array("nan.wav", lambda: _with_bad_value(np.nan), subtype="FLOAT"),
    "Inf in float WAV": _array("inf.wav", lambda: _with_bad_value(np.inf), subtype="DOUBLE"),
    "DC only": _array("dc.wav", lambda: np.full((2, 2 * FS), 0.25)),
    "full-scale square": _array("square.wav", _square, subtype="FLOAT"),
    "1-sample file": _array("one.wav", lambda: np.full((2, 1), 0.5)),
    "8-channel file": _array("eight.wav", lambda: _music(2.0, channels=8)),
    "8 kHz file": _array("8k.wav", lambda: _music(2.0, 8000), 8000),
    "384 kHz file": _array("384k.wav", lambda: _music(1.0, 384000), 384000),
    "non-UTF-8 name": _non_utf8,
    "255-byte name": _long_name,
    "300-byte name": _too_long_name,
}

OK, USAGE, BAD = 0, 2, 3
_ALL = {s: None for s in SLOTS}


@dataclass(frozen=True)
class Expect:
    """The documented outcome in one slot: exit code and a word the one line must hold (an
    error for a non-zero code, a warning or note for 0; None: no message required)."""

    code: int
    says: str | None = None


def _same(code: int, says: str | None = None, **override: Expect) -> dict[str, Expect]:
    out = {s: Expect(code, says) for s in _ALL}
    names = {"master": "master", "master_ref": "master --ref", "reference_build": "reference build"}
    out.update({names[k]: v for k, v in override.items()})
    return out


_MASTER_SILENT = Expect(BAD, "nothing to master")
_REF_SILENT = Expect(BAD, "nothing to match")

EXPECTED: dict[str, dict[str, Expect]] = {
    "truncated WAV": _same(BAD, "truncated"),
    "WAV claiming 4 GiB": _same(BAD, "truncated"),
    "WAV with open size (streamed)": _same(OK),
    "0-byte file": _same(BAD, "empty"),
    "text renamed .wav": _same(BAD, "unsupported"),
    "PNG renamed .wav": _same(BAD, "unsupported"),
    # reference build searches a folder for audio: an empty one has none to build from (usage).
    "directory": _same(BAD, "directory", reference_build=Expect(USAGE, "no audio files")),
    "missing file": _same(BAD, "missing"),
    "0.2 s file": _same(OK, "shorter than 400 ms", master=_MASTER_SILENT, master_ref=_REF_SILENT),
    "all-silent file": _same(OK, "silent", master=_MASTER_SILENT, master_ref=_REF_SILENT),
    "one silent channel": _same(OK),
    "NaN in float WAV": _same(BAD, "NaN"),
    "Inf in float WAV": _same(BAD, "infinite"),
    "DC only": _same(
        OK, "DC offset", master=Expect(BAD, "DC offset"), master_ref=Expect(BAD, "DC offset")
    ),
    "full-scale square": _same(OK),
    "1-sample file": _same(
        OK, "shorter than 400 ms", master=_MASTER_SILENT, master_ref=_REF_SILENT
    ),
    "8-channel file": _same(OK, master=Expect(BAD, "8 channels")),
    "8 kHz file": _same(OK),
    "384 kHz file": _same(OK),
    "non-UTF-8 name": _same(OK),
    "255-byte name": _same(OK),
    "300-byte name": _same(BAD, "File name too long"),
}


# --------------------------------------------------------------------------------------------
# Running the command line in-process


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> Run:
    """``mixanalyzer ARGS`` through :func:`analyzer.cli.main`, in this process."""
    from analyzer.cli import main

    capsys.readouterr()
    old = sys.argv
    sys.argv = ["mixanalyzer", *(os.fspath(a) for a in args)]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return Run(code, out.out, out.err)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def command(slot: str, subject: Path, good: Path, out: Path) -> list[str | Path]:
    """The command line of one slot, writing every output into the folder ``out``."""
    js = out / "out.json"
    return {
        "analyze": ["analyze", subject, "--json", js],
        "compare": ["compare", subject, "--ref", good, "--json", js, "-q"],
        "compare --ref": ["compare", good, "--ref", subject, "--json", js, "-q"],
        "translate": ["translate", subject, "--devices", "phone,car", "--json", js, "-q"],
        "translate --ref": ["translate", good, "--ref", subject, "--devices", "phone", "--json",
                            js, "-q"],
        "master": ["master", subject, "--target-lufs", "-14", "-o", out / "m.wav", "--json", js,
                   "-q"],
        "master --ref": ["master", good, "--ref", subject, "-o", out / "m.wav", "--json", js,
                         "-q"],
        "reference build": ["reference", "build", subject, "--name", "t", "-o", js, "--jobs", "1",
                            "-q"],
    }[slot]  # fmt: skip


def check(run: Run, expect: Expect, out: Path, label: str) -> None:
    """The contract of every cell."""
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in run.stderr, run.stderr
    assert "internal error" not in run.stderr, run.stderr
    assert run.code == expect.code, (label, run.code, run.stderr)
    if expect.code:
        assert len(lines) == 1, (label, run.stderr)
        assert lines[0].startswith("mixanalyzer: error: "), lines
        if expect.says:
            assert expect.says in lines[0], (label, expect.says, lines[0])
        assert leftovers(out) == [], (label, leftovers(out))  # nothing partial, no .part
    else:
        assert all(ln.startswith("mixanalyzer: ") for ln in lines), run.stderr
        assert not any("error" in ln.split(":")[1] for ln in lines), run.stderr
        if expect.says:
            assert any(expect.says in ln for ln in lines), (label, expect.says, run.stderr)
        names = leftovers(out)
        assert "out.json" in names and not [n for n in names if n.endswith(".part")], names
        json.loads((out / "out.json").read_text(), parse_constant=pytest.fail)
        if "m.wav" in names:  # a master: every sample finite and within full scale
            y, _ = sf.read(out / "m.wav", always_2d=True)
            assert np.isfinite(y).all() and np.abs(y).max() <= 1.0, label


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("good") / "good.wav", _music(2.0, seed=7))


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No user targets or profiles from the machine running the tests.
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path / "config"))


@pytest.mark.parametrize("slot", SLOTS)
@pytest.mark.parametrize("case", list(MAKERS))
def test_matrix(case: str, slot: str, tmp_path: Path, good: Path, capsys) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    subject = MAKERS[case](src)
    before = leftovers(src)
    run = cli(capsys, *command(slot, subject, good, out))
    check(run, EXPECTED[case][slot], out, f"{case} / {slot}")
    assert leftovers(src) == before  # nothing written beside the input


def test_truncated_wav_is_never_measured_short(tmp_path: Path, capsys) -> None:
    """The header says 2 s, the file holds 0.16 s: refused, never reported as 0.16 s long."""
    run = cli(capsys, "analyze", _truncated(tmp_path), "--json", "-")
    assert run.code == BAD and run.stdout == ""
    assert "declares 576000 bytes of audio but the file holds 30000" in run.stderr


def test_undecodable_name_is_shown_as_its_bytes(tmp_path: Path, capsys) -> None:
    run = cli(capsys, "analyze", _non_utf8(tmp_path), "--json", "-")
    assert run.code == OK and "mix-\\\\xff\\\\xfe.wav" in run.stdout  # JSON escapes the backslash


def test_open_size_wav_reads_to_the_end(tmp_path: Path, capsys) -> None:
    run = cli(capsys, "analyze", _open_size(tmp_path), "--json", "-")
    assert run.code == OK, run.stderr
    assert json.loads(run.stdout)["file"]["duration_s"] == pytest.approx(1.5)


def test_measurable_degenerate_files_give_nulls_with_reasons(tmp_path: Path, capsys) -> None:
    for case, key in (("all-silent file", "true_peak_dbtp"), ("0.2 s file", "integrated_lufs"),
                      ("1-sample file", "integrated_lufs")):  # fmt: skip
        run = cli(capsys, "analyze", MAKERS[case](tmp_path), "--json", "-")
        doc = json.loads(run.stdout)
        assert doc["loudness"][key] is None and key in doc["loudness"]["null_reasons"], case
    half = json.loads(cli(capsys, "analyze", _write(tmp_path / "h.wav", _silent_channel()),
                          "--json", "-").stdout)  # fmt: skip
    assert "silent_channel" in half["stereo"]["flags"]


# --------------------------------------------------------------------------------------------
# Pairs of files: what only the reference slots see


def test_mono_mix_against_a_stereo_reference(tmp_path: Path, good: Path, capsys) -> None:
    mono = _write(tmp_path / "mono.wav", _music(2.0, channels=1))
    for args in (["compare", mono, "--ref", good], ["translate", mono, "--ref", good],
                 ["compare", good, "--ref", mono]):  # fmt: skip
        run = cli(capsys, *args, "--json", "-")
        assert run.code == OK and "error" not in run.stderr, (args, run.stderr)
    run = cli(capsys, "master", mono, "--ref", good, "-o", tmp_path / "m.wav", "-q")
    assert run.code == OK and "width is not matched" in run.stderr
    assert sf.info(tmp_path / "m.wav").channels == 1


def test_mismatched_sample_rates(tmp_path: Path, good: Path, capsys) -> None:
    other = _write(tmp_path / "ref44.wav", _music(2.0, 44100, seed=9), 44100)
    run = cli(capsys, "compare", good, "--ref", other, "--json", "-")
    assert run.code == OK, run.stderr
    notes = json.loads(run.stdout)["comparison"]["notes"]
    assert any("44100" in n and "48000" in n for n in notes), notes
    run = cli(capsys, "master", good, "--ref", other, "-o", tmp_path / "m.wav", "-q")
    assert run.code == OK and "resampled 44100 -> 48000" in run.stderr
    assert sf.info(tmp_path / "m.wav").samplerate == FS
    run = cli(capsys, "translate", good, "--ref", other, "--devices", "phone", "--json", "-")
    assert run.code == OK, run.stderr


def test_reference_identical_to_the_mix(tmp_path: Path, good: Path, capsys) -> None:
    run = cli(capsys, "compare", good, "--ref", good, "--json", "-")
    assert run.code == OK, run.stderr
    metrics = json.loads(run.stdout)["comparison"]["metrics"]
    assert all(m["verdict"] in ("within", None) for m in metrics.values())
    run = cli(capsys, "master", good, "--ref", good, "-o", tmp_path / "m.wav", "--json", "-")
    assert run.code == OK, run.stderr
    assert json.loads(run.stdout)["proposal"]["eq"]["moves"] == []


# --------------------------------------------------------------------------------------------
# Profiles


def _profile(tmp_path: Path, capsys, good: Path) -> dict:
    out = tmp_path / "p.json"
    assert cli(capsys, "reference", "build", good, "--name", "g", "-o", out, "-j", "1").code == 0
    return json.loads(out.read_text())


@pytest.mark.parametrize("kind", ["malformed", "newer schema", "other settings", "not an object"])
@pytest.mark.parametrize("verb", ["compare", "translate", "master"])
def test_bad_profile(kind: str, verb: str, tmp_path: Path, good: Path, capsys) -> None:
    path = tmp_path / "bad.json"
    if kind == "malformed":
        path.write_text('{"schema_version": 1, "name": ')
    elif kind == "not an object":
        path.write_text("[1, 2]")
    else:
        doc = _profile(tmp_path, capsys, good)
        key = "schema_version" if kind == "newer schema" else "analysis_settings_version"
        doc[key] += 1
        path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    args = [verb, good, "--profile", path, "--json", out / "o.json"]
    if verb == "master":
        args += ["-o", out / "m.wav"]
    run = cli(capsys, *args)
    says = {"malformed": "malformed profile JSON", "newer schema": "upgrade mixanalyzer",
            "other settings": "rebuild it", "not an object": "malformed profile"}[kind]  # fmt: skip
    check(run, Expect(USAGE, says), out, f"{kind} / {verb}")
    assert "bad.json" in run.stderr


# --------------------------------------------------------------------------------------------
# Permissions


@pytest.mark.parametrize("slot", SLOTS)
def test_permission_denied_in_process(
    slot: str, tmp_path: Path, good: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite runs as root, which reads every file whatever its mode, so here ``open()``
    raises the PermissionError the kernel would give a user (the code path is the same);
    ``test_permission_denied_for_real`` below gets a real EACCES from the kernel."""
    subject = _write(tmp_path / "locked.wav", _music())
    real_open = builtins.open

    def denying_open(file, *args, **kw):
        if os.fspath(file) == os.fspath(subject):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kw)

    monkeypatch.setattr(builtins, "open", denying_open)
    out = tmp_path / "out"
    out.mkdir()
    run = cli(capsys, *command(slot, subject, good, out))
    check(run, Expect(BAD, "Permission denied"), out, slot)


def _without_dac_override() -> None:
    """In the child before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding
    set, so that root's command is refused by file modes like anyone else's."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_permission_denied_for_real(tmp_path: Path) -> None:
    """A file of mode 000: the kernel's own EACCES. As root (CI) the command runs without the
    capabilities that let root ignore file modes; otherwise mode 000 is enough."""
    locked = _write(tmp_path / "locked.wav", _music())
    locked.chmod(0)
    extra = {"preexec_fn": _without_dac_override} if os.geteuid() == 0 else {}
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    env["MIXANALYZER_CONFIG_DIR"] = str(tmp_path / "config")
    master = ["master", str(locked), "--target-lufs", "-14", "-o", str(tmp_path / "m.wav")]
    build = ["reference", "build", str(locked), "--name", "x", "-o", str(tmp_path / "p.json")]
    for args in (["analyze", str(locked), "-q"], master, build):
        proc = subprocess.run(
            [sys.executable, "-m", "analyzer", *args], capture_output=True, text=True,
            env=env, timeout=120, **extra,
        )  # fmt: skip
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == BAD, proc.stderr
        assert len(lines) == 1 and "locked.wav: unreadable: permission denied" in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked.wav"]


# --------------------------------------------------------------------------------------------
# The installed entry point, for a sample of the matrix


@pytest.mark.parametrize(
    ("case", "slot"),
    [("truncated WAV", "analyze"), ("NaN in float WAV", "master"), ("directory", "compare"),
     ("8-channel file", "master"), ("all-silent file", "analyze")],
)  # fmt: skip
def test_matrix_through_a_subprocess(case: str, slot: str, tmp_path: Path, good: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    subject = MAKERS[case](src)
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    env["MIXANALYZER_CONFIG_DIR"] = str(tmp_path / "config")
    proc = subprocess.run(
        [sys.executable, "-m", "analyzer", *map(os.fspath, command(slot, subject, good, out))],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    check(Run(proc.returncode, proc.stdout, proc.stderr), EXPECTED[case][slot], out, case)


# --------------------------------------------------------------------------------------------
# batch: every case of the matrix in one folder


def test_batch_over_the_whole_matrix(tmp_path: Path, capsys, monkeypatch) -> None:
    """``batch`` over one folder holding every file of the matrix (plus a missing path): the
    measurable ones are measured (nulls and warnings as in ``analyze``), every bad one gets one
    error line naming it and a row in ``errors`` with its exit code, the batch finishes and exits
    3 with the count; no traceback, nothing partial. The JSON is complete and valid."""
    from analyzer.io import display_path

    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path / "cache"))
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    made = {}
    for case, make in MAKERS.items():
        if case in ("directory", "missing file", "300-byte name"):
            continue  # a folder is searched, not a file; paths that cannot exist: below
        folder = src / f"c{len(made):02d}"
        folder.mkdir()
        made[case] = make(folder)
    missing = src / "gone.wav"
    run = cli(capsys, "batch", src, missing, "--jobs", "1", "--json", out / "out.json", "-q")
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.code == BAD, run.stderr
    doc = json.loads((out / "out.json").read_text(), parse_constant=pytest.fail)
    measured = {f["file"]["path"] for f in doc["files"]}
    failed = {e["path"]: e for e in doc["errors"]}
    for case, path in made.items():
        expected_bad = EXPECTED[case]["analyze"].code == BAD
        shown = [p for p in (*measured, *failed) if p == display_path(path)]
        assert len(shown) == 1, (case, shown)
        assert (shown[0] in failed) == expected_bad, case
        if expected_bad:
            assert failed[shown[0]]["exit_code"] == BAD
            assert EXPECTED[case]["analyze"].says in failed[shown[0]]["message"], case
    assert any(p.endswith("gone.wav") for p in failed)
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("mixanalyzer: error: ")]
    assert len(errors) == len(failed) + 1  # one per file, then the count
    assert errors[-1].endswith(f"{len(failed)} of {len(failed) + len(measured)} files could "
                               "not be measured")  # fmt: skip
    assert leftovers(out) == ["out.json"]
