"""The demo's synthetic material has the faults it claims: against the reference the mix is
duller at the top, lighter in the sub-bass, quieter, and wider in the low end."""

from __future__ import annotations

import pytest

from analyzer.comparison.metrics import compare
from analyzer.demo import DEMO_FAULTS, DEMO_SAMPLE_RATE_HZ, synthesize_demo_mix
from analyzer.demo import synthesize_demo_reference as reference
from analyzer.measure.engine import analyze_array


@pytest.fixture(scope="module")
def comparison():
    mix = analyze_array(synthesize_demo_mix(**DEMO_FAULTS), DEMO_SAMPLE_RATE_HZ)
    ref = analyze_array(reference(), DEMO_SAMPLE_RATE_HZ)
    return compare(mix, [ref])


def test_demo_faults(comparison) -> None:
    m = comparison.metrics
    assert m["tonal.high"].verdict == "below" and m["tonal.air"].verdict == "below"  # dull
    assert m["tonal.sub"].verdict == "below"  # weak low end
    assert m["integrated_lufs"].delta < -8  # too quiet
    assert m["width.low"].verdict == "above"  # a little too wide in the lows
    assert m["width.low"].delta < 6
    assert comparison.top_differences[0].metric in ("tonal.air", "tonal.high")
