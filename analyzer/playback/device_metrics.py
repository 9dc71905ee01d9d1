"""The translation metrics of one playback device (issue 5, "Translation metrics"): the mix's
1/3-octave band powers through the device's channel handling, filters and limiter, and the score
deductions with the findings that explain them.

Channel handling uses the stereo band powers the analysis already holds (see
:mod:`analyzer.playback.translate`); the device filters are linear, so each device's output
spectrum is the input's band powers times the device's mean power gain per band
(:func:`analyzer.playback.device_response.band_gains_db`, pink weighting inside the band).
Band powers are linear ``10^(dB/10)``; a band marked ``None`` (silent or above Nyquist) counts
as zero power.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analyzer.dsp.bands import (
    BROAD_BANDS_HZ,
    OCTAVE_RATIO,
    THIRD_OCTAVE_EXACT_HZ,
    THIRD_OCTAVE_NOMINAL_HZ,
)
from analyzer.dsp.kweighting import kweighting_response
from analyzer.dsp.units import db_to_power, power_to_db
from analyzer.measure.loudness import as_played_lufs
from analyzer.playback import device_level as lv
from analyzer.playback.device_models import Device
from analyzer.playback.device_parts import (
    LIMITED_LU,
    MASKED_SNR_DB,
    NEAR_NOISE_SNR_DB,
    PART_NAMES,
    DeviceDetail,
    DeviceTranslation,
    ScorePart,
    TimedFinding,
    Window,
    part,
    score_of,
    timed_finding,
    windows,
)
from analyzer.playback.device_response import (
    band_gains_db,
    car_noise_band_levels_db,
    low_cutoff_hz,
)
from analyzer.types import SpectrumStats, TrackAnalysis

if TYPE_CHECKING:
    from analyzer.playback.render_group import DeviceEffect

#: The bass region whose survival is measured (Hz, nominal 1/3-octave centres 40 ... 250).
BASS_HZ = (40.0, 250.0)
#: The vocal / presence region (nominal centres 1 ... 4 kHz).
PRESENCE_HZ = (1000.0, 4000.0)
#: A band of the bass region belongs to the bass line when within this many dB of the loudest.
BASS_LINE_RANGE_DB = 10.0
#: A band counts as "above the device's cut-off" when the device's gain there is at least this.
PASSBAND_DB = -12.0
#: A device whose cut-off is at or above this (Hz) loses the low end of every track: a note.
NOTE_CUTOFF_HZ = 100.0
#: Floor for the harmonic-bass figure (dB) when no harmonic energy passes the device.
HARMONIC_FLOOR_DB = -120.0
#: Harmonic bass at or above this (dB re the original low end) keeps the bass line audible.
HARMONIC_AUDIBLE_DB = -20.0
#: Bands quieter than the loudest band by more than this hold no content (not "masked").
CONTENT_RANGE_DB = 50.0
#: The presence band needs this much signal-to-noise (dB) to count as clearly audible.
PRESENCE_CLEAR_SNR_DB = 10.0
#: Broad bands checked for tonal shift: those that carry music on every device.
TONAL_BANDS = ("low_mid", "high_mid", "high")

_centres = np.array(THIRD_OCTAVE_EXACT_HZ)
_nominal = np.array(THIRD_OCTAVE_NOMINAL_HZ)
_HALF = OCTAVE_RATIO ** (1.0 / 6.0)
_EDGES = np.stack([_centres / _HALF, _centres * _HALF], axis=1)
_BASS = (_nominal >= BASS_HZ[0]) & (_nominal <= BASS_HZ[1])
_PRESENCE = (_nominal >= PRESENCE_HZ[0]) & (_nominal <= PRESENCE_HZ[1])


def _band_label(nominal_hz: float) -> str:
    return f"{nominal_hz:g} Hz" if nominal_hz < 1000 else f"{nominal_hz / 1000:g} kHz"


def _power(levels: Sequence[float | None] | None) -> np.ndarray | None:
    if levels is None:
        return None
    return np.array([0.0 if v is None else db_to_power(v) for v in levels])


def _db(p: float) -> float:
    """Power in dB; no power is minus infinity (a band that is not there)."""
    return power_to_db(p, floor_db=-math.inf)


def _ratio_db(num: float, den: float) -> float | None:
    """``num`` re ``den`` in dB: ``None`` without a reference power, minus infinity when ``num``
    has none (unlike :func:`analyzer.dsp.units.ratio_db`, which gives ``None`` for both)."""
    if den <= 0:
        return None
    return _db(num) - _db(den)


def _channel_powers(
    device: Device, mix: np.ndarray, mid: np.ndarray | None, side: np.ndarray | None
) -> np.ndarray:
    """Per-channel band power reaching the device's filters (module docstring)."""
    if mid is None or side is None:
        return mix
    if device.channels_mode == "mono":
        out = mid.copy()
    elif device.channels_mode == "narrow":
        out = mid + device.width**2 * side
    else:
        out = mix.copy()
    if device.mono_below_hz is not None:
        low = _centres < device.mono_below_hz
        out[low] = mid[low]
    return out


def _limit(device: Device, p_dev: np.ndarray, offset_db: float) -> np.ndarray:
    """Static compression per band region of ``device.level`` at band SPL ``dB(P) + offset``:
    a region whose summed level ``Lr`` exceeds its threshold ``T`` comes out at
    ``T + (Lr - T) / ratio``; every band of the region gets that gain."""
    lev = device.level
    if lev is None:
        return p_dev
    out = p_dev.copy()
    bounds = (0.0, *lev.crossovers_hz, math.inf)
    for i, threshold in enumerate(lev.thresholds_db_spl[: len(bounds) - 1]):
        region = (_centres >= bounds[i]) & (_centres < bounds[i + 1])
        total = float(p_dev[region].sum())
        if total <= 0:
            continue
        level = _db(total) + offset_db
        if level > threshold:
            over = level - threshold
            gain_db = over / lev.ratio - over
            out[region] *= db_to_power(gain_db)
    return out


def _broad_balance(p: np.ndarray) -> dict[str, float | None]:
    total = float(p.sum())
    out: dict[str, float | None] = {}
    for name, (lo, hi) in BROAD_BANDS_HZ.items():
        sel = (_centres >= lo) & (_centres < hi)
        v = _ratio_db(float(p[sel].sum()), total)
        out[name] = None if v is None or not math.isfinite(v) else v
    return out


def _curve(p: np.ndarray) -> tuple[float | None, ...]:
    total = float(p.sum())
    if total <= 0:
        return tuple(None for _ in p)
    return tuple(10.0 * math.log10(v / total) if v > 0 else None for v in p.tolist())


@dataclass(frozen=True)
class _BandPowers:
    """One track's band powers on one device (per 1/3-octave band, linear): the studio mix,
    the mid (``None`` for mono tracks), the linear path (channels and filters) and the output
    (with the limiter at the playback level), the K-weighting powers, the device's gains (dB),
    and the dB SPL of a band at 0 dBFS (``None`` without a loudness)."""

    mix: np.ndarray
    mid: np.ndarray | None
    valid: np.ndarray
    kw: np.ndarray
    gains_db: np.ndarray
    p_lin: np.ndarray
    p_dev: np.ndarray
    level_db_spl: float
    offset_db: float | None

    @property
    def studio_k(self) -> float:
        return float(np.sum(self.kw * self.mix))


def _balanced(device: Device, p: np.ndarray, spec: SpectrumStats) -> np.ndarray:
    """The car's ``balance_db`` (left louder by half of it, right quieter by half, as the
    renderer does): per-channel power ``(g_L^2 P_L + g_R^2 P_R) / 2`` for a stereo device with
    per-channel bands, else ``P (g_L^2 + g_R^2) / 2``."""
    if not device.balance_db:
        return p
    g2 = 10.0 ** (np.array([device.balance_db, -device.balance_db]) / 20.0)
    rows = spec.third_octave_db_per_channel
    if device.channels_mode == "stereo" and device.mono_below_hz is None and len(rows) == 2:
        left, right = _power(rows[0]), _power(rows[1])
        assert left is not None and right is not None
        return np.where(p > 0, (g2[0] * left + g2[1] * right) / 2.0, 0.0)
    return p * float(g2.mean())


def _band_powers(
    track: TrackAnalysis, device: Device, level_db_spl: float | None,
    effect: DeviceEffect | None = None,
) -> _BandPowers:  # fmt: skip
    spec = track.spectrum
    assert spec is not None
    mix = _power(spec.third_octave_db)
    assert mix is not None
    mid, side = _power(spec.third_octave_mid_db), _power(spec.third_octave_side_db)
    fs = track.file.sample_rate_hz
    valid = _centres < fs / 2
    mix = np.where(valid, mix, 0.0)
    kw = np.where(valid, np.abs(kweighting_response(fs, np.minimum(_centres, fs / 2.01))) ** 2, 0)

    gains_db = band_gains_db(device, _EDGES)
    gains = 10.0 ** (gains_db / 10.0)
    p_lin = _balanced(device, _channel_powers(device, mix, mid, side), spec) * gains

    integrated = as_played_lufs(track.loudness.integrated_lufs, track.file.channels)
    level = device.nominal_level_db_spl if level_db_spl is None else level_db_spl
    levelled = integrated is not None and math.isfinite(integrated)
    offset = level - integrated if levelled else None  # band dBFS -> dB SPL
    p_dev = _limit(device, p_lin, offset) if offset is not None else p_lin
    if effect is not None:  # measured on the device's render: prediction = render
        shift = spec.levelled_to_lufs or 0.0
        p_dev = np.where(valid, _power([None if v is None else v - shift
                                        for v in effect.third_octave_db]), 0.0)  # fmt: skip
    return _BandPowers(mix, mid, valid, kw, gains_db, p_lin, p_dev, level, offset)


def device_translation(
    track: TrackAnalysis,
    device: Device,
    level_db_spl: float | None,
    speed_kmh: float,
    effect: DeviceEffect | None = None,
) -> tuple[DeviceTranslation, DeviceDetail]:
    """The metrics, score and findings of ``track`` on ``device`` (formulas:
    :class:`DeviceTranslation`; deductions: :func:`analyzer.playback.translate.translate`).
    ``effect``: the device's effect measured on its render
    (:func:`analyzer.playback.render_group.device_effects`); when given, the output band
    powers and ``loudness_change_lu`` are the render's (devices with a limiter)."""
    bp = _band_powers(track, device, level_db_spl, effect)
    ws = windows(track)
    findings: list[str] = []
    timed: list[TimedFinding] = []
    parts: dict[str, ScorePart] = {}
    loudness_change = _ratio_db(float(np.sum(bp.kw * bp.p_dev)), bp.studio_k)
    if effect is not None:
        loudness_change = effect.loudness_change_lu
    tonal = _broad_balance(bp.p_dev)
    survival, harmonic, note = _bass(bp, device, findings, parts)
    of_sound = list(findings)  # the bass's and the tonal part's: they judge what is heard
    mono_loss = _mono(bp, device, track, findings, parts)
    masked, snr = _masking(bp, device, speed_kmh, ws, findings, parts, timed)
    shift: dict[str, float] = {}
    n = len(findings)
    _tonal_shift(bp, tonal, device, findings, parts, shift)
    of_sound += findings[n:]
    limiting = _limiting(bp, device, ws, parts, timed)
    linear = _ratio_db(float(np.sum(bp.kw * bp.p_lin)), bp.studio_k) if loudness_change is None \
        else loudness_change + (limiting or 0.0)  # fmt: skip
    lv.level_part(bp.kw, bp.gains_db, bp.valid, bp.mix, linear, f"on the {device.label}", findings,
               parts, fold_loss_lu=None if mono_loss is None else -mono_loss)  # fmt: skip
    if mono_loss == -math.inf:  # what is left is rounding: its tonal balance is not judged
        parts.update({k: lv.not_judged(parts[k]) for k in ("tonal", "bass") if k in parts})
        findings = [f for f in findings if f not in of_sound]
    findings += [t.text for t in timed]
    ordered = tuple(parts[n] for n in PART_NAMES if n in parts)
    result = DeviceTranslation(
        name=device.name,
        label=device.label,
        score=score_of(ordered),
        loudness_change_lu=loudness_change,
        bass_survival=survival,
        harmonic_bass_db=harmonic,
        mono_loss_lu=mono_loss,
        masked_bands=masked,
        tonal_balance_db=tonal,
        reference_score=None,
        findings=tuple(findings),
        tonal_curve_db=_curve(bp.p_dev),
        parts=ordered,
        note=note,
        timed_findings=tuple(timed),
        limiting_lu=limiting,
        tonal_shift_db=shift,
    )
    return result, DeviceDetail({p.name: p.points for p in ordered}, snr, bp.level_db_spl)


def _bass(
    bp: _BandPowers, device: Device, findings: list[str], parts: dict[str, ScorePart]
) -> tuple[float | None, float | None, str | None]:
    """Bass survival and harmonic bass (``None`` without low-end energy), the ``bass`` part,
    and the device note when the device does not play the low end (every track loses it)."""
    mix, p_lin, p_dev = bp.mix, bp.p_lin, bp.p_dev
    bass_in = float(mix[_BASS].sum())
    if bass_in <= 0:
        return None, None, None
    survival = min(1.0, float(p_lin[_BASS].sum()) / bass_in)
    bass_idx = np.flatnonzero(_BASS)
    dom = bass_idx[np.argmax(mix[bass_idx])]
    line = bass_idx[mix[bass_idx] >= mix[dom] * 10.0 ** (-BASS_LINE_RANGE_DB / 10.0)]
    f_dom, f_top = _centres[dom], _centres[line.max()]
    harm = (
        (_centres >= 2.0 * f_dom / _HALF)
        & (_centres <= 5.0 * f_top * _HALF)
        & (bp.gains_db >= PASSBAND_DB)
    )
    h = _ratio_db(float(p_dev[harm].sum()), bass_in)
    harmonic = max(HARMONIC_FLOOR_DB, h if h is not None else HARMONIC_FLOOR_DB)
    share = bass_in / float(mix.sum())
    lost = 1.0 - survival
    # Harmonics at -30 dB re the low end help nothing, at 0 dB they carry 75 % of it.
    helped = min(1.0, max(0.0, (harmonic + 30.0) / 30.0))
    d = 40.0 * share * lost * (1.0 - 0.75 * helped)
    parts["bass"] = part("bass", d, harmonic, "dB", "harmonics re the low end")
    note = None
    cut = low_cutoff_hz(bp.gains_db)
    if cut is not None and cut >= NOTE_CUTOFF_HZ and lost >= 0.5:
        note = (
            f"on the {device.label} little below ~{cut:g} Hz is heard, on any track "
            f"({100 * lost:.0f} % of this mix's 40-250 Hz energy is lost); bass is heard "
            "through its harmonics: "
            + (
                f"yours at {harmonic:.1f} dB re the low end"
                if harmonic > HARMONIC_FLOOR_DB + 20.0
                else "yours have none above the cut-off"
            )
        )
    if lost >= 0.5 and share >= 0.05 and harmonic < HARMONIC_AUDIBLE_DB:
        heard = (f"weak ({harmonic:.1f}" if harmonic > HARMONIC_FLOOR_DB + 20.0
                 else f"none (under {HARMONIC_FLOOR_DB + 20.0:g}")  # fmt: skip
        findings.append(
            f"on the {device.label} the bass line vanishes: its harmonics above the cut-off are "
            f"{heard} dB re the low end, audible from {HARMONIC_AUDIBLE_DB:g} dB; "
            f"the low end is {100 * share:.0f} % of the mix's energy) (-{d:.1f} points)"
        )
    return survival, harmonic, note


def _mono(
    bp: _BandPowers, device: Device, track: TrackAnalysis, findings: list[str],
    parts: dict[str, ScorePart],
) -> float | None:  # fmt: skip
    """Mono collapse on a mono device: the loss (LU, negative) and the ``mono`` part."""
    if device.channels_mode != "mono" or bp.mid is None:
        return None
    mix = bp.mix
    mid_v = np.where(bp.valid, bp.mid, 0.0)
    mono_loss = _ratio_db(float(np.sum(bp.kw * mid_v)), bp.studio_k)
    if mono_loss is None:
        return None
    if mono_loss < -lv.NOTHING_HEARD_LU:  # what is left is rounding: the fold cancels
        mono_loss = -math.inf
    total_studio = float(mix.sum())
    loss = -mono_loss
    d = min(40.0, max(0.0, 8.0 * (loss - 1.5)))
    per_band = [(_db(float(mid_v[b])) - _db(float(mix[b])), b) for b in range(len(mix))
                if mix[b] > 0 and mix[b] >= total_studio * 1e-4]  # fmt: skip
    worst = sorted(per_band)[:3] if math.isfinite(loss) else []
    bands = ", ".join(
        f"{_band_label(_nominal[b])} {v:.1f} dB" if math.isfinite(v)
        else f"{_band_label(_nominal[b])} cancels" for v, b in worst if v < -3.0
    )  # fmt: skip
    if d > 0:
        what = "collapses" if loss >= 6.0 else "loses level"
        loss_txt = f"{loss:.1f} LU" if math.isfinite(loss) else "everything (it cancels)"
        findings.append(
            f"the mix {what} when folded to mono on the {device.label}: {loss_txt} against its "
            "stereo studio playback"
            + (f" (worst bands: {bands})" if bands else "")
            + (
                "; the channels are out of polarity"
                if track.stereo is not None and "polarity_inverted" in track.stereo.flags
                else ""
            )
            + f" (-{d:.1f} points)"
        )
    parts["mono"] = part("mono", d, mono_loss, "LU", "mono fold against stereo")
    return mono_loss


def _presence_points(snr_db: float) -> float:
    """Points off for a presence-band SNR (dB): 3 per dB under :data:`PRESENCE_CLEAR_SNR_DB`."""
    return min(30.0, max(0.0, 3.0 * (PRESENCE_CLEAR_SNR_DB - snr_db)))


def _masking(
    bp: _BandPowers, device: Device, speed_kmh: float, ws: Sequence[Window],
    findings: list[str], parts: dict[str, ScorePart], timed: list[TimedFinding],
) -> tuple[tuple[str, ...], float | None]:  # fmt: skip
    """Masking by road noise: the masked bands, the long-term presence SNR (dB) and the
    ``masking`` part: the presence points averaged over the short-term windows (SNR of window
    ``i`` = long-term SNR + its level re the integrated loudness) plus 0.5 per masked band."""
    offset = bp.offset_db
    if device.noise != "car_road" or offset is None:
        return (), None
    mix, p_dev = bp.mix, bp.p_dev
    noise_db = car_noise_band_levels_db(speed_kmh, _centres)
    peak = float(mix.max())
    content = bp.valid & (mix > 0) & (mix >= peak * 10.0 ** (-CONTENT_RANGE_DB / 10.0))
    with np.errstate(divide="ignore"):
        out_spl = 10.0 * np.log10(p_dev) + offset
    masked_idx = np.flatnonzero(content & (out_spl < noise_db))
    masked = tuple(_band_label(_nominal[b]) for b in masked_idx)
    sig = float(p_dev[_PRESENCE].sum())
    noise = float(np.sum(10.0 ** (noise_db[_PRESENCE] / 10.0)))
    snr = _db(sig) + offset - _db(noise) if sig > 0 else -math.inf
    snrs = [snr + w.delta_lu for w in ws] or [snr]
    d_presence = float(np.mean([_presence_points(v) for v in snrs]))
    d_masked = min(10.0, 0.5 * len(masked))
    quiet = float(np.percentile(snrs, 10)) if math.isfinite(snr) else snr
    where = f"in the {device.label} at {speed_kmh:g} km/h and {bp.level_db_spl:g} dB SPL"
    if d_presence > 0:
        findings.append(
            f"{where} the vocal/presence band (1-4 kHz) is {snr:.1f} dB above the road noise "
            f"on average, {quiet:.1f} dB in the quietest 10 % of the time (-{d_presence:.1f} "
            "points)"
        )
    if masked:
        findings.append(
            f"{where} {len(masked)} band(s) fall under the road noise: "
            f"{', '.join(masked)} (-{d_masked:.1f} points)"
        )
    tf = timed_finding(
        "masked_by_noise", ws, snrs, lambda v: v < NEAR_NOISE_SNR_DB,
        lambda when, worst: f"{when} falls under the road noise at {speed_kmh:g} km/h in the "
        f"{device.label} (presence 1-4 kHz down to {-worst:.1f} dB under the noise)"
        if worst < MASKED_SNR_DB
        else f"{when} barely clears the road noise at {speed_kmh:g} km/h in the "
        f"{device.label} (presence 1-4 kHz only {worst:.1f} dB above the noise)",
        min,
    )  # fmt: skip
    if tf is not None and math.isfinite(snr):
        timed.append(tf)
    parts["masking"] = part("masking", d_presence + d_masked, quiet, "dB",
                            "presence over the noise, quietest 10 % of the time")  # fmt: skip
    return masked, snr


def _tonal_shift(
    bp: _BandPowers, tonal: Mapping[str, float | None], device: Device, findings: list[str],
    parts: dict[str, ScorePart], tonal_shift: dict[str, float],
) -> None:  # fmt: skip
    """Tonal shift of the level-matched broad bands against the mix's own studio playback, and
    the ``tonal`` part (replaced by the deviation from the references when there are some)."""
    studio_balance = _broad_balance(bp.mix)
    per_band = {
        n: tonal[n] - studio_balance[n]  # type: ignore[operator]
        for n in TONAL_BANDS
        if tonal[n] is not None and studio_balance[n] is not None and studio_balance[n] >= -30.0
    }
    shifts = [abs(v) for v in per_band.values()]
    tonal_shift.update(per_band)
    if shifts:
        shift = float(np.mean(shifts))
        d = min(20.0, max(0.0, 2.0 * (shift - 3.0)))
        if d > 0:
            findings.append(
                f"on the {device.label} the level-matched tonal balance of the 250 Hz-12 kHz "
                f"bands shifts by {shift:.1f} dB on average against its studio playback "
                f"(-{d:.1f} points)"
            )
        parts["tonal"] = part("tonal", d, shift, "dB", "shift against the studio playback")


def _limiting(
    bp: _BandPowers, device: Device, ws: Sequence[Window], parts: dict[str, ScorePart],
    timed: list[TimedFinding],
) -> float | None:  # fmt: skip
    """The loudness (LU) the device's limiter takes off per short-term window (the window's
    band levels through :func:`_limit`), its mean, and the ``limiting`` part: 2 points per LU
    of that mean (max 20)."""
    if device.level is None or bp.offset_db is None:
        return None
    lin_k = float(np.sum(bp.kw * bp.p_lin))
    if lin_k <= 0:
        return None
    offsets = [bp.offset_db + w.delta_lu for w in ws] or [bp.offset_db]
    taken = [_db(lin_k) - _db(float(np.sum(bp.kw * _limit(device, bp.p_lin, o)))) for o in offsets]
    mean_lu = float(np.mean(taken))
    parts["limiting"] = part("limiting", min(20.0, 2.0 * mean_lu), mean_lu, "LU",
                             "taken off by the device's limiter, mean over time")  # fmt: skip
    tf = timed_finding(
        "limited", ws, taken, lambda v: v >= LIMITED_LU,
        lambda when, worst: f"{when} the {device.label}'s limiter takes up to {worst:.1f} LU "
        f"off at {bp.level_db_spl:g} dB SPL",
        max,
    )  # fmt: skip
    if tf is not None:
        timed.append(tf)
    return mean_lu
