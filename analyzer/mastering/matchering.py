"""Matchering (https://github.com/sergree/matchering, GPL-3) as the alternative mastering engine.

Matchering matches the mix to one reference track's RMS, frequency response, peak amplitude and
stereo width, working internally at 44.1 kHz, and ends with its own limiter, which holds *sample*
peaks (``Config.threshold``, about -0.02 dBFS), not true peaks. Here it does the tone and level
match; its result is converted back to the mix's sample rate and channel count (soxr VHQ), goes
through this project's true-peak limiter to the ceiling (:mod:`analyzer.mastering.limiter`,
streamed in blocks as in the native chain; ``true_peak_limit=False`` keeps Matchering's output as
it is), is written atomically in the chosen format, and measured with every meter while it is
written, so the verification is this project's, and a true peak above the ceiling is reported,
not hidden.

What Matchering did is measured, not assumed (:class:`MatcheringEffect`): the 1/3-octave change
between the mix and the master (each band in dB re its own integrated loudness, as the
comparison reads them), the level change of its result, and the peak reduction of its limiter
(its result without the limiter, which Matchering computes anyway, against the one with it).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from analyzer.comparison.metrics import track_metrics
from analyzer.dsp.units import amplitude_to_db
from analyzer.errors import MatcheringError, UsageError
from analyzer.io import AtomicWavWriter, display_path
from analyzer.io.resample import resample
from analyzer.io.source import read_audio_unchecked
from analyzer.io.write import OutputFormat, Quantizer
from analyzer.mastering.chain import MasterResult
from analyzer.mastering.guard import MasterGuard
from analyzer.mastering.limiter import TruePeakLimiter
from analyzer.measure.engine import TrackMeters, run_meters
from analyzer.measure.loudness import LoudnessMeter
from analyzer.types import DEFAULT_CEILING_DBTP, AudioInfo, TrackAnalysis

BLOCK_FRAMES = 1 << 17


@dataclass(frozen=True)
class MatcheringEffect:
    """What Matchering did, measured: per 1/3-octave band the master's level minus the mix's
    (each re its own integrated loudness: the EQ, level-matched), the loudness of its result
    minus the mix's (its gain), how far its limiter pulled the sample peak down (dB), and
    whether this project's true-peak limiter followed it."""

    band_hz: tuple[float, ...]
    eq_change_db: tuple[float | None, ...]
    gain_db: float | None
    peak_reduction_db: float
    true_peak_limited: bool


def master_matchering(
    mix_path: str,
    reference_path: str,
    out_path: str,
    mix: TrackAnalysis,
    *,
    fmt: OutputFormat,
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP,
    true_peak_limit: bool = True,
    force: bool = False,
) -> MasterResult:
    """Run Matchering on ``mix_path`` against ``reference_path`` and write ``out_path``
    (through the true-peak limiter to ``ceiling_dbtp`` unless ``true_peak_limit`` is False)."""
    info = mix.file
    y, rate, said, peak_reduction = _run_matchering(mix_path, reference_path,
                                                    Path(out_path).parent)  # fmt: skip
    y = _to_mix_format(y, rate, info.channels, info.sample_rate_hz)
    level = _loudness(y, info.sample_rate_hz)
    mix_lufs = mix.loudness.integrated_lufs
    gain = None if level is None or mix_lufs is None else level - mix_lufs
    limiter = TruePeakLimiter(info.sample_rate_hz, info.channels,
                              ceiling_dbtp=ceiling_dbtp) if true_peak_limit else None  # fmt: skip
    analysis = _write_measured(y, out_path, info, fmt, force, limiter)
    warnings = [f"Matchering: {w}" for w in said]
    tp = analysis.peaks.true_peak_dbtp
    if tp > ceiling_dbtp:
        warnings.append(
            f"Matchering's output peaks at {tp:+.2f} dBTP, above the {ceiling_dbtp:g} dBTP "
            "ceiling: its limiter holds sample peaks, not true peaks (drop --raw-matchering to "
            "limit its true peaks)"
        )
    if rate != info.sample_rate_hz:
        warnings.append(
            f"Matchering works at {rate} Hz: its result was converted back to "
            f"{info.sample_rate_hz} Hz (soxr VHQ)"
        )
    before, after = track_metrics(mix), track_metrics(analysis)
    bands = sorted(k for k in before if k.startswith("third_octave."))
    bands.sort(key=lambda k: float(k.split(".", 1)[1]))
    change = tuple(
        None if before[k] is None or after.get(k) is None else after[k] - before[k]  # type: ignore[operator]
        for k in bands
    )
    effect = MatcheringEffect(
        band_hz=tuple(float(k.split(".", 1)[1]) for k in bands), eq_change_db=change,
        gain_db=gain, peak_reduction_db=peak_reduction, true_peak_limited=true_peak_limit,
    )  # fmt: skip
    return MasterResult(
        path=str(out_path), analysis=analysis, gain_db=0.0, pre_limiter_lufs=level,
        pre_limiter_true_peak_dbtp=None, limiter=limiter.stats if limiter else None,
        write_passes=1, warnings=tuple(warnings), matchering=effect,
    )  # fmt: skip


def _loudness(y: np.ndarray, fs: int) -> float | None:
    meter = LoudnessMeter(fs, y.shape[0])
    for i in range(0, y.shape[1], BLOCK_FRAMES):
        meter.feed(y[:, i : i + BLOCK_FRAMES])
    lufs = meter.result().integrated_lufs
    return lufs if lufs is not None and math.isfinite(lufs) else None


def _run_matchering(
    mix_path: str, reference_path: str, work_dir: Path
) -> tuple[np.ndarray, int, list[str], float]:
    """Matchering's result ``(channels, frames)``, its sample rate, its warnings and its
    limiter's peak reduction (dB: the sample peak of its result without the limiter minus the
    one with it; Matchering makes both from one match)."""
    try:
        import matchering as mg
    except ImportError:  # pragma: no cover - a declared dependency
        raise UsageError("the matchering engine needs the matchering package") from None
    with tempfile.TemporaryDirectory(prefix=".mixanalyzer-matchering-", dir=work_dir) as tmp:
        result_wav = os.path.join(tmp, "result.wav")
        unlimited_wav = os.path.join(tmp, "unlimited.wav")
        said: list[str] = []
        mg.log(warning_handler=said.append)  # quiet; its warnings are passed on below
        try:
            mg.process(
                target=str(mix_path), reference=str(reference_path),
                results=[mg.Result(result_wav, "FLOAT", use_limiter=True, normalize=True),
                         mg.Result(unlimited_wav, "FLOAT", use_limiter=False, normalize=False)],
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
        unlimited, _ = read_audio_unchecked(unlimited_wav)
    top, top_unlimited = float(np.max(np.abs(y))), float(np.max(np.abs(unlimited)))
    reduction = amplitude_to_db(top_unlimited, floor_db=-300.0) - amplitude_to_db(
        top, floor_db=-300.0
    )
    return y, rate, said, max(0.0, reduction)


def _to_mix_format(y: np.ndarray, rate: int, channels: int, sample_rate_hz: int) -> np.ndarray:
    """Matchering's stereo 44.1 kHz result back to the mix's channel count and sample rate."""
    if y.shape[0] != channels:
        y = y.mean(axis=0, keepdims=True) if channels == 1 else np.repeat(y[:1], 2, 0)
    if rate != sample_rate_hz:
        y = resample(y, rate, sample_rate_hz)
    return y


def _write_measured(
    y: np.ndarray, out_path: str, info: AudioInfo, fmt: OutputFormat, force: bool,
    limiter: TruePeakLimiter | None,
) -> TrackAnalysis:  # fmt: skip
    """Write ``y`` atomically in ``fmt`` (through ``limiter`` when given, in blocks) and measure
    exactly the samples written."""
    quantize = Quantizer(fmt)
    guard = MasterGuard(out_path)
    meters = TrackMeters(info.sample_rate_hz, info.channels)
    frames = 0
    with AtomicWavWriter(Path(out_path), info.sample_rate_hz, info.channels,
                         subtype=fmt.subtype, force=force, container=fmt.container,
                         create_parents=False) as writer:  # fmt: skip

        def limited():  # type: ignore[no-untyped-def]
            for i in range(0, y.shape[1], BLOCK_FRAMES):
                block = y[:, i : i + BLOCK_FRAMES]
                yield block if limiter is None else limiter.process(block)
            if limiter is not None:
                yield limiter.flush()

        def blocks():  # type: ignore[no-untyped-def]
            nonlocal frames
            for block in limited():
                if not block.shape[1]:
                    continue
                values, raw = quantize(block)
                guard.block(block, values)
                writer.write(raw)
                frames += values.shape[1]
                yield values

        run_meters(blocks(), meters.all)
        guard.finish()
    out_info = replace(info, path=str(out_path), frames=frames, format=fmt.container,
                       subtype=fmt.subtype)  # fmt: skip
    return meters.result(out_info, keep_series=True)
