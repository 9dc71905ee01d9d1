"""Golden files of every verb through the real command line: the terminal output (piped, so plain
text at the width given) and the JSON document, on fixed synthetic files with fixed names.

They pin what a user sees, so that moving code around cannot change it unnoticed. Timings and the
tool's version are masked, and the JSON's numbers are compared to 10 significant digits: the last
bits of a float differ between CPUs with other SIMD kernels (numpy's AVX-512 and AVX2 loops
round differently, and numba compiles for the CPU it runs on), which is no change of code. For
the same reason a number the tool rounds may land one unit of its last digit away, so every
number is compared as written, to within one unit of its last digit, with the same digits after
the point (:mod:`tests.snapshot_text`). Everything else is compared to the byte. Set
MIXANALYZER_UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change (and read the diff)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli_runner import run_cli
from tests.signals import pink_noise
from tests.snapshot_text import assert_same_but_last_digit, same_but_last_digit

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MIXANALYZER_UPDATE_SNAPSHOTS") == "1"
FS = 44100

_VOLATILE = [
    (re.compile(r"\b\d+\.\d s\b"), "X s"),
    (re.compile(r"mixanalyzer \d+\.\d+\.\d+\S*"), "mixanalyzer VERSION"),
]


def _mask(text: str) -> str:
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _mask_json(doc: object) -> object:
    """Drop what differs between runs (the tool's version, creation times) from a JSON document,
    and the last bits of its numbers (10 significant digits kept)."""
    if isinstance(doc, float):
        return float(f"{doc:.10g}")
    if isinstance(doc, dict):
        return {
            k: ("X" if k in ("tool", "created_utc", "elapsed_s") else _mask_json(v))
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_mask_json(v) for v in doc]
    return doc


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}: run with MIXANALYZER_UPDATE_SNAPSHOTS=1"
    assert_same_but_last_digit(text, path.read_text(encoding="utf-8"), name)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MIXANALYZER_DEBUG"}
    env["COLUMNS"] = "80"
    env["MIXANALYZER_CONFIG_DIR"] = str(cwd / "config")  # no user targets or profiles
    return run_cli(args, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dull, quiet, slightly wide mix and a brighter, louder reference (fixed seeds)."""
    d = tmp_path_factory.mktemp("golden")
    x = pink_noise(6.0, FS, seed=31) * 0.1
    spec = np.fft.rfft(x, axis=1)
    f = np.fft.rfftfreq(x.shape[1], 1 / FS)
    dull = np.fft.irfft(spec / (1 + (f / 4000.0) ** 2), n=x.shape[1], axis=1) * 0.5
    dull[1] = 0.9 * dull[1] - 0.1 * dull[0]
    (d / "album").mkdir()
    sf.write(d / "album" / "mix.wav", dull.T, FS, subtype="PCM_24")
    sf.write(d / "album" / "ref.wav", (pink_noise(6.0, FS, seed=32) * 0.25).T, FS,
             subtype="PCM_24")  # fmt: skip
    return d


def _golden_run(folder: Path, name: str, *args: str, json_out: str | None = "out.json") -> None:
    out = folder / json_out if json_out else None
    if out is not None and out.exists():
        out.unlink()
    extra = ["--json", json_out] if json_out else []
    proc = _run(folder, *args, *extra)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    _check(f"{name}.stdout.txt", _mask(proc.stdout))
    _check(f"{name}.stderr.txt", _mask(proc.stderr))
    if out is not None:
        doc = json.loads(out.read_text(encoding="utf-8"))
        _check(f"{name}.json", json.dumps(_mask_json(doc), indent=1, sort_keys=True) + "\n")


def test_analyze_golden(folder: Path) -> None:
    _golden_run(folder, "analyze", "analyze", "album/mix.wav")


def test_compare_golden(folder: Path) -> None:
    _golden_run(folder, "compare", "compare", "album/mix.wav", "--ref", "album/ref.wav")


def test_translate_golden(folder: Path) -> None:
    _golden_run(folder, "translate", "translate", "album/mix.wav", "--ref", "album/ref.wav")


def test_master_golden(folder: Path) -> None:
    master = folder / "master.wav"
    if master.exists():
        master.unlink()
    _golden_run(folder, "master", "master", "album/mix.wav", "--ref", "album/ref.wav",
                "-o", "master.wav")  # fmt: skip
    assert sf.info(master).frames == 6 * FS


def test_master_dry_run_golden(folder: Path) -> None:
    _golden_run(folder, "master_dry_run", "master", "album/mix.wav", "--target-lufs", "-14",
                "--dry-run")  # fmt: skip


def test_batch_golden(folder: Path) -> None:
    _golden_run(folder, "batch", "batch", "album", "--album", "--no-cache", "--jobs", "1",
                "--ref", "album/ref.wav")  # fmt: skip


def test_batch_csv_golden(folder: Path) -> None:
    proc = _run(folder, "batch", "album", "--no-cache", "--jobs", "1", "--csv", "-")
    assert proc.returncode == 0, proc.stderr
    _check("batch.csv", _mask(proc.stdout))


def test_reference_build_and_list_golden(folder: Path) -> None:
    out = folder / "prof.json"
    if out.exists():
        out.unlink()
    proc = _run(folder, "reference", "build", "album/ref.wav", "--name", "golden", "-o",
                "prof.json", "--jobs", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    _check("reference_build.stdout.txt", _mask(proc.stdout))
    doc = json.loads(out.read_text(encoding="utf-8"))
    _check("reference_build.json", json.dumps(_mask_json(doc), indent=1, sort_keys=True) + "\n")


def test_demo_golden(demo_run) -> None:
    proc = demo_run.proc
    assert proc.returncode == 0, proc.stderr
    _check("demo.stdout.txt", _mask(proc.stdout))
    doc = json.loads((demo_run.out / "demo_mix.analysis.json").read_text(encoding="utf-8"))
    _check("demo.analysis.json", json.dumps(_mask_json(doc), indent=1, sort_keys=True) + "\n")


def test_the_comparison_forgives_only_a_last_digit():
    golden = '"lra_low_lufs": -10.9165,\n"lra_lu": 0.3118, 1.5e-07 at 12 dB\n'
    assert same_but_last_digit(golden.replace("-10.9165", "-10.9164"), golden)
    assert same_but_last_digit(golden.replace("1.5e-07", "1.6e-07"), golden)
    assert same_but_last_digit(golden.replace("0.3118", "0.3119"), golden)
    for changed in (
        golden.replace("-10.9165", "-10.9163"),  # two units
        golden.replace("-10.9165", "-10.917"),  # other digits
        golden.replace("1.5e-07", "1.5e-06"),  # other exponent
        golden.replace("12 dB", "13 dB"),  # an integer moved
        golden.replace("at 12", "at  12"),  # text
        golden + "1\n",  # one number more
    ):
        assert not same_but_last_digit(changed, golden), changed
