"""Process settings: every use case holds numpy's BLAS to one thread for the length of its
call (analyzer.runtime.one_blas_thread), and gives the caller's setting back."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from analyzer.measure import engine
from analyzer.measure.truepeak import TruePeakMeter


def _blas_threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_a_use_case_runs_its_meters_on_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A program that uses the Python API has numpy loaded (and OpenBLAS's threads started)
    before mixanalyzer can set ``OPENBLAS_NUM_THREADS``: during ``analyze_array`` the meters
    see one BLAS thread, and the caller's two are back afterwards."""
    if not _blas_threads():
        pytest.skip("numpy without a BLAS threadpoolctl knows")
    seen: list[list[int]] = []
    feed = TruePeakMeter.feed

    def watching(self: TruePeakMeter, block: np.ndarray) -> None:
        seen.append(_blas_threads())
        feed(self, block)

    monkeypatch.setattr(TruePeakMeter, "feed", watching)
    x = np.random.default_rng(0).standard_normal((2, 44100)) * 0.1
    with threadpool_limits(limits=2, user_api="blas"):
        assert set(_blas_threads()) == {2}
        engine.analyze_array(x, 44100)
        assert set(_blas_threads()) == {2}
    assert seen and all(set(s) == {1} for s in seen)


def test_every_use_case_is_held() -> None:
    """The application layer's use cases and the measuring API all carry the limit."""
    import analyzer

    for name in ("analyze", "compare", "translate", "propose", "master", "batch",
                 "build_profile", "watch", "analyze_file", "analyze_array"):  # fmt: skip
        fn = getattr(analyzer, name)
        assert fn.__wrapped__.__name__ == name, name
        assert "one_blas_thread" in fn.__qualname__ or fn.__code__.co_name == "limited", name
