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
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from analyzer.playback.device_metrics import (
    HARMONIC_FLOOR_DB,
    DeviceDetail,
    DeviceTranslation,
    device_translation,
)
from analyzer.playback.device_models import BUILTIN_DEVICES, Device
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


def _median(values: Sequence[float | None]) -> float | None:
    v = [x for x in values if x is not None and math.isfinite(x)]
    return statistics.median(v) if v else None


def _differences(
    mix: Sequence[tuple[DeviceTranslation, DeviceDetail]],
    refs: Sequence[Sequence[tuple[DeviceTranslation, DeviceDetail]]],
    speed_kmh: float,
) -> tuple[str, ...]:
    """One sentence per (device, deduction) where the mix loses at least 1 point more than the
    references' median; ordered by that gap, largest first."""
    ranked: list[tuple[float, str]] = []
    for i, (dt, det) in enumerate(mix):
        others = [r[i] for r in refs]
        for key, d in det.deductions.items():
            ref_d = _median([o[1].deductions.get(key) for o in others])
            if ref_d is None or d - ref_d < 1.0:
                continue
            gap = d - ref_d
            on = f"on the {dt.label}"
            if key == "bass":
                h_ref = _median([o[0].harmonic_bass_db for o in others])
                s_ref = _median([o[0].bass_survival for o in others])
                text = f"{on} your low end vanishes"
                if s_ref is not None and dt.bass_survival is not None:
                    text += (
                        f" ({100 * dt.bass_survival:.0f} % of 40-250 Hz survives, the "
                        f"references {100 * s_ref:.0f} %)"
                    )
                h = dt.harmonic_bass_db
                if h_ref is not None and h is not None and h_ref > h:
                    if h <= HARMONIC_FLOOR_DB + 20.0:
                        text += (
                            "; the references keep their bass harmonics above the cut-off "
                            f"({h_ref:.1f} dB re their low end), yours have none"
                        )
                    else:
                        text += f"; the references keep {h_ref - h:.1f} dB more bass harmonics"
            elif key == "mono":
                m_ref = _median([o[0].mono_loss_lu for o in others])
                m = dt.mono_loss_lu
                text = f"{on} your mix loses more in the mono fold-down"
                if m is not None and m_ref is not None:
                    text += f" ({-m:.1f} LU against the references' {-m_ref:.1f} LU)"
            elif key == "masking":
                snr_ref = _median([o[1].presence_snr_db for o in others])
                n_ref = _median([float(len(o[0].masked_bands)) for o in others])
                text = f"{on} at {speed_kmh:g} km/h the road noise covers more of your mix"
                if det.presence_snr_db is not None and snr_ref is not None:
                    text += (
                        f" (presence 1-4 kHz {det.presence_snr_db:.1f} dB above the noise, "
                        f"the references {snr_ref:.1f} dB"
                    )
                    text += f"; {len(dt.masked_bands)} masked bands vs {n_ref:g})"
            else:
                text = f"{on} your tonal balance shifts more than the references'"
            ranked.append((gap, f"{text} [{gap:.1f} points]"))
    ranked.sort(key=lambda t: -t[0])
    return tuple(t for _, t in ranked)


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

    Score (0-100): 100 minus these deductions, each explained in ``findings``:

    * bass lost without harmonics: ``40 * share * (1 - survival) * (1 - 0.75 h)``, ``share`` =
      the 40-250 Hz part of the mix's power, ``h = clip((harmonic_bass_db + 30) / 30, 0, 1)``;
    * mono collapse (mono devices): ``clip(8 (loss - 1.5), 0, 40)``, ``loss = -mono_loss_lu``;
    * masking (noise devices): ``clip(3 (10 - SNR), 0, 30)`` for the presence band's
      signal-to-noise ratio (summed 1-4 kHz band powers, dB) plus 0.5 per masked band (max 10);
    * tonal shift: ``clip(2 (shift - 3), 0, 20)``, ``shift`` = mean absolute change (dB) of the
      level-matched broad bands low_mid, high_mid and high (those within 30 dB of the total).

    ``spread`` = highest minus lowest device score. With ``references`` each device's
    ``reference_score`` is the median of the references' scores there, and
    ``ranked_differences`` lists, largest first, where the mix loses at least one point more
    than the references' median on some deduction.

    ``effects`` (and ``reference_effects``, one mapping per reference): devices' effects
    measured on their renders (:func:`analyzer.playback.render_group.device_effects`), used
    instead of the band model for those devices (the app measures the devices with a limiter).
    """
    if track.spectrum is None:
        raise ValueError("the track analysis has no spectrum")
    if devices is None:
        devices = [d for d in BUILTIN_DEVICES.values() if d.kind != "reference"]
    if not (math.isfinite(speed_kmh) and speed_kmh > 0):
        raise ValueError("speed_kmh must be a finite number > 0")
    fx = effects or {}
    mix = [device_translation(track, d, level_db_spl, speed_kmh, fx.get(d.name)) for d in devices]
    refs = []
    for i, ref in enumerate(references):
        if ref.spectrum is None:
            raise ValueError(f"reference {ref.file.path} has no spectrum")
        rfx = (reference_effects[i] if i < len(reference_effects) else None) or {}
        refs.append([device_translation(ref, d, level_db_spl, speed_kmh, rfx.get(d.name))
                     for d in devices])  # fmt: skip
    out = []
    for i, (dt, _) in enumerate(mix):
        if refs:
            rs = _median([r[i][0].score for r in refs])
            dt = DeviceTranslation(**{**dt.__dict__, "reference_score": rs})
        out.append(dt)
    scores = [d.score for d in out]
    spread = round(max(scores) - min(scores), 1) if scores else None
    ranked = _differences(mix, refs, speed_kmh) if refs else ()
    return Translation(devices=tuple(out), spread=spread, ranked_differences=ranked)
