"""Issue 16, classes 3, 4, 10 and 11: what an input can do to the tool.

* 3: the result cache stores an analysis only under the hash of the bytes decoded (a file
  replaced or rewritten between the hash and the decoder, or after the decoder, is not cached
  under the wrong key);
* 4: a FIFO, ``/dev/zero`` or a device named as audio is refused before it is opened (exit 3),
  in every verb, also with a progress bar on a terminal;
* 10: files cut short or with damaged pages in every container libsndfile hides it for
  (W64, AU, NIST, VOC, PAF, Ogg Vorbis, Opus, MP3 with a Xing header) give exit 3, never a
  shorter measurement; a corrupt MP3 prints no raw decoder line;
* 11: folder walks follow a symlinked folder once, survive a link loop, and report a broken
  link as that file's error.

In-process through :func:`tests.cli.test_bad_input_matrix.cli`; a hang would stop the test
worker (``faulthandler``) rather than the suite.
"""

from __future__ import annotations

import faulthandler
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.errors import EXIT_BAD_INPUT
from tests.cli.test_bad_input_matrix import Run, cli
from tests.cli.test_hardening_matrix import (  # noqa: F401 (a fixture)
    _private_dirs,
    no_part_files,
    one_line,
    write_noise,
)
from tests.signals import pink_noise

FS = 48000


@pytest.fixture
def hang_guard() -> Iterator[None]:
    """A command that blocks forever ends the worker with its stack (a failure, not a hang)."""
    faulthandler.dump_traceback_later(120, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


# --------------------------------------------------------------------------------------------
# Class 3: the cache stores the analysis under the hash of what was decoded


def _integrated(run: Run) -> float:
    doc = json.loads(run.stdout)
    files = doc.get("files", [doc])
    return files[0]["loudness"]["integrated_lufs"]


def _batch(capsys, path: Path) -> Run:
    return cli(capsys, "batch", path, "--jobs", "1", "--json", "-", "-q")


def _swap_in(path: Path, other: Path, how: str) -> None:
    if how == "rename":
        tmp = path.with_name(".swap.wav")
        shutil.copyfile(other, tmp)
        os.replace(tmp, path)
    else:  # the same bytes rewritten in place: same inode, same size
        with open(path, "r+b") as fh:
            fh.write(other.read_bytes())


@pytest.mark.parametrize("when", ["before the decoder", "after the decoder"])
@pytest.mark.parametrize("how", ["rename", "in place"])
def test_cache_never_stores_one_file_under_another_hash(
    when: str, how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The batch hashes A, then the file becomes B (same size: only the samples differ) just
    before or just after the decoder reads it. Whatever that run reports, the cache may only
    ever answer A's hash with A's figures and B's with B's."""
    import analyzer.measure.engine as engine

    loud = write_noise(tmp_path / "keep" / "loud.wav", 0.2, seed=5)
    soft = write_noise(tmp_path / "keep" / "soft.wav", 0.02, seed=6)
    assert loud.stat().st_size == soft.stat().st_size
    truth = {p: _integrated(cli(capsys, "analyze", p, "--json", "-", "-q")) for p in (loud, soft)}
    assert truth[loud] > truth[soft] + 15
    track = tmp_path / "track.wav"
    shutil.copyfile(loud, track)
    real = engine.analyze_file

    def swapped(path, *a, **kw):
        if when == "before the decoder":
            _swap_in(Path(path), soft, how)
            return real(path, *a, **kw)
        result = real(path, *a, **kw)
        _swap_in(Path(path), soft, how)
        return result

    monkeypatch.setattr(engine, "analyze_file", swapped)
    assert _batch(capsys, track).code == 0
    monkeypatch.setattr(engine, "analyze_file", real)
    for content in (soft, loud, soft):  # both hashes asked, each twice (from the cache)
        _swap_in(track, content, "rename")
        for _ in range(2):
            run = _batch(capsys, track)
            assert run.code == 0, run.stderr
            assert _integrated(run) == pytest.approx(truth[content], abs=0.01), content.name


def test_identity_is_trusted_only_once_the_file_has_settled(tmp_path: Path) -> None:
    """A file changed a moment ago: the job waits until its change time is more than one
    clock tick old before recording it, so a change during the decode cannot keep the same
    times (file times come from a coarse clock on older kernels)."""
    import time

    from analyzer.batching.workers import RACY_NS, _settled_identity

    path = write_noise(tmp_path / "fresh.wav", seconds=0.1)
    ident = _settled_identity(str(path))
    assert ident is not None and time.time_ns() - ident[-1] >= RACY_NS
    assert ident == _settled_identity(str(path))


def test_cache_serves_an_unchanged_file(tmp_path: Path, capsys) -> None:
    """(The cases above can fail: the same file twice is a hit, with the same figures.)"""
    track = write_noise(tmp_path / "t.wav", 0.1, seed=8)
    first = cli(capsys, "batch", track, "--jobs", "1", "--json", "-", "-q")
    second = cli(capsys, "batch", track, "--jobs", "1", "--json", "-", "-q")
    assert json.loads(first.stdout)["cache"] == {"hits": 0, "misses": 1}
    assert json.loads(second.stdout)["cache"] == {"hits": 1, "misses": 0}
    assert _integrated(first) == _integrated(second)


# --------------------------------------------------------------------------------------------
# Class 4: streams and devices named as audio are refused before they are opened


def _fifo(d: Path) -> Path:
    os.mkfifo(d / "stream.wav")
    return d / "stream.wav"


def _link_to_dev_zero(d: Path) -> Path:
    (d / "zero.wav").symlink_to("/dev/zero")
    return d / "zero.wav"


STREAMS = {"fifo": (_fifo, "a FIFO"), "/dev/zero": (_link_to_dev_zero, "a character device")}
SLOTS = {
    "analyze": lambda s, good: ["analyze", s],
    "analyze (file list)": lambda s, good: ["analyze", good, s],
    "batch": lambda s, good: ["batch", s, good, "--jobs", "1"],
    "batch (in a folder)": lambda s, good: ["batch", s.parent, "--jobs", "1"],
    "compare --ref": lambda s, good: ["compare", good, "--ref", s],
    "master": lambda s, good: ["master", s, "--target-lufs", "-14", "-o", good.with_name("m.wav")],
    "reference build": lambda s, good: [
        "reference",
        "build",
        s,
        "--name",
        "x",
        "-o",
        good.with_name("p.json"),
    ],
}


@pytest.mark.parametrize("slot", list(SLOTS))
@pytest.mark.parametrize("stream", list(STREAMS))
def test_a_stream_is_refused_before_it_is_opened(
    stream: str, slot: str, tmp_path: Path, hang_guard: None, monkeypatch, capsys
) -> None:
    make, kind = STREAMS[stream]
    folder = tmp_path / "in"
    folder.mkdir()
    subject = make(folder)
    good = write_noise(tmp_path / "good.wav", 0.1, seed=3)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)  # progress bars probe durations
    quiet = [] if slot.startswith("analyze") else ["-q"]  # (analyze shows its bar unless -q)
    run = cli(capsys, *SLOTS[slot](subject, good), *quiet)
    assert run.code == EXIT_BAD_INPUT, run.stderr
    errors = [ln for ln in run.stderr.splitlines() if "error:" in ln]
    assert any(kind in ln and "not a regular file" in ln for ln in errors), run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    no_part_files(tmp_path)


# --------------------------------------------------------------------------------------------
# Class 10: short reads that libsndfile does not report


def _encoded(d: Path, fmt: str, subtype: str, ext: str, seconds: float = 2.0) -> Path:
    x = 0.1 * pink_noise(seconds, FS, channels=2, seed=9)
    path = d / f"full.{ext}"
    sf.write(path, x.T, FS, format=fmt, subtype=subtype)
    return path


def _cut(fmt: str, subtype: str, ext: str, keep: float) -> object:
    def make(d: Path) -> Path:
        raw = _encoded(d, fmt, subtype, ext).read_bytes()
        out = d / f"cut.{ext}"
        out.write_bytes(raw[: int(len(raw) * keep)])
        return out

    return make


def _damaged_ogg_page(subtype: str, ext: str, which: str = "middle") -> object:
    """A page (the first after the headers, one in the middle, the last) with bytes of its body
    flipped: its CRC fails, and the decoder skips it without an error."""

    def make(d: Path) -> Path:
        raw = bytearray(_encoded(d, "OGG", subtype, ext).read_bytes())
        pages = [i for i in range(len(raw)) if raw[i : i + 4] == b"OggS"]
        assert len(pages) > 4
        k = {"first": 2, "middle": len(pages) // 2, "last": len(pages) - 1}[which]
        end = pages[k + 1] if k + 1 < len(pages) else len(raw)
        for i in range(pages[k] + 40, min(pages[k] + 140, end)):
            raw[i] ^= 0x5A
        out = d / f"damaged.{ext}"
        out.write_bytes(bytes(raw))
        return out

    return make


SHORT_READS = {
    "W64 cut to a third": _cut("W64", "PCM_16", "w64", 1 / 3),
    "AU cut to a third": _cut("AU", "PCM_16", "au", 1 / 3),
    "NIST cut to a third": _cut("NIST", "PCM_16", "nist", 1 / 3),
    "VOC cut to a third": _cut("VOC", "PCM_16", "voc", 1 / 3),
    "PAF 24-bit cut to a third": _cut("PAF", "PCM_24", "paf", 1 / 3),
    "PAF 16-bit cut inside a frame": _cut("PAF", "PCM_16", "paf", 1 / 3),
    "Ogg Vorbis cut in half": _cut("OGG", "VORBIS", "ogg", 0.5),
    "Ogg Vorbis cut near the end": _cut("OGG", "VORBIS", "ogg", 0.95),
    "Opus cut in half": _cut("OGG", "OPUS", "opus", 0.5),
    "MP3 (Xing header) cut in half": _cut("MP3", "MPEG_LAYER_III", "mp3", 0.5),
    "Ogg Vorbis with a damaged page": _damaged_ogg_page("VORBIS", "ogg"),
    "Ogg Vorbis with a damaged first page": _damaged_ogg_page("VORBIS", "ogg", "first"),
    "Ogg Vorbis with a damaged last page": _damaged_ogg_page("VORBIS", "ogg", "last"),
    "Opus with a damaged page": _damaged_ogg_page("OPUS", "opus"),
    "Opus with a damaged first page": _damaged_ogg_page("OPUS", "opus", "first"),
    "Opus with a damaged last page": _damaged_ogg_page("OPUS", "opus", "last"),
}


@pytest.mark.parametrize("verb", ["analyze", "batch"])
@pytest.mark.parametrize("case", list(SHORT_READS))
def test_short_reads_are_refused(case: str, verb: str, tmp_path: Path, capfd) -> None:
    subject = SHORT_READS[case](tmp_path)  # type: ignore[operator]
    args = ["analyze", subject] if verb == "analyze" else ["batch", subject, "--jobs", "1"]
    capfd.readouterr()
    run = cli(capfd, *args, "--json", tmp_path / "out.json", "-q")
    errors = [ln for ln in run.stderr.splitlines() if "error:" in ln]
    assert run.code == EXIT_BAD_INPUT, run.stderr
    assert len(errors) == 1 and any(w in errors[0] for w in ("truncated", "corrupt")), run.stderr
    assert all(ln.startswith("mixanalyzer: ") for ln in run.stderr.splitlines() if ln.strip())
    if verb == "analyze":
        assert not (tmp_path / "out.json").exists()


def test_whole_files_of_every_container_are_measured(tmp_path: Path, capfd) -> None:
    """(The cases above can fail: the uncut files load, at their full length.)"""
    for fmt, subtype, ext in [("W64", "PCM_16", "w64"), ("NIST", "PCM_16", "nist"),
                              ("PAF", "PCM_24", "paf"), ("OGG", "OPUS", "opus"),
                              ("MP3", "MPEG_LAYER_III", "mp3")]:  # fmt: skip
        path = _encoded(tmp_path, fmt, subtype, ext)
        run = cli(capfd, "analyze", path, "--json", "-", "-q")
        assert run.code == 0, run.stderr
        assert json.loads(run.stdout)["file"]["duration_s"] == pytest.approx(2.0, abs=0.06)


def test_corrupt_mp3_prints_one_line(tmp_path: Path, capfd) -> None:
    """Garbage in the middle of an MP3: libmpg123's own warnings (printed on descriptor 2 by the
    C library) never reach the terminal; one line, which says where decoding failed."""
    raw = bytearray(_encoded(tmp_path, "MP3", "MPEG_LAYER_III", "mp3").read_bytes())
    rng = np.random.default_rng(4)
    noise = rng.integers(0, 256, len(raw) // 3, dtype=np.uint8).tobytes()
    raw[len(raw) // 3 : len(raw) // 3 + len(noise)] = noise
    bad = tmp_path / "corrupt.mp3"
    bad.write_bytes(bytes(raw))
    capfd.readouterr()
    run = cli(capfd, "analyze", bad, "-q")
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert run.code == EXIT_BAD_INPUT, run.stderr
    assert len(lines) == 1 and lines[0].startswith("mixanalyzer: error: "), run.stderr
    assert "at 0.000 s" not in lines[0]


# --------------------------------------------------------------------------------------------
# Class 11: folder walks


def _library(tmp_path: Path) -> Path:
    """A folder with two tracks, a symlinked sub-folder holding a third, a link back to the
    top (a loop), two links pointing at each other and a broken link."""
    top = tmp_path / "lib"
    write_noise(top / "a.wav", 0.1, seed=11)
    write_noise(top / "sub" / "b.wav", 0.1, seed=12)
    write_noise(tmp_path / "elsewhere" / "c.wav", 0.1, seed=13)
    (top / "linked").symlink_to(tmp_path / "elsewhere")
    (top / "sub" / "loop").symlink_to(top)
    (top / "x.wav").symlink_to(top / "y.wav")
    (top / "y.wav").symlink_to(top / "x.wav")
    (top / "broken.wav").symlink_to(tmp_path / "gone.wav")
    return top


def test_batch_walks_links_once_and_reports_bad_ones(tmp_path: Path, hang_guard, capsys) -> None:
    top = _library(tmp_path)
    run = cli(capsys, "batch", top, "--jobs", "1", "--json", "-", "-q", "--no-cache")
    assert run.code == EXIT_BAD_INPUT, run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    doc = json.loads(run.stdout)
    measured = sorted(Path(f["file"]["path"]).name for f in doc["files"])
    assert measured == ["a.wav", "b.wav", "c.wav"]
    errors = {Path(e["path"]).name: e["message"] for e in doc["errors"]}
    assert sorted(errors) == ["broken.wav", "x.wav", "y.wav"]
    assert "broken link" in errors["broken.wav"]
    assert all(m.count("\n") == 0 for m in errors.values())


def test_reference_build_walks_links_once(tmp_path: Path, hang_guard, capsys) -> None:
    top = _library(tmp_path)
    for bad in ("x.wav", "y.wav", "broken.wav"):
        (top / bad).unlink()
    out = tmp_path / "p.json"
    run = cli(capsys, "reference", "build", top, "--name", "lib", "-o", out, "-q")
    assert run.code == 0, run.stderr
    assert json.loads(out.read_text())["n_tracks"] == 3


def test_reference_build_reports_a_broken_link(tmp_path: Path, hang_guard, capsys) -> None:
    top = _library(tmp_path)
    run = cli(capsys, "reference", "build", top, "--name", "lib", "-o", tmp_path / "p.json",
              "-q")  # fmt: skip
    one_line(run, EXIT_BAD_INPUT)
    assert "broken.wav" in run.stderr or "x.wav" in run.stderr or "y.wav" in run.stderr
    assert not (tmp_path / "p.json").exists()
