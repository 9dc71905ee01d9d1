"""The translate use case's profile step (:func:`analyzer.app.translating.with_profile_scores`)."""

from __future__ import annotations

import numpy as np

from analyzer.app.measuring import load_profile
from analyzer.app.translating import with_profile_scores
from analyzer.measure.engine import analyze_array
from analyzer.playback.translate import translate

FS = 44100


def test_a_profile_does_not_score_a_silent_mix_either() -> None:
    """Judged against a shipped profile's ranges, the silent mix stays unscored (the profile
    step once re-scored it 100 on every device but the studio)."""
    tr = with_profile_scores(translate(analyze_array(np.zeros((2, 5 * FS)), FS)),
                             load_profile("electronic"))  # fmt: skip
    assert [d.score for d in tr.devices] == [None] * len(tr.devices)
    assert all(d.findings == () for d in tr.devices) and tr.ranked_differences == ()
