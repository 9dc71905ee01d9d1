"""Genre profiles: building from tracks, JSON round trip, version refusals, shipped profiles."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from analyzer.batching.profile_build import build_profile, profile_metrics
from analyzer.comparison.profiles import (
    PROFILE_SCHEMA_VERSION,
    ReferenceProfile,
    list_profiles,
    load_profile,
    profile_dirs,
    profile_to_dict,
    save_profile,
    shipped_profiles_dir,
)
from analyzer.errors import (
    EXIT_BAD_INPUT,
    EXIT_OUTPUT,
    EXIT_USAGE,
    AnalyzerError,
    OutputError,
    ProfileError,
)
from analyzer.io.files import find_audio_files
from analyzer.measure import ANALYSIS_SETTINGS_VERSION
from analyzer.measure.engine import analyze_file

REPO = Path(__file__).resolve().parents[2]
#: Three short corpus tracks (5 s, 25 s, 46 s): enough for medians and percentiles, and fast.
SHORT_TRACKS = {
    "a/librosa--sorohanro_-_solo-trumpet-06.hq.ogg",
    "a/librosa--admiralbob77_-_Choice_-_Drum-bass.hq.ogg",
    "b/deeper/librosa--Brahms_Hungarian_Dance_5_string_orchestra.hq.ogg",
}


@pytest.fixture(autouse=True)
def _private_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never read or write the real user's profile folder."""
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_stats_match(profile: ReferenceProfile, individual: list[dict[str, float | None]]):
    """Every metric's median, 10th and 90th percentile and count equal those of the tracks."""
    keys = set().union(*individual)
    assert set(profile.metrics) == keys
    for key in keys:
        values = [m[key] for m in individual if m.get(key) is not None]
        stats = profile.metrics[key]
        assert stats.n == len(values), key
        if not values:
            assert stats.median is None and stats.p10 is None and stats.p90 is None, key
            continue
        assert stats.median == pytest.approx(float(np.median(values)), abs=1e-9), key
        assert stats.p10 == pytest.approx(float(np.percentile(values, 10)), abs=1e-9), key
        assert stats.p90 == pytest.approx(float(np.percentile(values, 90)), abs=1e-9), key


@pytest.fixture(scope="module")
def short_refs(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder tree of links to three short corpus tracks, plus files that are not audio."""
    root = tmp_path_factory.mktemp("refs")
    for rel in SHORT_TRACKS:
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(corpus / "music" / Path(rel).name)
    (root / "a" / "notes.txt").write_text("not audio")
    (root / "b" / ".hidden.ogg").write_text("hidden: skipped")
    return root


@pytest.fixture(scope="module")
def built(short_refs: Path) -> tuple[ReferenceProfile, list[tuple[int, int, str]]]:
    calls: list[tuple[int, int, str]] = []
    profile = build_profile(
        [short_refs],
        name="short-test",
        jobs=2,
        progress=lambda done, total, name: calls.append((done, total, name)),
        description="three short corpus tracks",
    )
    return profile, calls


def test_build_medians_equal_individual_analyses(short_refs: Path, built) -> None:
    """`reference build` over corpus music: the profile's medians (and 10th/90th percentiles)
    are those of the individual analyses."""
    profile, calls = built
    files = [f.path for f in find_audio_files([short_refs]).files]
    individual = [profile_metrics(analyze_file(p, keep_series=True)) for p in files]
    _assert_stats_match(profile, individual)

    assert profile.n_tracks == 3
    assert profile.name == "short-test"
    assert profile.schema_version == PROFILE_SCHEMA_VERSION
    assert profile.analysis_settings_version == ANALYSIS_SETTINGS_VERSION
    assert sorted(p.file for p in profile.provenance) == sorted(SHORT_TRACKS)
    for p in profile.provenance:
        track = short_refs / p.file
        assert p.sha256 == _sha256(track)
        assert p.sample_rate_hz == 44100
        assert p.duration_s == pytest.approx(sf.info(str(track)).duration, abs=0.05)
    assert sorted(c[0] for c in calls) == [1, 2, 3]
    assert {c[1] for c in calls} == {3}
    assert {c[2] for c in calls} == set(SHORT_TRACKS)


def test_round_trip_and_json_holds_no_paths_or_audio(built, tmp_path: Path, short_refs) -> None:
    profile, _ = built
    path = tmp_path / "short-test.json"
    save_profile(profile, path)
    assert load_profile(path) == profile
    doc = json.loads(path.read_text())
    assert list(doc)[:4] == ["schema_version", "kind", "name", "description"]
    assert set(doc["metrics"]["tonal.low"]) == {"median", "p10", "p90", "n"}
    text = path.read_text()
    assert str(short_refs) not in text and "/tmp" not in text
    assert path.stat().st_size < 50_000  # statistics only
    with pytest.raises(OutputError) as exc:
        save_profile(profile, path)
    assert exc.value.exit_code == EXIT_OUTPUT
    save_profile(profile, path, force=True)


def _tone_wav(path: Path, *, sample_rate_hz: int, gain: float, seconds: float = 3.5) -> None:
    rng = np.random.default_rng(int(gain * 1000) + sample_rate_hz)
    x = gain * rng.standard_normal((int(seconds * sample_rate_hz), 2)) * 0.1
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sample_rate_hz, subtype="PCM_24")


def test_single_job_build_in_process(tmp_path: Path) -> None:
    files = [tmp_path / "x" / "quiet.wav", tmp_path / "loud.flac", tmp_path / "mid.wav"]
    for f, gain, rate in zip(files, (0.2, 1.0, 0.5), (48000, 44100, 44100), strict=True):
        _tone_wav(f, sample_rate_hz=rate, gain=gain)
    profile = build_profile(
        [files[0], tmp_path / "loud.flac", files[2], files[2]], name="t", jobs=1
    )
    assert profile.n_tracks == 3  # the same file twice counts once
    assert [p.file for p in profile.provenance] == ["quiet.wav", "loud.flac", "mid.wav"]
    assert [p.sample_rate_hz for p in profile.provenance] == [48000, 44100, 44100]
    _assert_stats_match(
        profile, [profile_metrics(analyze_file(f, keep_series=True)) for f in files]
    )


def _one_line_naming(exc: AnalyzerError, name: str) -> None:
    assert "\n" not in exc.message
    assert name in exc.message


def test_bad_file_stops_the_build_naming_it(tmp_path: Path) -> None:
    _tone_wav(tmp_path / "good.wav", sample_rate_hz=44100, gain=0.5)
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 10)
    with pytest.raises(AnalyzerError) as exc:
        build_profile([tmp_path], name="t", jobs=1)
    assert exc.value.exit_code == EXIT_BAD_INPUT
    _one_line_naming(exc.value, "broken.wav")


def test_decode_failure_in_a_worker_is_raised(tmp_path: Path) -> None:
    """A file whose header is fine but whose samples are NaN fails inside a worker process; the
    error crosses the process boundary with its class, exit code and message."""
    _tone_wav(tmp_path / "good.wav", sample_rate_hz=44100, gain=0.5)
    x = np.zeros((44100, 2), dtype=np.float32)
    x[1000, 1] = np.nan
    sf.write(str(tmp_path / "nan.wav"), x, 44100, subtype="FLOAT")
    with pytest.raises(AnalyzerError) as exc:
        build_profile([tmp_path], name="t", jobs=2)
    assert exc.value.exit_code == EXIT_BAD_INPUT
    assert exc.value.slug == "nan"
    _one_line_naming(exc.value, "nan.wav")


@pytest.mark.parametrize(
    ("make", "expect_type", "expect_code", "fragment"),
    [
        (lambda d: [d], ProfileError, EXIT_USAGE, "no audio files found"),
        (lambda d: [d / "nope.wav"], AnalyzerError, EXIT_BAD_INPUT, "nope.wav: missing"),
    ],
    ids=["empty-folder", "missing-path"],
)
def test_nothing_to_build(tmp_path: Path, make, expect_type, expect_code, fragment) -> None:
    (tmp_path / "readme.txt").write_text("no audio here")
    with pytest.raises(expect_type) as exc:
        build_profile(make(tmp_path), name="t")
    assert exc.value.exit_code == expect_code
    assert fragment in exc.value.message


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "x" * 65, "with space"])
def test_bad_profile_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ProfileError) as exc:
        build_profile([tmp_path], name=name)
    assert exc.value.exit_code == EXIT_USAGE


def _valid_doc() -> dict:
    return {
        "schema_version": PROFILE_SCHEMA_VERSION,
        "name": "demo",
        "description": "",
        "analysis_settings_version": ANALYSIS_SETTINGS_VERSION,
        "tool_version": "0.1.0",
        "created_utc": "2026-01-01T00:00:00Z",
        "n_tracks": 2,
        "metrics": {
            "integrated_lufs": {"median": -14.0, "p10": -15.0, "p90": -9.0, "n": 2},
            "lra_lu": {"median": None, "p10": None, "p90": None, "n": 0},
        },
        "provenance": [
            {"file": "a.wav", "sha256": "0" * 64, "duration_s": 10.0, "sample_rate_hz": 44100},
            {"file": "b.wav", "sha256": "1" * 64, "duration_s": 12.5, "sample_rate_hz": 48000},
        ],
    }


def _with(**changes) -> str:
    doc = _valid_doc()
    for key, value in changes.items():
        if value is None:
            del doc[key]
        else:
            doc[key] = value
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            _with(schema_version=PROFILE_SCHEMA_VERSION + 1),
            f"profile schema v{PROFILE_SCHEMA_VERSION + 1} is newer than this mixanalyzer reads",
        ),
        (
            _with(analysis_settings_version=ANALYSIS_SETTINGS_VERSION - 1),
            f"built with analysis settings v{ANALYSIS_SETTINGS_VERSION - 1}, this is "
            f"v{ANALYSIS_SETTINGS_VERSION}: rebuild it with `mixanalyzer reference build`",
        ),
        ('{"schema_version": 1, "name": ', "malformed profile JSON"),
        ("", "malformed profile JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_with(metrics=None, provenance=None), "missing keys: metrics, provenance"),
        (_with(schema_version="1"), "bad schema_version"),
        (_with(n_tracks=-1), "bad value for n_tracks"),
        (_with(metrics={"x": {"median": "loud", "p10": 1, "p90": 2, "n": 1}}), "metrics.x"),
        (_with(provenance=[{"file": "a.wav"}]), "provenance[0]"),
    ],
    ids=[
        "newer-schema",
        "other-settings",
        "truncated-json",
        "empty-file",
        "not-object",
        "missing-keys",
        "schema-type",
        "n-tracks",
        "metric-value",
        "provenance-item",
    ],
)
def test_refusals_are_one_line_naming_the_file(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "odd-profile.json"
    path.write_text(text)
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    assert exc.value.exit_code == EXIT_USAGE
    assert exc.value.slug.startswith("profile")
    _one_line_naming(exc.value, "odd-profile.json")
    assert exc.value.message.startswith(str(path))
    assert fragment in exc.value.message


def test_valid_document_loads(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text(_with())
    profile = load_profile(path)
    assert profile.metrics["integrated_lufs"].p90 == -9.0
    assert profile.metrics["lra_lu"].median is None
    assert profile.provenance[1].sample_rate_hz == 48000
    assert profile.provenance[0].licence is None
    expected = json.loads(_with())
    assert "kind" not in expected  # a profile written before documents had a kind still loads
    for item in expected["provenance"]:
        item.update(licence=None, source=None)  # written out even when unknown
    assert profile_to_dict(profile) == {**expected, "kind": "profile"}


def test_a_profile_says_its_kind_and_other_documents_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    doc = json.loads(_with())
    path.write_text(json.dumps({**doc, "kind": "profile"}))
    assert load_profile(path).name == doc["name"]
    path.write_text(json.dumps({**doc, "kind": "comparison"}))
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    _one_line_naming(exc.value, "p.json")
    assert "not a profile" in exc.value.message and "comparison" in exc.value.message


def test_load_by_name_and_user_folder_shadows_shipped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path))
    user = tmp_path / "profiles"
    assert profile_dirs()[0] == user
    with pytest.raises(ProfileError) as exc:
        load_profile("no-such-profile")
    assert "no-such-profile: no such profile" in exc.value.message
    assert exc.value.exit_code == EXIT_USAGE
    user.mkdir()
    (user / "mine.json").write_text(_with(name="mine"))
    assert load_profile("mine").name == "mine"
    shipped = shipped_profiles_dir()
    assert shipped is not None
    (user / "orchestral.json").write_text(_with(name="my-orchestral"))
    assert load_profile("orchestral").name == "my-orchestral"
    (user / "orchestral.json").unlink()
    assert load_profile("orchestral").n_tracks >= 2  # the shipped one again


def _shipped() -> list[Path]:
    shipped = shipped_profiles_dir()
    assert shipped == REPO / "analyzer" / "comparison" / "profile_data"
    return sorted(shipped.glob("*.json"))


def test_shipped_profiles_load_with_provenance() -> None:
    paths = _shipped()
    assert len(paths) >= 3
    for path in paths:
        profile = load_profile(path)
        assert profile.name == path.stem
        assert profile.n_tracks >= 2
        assert len(profile.provenance) == profile.n_tracks
        assert profile.metrics["integrated_lufs"].n == profile.n_tracks
        assert "tonal.low" in profile.metrics and "width.low" in profile.metrics
        for p in profile.provenance:
            assert len(p.sha256) == 64 and int(p.sha256, 16) >= 0
            assert "/" not in p.file and not os.path.isabs(p.file)
            assert p.licence and "NC" not in p.licence.replace("-", " ").split()
            assert p.source


def test_shipped_profiles_were_built_from_the_corpus_files(corpus: Path) -> None:
    """The corpus still holds the very files the shipped profiles were built from."""
    music = {p.name: p for p in (corpus / "music").iterdir()}
    for path in _shipped():
        for p in load_profile(path).provenance:
            assert _sha256(music[p.file]) == p.sha256, (path.name, p.file)


def test_list_profiles_finds_shipped_and_reports_broken(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path))
    user = tmp_path / "profiles"
    user.mkdir()
    (user / "broken.json").write_text("{")
    (user / "old.json").write_text(_with(analysis_settings_version=0))
    found = {name: (path, loaded) for name, path, loaded in list_profiles()}
    shipped = {p.stem for p in (REPO / "analyzer" / "comparison" / "profile_data").glob("*.json")}
    assert shipped <= set(found)
    for name in shipped:
        assert isinstance(found[name][1], ReferenceProfile), found[name][1]
    assert isinstance(found["broken"][1], str) and "malformed" in found["broken"][1]
    assert "rebuild it with `mixanalyzer reference build`" in found["old"][1]
    assert [n for n, _, _ in list_profiles()][:2] == ["broken", "old"]  # user folder first


@pytest.mark.slow
def test_build_over_all_corpus_music(corpus: Path, corpus_analyses) -> None:
    """The issue's acceptance case on every corpus music file: the build (in its worker pool)
    against the suite's shared analyses of each track. Deselect with ``-m "not slow"``."""
    profile = build_profile([corpus / "music"], name="corpus", jobs=2)
    assert profile.n_tracks == len(corpus_analyses) == 16
    _assert_stats_match(profile, [profile_metrics(a) for a in corpus_analyses.values()])
