"""The whole pass: every meter wired together, cross-meter figures (PLR, PSR, mono loss,
inter-sample overs) from the real meters, and the fixed JSON keys of each section."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from analyzer.measure.engine import analyze_array, analyze_file
from analyzer.report.json import lookup, track_to_dict
from tests.signals import pink_noise, sine

FIXED_KEYS = [
    "dynamics.crest_factor_db",
    "dynamics.plr_db",
    "dynamics.psr_max_db",
    "dynamics.psr_median_db",
    "dynamics.dr",
    "dynamics.dc_offset",
    "dynamics.clipped_runs",
    "dynamics.intersample_overs",
    "stereo.correlation",
    "stereo.correlation_p5",
    "stereo.side_to_mid_db",
    "stereo.width_per_band_db",
    "stereo.mono_loss_lu",
    "stereo.mono_loss_per_band_lu",
    "stereo.balance_db",
    "stereo.flags",
    "spectrum.third_octave_hz",
    "spectrum.third_octave_db",
    "spectrum.tonal_balance_db",
    "spectrum.tilt_db_per_octave",
]


def test_sine_plr_psr_and_crest() -> None:
    x = sine(10.0, 48000, peak_dbfs=-20.0)
    doc = track_to_dict(analyze_array(x, 48000))
    for key in FIXED_KEYS:
        lookup(doc, key)
    dy = doc["dynamics"]
    # A -20 dBFS-peak stereo 1 kHz sine reads -20.0 LUFS and -20.0 dBTP: PLR 0, PSR 0.
    assert dy["plr_db"] == pytest.approx(0.0, abs=0.05)
    assert dy["psr_max_db"] == pytest.approx(0.0, abs=0.05)
    assert dy["psr_median_db"] == pytest.approx(0.0, abs=0.05)
    assert dy["crest_factor_db"] == pytest.approx(3.01, abs=0.01)
    assert dy["intersample_overs"] == 0
    assert doc["stereo"]["flags"] == ["dual_mono"]
    assert doc["stereo"]["mono_loss_lu"] == pytest.approx(0.0, abs=1e-6)


def test_psr_follows_the_short_term_loudness() -> None:
    """A loud 4 s burst in quiet noise: PSR is small during the burst, large elsewhere."""
    fs = 44100
    x = pink_noise(12.0, fs, seed=5) * 0.01
    x[:, 4 * fs : 8 * fs] *= 30
    res = analyze_array(x, fs, keep_series=True)
    psr = np.array(res.dynamics.psr.values)
    assert res.dynamics.psr.start_s == res.loudness.short_term.start_s
    assert psr.size == len(res.loudness.short_term.values)
    assert np.nanmax(psr) == pytest.approx(res.dynamics.psr_max_db)
    crest = res.dynamics.crest_factor_db
    assert 3.0 < np.nanmin(psr) < crest + 3.0


def test_intersample_overs_are_counted() -> None:
    """A full-scale fs/4 sine at 45 degrees: samples at 0.707, peaks at 1.0 between them."""
    fs = 48000
    n = np.arange(fs)
    fade = np.minimum(1.0, np.minimum(n, n[::-1]) / (0.01 * fs))  # no Gibbs overshoot at ends
    x = 1.2 * np.sin(2 * np.pi * n / 4 + np.pi / 4) * fade
    res = analyze_array(np.vstack([x, x]), fs)
    assert res.peaks.sample_peak_dbfs < 0
    assert res.peaks.true_peak_dbtp == pytest.approx(20 * np.log10(1.2), abs=0.01)
    # One over between the two samples around each crest: 2 per period, per channel (less the
    # fades, where the level is below 0 dBFS).
    assert res.dynamics.intersample_overs == pytest.approx(2 * (fs // 4) * 2, rel=0.03)


def test_inverted_channel(tmp_path) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(48000 * 5) * 0.1
    res = analyze_array(np.vstack([a, -a]), 48000)
    assert "polarity_inverted" in res.stereo.flags
    assert res.stereo.mono_loss_lu == -np.inf  # the fold-down cancels completely
    assert res.stereo.correlation == pytest.approx(-1.0)


def test_mono_file_has_a_mono_stereo_section(tmp_path) -> None:
    p = tmp_path / "mono.wav"
    sf.write(p, sine(4.0, 44100, channels=1).T, 44100)
    doc = track_to_dict(analyze_file(p))
    assert doc["stereo"]["flags"] == ["mono"]
    assert doc["stereo"]["correlation"] is None
    assert doc["stereo"]["mono_loss_lu"] is None


def test_streaming_file_equals_array(tmp_path) -> None:
    fs = 48000
    x = pink_noise(25.0, fs, seed=2) * 0.05
    p = tmp_path / "noise.wav"
    sf.write(p, x.T, fs, subtype="FLOAT")
    a = track_to_dict(analyze_file(p, block_frames=10007))
    b = track_to_dict(analyze_array(x.astype(np.float32).astype(np.float64), fs, path=str(p)))
    for section in ("loudness", "dynamics", "stereo", "spectrum"):
        for key, va in a[section].items():
            vb = b[section][key]
            if isinstance(va, float):
                assert va == pytest.approx(vb, abs=1e-3), (section, key)


class _Recorder:
    """A meter that keeps what it was fed (and can fail on a given block)."""

    def __init__(self, cost: float, fail_at: int | None = None) -> None:
        self.relative_cost = cost
        self.fed: list[float] = []
        self.fail_at = fail_at

    def feed(self, block: np.ndarray) -> None:
        if self.fail_at is not None and len(self.fed) == self.fail_at:
            raise RuntimeError("meter failed")
        self.fed.append(float(block[0, 0]))

    def result(self) -> object:
        return self.fed


def test_meters_share_the_cores_and_each_sees_every_block_in_order() -> None:
    from analyzer.measure.engine import meter_groups, run_meters

    costs = [0.24, 0.16, 0.11, 0.04, 0.035]
    meters = [_Recorder(c) for c in costs]
    groups = meter_groups(meters, 2)
    assert len(groups) == 2
    # longest processing time first: the two costliest on different threads, loads balanced
    members = [getattr(g, "meters", [g]) for g in groups]
    assert sorted(len(m) for m in members) == [2, 3]
    assert not any(meters[0] in m and meters[1] in m for m in members)
    loads = sorted(sum(m.relative_cost for m in ms) for ms in members)
    assert loads[1] - loads[0] <= 0.04
    assert meter_groups(meters, 8) == meters  # a thread each when there are cores enough
    blocks = [np.full((2, 16), float(i)) for i in range(50)]
    run_meters(iter(blocks), meters, threads=2)
    for m in meters:
        assert m.fed == [float(i) for i in range(50)]


def test_a_failing_meter_in_a_group_fails_the_pass() -> None:
    from analyzer.measure.engine import run_meters

    meters = [_Recorder(1.0), _Recorder(1.0, fail_at=7), _Recorder(1.0)]
    with pytest.raises(RuntimeError, match="meter failed"):
        run_meters(iter([np.zeros((1, 4))] * 20), meters, threads=2)
