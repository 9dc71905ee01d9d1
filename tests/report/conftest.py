"""Shared synthetic material for the report tests: short demo-style tracks written once per
session (no corpus, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from analyzer.demo import DEMO_FAULTS, DEMO_SAMPLE_RATE_HZ, synthesize_demo_mix

FS = DEMO_SAMPLE_RATE_HZ


@pytest.fixture(scope="session")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``mix`` (the faulty demo mix), ``ref`` (a balanced one) and ``silent``, 12 s or less."""
    folder = tmp_path_factory.mktemp("tracks")
    n = 12 * FS
    mix = synthesize_demo_mix(**DEMO_FAULTS)[:, :n]
    ref = synthesize_demo_mix(seed=11, hat_gain=1.4)[:, :n]
    out = {"mix": folder / "mix.wav", "ref": folder / "ref.wav", "silent": folder / "silent.wav"}
    sf.write(out["mix"], mix.T, FS, subtype="PCM_24")
    sf.write(out["ref"], ref.T, FS, subtype="PCM_24")
    sf.write(out["silent"], (mix * 0.0)[:, : 4 * FS].T, FS, subtype="PCM_16")
    return out
