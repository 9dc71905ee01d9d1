"""Every EBU Tech 3341 (1-23) and Tech 3342 (1-6) case that can be synthesised, built from the
corpus table at 44.1 and 48 kHz and measured within the published tolerances."""

from __future__ import annotations

import pytest

from analyzer.measure.loudness import measure_loudness
from analyzer.measure.truepeak import measure_peaks
from tests.conformance.ebu_cases import check, find_case, synthesize

RATES = [44100, 48000]
TECH3341 = [1, 2, 3, 4, 5, 6, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]
TECH3342 = [1, 2, 3, 4]


def _measure_and_check(case: dict, x, fs: int) -> list[str]:
    layout = case["signal"].get("layout")
    loud = measure_loudness(x, fs, layout=layout, keep_series=True)
    peaks = measure_peaks(x, fs)
    return check(case, loud, peaks)


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("number", TECH3341)
def test_tech3341_case(corpus, number: int, fs: int) -> None:
    case = find_case(corpus, "tech3341", number)
    failures = _measure_and_check(case, synthesize(case, fs), fs)
    assert not failures, f"Tech 3341 case {number} at {fs} Hz: {failures}"


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("number", [10, 13])
def test_tech3341_file_based_maxima(corpus, number: int, fs: int) -> None:
    """Cases 10 and 13: 20 files each with the tone shifted by 0.15 s / 20 ms steps."""
    case = find_case(corpus, "tech3341", number)
    for i in range(20):
        failures = _measure_and_check(case, synthesize(case, fs, index=i), fs)
        assert not failures, f"Tech 3341 case {number}, file {i + 1}, {fs} Hz: {failures}"


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("number", TECH3342)
def test_tech3342_case(corpus, number: int, fs: int) -> None:
    case = find_case(corpus, "tech3342", number)
    failures = _measure_and_check(case, synthesize(case, fs), fs)
    assert not failures, f"Tech 3342 case {number} at {fs} Hz: {failures}"


def test_cases_not_synthesisable_are_programme_material(corpus) -> None:
    """Cases 7 and 8 (3342: 5 and 6) are authentic programme: only the official files test them."""
    for number in (7, 8):
        assert find_case(corpus, "tech3341", number)["signal"].get("cannot_be_synthesized")
