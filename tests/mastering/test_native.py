"""The native engine and its processors: FIR and width moves, formats, amount 0, loudness-only,
atomic writes and the verification made while writing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from analyzer.comparison.metrics import compare
from analyzer.errors import OutputError, UsageError
from analyzer.io.write import check_paths, output_format
from analyzer.mastering.apply import run_master
from analyzer.mastering.eq import EqMove, apply_eq
from analyzer.mastering.fir import LinearPhaseFir, design_linear_phase
from analyzer.mastering.proposal import build_proposal
from analyzer.mastering.settings import amounts_from
from analyzer.mastering.width import WidthProcessor
from analyzer.measure.engine import analyze_file
from tests.oracles import pyebur128_reading
from tests.signals import pink_noise

FS = 44100


def test_linear_phase_fir_is_aligned_and_follows_the_curve():
    h = design_linear_phase(lambda f: np.where(f > 1000.0, 0.5, 1.0), FS, taps=4095)
    assert np.allclose(h, h[::-1])
    x = np.zeros((1, 20000))
    x[0, 5000] = 1.0
    fir = LinearPhaseFir(h, 1)
    y = np.concatenate([fir.process(x[:, :7000]), fir.process(x[:, 7000:]), fir.flush()], 1)
    assert y.shape == x.shape
    assert int(np.argmax(np.abs(y[0]))) == 5000  # the delay is compensated
    spec = np.abs(np.fft.rfft(y[0]))
    f = np.fft.rfftfreq(y.shape[1], 1 / FS)
    assert np.mean(spec[(f > 200) & (f < 600)]) == pytest.approx(1.0, abs=0.01)
    assert np.mean(spec[(f > 3000) & (f < 9000)]) == pytest.approx(0.5, abs=0.01)


def test_width_side_gain_and_mono_below():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, FS * 2)) * 0.1
    y = WidthProcessor(FS, side_gain_db=-6.0).process(x)
    mid, side = (x[0] + x[1]) / 2, (x[0] - x[1]) / 2
    assert np.allclose((y[0] + y[1]) / 2, mid)
    assert np.allclose((y[0] - y[1]) / 2, side * 10 ** (-6 / 20))
    z = WidthProcessor(FS, mono_below_hz=120.0).process(x)
    s = np.abs(np.fft.rfft((z[0] - z[1]) / 2)) ** 2
    s0 = np.abs(np.fft.rfft(side)) ** 2
    f = np.fft.rfftfreq(x.shape[1], 1 / FS)
    low, high = (f > 10) & (f < 40), (f > 1000) & (f < 5000)
    assert 10 * np.log10(s[low].sum() / s0[low].sum()) < -30  # LR4: -24 dB/oct below 120 Hz
    assert 10 * np.log10(s[high].sum() / s0[high].sum()) == pytest.approx(0.0, abs=0.05)
    assert np.allclose((z[0] + z[1]) / 2, mid)  # the mono fold-down is untouched


def test_output_format_rules(tmp_path):
    assert output_format(tmp_path / "a.wav").subtype == "PCM_24"
    assert output_format(tmp_path / "a.wav", "16").dither
    assert not output_format(tmp_path / "a.wav", "16", dither=False).dither
    assert output_format(tmp_path / "a.flac", "16").container == "FLAC"
    with pytest.raises(UsageError):
        output_format(tmp_path / "a.mp3")
    with pytest.raises(UsageError):
        output_format(tmp_path / "a.flac", "32f")


def test_check_paths_refuses_the_input_and_a_missing_folder(tmp_path):
    mix = tmp_path / "mix.wav"
    sf.write(mix, np.zeros((100, 2)), FS)
    with pytest.raises(OutputError, match="input"):
        check_paths(str(mix), str(mix))
    with pytest.raises(OutputError, match="input"):
        check_paths(str(mix), str(tmp_path / "." / "mix.wav"))
    with pytest.raises(OutputError, match="does not exist"):
        check_paths(str(mix), str(tmp_path / "nope" / "out.wav"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("native")
    x = 0.05 * pink_noise(12.0, FS, seed=7)
    ref = d / "ref.wav"
    mix = d / "mix.wav"
    sf.write(ref, x.T, FS, subtype="PCM_24")
    detune = [EqMove("low_shelf", 120.0, -4.0), EqMove("high_shelf", 6000.0, -5.0)]
    sf.write(mix, apply_eq(x, detune, FS).T * 0.5, FS, subtype="PCM_24")
    return d, str(mix), str(ref)


def _master(files, out_name, *, amounts=None, target=-16.0, fine=False, bits="24", **kw):
    d, mix, ref = files
    a, r = analyze_file(mix), analyze_file(ref)
    c = compare(a, [r])
    args = dict(target_lufs=target, target_source="test", amounts=amounts, fine=fine)
    p = build_proposal(a, c, **args)
    out = str(d / out_name)
    return a, run_master(
        mix, out, a, c, p, lambda s: build_proposal(a, c, limiter_shift_db=s, **args),
        references=[r], fmt=output_format(out, bits), **kw,
    )  # fmt: skip


def test_master_meets_target_ceiling_and_tone(files):
    _, (_p, res, ver) = _master(files, "out.wav", target=-12.0)
    assert ver.checks["true_peak_within_ceiling"] and ver.checks["loudness_on_target"]
    assert res.analysis.loudness.integrated_lufs == pytest.approx(-12.0, abs=0.3)
    assert ver.tonal_error_after_db < 0.4 * ver.tonal_error_before_db
    assert sf.info(res.path).samplerate == FS
    lufs, tp = pyebur128_reading(res.path)
    assert tp <= -1.0 + 0.05
    assert lufs == pytest.approx(-12.0, abs=0.3)
    # The verification read exactly what was written.
    again = analyze_file(res.path)
    assert again.loudness.integrated_lufs == pytest.approx(
        res.analysis.loudness.integrated_lufs, abs=1e-9
    )


def test_amount_zero_changes_nothing(files):
    _d, mix, _ = files
    _, (p, res, _ver) = _master(files, "zero.wav", amounts=amounts_from(amount=0))
    assert p.tone.moves == () and not p.width.active and res.limiter is None
    a, _ = sf.read(mix, dtype="int32")
    b, _ = sf.read(res.path, dtype="int32")
    assert np.array_equal(a, b)


def test_only_loudness_keeps_the_tonal_balance(files):
    a, (p, res, _ver) = _master(files, "loud.wav", amounts=amounts_from(only="loudness"))
    assert p.tone.moves == ()
    before, after = a.spectrum, res.analysis.spectrum
    shift = res.analysis.loudness.integrated_lufs - a.loudness.integrated_lufs
    for hz, x, y in zip(before.third_octave_hz, before.third_octave_db,
                        after.third_octave_db, strict=True):  # fmt: skip
        if x is not None and 31 < hz < 17000:
            assert y - x == pytest.approx(shift, abs=0.1), hz


@pytest.mark.parametrize("bits", ["16", "32f"])
def test_other_bit_depths(files, bits):
    _, (_p, res, ver) = _master(files, f"b{bits}.wav", bits=bits)
    info = sf.info(res.path)
    assert info.subtype == {"16": "PCM_16", "32f": "FLOAT"}[bits]
    assert ver.checks["true_peak_within_ceiling"]


def test_refuses_to_overwrite_without_force(files):
    d, _, _ = files
    out = d / "exists.wav"
    out.write_bytes(b"keep")
    with pytest.raises(OutputError, match="exists"):
        _master(files, "exists.wav")
    assert out.read_bytes() == b"keep"
    assert not [p for p in d.iterdir() if p.name.startswith(".exists.wav")]


def test_long_file_fallback_reaches_the_same_target(files, monkeypatch):
    """Past PEAK_CACHE_FRAMES the gain is found by full trial passes instead of replays of the
    recorded detection: the same loudness and ceiling."""
    import analyzer.mastering.chain as native

    monkeypatch.setattr(native, "PEAK_CACHE_FRAMES", 0)
    _, (_p, res, ver) = _master(files, "fallback.wav", target=-12.0)
    assert res.analysis.loudness.integrated_lufs == pytest.approx(-12.0, abs=0.3)
    assert ver.checks["true_peak_within_ceiling"]
