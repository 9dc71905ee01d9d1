"""Mix translation: how a measured mix fares on each playback device (issue 5, "Translation
metrics"), computed from the one-pass 1/3-octave band spectra of a :class:`TrackAnalysis`.

No second pass over the audio is made. The device filters are linear, so each device's output
spectrum is the input's band powers times the device's mean power gain per band
(:func:`analyzer.playback.devices.band_gains_db`, pink weighting inside the band). Channel
handling uses the stereo band powers the analysis already holds:

* ``stereo``: per-channel power ``P = (P_L + P_R) / 2`` (the mix spectrum; ``balance_db`` and
  ``right_delay_ms`` move the image, not the summed power, and are ignored here);
* ``mono``: both speakers play ``M = (L + R) / 2``, per-channel power ``P_M`` (the mid spectrum);
* ``narrow``: ``L' = M + w S``, ``R' = M - w S``, per-channel power ``P_M + w^2 P_S``;
* ``mono_below_hz``: the mid power in bands centred below that frequency (club subs).

Level-dependent behaviour (phone multiband limiter, Bluetooth bass limiter) is applied as a
static compression curve per band region at the playback level; road noise is a masking floor
compared with the band levels at that level. Band powers are linear ``10^(dB/10)``; a band
marked ``None`` (silent or above Nyquist) counts as zero power.

Public API: :class:`DeviceTranslation`, :class:`Translation`, :func:`translate`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from analyzer.playback.device_metrics import DeviceTranslation, device_translation
from analyzer.playback.device_models import BUILTIN_DEVICES, Device
from analyzer.playback.translate_refs import ranges_of, reference_score_of, relative
from analyzer.types import TrackAnalysis

if TYPE_CHECKING:
    from analyzer.playback.render_group import DeviceEffect


@dataclass(frozen=True)
class Translation:
    """All devices; ``spread`` = highest minus lowest score; ``ranked_differences`` (with
    references) names where the mix loses most against them, largest gap first."""

    devices: tuple[DeviceTranslation, ...]
    spread: float | None
    ranked_differences: tuple[str, ...]


def translate(
    track: TrackAnalysis,
    devices: Sequence[Device] | None = None,
    *,
    references: Sequence[TrackAnalysis] = (),
    level_db_spl: float | None = None,
    speed_kmh: float = 100.0,
    effects: Mapping[str, DeviceEffect] | None = None,
    reference_effects: Sequence[Mapping[str, DeviceEffect] | None] = (),
) -> Translation:
    """How ``track`` translates to each device (default: every built-in device except the
    studio baseline), from its 1/3-octave band spectra (no new pass over the audio).

    Playback level: ``level_db_spl`` or, when ``None``, each device's
    ``nominal_level_db_spl``; the track is set so that its integrated loudness plays at that
    level, i.e. ``SPL_b = band_dBFS_b - integrated_LUFS + level``. ``speed_kmh`` sets the car's
    road noise. Formulas of the metrics: :class:`DeviceTranslation`.

    Score (0-100): 100 minus the points of six named parts
    (:mod:`analyzer.playback.device_parts`), each with the figure it comes from:

    * ``bass`` (bass audibility through harmonics): ``40 * share * (1 - survival) * (1 - 0.75
      h)``, ``share`` = the 40-250 Hz part of the mix's power, ``h = clip((harmonic_bass_db +
      30) / 30, 0, 1)``;
    * ``level``: ``clip(3 (shortfall - 6), 0, 60)``, ``shortfall`` = the device's loudness
      change on pink noise minus the mix's (limiter aside), LU
      (:mod:`analyzer.playback.device_level`);
    * ``mono`` (mono fold loss, mono devices): ``clip(8 (loss - 1.5), 0, 40)``, ``loss =
      -mono_loss_lu``;
    * ``masking`` (noise devices): the mean over the 3 s short-term windows of ``clip(3 (10 -
      SNR_i), 0, 30)``, ``SNR_i`` the presence band's (summed 1-4 kHz band powers)
      signal-to-noise ratio in window ``i`` (dB), plus 0.5 per masked band (max 10);
    * ``limiting`` (devices with a limiter): 2 points per LU of ``limiting_lu`` (max 20);
    * ``tonal``: without references ``clip(2 (shift - 3), 0, 20)``, ``shift`` = mean absolute
      change (dB) of the level-matched broad bands low_mid, high_mid and high against the
      mix's own studio playback; with references the deviation from their range on the device
      (:mod:`analyzer.playback.translate_refs`).

    ``spread`` = highest minus lowest device score. With ``references`` each device's
    ``reference_score`` is the median of the references' scores there, its findings are only
    where the mix differs from the references' range there
    (:func:`analyzer.playback.translate_refs.relative`), and ``ranked_differences`` lists
    them, largest point gap first.

    ``effects`` (and ``reference_effects``, one mapping per reference): devices' effects
    measured on their renders (:func:`analyzer.playback.render_group.device_effects`), used
    instead of the band model for those devices (the app measures every device this way).
    """
    if track.spectrum is None:
        raise ValueError("the track analysis has no spectrum")
    if devices is None:
        devices = [d for d in BUILTIN_DEVICES.values() if d.kind != "reference"]
    if not (math.isfinite(speed_kmh) and speed_kmh > 0):
        raise ValueError("speed_kmh must be a finite number > 0")
    fx = effects or {}
    mix = [device_translation(track, d, level_db_spl, speed_kmh, fx.get(d.name))[0]
           for d in devices]  # fmt: skip
    if not _has_loudness(track):
        return _unscored(track, mix)
    refs = []
    for i, ref in enumerate(references):
        if ref.spectrum is None:
            raise ValueError(f"reference {ref.file.path} has no spectrum")
        rfx = (reference_effects[i] if i < len(reference_effects) else None) or {}
        refs.append([device_translation(ref, d, level_db_spl, speed_kmh, rfx.get(d.name))[0]
                     for d in devices])  # fmt: skip
    out, ranked = [], []
    for i, dt in enumerate(mix):
        if refs:
            ranges = ranges_of([r[i] for r in refs])
            dt, diffs = relative(dt, ranges, reference_score_of([r[i] for r in refs], ranges))
            ranked += diffs
        out.append(dt)
    scores = [d.score for d in out if d.score is not None]
    spread = round(max(scores) - min(scores), 1) if scores else None
    ranked.sort(key=lambda d: -d.gap_points)
    return Translation(devices=tuple(out), spread=spread,
                       ranked_differences=tuple(d.text for d in ranked))  # fmt: skip


def _has_loudness(track: TrackAnalysis) -> bool:
    lufs = track.loudness.integrated_lufs
    return lufs is not None and math.isfinite(lufs)


def _unscored(track: TrackAnalysis, devices: Sequence[DeviceTranslation]) -> Translation:
    """A mix without an integrated loudness (silent, or shorter than one 400 ms gating block)
    cannot be set at a playback level: every device says so instead of scoring it (a silent mix
    once scored 100 everywhere)."""
    why = track.loudness.null_reasons.get("integrated_lufs") or "no integrated loudness"
    note = f"not scored: the mix has no integrated loudness ({why})"
    blank = [replace(d, score=None, parts=(), findings=(), timed_findings=(), note=note)
             for d in devices]  # fmt: skip
    return Translation(devices=tuple(blank), spread=None, ranked_differences=())
