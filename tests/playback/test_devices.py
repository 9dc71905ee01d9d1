"""Device models: each reproduces its stated figures; earbud fits hold the measured AutoEq
curves (relative to the Harman in-ear target) within ±3 dB; car noise; user device files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analyzer.dsp.bands import BROAD_BANDS_HZ, THIRD_OCTAVE_EXACT_HZ
from analyzer.errors import UsageError
from analyzer.playback.devices import (
    BUILTIN_DEVICES,
    CabinGain,
    HighPass,
    HighShelf,
    LowPass,
    LowShelf,
    Peaking,
    a_weighting_db,
    band_gains_db,
    car_noise_band_levels_db,
    device_to_dict,
    load_devices,
    magnitude_db,
)

DEV = BUILTIN_DEVICES
TARGET_CSV = "target_Harman_in-ear_2019_without_bass.csv"


def at(name: str, f_hz: float) -> float:
    return float(magnitude_db(DEV[name], [f_hz])[0])


# ---------------------------------------------------------------- every section's own figures


ALL_SECTIONS = [(d.name, i, s) for d in DEV.values() for i, s in enumerate(d.filters)]


@pytest.mark.parametrize(("device", "index", "section"), ALL_SECTIONS)
def test_section_reproduces_its_figures(device: str, index: int, section: object) -> None:
    r = lambda f: float(section.response_db(np.array([f]))[0])  # noqa: E731
    assert section.source, f"{device} filter {index} has no source"
    if isinstance(section, HighPass):
        fc, n = section.cutoff_hz, section.order
        assert r(fc) == pytest.approx(-3.0, abs=1.0)
        assert r(fc / 8) - r(fc / 16) == pytest.approx(6.0 * n, abs=1.0)  # slope, dB/oct
        assert r(fc * 8) == pytest.approx(0.0, abs=1.0)
    elif isinstance(section, LowPass):
        fc, n = section.cutoff_hz, section.order
        assert r(fc) == pytest.approx(-3.0, abs=1.0)
        assert r(fc * 8) - r(fc * 16) == pytest.approx(6.0 * n, abs=1.0)
        assert r(fc / 8) == pytest.approx(0.0, abs=1.0)
    elif isinstance(section, Peaking):
        assert r(section.centre_hz) == pytest.approx(section.gain_db, abs=1e-6)
        assert r(section.centre_hz / 100) == pytest.approx(0.0, abs=0.1)
    elif isinstance(section, LowShelf | HighShelf):
        assert r(section.corner_hz) == pytest.approx(section.gain_db / 2, abs=1.0)
        far = section.corner_hz / 100 if isinstance(section, LowShelf) else section.corner_hz * 100
        assert r(far) == pytest.approx(section.gain_db, abs=0.1)
    elif isinstance(section, CabinGain):
        assert r(section.corner_hz) == pytest.approx(0.0, abs=1e-9)
        half = section.corner_hz * 2 ** (-0.5)
        assert r(half) == pytest.approx(section.slope_db_per_octave / 2, abs=1.0)
        assert r(1.0) == pytest.approx(section.max_gain_db, abs=1e-9)
    else:  # pragma: no cover - a new section type needs a figure check here
        pytest.fail(f"no figure check for {type(section).__name__}")


# ---------------------------------------------------------------- device-level figures


def test_studio_is_flat() -> None:
    f = np.geomspace(20, 20000, 50)
    assert np.all(magnitude_db(DEV["studio"], f) == 0.0)
    assert DEV["studio"].channels_mode == "stereo"


def test_phone() -> None:
    d = DEV["phone"]
    assert d.channels_mode == "mono"
    # OnePlus 6T (vpervolume.com, SOURCES.md): linear from 260 Hz, so within 1.5 dB there
    assert at("phone", 260) == pytest.approx(at("phone", 1000), abs=1.5)
    assert at("phone", 220) == pytest.approx(-3.0, abs=1.0)
    assert at("phone", 220 / 4) - at("phone", 220 / 8) == pytest.approx(24.0, abs=1.0)  # steep
    assert at("phone", 3000) == pytest.approx(5.0, abs=1.0)  # presence resonance
    assert d.level is not None and d.level.kind == "multiband_limiter"
    assert len(d.level.thresholds_db_spl) == len(d.level.crossovers_hz) + 1


def test_laptop() -> None:
    d = DEV["laptop"]
    assert d.channels_mode == "narrow" and 0 < d.width < 1
    assert at("laptop", 300) == pytest.approx(-3.0, abs=1.0)
    # Dell Inspiron E1505 flat to 10 kHz, Framework 13 rolling off from 7 kHz (SOURCES.md)
    assert at("laptop", 10000) > -2.0 and at("laptop", 7000) > -1.0
    assert at("laptop", 16000) < -5.0


def test_bluetooth_speaker() -> None:
    d = DEV["bluetooth-speaker"]
    assert d.channels_mode in ("mono", "narrow")
    assert at("bluetooth-speaker", 90) == pytest.approx(-3.0, abs=1.0)
    slope = at("bluetooth-speaker", 40) - at("bluetooth-speaker", 20)
    assert slope == pytest.approx(12.0, abs=1.0)  # closed box, 12 dB/oct
    assert d.level is not None and d.level.kind == "bass_limiter"


def test_tv() -> None:
    assert at("tv", 120) == pytest.approx(-3.0, abs=1.0)
    assert at("tv", 2500) == pytest.approx(3.0, abs=1.0)  # dialogue emphasis


def test_car_cabin_gain_and_image() -> None:
    d = DEV["car"]
    assert at("car", 30) == pytest.approx(10.0, abs=1.0)
    assert at("car", 80) == pytest.approx(0.0, abs=1.0)
    assert at("car", 50) - at("car", 70) == pytest.approx(12 * math.log2(70 / 50), abs=1.0)
    assert at("car", 1000) == 0.0
    assert d.balance_db > 0 and d.right_delay_ms > 0  # driver seat: left-biased
    assert d.noise == "car_road"


def test_club() -> None:
    d = DEV["club"]
    assert d.mono_below_hz == 100.0
    assert at("club", 50) > 4.0  # sub emphasis
    assert at("club", 1000) == pytest.approx(0.0, abs=0.1)
    assert d.nominal_level_db_spl >= 95


def test_earbud_models_normalised_at_1k() -> None:
    for name in ("earbuds-open", "earbuds-sealed", "earbuds-cheap"):
        assert at(name, 1000) == pytest.approx(0.0, abs=1e-9)
        assert DEV[name].represents


def test_bass_falls_where_stated() -> None:
    # open: roll-off in the 50-70 Hz region; cheap: near 200 Hz (model re 200 Hz–1 kHz mean)
    mid = lambda n: float(np.mean(magnitude_db(DEV[n], np.geomspace(200, 1000, 30))))  # noqa: E731
    assert -8.0 < at("earbuds-open", 55) - mid("earbuds-open") < -3.0
    assert at("earbuds-cheap", 200) - at("earbuds-cheap", 500) < -6.0


def test_band_gains() -> None:
    edges = list(BROAD_BANDS_HZ.values())
    assert np.allclose(band_gains_db(DEV["studio"], edges), 0.0)
    phone = band_gains_db(DEV["phone"], edges)
    assert phone[0] < -40 and phone[1] < -6 and abs(phone[3]) < 6
    flat_edges = [20.0, 60.0, 250.0]
    assert np.allclose(band_gains_db(DEV["car"], flat_edges), band_gains_db(DEV["car"], edges[:2]))
    with pytest.raises(ValueError):
        band_gains_db(DEV["car"], [100.0, 50.0])


# ---------------------------------------------------------------- earbuds vs measured curves


def _csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return a[:, 0], a[:, 1]


def _third_octave_smooth(f: np.ndarray, v: np.ndarray, at_hz: np.ndarray) -> np.ndarray:
    """Mean of the dB curve over ±1/6 octave around each frequency (log-frequency grid)."""
    grid = np.log2(at_hz)[:, None] + np.linspace(-1 / 6, 1 / 6, 33)[None, :]
    return np.interp(grid, np.log2(f), v).mean(axis=1)


EARBUD_CLAIMS = [(d.name, c) for d in DEV.values() for c in d.represents]


@pytest.mark.parametrize(("device", "csv_name"), EARBUD_CLAIMS)
def test_earbud_model_matches_measurement(corpus: Path, device: str, csv_name: str) -> None:
    folder = corpus / "devices"
    f, raw = _csv(folder / csv_name)
    tf, tv = _csv(folder / TARGET_CSV)
    rel = raw - np.interp(np.log(f), np.log(tf), tv)
    # The sealed model is claimed from 20 Hz (its bass is the point), the others from 100 Hz.
    low_hz, limit_db = (20.0, 2.5) if device == "earbuds-sealed" else (100.0, 3.0)
    band = f[(f >= low_hz) & (f <= 8000)]
    measured = _third_octave_smooth(f, rel, band) - _third_octave_smooth(f, rel, np.array([1e3]))
    err = magnitude_db(DEV[device], band) - measured
    assert np.max(np.abs(err)) <= limit_db, f"{device} vs {csv_name}: max {np.max(np.abs(err)):.2f}"


# ---------------------------------------------------------------- car noise


def test_car_noise_grows_with_speed_in_every_band() -> None:
    centres = np.array(THIRD_OCTAVE_EXACT_HZ)
    slow, mid, fast = (car_noise_band_levels_db(v, centres) for v in (50, 100, 130))
    assert np.all(fast > mid) and np.all(mid > slow)
    dba = 10 * np.log10(np.sum(10 ** ((mid + a_weighting_db(centres)) / 10)))
    assert dba == pytest.approx(68.0, abs=0.01)
    assert np.all(np.diff(mid) <= 0)  # road noise falls with frequency
    with pytest.raises(ValueError):
        car_noise_band_levels_db(0, centres)


def test_a_weighting_reference_points() -> None:
    # IEC 61672-1 table: 0 dB at 1 kHz, -19.1 at 100 Hz, +1.2 at 2.5 kHz
    assert a_weighting_db([1000.0, 100.0, 2500.0]) == pytest.approx([0.0, -19.1, 1.3], abs=0.1)


# ---------------------------------------------------------------- user devices


def test_builtins_without_file() -> None:
    assert set(load_devices()) == set(DEV)


def test_user_device_file_round_trip(tmp_path: Path) -> None:
    docs = []
    for d in DEV.values():
        doc = device_to_dict(d)
        doc["name"] = "my-" + d.name
        docs.append(doc)
    path = tmp_path / "devices.json"
    path.write_text(json.dumps({"devices": docs}), encoding="utf-8")
    loaded = load_devices(path)
    for d in DEV.values():
        mine = loaded["my-" + d.name]
        assert device_to_dict(mine) == {**device_to_dict(d), "name": "my-" + d.name}
        f = np.geomspace(20, 20000, 40)
        assert np.array_equal(magnitude_db(mine, f), magnitude_db(d, f))


def test_user_device_toml_with_breakpoints(tmp_path: Path) -> None:
    path = tmp_path / "devices.toml"
    path.write_text(
        '[[devices]]\nname = "kitchen"\nchannels_mode = "mono"\n'
        '[[devices.filters]]\ntype = "breakpoints"\n'
        "frequencies_hz = [100.0, 1000.0]\ngains_db = [-10.0, 0.0]\n",
        encoding="utf-8",
    )
    dev = load_devices(path)["kitchen"]
    assert dev.width == 0.0
    assert magnitude_db(dev, [50.0, 316.2278, 5000.0]) == pytest.approx([-10, -5, 0], abs=1e-3)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"devices": {}}',
        '{"devices": [{"name": "x", "channels_mode": "quad", "filters": []}]}',
        '{"devices": [{"name": "x", "channels_mode": "mono", "filters": [{"type": "notch"}]}]}',
        '{"devices": [{"name": "x", "channels_mode": "mono", '
        '"filters": [{"type": "high_pass", "cutoff_hz": -5, "order": 2}]}]}',
        '{"devices": [{"name": "x", "channels_mode": "mono", "filters": [], "colour": 1}]}',
    ],
)
def test_malformed_device_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_devices(path)
    msg = info.value.message
    assert str(path) in msg and "\n" not in msg


def test_missing_device_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(UsageError, match=r"absent\.json"):
        load_devices(path)


@pytest.mark.parametrize(("device", "f_hz"), [("earbuds-open", 56.0), ("earbuds-cheap", 205.0)])
def test_earbud_bass_point_as_published(corpus: Path, device: str, f_hz: float) -> None:
    """Model + Harman target rebuilds the raw curve: −6 dB re the 200 Hz–1 kHz mean at the
    frequency SOURCES.md reads from the raw CSVs (AirPods ≈ 55–57 Hz, Walmart buds ≈ 205 Hz)."""
    tf, tv = _csv(corpus / "devices" / TARGET_CSV)
    total = lambda f: magnitude_db(DEV[device], f) + np.interp(np.log(f), np.log(tf), tv)  # noqa: E731
    mid = float(np.mean(total(np.geomspace(200, 1000, 50))))
    assert float(total(np.array([f_hz]))[0]) - mid == pytest.approx(-6.0, abs=1.0)
