"""Issue 16, classes 1, 2, 5, 13 and 15 (CSV): what an output may never do.

Every cell runs the real command line in-process (:func:`tests.cli.test_bad_input_matrix.cli`)
and checks the documented exit code, one ``mixanalyzer:`` line and no traceback, and that
nothing was destroyed: the inputs keep their bytes, a FIFO, device node, socket or folder named
as an output keeps its kind, nothing is written outside the named place, no ``.part`` is left.
The other classes are in ``test_hardening_inputs.py`` and ``test_hardening_process.py``;
classes 6-8 in ``test_bad_input_matrix_config.py``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.errors import EXIT_OUTPUT, EXIT_USAGE
from tests.cli.test_bad_input_matrix import Run, cli
from tests.signals import pink_noise

FS = 48000


def write_noise(path: Path, level: float = 0.1, seed: int = 1, seconds: float = 1.0) -> Path:
    """A short stereo pink-noise file (``level`` sets its loudness)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, level * pink_noise(seconds, FS, channels=2, seed=seed).T, FS,
             subtype="PCM_24")  # fmt: skip
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(run: Run, code: int, *needles: str) -> str:
    """The run exited ``code`` with one ``mixanalyzer: error:`` line holding ``needles``."""
    lines = [ln for ln in run.stderr.splitlines() if ln.strip() and "warning:" not in ln]
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, run.stderr
    assert run.code == code, (run.code, run.stderr)
    assert len(lines) == 1 and lines[0].startswith("mixanalyzer: error: "), run.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def no_part_files(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*.part")]
    assert not left, left


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def mix(tmp_path: Path) -> Path:
    return write_noise(tmp_path / "mix.wav", 0.1, seed=1)


@pytest.fixture
def ref(tmp_path: Path) -> Path:
    return write_noise(tmp_path / "ref.wav", 0.05, seed=2)


# --------------------------------------------------------------------------------------------
# Class 1: --force never renames over what is not a regular file


def _fifo(p: Path) -> None:
    os.mkfifo(p)


def _device(p: Path) -> None:
    try:
        os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")


def _socket(p: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(os.fspath(p))
    sock.close()  # the socket file stays


def _folder(p: Path) -> None:
    p.mkdir()


def _link_to_fifo(p: Path) -> None:
    os.mkfifo(p.parent / "real-fifo")
    p.symlink_to(p.parent / "real-fifo")


NON_REGULAR = {
    "fifo": (_fifo, stat.S_ISFIFO, "a FIFO"),
    "device": (_device, stat.S_ISCHR, "a character device"),
    "socket": (_socket, stat.S_ISSOCK, "a socket"),
    "folder": (_folder, stat.S_ISDIR, "is a directory"),
    "link to a fifo": (_link_to_fifo, stat.S_ISFIFO, "a FIFO"),
}
VERBS = {
    "analyze --json": lambda mix, ref, out: ["analyze", mix, "--json", out],
    "analyze --html": lambda mix, ref, out: ["analyze", mix, "--html", out],
    "compare --json": lambda mix, ref, out: ["compare", mix, "--ref", ref, "--json", out],
    "batch --csv": lambda mix, ref, out: ["batch", mix, "--csv", out, "--no-cache"],
    "master -o": lambda mix, ref, out: ["master", mix, "--target-lufs", "-14", "-o", out],
    "reference build -o": lambda mix, ref, out: [
        "reference",
        "build",
        mix,
        "--name",
        "x",
        "-o",
        out,
    ],
}


@pytest.mark.parametrize("kind", list(NON_REGULAR))
@pytest.mark.parametrize("verb", list(VERBS))
def test_force_never_replaces_a_non_regular_file(
    kind: str, verb: str, tmp_path: Path, mix: Path, ref: Path, capsys
) -> None:
    make, is_kind, says = NON_REGULAR[kind]
    out = tmp_path / ("out.wav" if verb == "master -o" else "out.json")
    make(out)
    run = cli(capsys, *VERBS[verb](mix, ref, out), "--force", "-q")
    one_line(run, EXIT_OUTPUT, says)
    assert is_kind(os.stat(out).st_mode), "the output was replaced"
    assert out.is_symlink() == (kind == "link to a fifo")
    no_part_files(tmp_path)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_dev_stdout_means_standard_output(name: str, mix: Path, capsys) -> None:
    run = cli(capsys, "analyze", mix, "--json", name, "--force", "-q")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["schema_version"] == 1
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # (nothing system-wide was touched)


@pytest.mark.parametrize("name", ["-", "/dev/stdout", "/dev/stderr"])
def test_html_never_goes_to_a_stream(name: str, mix: Path, capsys) -> None:
    """A 5 MB page on a terminal helps nobody: ``--html`` takes a file, however the stream is
    spelled."""
    one_line(cli(capsys, "analyze", mix, "--html", name, "-q"), EXIT_USAGE, "--html needs a file")


def test_dev_stderr_means_standard_error(mix: Path, capsys) -> None:
    run = cli(capsys, "batch", mix, "--csv", "/dev/stderr", "--no-cache", "-q")
    assert run.code == 0, run.stderr
    assert "integrated_lufs" in run.stderr and not run.stdout.strip()


@pytest.mark.parametrize("verb", ["analyze --json", "master -o"])
def test_symlinked_output_keeps_its_link(verb: str, tmp_path: Path, mix: Path, ref: Path,
                                         capsys) -> None:  # fmt: skip
    real = tmp_path / "elsewhere" / ("real.wav" if verb == "master -o" else "real.json")
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / ("link.wav" if verb == "master -o" else "link.json")
    link.symlink_to(real)
    one_line(cli(capsys, *VERBS[verb](mix, ref, link), "-q"), EXIT_OUTPUT, "exists", "--force")
    assert real.read_text() == "old"
    run = cli(capsys, *VERBS[verb](mix, ref, link), "--force", "-q")
    assert run.code == 0, run.stderr
    assert link.is_symlink() and os.readlink(link) == os.fspath(real)
    assert real.read_bytes() != b"old" and real.stat().st_size > 100
    no_part_files(tmp_path)


# --------------------------------------------------------------------------------------------
# Class 2: an output never replaces an input, nor another output


def _same(p: Path) -> Path:
    return p


def _dotted(p: Path) -> Path:
    (p.parent / "sub").mkdir(exist_ok=True)
    return p.parent / "sub" / ".." / p.name


def _hard_link(p: Path) -> Path:
    os.link(p, p.parent / "hard.wav")
    return p.parent / "hard.wav"


def _sym_link(p: Path) -> Path:
    (p.parent / "sym.wav").symlink_to(p)
    return p.parent / "sym.wav"


SPELLINGS = {"same name": _same, "sub/..": _dotted, "hard link": _hard_link,
             "symlink": _sym_link}  # fmt: skip
INPUT_CASES = {
    "analyze --json over the mix": lambda mix, ref, o: ("mix", ["analyze", mix, "--json", o]),
    "analyze --html over the mix": lambda mix, ref, o: ("mix", ["analyze", mix, "--html", o]),
    "compare --json over the ref": lambda mix, ref, o: (
        "ref", ["compare", mix, "--ref", ref, "--json", o]),
    "batch --csv over a file": lambda mix, ref, o: ("mix", ["batch", mix, ref, "--csv", o]),
    "batch --json over a folder's file": lambda mix, ref, o: (
        "ref", ["batch", mix.parent, "--json", o]),
    "reference build -o over a file": lambda mix, ref, o: (
        "ref", ["reference", "build", mix, ref, "--name", "x", "-o", o]),
    "master -o over the ref": lambda mix, ref, o: ("ref", ["master", mix, "--ref", ref, "-o", o]),
    "master -o over the mix": lambda mix, ref, o: (
        "mix", ["master", mix, "--target-lufs", "-14", "-o", o]),
    "translate --json over the ref": lambda mix, ref, o: (
        "ref", ["translate", mix, "--ref", ref, "--devices", "phone", "--json", o]),
}  # fmt: skip


#: Every verb with the output spelled as the input's own name; two verbs with every spelling.
INPUT_CELLS = [(case, "same name") for case in INPUT_CASES] + [
    (case, spelling)
    for case in ("master -o over the ref", "analyze --json over the mix")
    for spelling in SPELLINGS
    if spelling != "same name"
]


@pytest.mark.parametrize(("case", "spelling"), INPUT_CELLS)
def test_an_output_never_replaces_an_input(
    case: str, spelling: str, tmp_path: Path, mix: Path, ref: Path, capsys
) -> None:
    victim = {"mix": mix, "ref": ref}[INPUT_CASES[case](mix, ref, None)[0]]
    before = {p: digest(p) for p in (mix, ref)}
    out = SPELLINGS[spelling](victim)
    _, args = INPUT_CASES[case](mix, ref, out)
    one_line(cli(capsys, *args, "--force", "-q"), EXIT_OUTPUT, "input", "even with --force")
    assert {p: digest(p) for p in (mix, ref)} == before
    no_part_files(tmp_path)


def test_translate_render_never_replaces_a_reference(tmp_path: Path, mix: Path, capsys) -> None:
    renders = tmp_path / "renders"
    victim = write_noise(renders / "mix.phone.wav", 0.05, seed=4)  # where the render would go
    before = digest(victim)
    run = cli(capsys, "translate", mix, "--ref", victim, "--devices", "phone", "--render",
              renders, "--force", "-q")  # fmt: skip
    one_line(run, EXIT_OUTPUT, "input", "even with --force")
    assert digest(victim) == before
    assert sorted(p.name for p in renders.iterdir()) == ["mix.phone.wav"]


@pytest.mark.parametrize(
    "args",
    [
        ["master", "{mix}", "--target-lufs", "-14", "-o", "{o}/m.wav", "--json", "{o}/m.wav"],
        ["analyze", "{mix}", "--json", "{o}/r.json", "--html", "{o}/r.json"],
        ["batch", "{mix}", "--csv", "{o}/r.txt", "--json", "{o}/sub/../r.txt"],
    ],
    ids=["master -o = --json", "analyze --json = --html", "batch --csv = --json"],
)
def test_two_outputs_never_share_a_file(args: list[str], tmp_path: Path, mix: Path,
                                        capsys) -> None:  # fmt: skip
    out = tmp_path / "o"
    (out / "sub").mkdir(parents=True)
    argv = [a.format(mix=mix, o=out) for a in args]
    one_line(cli(capsys, *argv, "--force", "-q"), EXIT_OUTPUT, "named twice")
    assert sorted(p.name for p in out.iterdir()) == ["sub"]


# --------------------------------------------------------------------------------------------
# Class 13: the final rename does not replace what appeared during the run


def _appear_during_run(monkeypatch: pytest.MonkeyPatch, target: Path, make) -> None:
    """``make(target)`` right after the writer made its temporary: after every up-front check,
    before the rename (another run finishing first, or a user's file)."""
    import analyzer.io.write as write

    real = tempfile.mkstemp

    def mkstemp(*a, **kw):
        made = real(*a, **kw)
        if not os.path.lexists(target):
            make(target)
        return made

    monkeypatch.setattr(write.tempfile, "mkstemp", mkstemp)


RACE_VERBS = {
    "master -o": (lambda mix, o: ["master", mix, "--target-lufs", "-14", "-o", o], "m.wav"),
    "analyze --json": (lambda mix, o: ["analyze", mix, "--json", o], "r.json"),
    "reference build -o": (
        lambda mix, o: ["reference", "build", mix, "--name", "x", "-o", o],
        "p.json",
    ),
}


def _other_result(p: Path) -> None:
    p.write_text("the other run's result")


APPEARING = {
    "a file, no --force": (_other_result, [], "appeared during the run", stat.S_ISREG),
    "a FIFO, --force": (os.mkfifo, ["--force"], "a FIFO", stat.S_ISFIFO),
}


@pytest.mark.parametrize("what", list(APPEARING))
@pytest.mark.parametrize("verb", list(RACE_VERBS))
def test_what_appears_during_the_run_is_kept(
    verb: str, what: str, tmp_path: Path, mix: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Two runs to one output: the second to finish fails, the first's result stays; with
    --force a FIFO that appeared meanwhile is still not renamed over."""
    args, name = RACE_VERBS[verb]
    make, force, says, is_kind = APPEARING[what]
    out = tmp_path / "o" / name
    out.parent.mkdir()
    _appear_during_run(monkeypatch, out, make)
    one_line(cli(capsys, *args(mix, out), *force, "-q"), EXIT_OUTPUT, says)
    assert is_kind(os.stat(out).st_mode)
    if is_kind is stat.S_ISREG:
        assert out.read_text() == "the other run's result"
    no_part_files(tmp_path)


# --------------------------------------------------------------------------------------------
# Class 5: device names never lead a render outside its folder


def _device_file(path: Path, *names: str) -> Path:
    filt = {"type": "high_pass", "cutoff_hz": 100.0, "order": 2}
    doc = {"devices": [{"name": n, "channels_mode": "stereo", "filters": [filt]} for n in names]}
    path.write_text(json.dumps(doc))
    return path


HOSTILE_NAMES = {
    "dot-dot path": "x/../../../outside",
    "absolute": "/tmp/mixanalyzer-outside",
    "backslashes": "..\\..\\outside",
    "dot-dot": "..",
    "dot": ".",
    "NUL": "a\x00b/../../c",
    "very long": "n" * 300,
    "very long with a slash": "../" * 100 + "z",
    "newline and ESC": "a\n\x1b[2Jb",
}


@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_render_stays_in_its_folder(case: str, tmp_path: Path, mix: Path, capsys) -> None:
    name = HOSTILE_NAMES[case]
    work = tmp_path / "a" / "b" / "c"
    renders = work / "renders"
    work.mkdir(parents=True)
    devices = _device_file(work / "devices.json", name)
    before = {p for p in tmp_path.rglob("*")}
    run = cli(capsys, "translate", mix, "--device-file", devices, "--devices", name, "--render",
              renders, "-q")  # fmt: skip
    assert run.code == 0, run.stderr
    new = {p for p in tmp_path.rglob("*")} - before
    assert new, "nothing rendered"
    made = [p for p in new if p.is_file()]
    assert len(made) == 1 and made[0].parent == renders, sorted(map(str, new))
    assert len(os.fsencode(made[0].name)) <= 255
    assert made[0].name.startswith("mix.") and made[0].name.endswith(".wav")
    assert sf.info(made[0]).frames >= FS  # (with the filters' tail)
    assert not Path("/tmp/mixanalyzer-outside.wav").exists()


@pytest.mark.parametrize(
    "names",
    [("a/b", "a_b"), ("x" * 300 + "1", "x" * 300 + "1/"), ("a?", "a*")],
    ids=["slash vs underscore", "long names", "two replaced characters"],
)
def test_render_names_that_collide(names: tuple[str, str], tmp_path: Path, mix: Path,
                                   capsys) -> None:  # fmt: skip
    """Two devices whose names make the same file: either two distinct files, or refused with
    one line before anything is written; never one render over the other."""
    renders = tmp_path / "renders"
    devices = _device_file(tmp_path / "devices.json", *names)
    run = cli(capsys, "translate", mix, "--device-file", devices, "--devices", ",".join(names),
              "--render", renders, "-q")  # fmt: skip
    if run.code == 0:
        assert len(list(renders.iterdir())) == 2
    else:
        one_line(run, EXIT_USAGE, "would both render to")
        assert not renders.exists() or not list(renders.iterdir())


# --------------------------------------------------------------------------------------------
# Class 15 (CSV): cells that a spreadsheet would run as a formula


FORMULA_NAMES = ['=HYPERLINK("http://x.example","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_csv_cells_never_start_a_formula(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Files named as formulas, given by relative names (so the path, the warning and the
    error cells start with the name): every such text cell starts with ``'``."""
    monkeypatch.chdir(tmp_path)
    names = [f"{stem}.wav" for stem in FORMULA_NAMES]
    for i, name in enumerate(names):
        write_noise(tmp_path / name, 0.1, seed=10 + i, seconds=0.5)
    (tmp_path / "=bad().wav").write_text("not audio")
    run = cli(capsys, "batch", "--csv", "r.csv", "--no-cache", "-q", "--jobs", "1", "--",
              *names, "=bad().wav")  # fmt: skip
    assert run.code == 3, run.stderr
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(names) + 1
    for row in rows:
        for key, cell in row.items():
            if cell and cell[0] in "=+-@\t\r":
                assert key not in ("file.path", "warnings", "error"), (key, cell)
                float(cell)  # only a number may start so (a negative level), and it is one
    printable = [n for n in [*names, "=bad().wav"] if n[0] in "=+-@"]
    assert {f"'{n}" for n in printable} <= {r["file.path"] for r in rows}
    # a tab or CR is shown escaped (``\\t``): a backslash, which no spreadsheet runs
    assert all(r["warnings"][0] in "'\\" for r in rows if r["warnings"])
    assert [r["error"][:8] for r in rows if r["error"]] == ["'=bad().wav"[:8]]
    levels = [float(r["loudness.integrated_lufs"]) for r in rows if not r["error"]]
    assert all(np.isfinite(levels)) and all(v < 0 for v in levels)
