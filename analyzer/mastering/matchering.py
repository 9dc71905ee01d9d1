"""Matchering (https://github.com/sergree/matchering, GPL-3) as the alternative mastering engine.

Matchering matches the mix to one reference track's RMS, frequency response, peak amplitude and
stereo width, working internally at 44.1 kHz, and ends with its own limiter, which holds *sample*
peaks (``Config.threshold``, about -0.02 dBFS), not true peaks. Here it does the tone and level
match; its result is converted back to the mix's sample rate and channel count (soxr VHQ),
written atomically in the chosen format, and measured with every meter while it is written, so
the verification is this project's, and a true peak above the ceiling is reported, not hidden.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from analyzer.errors import MatcheringError, UsageError
from analyzer.io import AtomicWavWriter, display_path
from analyzer.io.resample import resample
from analyzer.io.source import read_audio_unchecked
from analyzer.io.write import OutputFormat, Quantizer
from analyzer.mastering.chain import MasterResult
from analyzer.measure.engine import TrackMeters, run_meters
from analyzer.types import DEFAULT_CEILING_DBTP, TrackAnalysis

BLOCK_FRAMES = 1 << 17


def master_matchering(
    mix_path: str,
    reference_path: str,
    out_path: str,
    mix: TrackAnalysis,
    *,
    fmt: OutputFormat,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    force: bool = False,
) -> MasterResult:
    """Run Matchering on ``mix_path`` against ``reference_path`` and write ``out_path``."""
    try:
        import matchering as mg
    except ImportError:  # pragma: no cover - a declared dependency
        raise UsageError("the matchering engine needs the matchering package") from None
    info = mix.file
    out = Path(out_path)
    with tempfile.TemporaryDirectory(prefix=".mixanalyzer-matchering-", dir=out.parent) as tmp:
        result_wav = os.path.join(tmp, "result.wav")
        said: list[str] = []
        mg.log(warning_handler=said.append)  # quiet; its warnings are passed on below
        try:
            mg.process(
                target=str(mix_path), reference=str(reference_path),
                results=[mg.Result(result_wav, "FLOAT", use_limiter=True, normalize=True)],
                config=mg.Config(temp_folder=tmp),
            )  # fmt: skip
        except Exception as exc:  # Matchering's ModuleError and friends: one line
            code = getattr(exc, "code", None)
            reason = str(exc) or type(exc).__name__
            if code is not None:
                reason = f"{reason} (Matchering code {code})"
            raise MatcheringError(
                f"{display_path(mix_path)}: Matchering could not master it against "
                f"{display_path(reference_path)}: {reason}"
            ) from None
        y, rate = read_audio_unchecked(result_wav)
    if y.shape[0] != info.channels:
        y = y.mean(axis=0, keepdims=True) if info.channels == 1 else np.repeat(y[:1], 2, 0)
    if rate != info.sample_rate_hz:
        y = resample(y, rate, info.sample_rate_hz)
    quantize = Quantizer(fmt)
    meters = TrackMeters(info.sample_rate_hz, info.channels)
    frames = 0
    with AtomicWavWriter(out, info.sample_rate_hz, info.channels, subtype=fmt.subtype,
                         force=force, container=fmt.container,
                         create_parents=False) as writer:  # fmt: skip

        def blocks():  # type: ignore[no-untyped-def]
            nonlocal frames
            for i in range(0, y.shape[1], BLOCK_FRAMES):
                values, raw = quantize(y[:, i : i + BLOCK_FRAMES])
                writer.write(raw)
                frames += values.shape[1]
                yield values

        run_meters(blocks(), meters.all)
    out_info = replace(info, path=str(out_path), frames=frames, format=fmt.container,
                       subtype=fmt.subtype)  # fmt: skip
    analysis = meters.result(out_info, keep_series=True)
    warnings = [f"Matchering: {w}" for w in said]
    tp = analysis.peaks.true_peak_dbtp
    if tp > ceiling_dbtp:
        warnings.append(
            f"Matchering's output peaks at {tp:+.2f} dBTP, above the {ceiling_dbtp:g} dBTP "
            "ceiling: its limiter holds sample peaks, not true peaks (use --engine native for a "
            "true-peak-safe master)"
        )
    if rate != info.sample_rate_hz:
        warnings.append(
            f"Matchering works at {rate} Hz: its result was converted back to "
            f"{info.sample_rate_hz} Hz (soxr VHQ)"
        )
    return MasterResult(
        path=str(out_path), analysis=analysis, gain_db=0.0, pre_limiter_lufs=None,
        pre_limiter_true_peak_dbtp=None, limiter=None, write_passes=1, warnings=tuple(warnings),
    )  # fmt: skip
