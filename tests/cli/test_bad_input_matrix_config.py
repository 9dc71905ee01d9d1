"""The bad-input matrix, classes 6-8 of issue 16: numbers, parser limits and terminal text.

The audio matrix is ``test_bad_input_matrix.py``; this file holds the same contract for what is
not audio: every number from the command line or a file (profiles, targets files, device
files) outside its valid range, documents nested 100,000 deep or holding 400- or 5,000-digit
integers, and control sequences (ESC, OSC, CSI, C1, bidi overrides) in file names, arguments,
labels and keys. Each cell runs the real command line in-process and checks one line on stderr
naming the valid range or the limit, the documented exit code (2 for options and
configuration files), no traceback, nothing written; or, where the input is acceptable, that no
raw control character reaches the terminal.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.errors import EXIT_USAGE, UsageError
from tests.cli.test_bad_input_matrix import Run, cli
from tests.signals import pink_noise

FS = 48000
#: What a terminal would act on: ESC, BEL (ends an OSC), CSI in C1, bidi override/isolate.
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")
EVIL = "E\x1b]0;owned\x07\x1b[31mRED\x9b2J\u202eTXT\u2066"
PROFILE = Path(__file__).parents[2] / "analyzer/comparison/profile_data/ambient.json"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("good") / "good.wav"
    sf.write(path, 0.1 * pink_noise(2.0, FS, channels=2, seed=7).T, FS, subtype="PCM_24")
    return path


@pytest.fixture(autouse=True)
def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path / "config"))


def refused(run: Run, says: str, out: Path | None = None) -> None:
    """Exit 2, one ``mixanalyzer: error:`` line containing ``says``, nothing written."""
    code, err = run.code, run.stderr
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err and "internal error" not in err, err
    assert code == EXIT_USAGE, (code, err)
    assert len(lines) == 1 and lines[0].startswith("mixanalyzer: error: "), err
    assert says in lines[0], (says, lines[0])
    if out is not None:
        assert not out.exists() or not list(out.iterdir())


# --------------------------------------------------------------------------------------------
# Class 6: numbers from the command line


OPTION_CASES = {
    "speed nan": (["translate", "{good}", "--speed-kmh", "nan"], "at most 300 km/h"),
    "speed inf": (["translate", "{good}", "--speed-kmh", "inf"], "at most 300 km/h"),
    "speed negative": (["translate", "{good}", "--speed-kmh", "-100"], "more than 0"),
    "speed 1e308": (["translate", "{good}", "--speed-kmh", "1e308"], "at most 300 km/h"),
    "level 1e308": (["translate", "{good}", "--level-db-spl", "1e308"], "20 to 130 dB SPL"),
    "level nan": (["translate", "{good}", "--level-db-spl", "nan"], "20 to 130 dB SPL"),
    "album spread nan": (["batch", "{good}", "--album", "--album-spread", "nan"], "0 to 12 LU"),
    "album spread 1e308": (["batch", "{good}", "--album", "--album-spread", "1e308"], "0 to 12"),
    "batch ceiling nan": (["batch", "{good}", "--album", "--ceiling", "nan"], "-20 to 0 dBTP"),
    "batch ceiling +3": (["batch", "{good}", "--album", "--ceiling", "3"], "-20 to 0 dBTP"),
    "master ceiling nan": (
        ["master", "{good}", "--target-lufs", "-14", "--ceiling", "nan", "-o", "{out}/m.wav"],
        "-20 to 0 dBTP",
    ),
    "target lufs inf": (
        ["master", "{good}", "--target-lufs", "inf", "-o", "{out}/m.wav"],
        "-40 to -4 LUFS",
    ),
    "max gain nan": (
        ["master", "{good}", "--target-lufs", "-14", "--max-gain", "nan", "-o", "{out}/m.wav"],
        "at most 24 dB",
    ),
    "smoothing inf": (
        ["master", "{good}", "--target-lufs", "-14", "--smoothing", "inf", "-o", "{out}/m.wav"],
        "1/12 to 3 octaves",
    ),
    "amount nan": (
        ["master", "{good}", "--target-lufs", "-14", "--amount", "nan", "-o", "{out}/m.wav"],
        "between 0 and 100",
    ),
    "max moves 400 digits": (
        ["master", "{good}", "--target-lufs", "-14", "--max-moves", "9" * 400, "-o", "{out}/m.wav"],
        "0 to 6",
    ),
    "jobs 400 digits": (["batch", "{good}", "--jobs", "-" + "9" * 400], "1 or more"),
    "fail-on 400 digits": (["analyze", "{good}", "--fail-on", "lufs>" + "9" * 400], "finite"),
}


@pytest.mark.parametrize("case", list(OPTION_CASES))
def test_option_out_of_range(case: str, tmp_path: Path, good: Path, capsys) -> None:
    args, says = OPTION_CASES[case]
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(good=good, out=out) for a in args]
    refused(cli(capsys, *argv, "--json", out / "o.json"), says, out)


# --------------------------------------------------------------------------------------------
# Class 6: numbers from files; class 7: parser limits


def _device(**extra: object) -> dict:
    filt = {"type": "high_pass", "cutoff_hz": 100.0, "order": 2}
    return {"name": "x", "channels_mode": "stereo", "filters": [filt], **extra}


def _level(**extra: object) -> dict:
    return {"kind": "bass_limiter", "crossovers_hz": [150.0], "thresholds_db_spl": [90.0],
            "ratio": 4.0, "attack_ms": 5.0, "release_ms": 100.0, **extra}  # fmt: skip


DEVICE_CASES = {
    "cutoff 1e-300": (
        {"devices": [_device(filters=[{"type": "high_pass", "cutoff_hz": 1e-300, "order": 2}])]},
        "1 and 100000",
    ),
    "gain 1e300": (
        {
            "devices": [
                _device(filters=[{"type": "peaking", "centre_hz": 1000, "gain_db": 1e300, "q": 1}])
            ]
        },
        "-100 and 100",
    ),
    "right delay 1e9 ms": ({"devices": [_device(right_delay_ms=1e9)]}, "0 and 100"),
    "balance -1e300": ({"devices": [_device(balance_db=-1e300)]}, "-40 and 40"),
    "q 0": (
        {
            "devices": [
                _device(filters=[{"type": "peaking", "centre_hz": 1000, "gain_db": 3, "q": 0}])
            ]
        },
        "0.01 and 100",
    ),
    "empty breakpoints": (
        {
            "devices": [
                _device(filters=[{"type": "breakpoints", "frequencies_hz": [], "gains_db": []}])
            ]
        },
        "at least two",
    ),
    "empty crossovers": (
        {"devices": [_device(level=_level(crossovers_hz=[], thresholds_db_spl=[]))]},
        "must not be empty",
    ),
    "limiter ratio 0": ({"devices": [_device(level=_level(ratio=0))]}, "1 and 100"),
    "level 1e300 dB SPL": ({"devices": [_device(nominal_level_db_spl=1e300)]}, "0 and 150"),
}


@pytest.mark.parametrize("case", list(DEVICE_CASES))
def test_device_file_value_out_of_range(case: str, tmp_path: Path, good: Path, capsys) -> None:
    doc, says = DEVICE_CASES[case]
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    run = cli(capsys, "translate", good, "--device-file", path, "--devices", "x",
              "--json", out / "o.json")  # fmt: skip
    refused(run, says, out)
    assert "devices.json" in run.stderr


def _profile_doc(**metric: object) -> dict:
    doc = json.loads(PROFILE.read_text())
    doc["metrics"]["integrated_lufs"].update(metric)
    return doc


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_toml(key: str, depth: int) -> str:
    return f"{key} = " + _deep(depth) + "\n"


#: (kind, file suffix, text, what the one line says). Kinds: profile, targets, devices.
FILE_CASES = {
    "profile median -1e300": (
        "profile",
        ".json",
        json.dumps(_profile_doc(median=-1e300)),
        "outside -300 to 300",
    ),
    "profile p10 above median": (
        "profile",
        ".json",
        json.dumps(_profile_doc(p10=0.0)),
        "p10 <= median <= p90",
    ),
    "profile 1e999": (
        "profile",
        ".json",
        json.dumps(_profile_doc()).replace('"n_tracks": 3', '"n_tracks": 3, "x": 1e999'),
        "out of range",
    ),
    "profile nested 100000": ("profile", ".json", _deep(100_000), "nested more than 64"),
    "profile 400 digits": (
        "profile",
        ".json",
        json.dumps(_profile_doc()).replace('"n_tracks": 3', '"n_tracks": ' + "9" * 400),
        "out of range",
    ),
    "profile 5000 digits": (
        "profile",
        ".json",
        json.dumps(_profile_doc()).replace('"n_tracks": 3', '"n_tracks": ' + "9" * 5000),
        "out of range",
    ),
    "targets lufs 1e300": (
        "targets",
        ".json",
        '[{"name": "x", "target_lufs": -1e300}]',
        "between -70 and 0",
    ),
    "targets nested 100000 json": ("targets", ".json", _deep(100_000), "nested more than 64"),
    "targets nested 100000 toml": (
        "targets",
        ".toml",
        _deep_toml("targets", 100_000),
        "nested more than 64",
    ),
    "targets 400 digits json": (
        "targets",
        ".json",
        '[{"name": "x", "target_lufs": -' + "9" * 400 + "}]",
        "out of range",
    ),
    "targets 5000 digits toml": (
        "targets",
        ".toml",
        '[[targets]]\nname = "x"\ntarget_lufs = -' + "9" * 5000,
        "an integer is out of range",
    ),
    "targets inf toml": (
        "targets",
        ".toml",
        '[[targets]]\nname = "x"\ntarget_lufs = -inf',
        "out of range",
    ),
    "devices nested 100000 json": (
        "devices",
        ".json",
        '{"devices": ' + _deep(100_000) + "}",
        "nested more than 64",
    ),
    "devices nested 100000 toml": (
        "devices",
        ".toml",
        _deep_toml("devices", 100_000),
        "nested more than 64",
    ),
    "devices 400 digits": (
        "devices",
        ".json",
        json.dumps({"devices": [_device()]}).replace('"order": 2', '"order": ' + "9" * 400),
        "out of range",
    ),
    "devices 5000 digits toml": (
        "devices",
        ".toml",
        "[[devices]]\nname = 'x'\nright_delay_ms = " + "9" * 5000,
        "an integer is out of range",
    ),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_config_file_limits(case: str, tmp_path: Path, good: Path, capsys) -> None:
    kind, suffix, text, says = FILE_CASES[case]
    path = tmp_path / f"bad{suffix}"
    path.write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    option = {"profile": "--profile", "targets": "--targets", "devices": "--device-file"}[kind]
    verb = {"profile": "compare", "targets": "analyze", "devices": "translate"}[kind]
    run = cli(capsys, verb, good, option, path, "--json", out / "o.json")
    refused(run, says, out)
    assert f"bad{suffix}" in run.stderr


@pytest.mark.parametrize(
    "text",
    [
        _deep(100_000),
        '{"schema_version": ' + "9" * 400 + "}",
        '{"schema_version": 1e999}',
        '{"file": {}, "x": ' + "9" * 5000 + "}",
    ],
    ids=["nested 100000", "400 digits", "1e999", "5000 digits"],
)
def test_json_loader_limits(text: str) -> None:
    from analyzer.report.json_load import load_document

    with pytest.raises(UsageError) as info:
        load_document(text)
    assert "\n" not in info.value.message and info.value.exit_code == EXIT_USAGE


# --------------------------------------------------------------------------------------------
# Class 8: text that reaches the terminal


def _no_raw_controls(run: Run) -> None:
    out, err = run.stdout, run.stderr
    assert "Traceback" not in err, err
    for text in (out, err):
        assert not any(c in text for c in RAW_CONTROLS), repr(text[:2000])


def test_device_label_is_shown_escaped(tmp_path: Path, good: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # wide: the table shows labels
    path = tmp_path / "devices.json"
    path.write_text(json.dumps({"devices": [_device(label=EVIL)]}))
    run = cli(capsys, "translate", good, "--device-file", path, "--devices", "x")
    _no_raw_controls(run)
    assert run.code == 0 and "\\x1b]0;owned" in run.stdout


def test_target_label_is_shown_escaped(tmp_path: Path, good: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    path = tmp_path / "targets.json"
    path.write_text(json.dumps([{"name": "x", "target_lufs": -14, "label": EVIL}]))
    run = cli(capsys, "analyze", good, "--targets", path)
    _no_raw_controls(run)
    assert run.code == 0 and "\\x1b" in run.stdout


def test_profile_keys_and_texts_are_shown_escaped(tmp_path: Path, good: Path, capsys) -> None:
    doc = _profile_doc()
    doc["metrics"][EVIL] = dict(doc["metrics"]["integrated_lufs"])
    doc["description"] = doc["name"] = doc["created_utc"] = EVIL
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    _no_raw_controls(cli(capsys, "compare", good, "--profile", path))
    folder = tmp_path / "config" / "profiles"
    folder.mkdir(parents=True)
    (folder / "evil.json").write_text(json.dumps(doc))
    (folder / f"{EVIL}.json").write_text("{")
    _no_raw_controls(cli(capsys, "reference", "list"))


ECHO_CASES = {
    "missing file": ["analyze", "{evil}.wav"],
    "device name": ["translate", "{good}", "--devices", "{evil}"],
    "target name": ["master", "{good}", "--target", "{evil}", "-o", "{out}/m.wav"],
    "profile name": ["compare", "{good}", "--profile", "{evil}"],
    "option value": ["compare", "{good}", "--ref", "{good}", "--section", "{evil}"],
    "float option": ["translate", "{good}", "--speed-kmh", "{evil}"],
    "unknown option": ["analyze", "{good}", "--{evil}"],
    "output name": ["analyze", "{good}", "--json", "{good}/{evil}.json"],
}


@pytest.mark.parametrize("case", list(ECHO_CASES))
def test_echoed_arguments_are_escaped(case: str, tmp_path: Path, good: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = [a.format(good=good, out=out, evil=EVIL) for a in ECHO_CASES[case]]
    run = cli(capsys, *args)
    assert run.code != 0
    _no_raw_controls(run)


def test_terminal_safe_against_an_independent_rule() -> None:
    """Every code point a terminal acts on (Unicode general category Cc, and the bidi formatting
    characters of UAX #9) is escaped; everything else is left as it is."""
    import unicodedata

    from analyzer.untrusted import terminal_safe

    bidi = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    for code in np.r_[0:0x3000]:
        ch = chr(code)
        unsafe = unicodedata.category(ch) == "Cc" or code in bidi
        shown = terminal_safe(ch)
        assert (shown != ch) == unsafe, hex(code)
        if unsafe:
            assert shown.isprintable() and shown.isascii(), hex(code)


def test_csv_on_a_terminal_is_shown_escaped(tmp_path: Path, good: Path, capsys, monkeypatch):
    """``--csv -`` on a terminal: a file name with control characters is made visible (piped
    elsewhere, the CSV keeps the exact bytes)."""
    evil = tmp_path / f"a{EVIL}.wav"
    evil.write_bytes(good.read_bytes())
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    run = cli(capsys, "batch", evil, "--csv", "-", "-q", "--no-cache", "--jobs", "1")
    _no_raw_controls(run)
    assert run.code == 0 and "\\x1b]0;owned" in run.stdout
