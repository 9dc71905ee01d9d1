"""Findings: what is out of spec in one analysed file, what to do about it, and where.

Each finding is a fact a mastering engineer acts on, with the rule that raised it:

* ``true_peak_over_0``: true peak above 0 dBTP (BS.1770-4 Annex 2): the file clips in a DAC's
  reconstruction and in lossy encoders. ``true_peak_over_minus_1``: above -1 dBTP, the ceiling
  EBU R128 (Tech 3343) and the streaming platforms advise for lossy delivery. One of the two, the
  more severe; ``at_s`` is the 100 ms that holds the largest true peak.
* ``sample_peak_full_scale``: sample peak at or above 0 dBFS (a 16-bit file's largest sample,
  32767/32768, reads -0.0003 dBFS and counts): the samples themselves sit at or over full scale.
* ``intersample_overs``: interpolated values above 0 dBFS between samples (the count), worst at
  the true peak's time.
* ``clipped_runs``: runs of 3 or more samples at the file's peak (the master was clipped), at the
  first run.
* ``dc_offset``: the DC offset carries at least :data:`DC_POWER_SHARE` of the signal's power
  (the mean square over all channels; DC power is the mean over channels of the offset squared).
  A power share, not an absolute level, so that it scales with the music: pink noise and the
  corpus music read 1e-9 to 1.3e-3, a chiptune with a -37 dBFS offset 6.5e-2.
* ``polarity_inverted``, ``silent_channel``, ``mono`` (a two-channel file whose channels are
  the same: :func:`analyzer.measure.stereo.stereo_flags`' ``dual_mono``);
  ``correlation_negative``: block correlation below 0 in at least
  :data:`NEGATIVE_CORRELATION_SHARE` of the 400 ms blocks (those passages cancel in mono), at
  the block of lowest correlation.
* ``plr_low``: PLR (true peak minus integrated loudness, EBU Tech 3343) below
  :data:`PLR_LOW_DB`: the peaks are limited hard; at the loudest 3 s short-term window.
* ``platforms_turn_down``: ONE finding naming every platform that turns the track down by more
  than :data:`~analyzer.playback.platforms.LOUDER_THAN_NEEDED_DB`, with the range of their gains.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analyzer.measure.dynamics import DC_POWER_SHARE, dc_power_share
from analyzer.playback.device_parts import clock
from analyzer.playback.platforms import LOUDER_THAN_NEEDED_DB
from analyzer.report.numbers import number
from analyzer.types import TrackAnalysis

ERROR, WARNING, INFO = "error", "warning", "info"
#: The ceiling advised for lossy delivery (EBU R128 / Tech 3343; Spotify, Apple, YouTube).
CEILING_DBTP = -1.0
#: 20 log10(32767 / 32768) less a margin: a 16-bit file's largest sample counts as full scale.
FULL_SCALE_DBFS = -0.0003
NEGATIVE_CORRELATION_SHARE = 0.05
PLR_LOW_DB = 8.0
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class TrackFinding:
    """One finding: a stable ``code``, ``severity`` (error, warning, info), the sentence with
    what to do, and ``at_s`` (seconds from the start) when it happens at one place."""

    code: str
    severity: str
    text: str
    at_s: float | None = None


def _at(seconds: float | None) -> str:
    return "" if seconds is None else f" at {clock(seconds)}"


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _peak_findings(result: TrackAnalysis) -> list[TrackFinding]:
    pk, dy = result.peaks, result.dynamics
    out: list[TrackFinding] = []
    tp, at = pk.true_peak_dbtp, pk.true_peak_at_s
    if _finite(tp) and tp > 0.0:
        out.append(TrackFinding("true_peak_over_0", ERROR,
            f"true peak {number(tp, '+.1f')} dBTP{_at(at)}, above 0 dBTP: it clips in playback "
            f"and in lossy encoding; lower the limiter's ceiling to {CEILING_DBTP:g} dBTP",
            at))  # fmt: skip
    elif _finite(tp) and tp > CEILING_DBTP:
        out.append(TrackFinding("true_peak_over_minus_1", WARNING,
            f"true peak {number(tp, '+.1f')} dBTP{_at(at)}, above {CEILING_DBTP:g} dBTP: "
            f"lossy encoding will push it over 0 dBTP; lower the limiter's ceiling to "
            f"{CEILING_DBTP:g} dBTP",
            at))  # fmt: skip
    sp = pk.sample_peak_dbfs
    if _finite(sp) and sp >= FULL_SCALE_DBFS:
        out.append(TrackFinding("sample_peak_full_scale", ERROR,
            f"sample peak {number(sp, '+.2f')} dBFS, at or above full scale: a fixed-point "
            "export clips it; lower the gain into the limiter or its ceiling", None))  # fmt: skip
    if dy is None:
        return out
    if dy.intersample_overs:
        out.append(TrackFinding("intersample_overs", ERROR,
            f"{dy.intersample_overs:,} inter-sample overs (above 0 dBFS between samples), the "
            f"worst{_at(at)}: use a true-peak limiter with its ceiling at {CEILING_DBTP:g} dBTP",
            at))  # fmt: skip
    if dy.clipped_runs:
        first = dy.clipped_run_positions_s[0] if dy.clipped_run_positions_s else None
        out.append(TrackFinding("clipped_runs", ERROR,
            f"{dy.clipped_runs:,} clipped runs (3 or more samples at the peak), the first"
            f"{_at(first)}: the master was clipped; go back to the unclipped mix, or lower the "
            "gain into the clipper or limiter", first))  # fmt: skip
    return out


def _dc_share(result: TrackAnalysis) -> float | None:
    dy = result.dynamics
    if dy is None:
        return None
    return dc_power_share(dy.dc_offset, dy.crest_factor_db, result.peaks.sample_peak_dbfs)


def _character_findings(result: TrackAnalysis) -> list[TrackFinding]:
    out: list[TrackFinding] = []
    dy, st, lo = result.dynamics, result.stereo, result.loudness
    share = _dc_share(result)
    if dy is not None and share is not None and share >= DC_POWER_SHARE:
        worst = max(range(len(dy.dc_offset)), key=lambda i: abs(dy.dc_offset[i]))
        out.append(TrackFinding("dc_offset", WARNING,
            f"DC offset {number(dy.dc_offset[worst], '+.4f')} (channel {worst + 1}) carries "
            f"{100 * share:.1f} % of the power: it wastes headroom; remove it with a high-pass "
            "filter (20-30 Hz) before the limiter", None))  # fmt: skip
    if st is not None:
        if "polarity_inverted" in st.flags:
            out.append(TrackFinding("polarity_inverted", ERROR,
                "one channel's polarity is inverted (the channels cancel in mono): flip the "
                "polarity of one channel", None))  # fmt: skip
        if "silent_channel" in st.flags:
            out.append(TrackFinding("silent_channel", ERROR,
                "one channel is digital silence: check the routing and the export",
                None))  # fmt: skip
        if "dual_mono" in st.flags:
            out.append(TrackFinding("mono", INFO,
                "both channels carry the same signal (mono in a stereo file): fine if meant, "
                "otherwise check the stereo bus and the export", None))  # fmt: skip
        share0 = st.correlation_below_zero_share
        if (share0 is not None and share0 >= NEGATIVE_CORRELATION_SHARE
                and "polarity_inverted" not in st.flags):  # fmt: skip
            at = st.correlation_min_at_s
            out.append(TrackFinding("correlation_negative", WARNING,
                f"correlation below 0 in {100 * share0:.0f} % of the 400 ms blocks, lowest "
                f"({number(st.correlation_min, '+.2f')}){_at(at)}: those passages thin out or "
                "cancel in mono; check the wideners and phase effects there", at))  # fmt: skip
    plr = dy.plr_db if dy is not None else None
    if _finite(plr) and plr < PLR_LOW_DB:  # type: ignore[operator]
        at = lo.short_term_max_at_s
        out.append(TrackFinding("plr_low", WARNING,
            f"PLR {plr:.1f} dB (true peak minus integrated loudness), below {PLR_LOW_DB:g} dB: "
            f"the peaks are limited hard, loudest{_at(at)}; ease the limiter or lower the "
            "loudness target", at))  # fmt: skip
    return out


def platform_finding(previews: Sequence[Any] | None) -> TrackFinding | None:
    """One finding naming every platform that turns the track down by more than
    ``LOUDER_THAN_NEEDED_DB``, with the range of their gains (None when none does)."""
    down = [p for p in previews or () if p.gain_db < -LOUDER_THAN_NEEDED_DB]
    if not down:
        return None
    names = ", ".join(p.label or p.name for p in down)
    cuts = sorted(-p.gain_db for p in down)
    span = f"{cuts[0]:.1f} dB"
    if cuts[-1] - cuts[0] >= 0.05:
        span = f"{cuts[0]:.1f} to {cuts[-1]:.1f} dB"
    loudest = max(p.target_lufs for p in down)
    verb = "turns" if len(down) == 1 else "turn"
    text = (
        f"louder than needed: {len(down)} of {len(previews or ())} platforms {verb} it down, by "
        f"{span} ({names}); the extra loudness is thrown away there, so if it cost limiting, a "
        f"master at {loudest:g} LUFS plays the same on them"
    )
    return TrackFinding("platforms_turn_down", INFO, text, None)


def track_findings(
    result: TrackAnalysis, previews: Sequence[Any] | None = None
) -> tuple[TrackFinding, ...]:
    """Every finding of one analysed file (``previews``: its platform preview, for the one
    platforms finding), errors first, then warnings, then notes; in rule order within each."""
    found = _peak_findings(result) + _character_findings(result)
    plat = platform_finding(previews)
    if plat is not None:
        found.append(plat)
    return tuple(sorted(found, key=lambda f: SEVERITY_ORDER[f.severity]))


def findings_to_list(findings: Sequence[TrackFinding]) -> list[dict[str, Any]]:
    """``findings`` in the JSON: a list of {code, severity, text, at_s}."""
    return [
        {"code": f.code, "severity": f.severity, "text": f.text,
         "at_s": None if f.at_s is None else round(f.at_s, 2)}
        for f in findings
    ]  # fmt: skip
