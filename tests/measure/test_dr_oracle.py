"""DR against dr14_t.meter (PyPI ``dr14-t-meter``, simon-r) run live as the oracle on every corpus
track, fed the same decoded samples (as pyebur128 is for loudness)."""

from __future__ import annotations

import pytest

from analyzer.io import read_audio
from analyzer.measure.dynamics import measure_sample_dynamics
from tests.conftest import _find_corpus


def _tracks() -> list[str]:
    corpus = _find_corpus()
    if corpus is None:
        return ["<corpus missing>"]
    return sorted(p.name for p in (corpus / "music").iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("name", _tracks())
def test_dr_equals_dr14_t_meter(corpus, name: str) -> None:
    """The rounded DR is dr14_t.meter's on every corpus track, decoded lossy masters over full
    scale included (their block peaks are not capped); the per-channel mean agrees closely (it
    drops the last sample of the partial last block, which this meter keeps)."""
    from dr14tmeter.compute_dr14 import compute_dr14

    x, fs = read_audio(corpus / "music" / name)
    ours = measure_sample_dynamics(x, fs)
    oracle_dr, _, _ = compute_dr14(x.T, fs)
    assert ours.dr == int(oracle_dr), (name, ours.dr_per_channel)
