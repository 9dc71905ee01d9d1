"""Measuring several tracks two at a time gives what measuring them one by one gives: the same
analyses in the same order, the same notes in the same order, and the first bad file (in the
order given) named in the error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyzer.app.measuring import measure_track, measure_with_references, rate_for_reference
from analyzer.errors import AnalyzerError
from tests.signals import pink_noise, same_result


@pytest.fixture(scope="module")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 44.1 kHz mix, a reference at 48 kHz (resampled for the comparison) and two at 44.1 kHz,
    each with a loud part placed differently (so the loudest sections differ), 40 s each."""
    from analyzer.io import write_audio_atomic

    d = tmp_path_factory.mktemp("measuring")
    out = {}
    for i, (name, fs) in enumerate([("mix", 44100), ("r48", 48000), ("ra", 44100), ("rb", 44100)]):
        x = pink_noise(40.0, fs, seed=10 + i) * 0.05
        loud = slice(int((3 + 5 * i) * fs), int((3 + 5 * i + 32) * fs))
        x[:, loud] *= 4.0
        out[name] = d / f"{name}.wav"
        write_audio_atomic(out[name], x, fs)
    return out


@pytest.mark.parametrize("section", ["whole", "loudest"])
def test_side_by_side_equals_one_by_one(tracks: dict[str, Path], section: str) -> None:
    mix = str(tracks["mix"])
    refs = [str(tracks[k]) for k in ("r48", "ra", "rb")]
    notes: list[str] = []
    got_mix, got_refs = measure_with_references(mix, refs, notes=notes, section=section,
                                                mix_series=True)  # fmt: skip
    one_notes: list[str] = []
    want_mix = measure_track(mix, section=section, notes=one_notes, series=True)
    want_refs = []
    for r in refs:
        rate = rate_for_reference(r, 44100, one_notes)
        want_refs.append(measure_track(r, section=section, rate_hz=rate, notes=one_notes))
    assert notes == one_notes
    assert any("resampled 48000 -> 44100" in n for n in notes)
    if section == "loudest":
        named = [Path(n.split(":")[0]).name for n in notes if "loudest" in n]
        assert named == ["mix.wav", "r48.wav", "ra.wav", "rb.wav"]
    assert got_mix.loudness.short_term is not None and got_refs[0].loudness.short_term is None
    for got, want in zip([got_mix, *got_refs], [want_mix, *want_refs], strict=True):
        assert got.file.path == want.file.path
        assert same_result(got, want)
    louder = [r.loudness.integrated_lufs for r in got_refs]
    assert len(set(np.round(louder, 6))) == 3  # three different tracks, not one thrice


def test_the_first_bad_file_in_order_is_named(tracks: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    worse = tmp_path / "worse.wav"
    worse.write_bytes(b"not audio at all")
    with pytest.raises(AnalyzerError, match=r"bad\.wav"):
        measure_with_references(str(tracks["mix"]), [str(tracks["ra"]), str(bad), str(worse)],
                                notes=[])  # fmt: skip
    with pytest.raises(AnalyzerError, match=r"bad\.wav"):
        measure_with_references(str(bad), [str(tracks["ra"])], notes=[])


def test_a_file_cut_short_fails_in_order(tracks: dict[str, Path], tmp_path: Path) -> None:
    """Headers that pass, bodies cut: the later file fails first in time (cut near its start),
    the earlier one (cut near its end) is still the one named."""
    data = tracks["ra"].read_bytes()
    late, early = tmp_path / "late.wav", tmp_path / "early.wav"
    late.write_bytes(data[: int(len(data) * 0.9)])
    early.write_bytes(data[: int(len(data) * 0.05)])
    with pytest.raises(AnalyzerError, match=r"late\.wav"):
        measure_with_references(str(tracks["mix"]), [str(late), str(early)], notes=[])


def test_compare_loads_the_kernels_only_when_they_pay(tracks: dict[str, Path], monkeypatch) -> None:
    """``compare`` opts in to numba's kernels when its files together hold at least
    ``KERNELS_PAY_FROM_SAMPLES`` samples (counted from the headers: channels x frames) and the
    recursions were not built ahead of time (analyzer.dsp.native), and
    the comparison is the numpy path's to far below the display precision."""
    from analyzer.app import CompareSettings, compare, measuring
    from analyzer.dsp import jit

    mix = str(tracks["mix"])
    refs = tuple(str(tracks[k]) for k in ("ra", "rb"))
    samples = sum(2 * 40 * 44100 for _ in range(3))
    assert samples < measuring.KERNELS_PAY_FROM_SAMPLES  # 2 minutes: not worth the load
    plain = compare(mix, CompareSettings(references=refs), with_proposal=False)
    assert jit._loader is None
    monkeypatch.setattr(measuring, "KERNELS_PAY_FROM_SAMPLES", samples)
    assert not measuring.load_kernels_if_they_pay([mix, refs[0]])
    assert jit._loader is None
    fast = compare(mix, CompareSettings(references=refs), with_proposal=False)
    # numba is loaded for the meters only where the recursions were not built ahead of time
    assert (jit._loader is not None) == (jit.enabled() and not jit.recursions_built())
    for a, b in zip([plain.mix, *plain.references], [fast.mix, *fast.references], strict=True):
        assert b.loudness.integrated_lufs == pytest.approx(a.loudness.integrated_lufs, abs=1e-9)
        assert b.peaks.true_peak_dbtp == pytest.approx(a.peaks.true_peak_dbtp, abs=1e-9)
    for key, m in plain.comparison.metrics.items():
        if m.median is not None:
            assert fast.comparison.metrics[key].median == pytest.approx(m.median, abs=1e-6), key
