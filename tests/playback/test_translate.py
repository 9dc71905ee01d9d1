"""Translation metrics from the one-pass band spectra (issue 5, "Must show"): bass survival and
harmonic bass, mono collapse, the phone's limiter, car-noise masking, ordering on real music."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.playback.devices import BUILTIN_DEVICES
from analyzer.playback.translate import DeviceTranslation, Translation, translate
from tests.signals import db_to_amp, pink_noise

FS = 44100
DUR = 4.0
BASS_HZ = 45.0
PHONE = BUILTIN_DEVICES["phone"]
LAPTOP = BUILTIN_DEVICES["laptop"]
CAR = BUILTIN_DEVICES["car"]


def _t() -> np.ndarray:
    return np.arange(round(DUR * FS)) / FS


def _mid_content() -> np.ndarray:
    """A 3 kHz tone: mid content well away from the bass line's harmonics (<= 1 kHz)."""
    return db_to_amp(-26.0) * np.sin(2 * np.pi * 3000.0 * _t())


def _sine_bass() -> np.ndarray:
    return db_to_amp(-10.0) * np.sin(2 * np.pi * BASS_HZ * _t())


def _saw_bass() -> np.ndarray:
    """A sawtooth at 45 Hz low-passed at 1 kHz (band-limited: harmonics up to 1 kHz)."""
    t = _t()
    k = np.arange(1, int(1000.0 // BASS_HZ) + 1)
    saw = np.sum(np.sin(2 * np.pi * BASS_HZ * k[:, None] * t) / k[:, None], axis=0)
    return db_to_amp(-10.0) * saw / (np.pi / 2)


def _stereo(mono: np.ndarray) -> np.ndarray:
    return np.stack([mono, mono])


@pytest.fixture(scope="module")
def sine_mix():
    return analyze_array(_stereo(_sine_bass() + _mid_content()), FS)


@pytest.fixture(scope="module")
def saw_mix():
    return analyze_array(_stereo(_saw_bass() + _mid_content()), FS)


def _on(result: Translation, name: str) -> DeviceTranslation:
    return next(d for d in result.devices if d.name == name)


def test_api_shape(sine_mix) -> None:
    result = translate(sine_mix)
    names = [d.name for d in result.devices]
    assert "studio" not in names and {"phone", "laptop", "car"} <= set(names)
    for d in result.devices:
        assert 0.0 <= d.score <= 100.0
        assert set(d.tonal_balance_db) == {"sub", "low", "low_mid", "high_mid", "high", "air"}
        assert d.reference_score is None
        with pytest.raises(dataclasses.FrozenInstanceError):
            d.score = 1.0  # type: ignore[misc]
    assert result.spread == pytest.approx(
        max(d.score for d in result.devices) - min(d.score for d in result.devices), abs=0.11
    )
    studio = translate(sine_mix, [BUILTIN_DEVICES["studio"]]).devices[0]
    assert studio.score == 100.0 and studio.loudness_change_lu == pytest.approx(0.0, abs=1e-9)
    assert studio.bass_survival == pytest.approx(1.0)


def test_pure_sine_bass_does_not_survive_phone_or_laptop(sine_mix) -> None:
    result = translate(sine_mix, [PHONE, LAPTOP])
    for d in result.devices:
        assert d.bass_survival is not None and d.bass_survival < 0.01, d
        assert d.harmonic_bass_db is not None and d.harmonic_bass_db < -60.0
        assert any("bass line vanishes" in f for f in d.findings), d.findings
        # Tonal balance through the device: the sub band is gone relative to the studio.
        assert d.tonal_balance_db["sub"] is None or d.tonal_balance_db["sub"] < -40.0
        assert d.loudness_change_lu is not None and d.loudness_change_lu < -3.0


def test_saw_bass_stays_audible_through_harmonics_on_phone(sine_mix, saw_mix) -> None:
    sine = _on(translate(sine_mix, [PHONE]), "phone")
    saw = _on(translate(saw_mix, [PHONE]), "phone")
    # The fundamental is lost either way ...
    assert saw.bass_survival is not None and saw.bass_survival < 0.05
    # ... but the saw's harmonics above the phone's cut-off carry the bass line.
    assert saw.harmonic_bass_db is not None and saw.harmonic_bass_db > -20.0
    assert sine.harmonic_bass_db is not None and sine.harmonic_bass_db < -60.0
    assert saw.harmonic_bass_db - sine.harmonic_bass_db > 40.0
    # The loss below the cut-off is the phone's (a note, once), not a finding against the mix.
    assert saw.note is not None and "heard through its harmonics" in saw.note
    assert not any("vanishes" in f for f in saw.findings), saw.findings
    assert saw.score > sine.score


def test_polarity_inverted_channel_collapses_on_phone() -> None:
    x = 0.1 * pink_noise(DUR, FS, channels=1, seed=3)[0]
    normal = analyze_array(np.stack([x, x]), FS)
    inverted = analyze_array(np.stack([x, -x]), FS)
    ok = _on(translate(normal, [PHONE]), "phone")
    bad = _on(translate(inverted, [PHONE]), "phone")
    assert ok.mono_loss_lu == pytest.approx(0.0, abs=0.1)
    assert bad.mono_loss_lu is not None and bad.mono_loss_lu < -20.0
    assert any("collapses when folded to mono" in f for f in bad.findings), bad.findings
    assert not any("folded to mono" in f for f in ok.findings)
    assert ok.score - bad.score >= 30.0
    # A stereo device does not fold: no mono figure.
    assert _on(translate(inverted, [LAPTOP]), "laptop").mono_loss_lu is None


def test_phone_limiter_grows_less_than_input_at_high_levels(saw_mix) -> None:
    def output_loudness(level: float) -> float:
        d = translate(saw_mix, [PHONE], level_db_spl=level).devices[0]
        assert d.loudness_change_lu is not None
        return level + d.loudness_change_lu

    growth = (output_loudness(90.0) - output_loudness(80.0)) / 10.0
    assert growth < 1.0 and growth < 0.5
    # Far below the thresholds the phone is a fixed EQ: output follows the input dB for dB.
    low_growth = (output_loudness(50.0) - output_loudness(40.0)) / 10.0
    assert low_growth == pytest.approx(1.0, abs=1e-6)
    # A device without level behaviour is a fixed EQ at any level.
    laptop = [translate(saw_mix, [LAPTOP], level_db_spl=v).devices[0] for v in (80.0, 90.0)]
    assert laptop[0].loudness_change_lu == pytest.approx(laptop[1].loudness_change_lu)


def test_references_give_reference_score_and_ranked_differences(sine_mix, saw_mix) -> None:
    result = translate(sine_mix, [PHONE, LAPTOP], references=[saw_mix, saw_mix])
    phone = _on(result, "phone")
    # The references' score: theirs with the tonal part against their own range.
    alone = _on(translate(saw_mix, [PHONE], references=[saw_mix]), "phone")
    assert phone.reference_score == alone.score
    assert result.ranked_differences
    bass = [t for t in result.ranked_differences if "heard less through its harmonics" in t]
    assert bass and "references lose" in bass[0], result.ranked_differences
    assert all("points]" in line for line in result.ranked_differences)
    # Against itself there is nothing to rank.
    same = translate(saw_mix, [PHONE], references=[saw_mix])
    assert (
        same.ranked_differences == () and same.devices[0].reference_score == same.devices[0].score
    )


def _track(corpus, name: str):
    return analyze_file(corpus / "music" / name, threads=1)


def test_car_noise_at_130_masks_more_than_at_50(corpus) -> None:
    quiet = _track(corpus, "lincity-ng--Robert_van_Herk_-_Architectural_Contemplations.ogg")
    slow = _on(translate(quiet, [CAR], speed_kmh=50.0), "car")
    fast = _on(translate(quiet, [CAR], speed_kmh=130.0), "car")
    assert len(fast.masked_bands) > len(slow.masked_bands)
    assert set(slow.masked_bands) <= set(fast.masked_bands)
    assert fast.score <= slow.score
    assert any("presence band" in f for f in fast.findings)


def test_bass_heavy_tracks_lose_more_on_phone_than_solo_piano(corpus) -> None:
    piano = _on(
        translate(_track(corpus, "librosa--lena-orsa_-_pistachio-ice-cream-ragtime.hq.ogg")),
        "phone",
    )
    for name in ("nexuiz--brokenlight.ogg", "nexuiz--digital-pursuit.ogg"):
        electronic = _on(translate(_track(corpus, name)), "phone")
        assert electronic.score < piano.score, (name, electronic.score, piano.score)
        assert math.isfinite(electronic.loudness_change_lu or math.nan)


@pytest.mark.parametrize("kind", ["silent", "shorter than a gating block"])
def test_a_mix_without_integrated_loudness_is_not_scored(kind: str, saw_mix) -> None:
    """A silent mix once scored 100 on every device (spread 0): with no integrated loudness it
    cannot be set at a playback level, so no device scores it, and each says why."""
    x = np.zeros((2, 5 * FS)) if kind == "silent" else pink_noise(0.2, FS, seed=5) * 0.1
    tr = translate(analyze_array(x, FS), references=[saw_mix])
    assert [d.score for d in tr.devices] == [None] * len(tr.devices)
    assert tr.spread is None and tr.ranked_differences == ()
    assert all(d.parts == () and d.findings == () for d in tr.devices)
    assert all(d.note and d.note.startswith("not scored: the mix has no integrated loudness")
               for d in tr.devices)  # fmt: skip
    scored = translate(analyze_array(pink_noise(5.0, FS, seed=5) * 0.1, FS))
    assert all(d.score is not None for d in scored.devices)
