"""Platform targets, the normalisation preview and the lossy-encode check
(analyzer.playback.platforms)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analyzer.errors import EXIT_USAGE, UsageError
from analyzer.playback.codecs import CODECS, CodecResult, codec_check
from analyzer.playback.platforms import (
    POLICY_BOTH,
    POLICY_DOWN_ONLY,
    POLICY_LIMITER,
    POLICY_UP_LIMITED,
    TARGETS,
    Target,
    find_target,
    preview,
)
from analyzer.playback.user_targets import load_targets

# name -> (target LUFS, true-peak limit dBTP, policy, tolerance LU), as the sources state them
DOCUMENTED = {
    "spotify": (-14.0, -1.0, POLICY_UP_LIMITED, 0.0),
    "spotify-loud": (-11.0, -1.0, POLICY_LIMITER, 0.0),
    "spotify-quiet": (-19.0, -1.0, POLICY_UP_LIMITED, 0.0),
    "apple-music": (-16.0, -1.0, POLICY_UP_LIMITED, 0.0),
    "youtube": (-14.0, -1.0, POLICY_DOWN_ONLY, 0.0),
    "tidal": (-14.0, -1.0, POLICY_DOWN_ONLY, 0.0),
    "amazon-music": (-14.0, -1.0, POLICY_DOWN_ONLY, 0.0),
    "deezer": (-15.0, -1.0, POLICY_DOWN_ONLY, 0.0),
    "ebu-r128": (-23.0, -1.0, POLICY_BOTH, 0.5),
    "atsc-a85": (-24.0, -2.0, POLICY_BOTH, 2.0),
    "aes-td1008": (-16.0, -1.0, POLICY_UP_LIMITED, 0.0),
    "aes-td1008-album": (-14.0, -1.0, POLICY_UP_LIMITED, 0.0),
}


def _by_name(previews):
    return {p.name: p for p in previews}


# --- the table ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_builtin_target_has_its_documented_numbers(name: str) -> None:
    t = find_target(name)
    lufs, tp, policy, tol = DOCUMENTED[name]
    assert (t.target_lufs, t.true_peak_limit_dbtp, t.policy, t.tolerance_lu) == (
        lufs,
        tp,
        policy,
        tol,
    )
    assert t.source and t.notes and t.label


def test_table_has_exactly_the_documented_targets() -> None:
    assert [t.name for t in TARGETS] == list(DOCUMENTED)


def test_a_target_with_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="policy"):
        Target("x", -14.0, -1.0, "sometimes")


# --- the preview -------------------------------------------------------------------------------


def test_loud_master_is_turned_down_six_db_on_spotify() -> None:
    p = _by_name(preview(-8.0, 0.5))
    s = p["spotify"]
    assert s.gain_db == pytest.approx(-6.0, abs=1e-12)
    assert s.result_lufs == pytest.approx(-14.0)
    assert s.result_true_peak_dbtp == pytest.approx(-5.5)
    assert s.limited_by is None
    assert any("louder than needed" in w and "6.0 dB" in w for w in s.warnings)
    assert p["youtube"].gain_db == pytest.approx(-6.0)


def test_quiet_master_is_turned_up_only_to_minus_one_dbtp_on_spotify() -> None:
    p = _by_name(preview(-20.0, -5.0))
    s = p["spotify"]
    assert s.gain_db == pytest.approx(4.0, abs=1e-12)
    assert s.limited_by == "true_peak"
    assert s.result_lufs == pytest.approx(-16.0)  # Spotify's own example: lifted to -16 LUFS
    assert s.result_true_peak_dbtp == pytest.approx(-1.0)
    y = p["youtube"]
    assert y.gain_db == 0.0
    assert y.limited_by == "down_only"
    assert y.result_lufs == pytest.approx(-20.0)


def test_spotify_loud_is_not_peak_limited_but_its_limiter_is_reported() -> None:
    s = _by_name(preview(-20.0, -5.0))["spotify-loud"]
    assert s.gain_db == pytest.approx(9.0)
    assert s.limited_by is None
    assert s.result_true_peak_dbtp == pytest.approx(-1.0)
    assert any("limiter" in w and "5.0 dB" in w for w in s.warnings)


def test_true_peak_above_the_advice_is_warned() -> None:
    p = _by_name(preview(-14.0, 0.3))
    assert p["spotify"].gain_db == 0.0
    assert any("true peak after normalisation above" in w for w in p["spotify"].warnings)
    # A broadcaster turns a quiet programme up in full: the peak goes over -1 dBTP.
    e = _by_name(preview(-30.0, -3.0))["ebu-r128"]
    assert e.gain_db == pytest.approx(7.0)
    assert e.result_true_peak_dbtp == pytest.approx(4.0)
    assert any("(-1 dBTP)" in w for w in e.warnings)


def test_a_master_at_the_target_gets_no_warning() -> None:
    s = _by_name(preview(-14.0, -1.5))["spotify"]
    assert (s.gain_db, s.limited_by, s.warnings) == (0.0, None, ())


@pytest.mark.parametrize(
    ("lufs", "tp"), [(None, -3.0), (-math.inf, -math.inf), (math.nan, 0.0), (-14.0, None)]
)
def test_silent_or_undefined_loudness_gives_no_preview(lufs, tp) -> None:
    assert preview(lufs, tp) == []


def test_preview_uses_the_given_targets() -> None:
    mine = Target("my-radio", -18.0, -2.0, POLICY_BOTH)
    (p,) = preview(-10.0, -0.5, targets=[mine])
    assert (p.name, p.label, p.gain_db, p.result_true_peak_dbtp) == (
        "my-radio",
        "my-radio",
        -8,
        -8.5,
    )


# --- user targets ------------------------------------------------------------------------------


def test_user_file_overrides_a_builtin_and_adds_its_own(tmp_path: Path) -> None:
    f = tmp_path / "targets.json"
    f.write_text(
        json.dumps(
            {
                "targets": [
                    {"name": "spotify", "target_lufs": -15},
                    {
                        "name": "club-pa",
                        "label": "Club PA",
                        "target_lufs": -9,
                        "true_peak_limit_dbtp": -0.5,
                        "policy": "down_only",
                        "source": "house rule",
                    },
                ]
            }
        )
    )
    targets = load_targets(f)
    names = [t.name for t in targets]
    assert names[: len(TARGETS)] == [t.name for t in TARGETS]  # order kept, override in place
    assert names[-1] == "club-pa"
    spotify = find_target("spotify", targets)
    assert spotify.target_lufs == -15.0
    assert spotify.policy == POLICY_UP_LIMITED  # the other fields come from the built-in
    assert spotify.true_peak_limit_dbtp == -1.0
    club = find_target("CLUB-PA", targets)
    assert (club.label, club.target_lufs, club.policy) == ("Club PA", -9.0, POLICY_DOWN_ONLY)
    assert _by_name(preview(-8.0, 0.5, targets))["spotify"].gain_db == pytest.approx(-7.0)


def test_default_user_file_is_found_in_the_config_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path))
    assert load_targets() == TARGETS  # no file: the built-ins
    (tmp_path / "targets.json").write_text('[{"name": "mine", "target_lufs": -12.5}]')
    mine = find_target("mine", load_targets())
    assert (mine.target_lufs, mine.policy, mine.true_peak_limit_dbtp) == (-12.5, "both", None)


def test_toml_targets_file(tmp_path: Path) -> None:
    pytest.importorskip("tomllib")
    f = tmp_path / "targets.toml"
    f.write_text('[[targets]]\nname = "podcast"\ntarget_lufs = -16\ntrue_peak_limit_dbtp = -1\n')
    assert find_target("podcast", load_targets(f)).target_lufs == -16.0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"targets": {"name": "x"}}', "must be a list"),
        ('{"target": []}', "unknown top-level key"),
        ('[{"name": "x"}]', "'target_lufs' is required"),
        ('[{"name": "x", "target_lufs": "loud"}]', "must be a number"),
        ('[{"name": "x", "target_lufs": 5}]', "between -70 and 0"),
        ('[{"name": "x", "target_lufs": -14, "policy": "sometimes"}]', "'policy' must be one of"),
        ('[{"name": "x", "target_lufs": -14, "target": -3}]', "unknown field 'target'"),
        ('[{"name": "Has Spaces", "target_lufs": -14}]', "'name' must be"),
        ('[{"name": "x", "target_lufs": -14}, {"name": "x", "target_lufs": -15}]', "twice"),
    ],
)
def test_malformed_user_file_is_a_usage_error(tmp_path: Path, content: str, problem: str) -> None:
    f = tmp_path / "targets.json"
    f.write_text(content)
    with pytest.raises(UsageError) as err:
        load_targets(f)
    assert err.value.exit_code == EXIT_USAGE == 2
    assert problem in err.value.message
    assert err.value.message.startswith(str(f))
    assert "\n" not in err.value.message


def test_missing_explicit_user_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing"):
        load_targets(tmp_path / "nope.json")


def test_unknown_target_name_lists_the_valid_names() -> None:
    with pytest.raises(UsageError) as err:
        find_target("soundcloud")
    assert err.value.exit_code == 2
    assert "soundcloud" in err.value.message
    for t in TARGETS:
        assert t.name in err.value.message


# --- lossy-encode check ------------------------------------------------------------------------

LOUD_MASTER = "nexuiz--brokenlight.ogg"


@pytest.fixture(scope="module")
def loud_excerpt(corpus) -> tuple[np.ndarray, int]:
    from analyzer.io import read_audio

    x, sr = read_audio(corpus / "music" / LOUD_MASTER)
    return np.ascontiguousarray(x[:, 60 * sr : 80 * sr]), sr  # 20 s from the loud part


@pytest.fixture(scope="module")
def loud_results(loud_excerpt) -> list[CodecResult]:
    x, sr = loud_excerpt
    return codec_check(x, sr)


def test_codec_check_raises_the_true_peak_of_a_loud_master(loud_results) -> None:
    assert [r.codec for r in loud_results] == list(CODECS)
    ok = [r for r in loud_results if r.error is None]
    assert ok, [r.error for r in loud_results]
    for r in loud_results:
        print(
            f"{r.codec}: {r.true_peak_before_dbtp:+.2f} -> {r.true_peak_after_dbtp} dBTP, "
            f"overs {r.intersample_overs_after}, {r.bitrate_note}, error {r.error}"
        )
    assert max(r.true_peak_after_dbtp - r.true_peak_before_dbtp for r in ok) > 0.05
    for r in ok:
        assert r.intersample_overs_after > 0  # a master over 0 dBTP decodes with overs
        assert "measured" in r.bitrate_note and "kbps" in r.bitrate_note


def test_opus_says_it_resampled_44k1_to_48k(loud_results) -> None:
    opus = next(r for r in loud_results if r.codec == "opus")
    if opus.error is None:
        assert "resampled 44100 -> 48000 Hz" in opus.bitrate_note


@pytest.mark.parametrize("sample_rate_hz", [44100, 48000])
def test_round_trip_of_a_sine_at_minus_one_dbtp_stays_close(sample_rate_hz: int) -> None:
    t = np.arange(2 * sample_rate_hz) / sample_rate_hz
    sine = 10 ** (-1 / 20) * np.sin(2 * np.pi * 997.0 * t)
    x = np.stack([sine, sine])
    seen: list[tuple[int, int]] = []
    results = codec_check(x, sample_rate_hz, progress=lambda d, n: seen.append((d, n)))
    for r in results:
        assert r.true_peak_before_dbtp == pytest.approx(-1.0, abs=0.01)
        if r.error is None:
            assert abs(r.true_peak_after_dbtp - r.true_peak_before_dbtp) < 3.0, r
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and seen[-1][0] == seen[-1][1]


def test_unavailable_codec_is_an_error_result_not_an_exception(monkeypatch) -> None:
    import soundfile as sf

    from analyzer.io.codec import LIBRARY_ENV

    monkeypatch.setenv(LIBRARY_ENV, "bundled")  # the library whose codecs are taken away
    real = sf.available_subtypes
    monkeypatch.setattr(
        sf, "available_subtypes", lambda fmt=None: {} if fmt == "OGG" else real(fmt)
    )
    x = 0.1 * np.sin(2 * np.pi * 1000.0 * np.arange(4800) / 48000)[np.newaxis]
    results = codec_check(x, 48000, codecs=("opus", "vorbis"))
    assert [r.codec for r in results] == ["opus", "vorbis"]
    for r in results:
        assert r.error and "not available" in r.error
        assert r.true_peak_after_dbtp is None and r.intersample_overs_after is None
        assert r.true_peak_before_dbtp == pytest.approx(-20.0, abs=0.01)


def test_mp3_with_more_than_two_channels_is_an_error_result() -> None:
    (r,) = codec_check(np.zeros((3, 4800)), 48000, codecs=("mp3",))
    assert r.error and "1 or 2 channels" in r.error


def test_unknown_codec_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="valid: opus, vorbis, mp3"):
        codec_check(np.zeros((1, 100)), 48000, codecs=("aac",))


def test_codec_check_file_streams_the_same_answer_as_the_array(tmp_path: Path) -> None:
    import soundfile as sf

    from analyzer.playback.codecs import codec_check_file

    sr = 48000
    t = np.arange(sr) / sr
    x = np.stack([0.7 * np.sin(2 * np.pi * 440 * t), 0.7 * np.sin(2 * np.pi * 660 * t)])
    f = tmp_path / "mix.wav"
    sf.write(f, x.T, sr, subtype="FLOAT")
    (a,) = codec_check(x, sr, codecs=("vorbis",))
    (b,) = codec_check_file(f, codecs=("vorbis",))
    assert b.error is None
    assert b.true_peak_before_dbtp == pytest.approx(a.true_peak_before_dbtp, abs=1e-6)
    assert b.true_peak_after_dbtp == pytest.approx(a.true_peak_after_dbtp, abs=1e-6)


def test_true_peak_at_the_limit_within_meter_tolerance_is_not_flagged() -> None:
    from analyzer.playback.platforms import preview

    by_name = {p.name: p for p in preview(-14.0, -0.98)}
    assert not any("true peak" in w for w in by_name["spotify"].warnings)
    by_name = {p.name: p for p in preview(-14.0, -0.9)}
    assert any("true peak" in w for w in by_name["spotify"].warnings)
