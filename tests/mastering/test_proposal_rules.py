"""The EQ proposal checked as a mastering engineer would check it, from its JSON moves alone.

The summed response is computed here with the Audio EQ Cookbook formulas (R. Bristow-Johnson)
written out in this file, not with the project's EQ. The rules
(:mod:`analyzer.mastering.tone_rules`): the summed response within ±max_gain over 20 Hz-20 kHz,
no two moves of the same type within 1/3 octave, no opposite-sign moves within an octave, bells
no narrower than Q 2 (without --surgical) and centred within 30 Hz-16 kHz. Proposals: the 16
corpus tracks (10 s excerpts, analysed once) detuned against themselves, the five outside the
profiles each against the next one, and every cross-profile pair of the shipped profiles'
source tracks (one direction). The gate: never on the detuned pairs, on most cross-profile
pairs.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pyloudnorm as pyln
import pytest
from scipy.signal import butter, lfilter

from analyzer.comparison.metrics import compare
from analyzer.io import open_audio
from analyzer.mastering.eq import EqMove, apply_eq
from analyzer.mastering.proposal import build_proposal
from analyzer.measure.engine import analyze_array
from analyzer.report.json.master import proposal_to_dict

pytestmark = pytest.mark.slow

MAX_GAIN_DB = 6.0
DETUNE = [
    EqMove("low_shelf", 120.0, -4.0),
    EqMove("high_shelf", 6000.0, -5.0),
    EqMove("peaking", 400.0, 4.0, 1.0),
]
EXCERPT_S = 10.0
PROFILES = Path(__file__).parents[2] / "analyzer" / "comparison" / "profile_data"


def rbj_ba(kind: str, f0: float, gain_db: float, q: float, fs: float) -> tuple[list, list]:
    """Numerator and denominator of one cookbook biquad (peakingEQ, lowShelf, highShelf with Q)."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * f0 / fs
    cw, alpha = math.cos(w0), math.sin(w0) / (2.0 * q)
    if kind == "peaking":
        return [1 + alpha * a, -2 * cw, 1 - alpha * a], [1 + alpha / a, -2 * cw, 1 - alpha / a]
    s = 2.0 * math.sqrt(a) * alpha
    sign = 1.0 if kind == "low_shelf" else -1.0
    b = [a * ((a + 1) - sign * (a - 1) * cw + s),
         sign * 2 * a * ((a - 1) - sign * (a + 1) * cw),
         a * ((a + 1) - sign * (a - 1) * cw - s)]  # fmt: skip
    d = [(a + 1) + sign * (a - 1) * cw + s, -sign * 2 * ((a - 1) + sign * (a + 1) * cw),
         (a + 1) + sign * (a - 1) * cw - s]  # fmt: skip
    return b, d


def rbj_db(kind: str, f0: float, gain_db: float, q: float, fs: float, f: np.ndarray) -> np.ndarray:
    """|H| in dB of one cookbook biquad."""
    b, d = rbj_ba(kind, f0, gain_db, q, fs)
    z = np.exp(-1j * 2.0 * math.pi * f / fs)
    h = (b[0] + b[1] * z + b[2] * z * z) / (d[0] + d[1] * z + d[2] * z * z)
    return 20.0 * np.log10(np.abs(h))


def broken_rules(moves: list[dict], fs: float, surgical: bool = False) -> list[str]:
    """Every rule the JSON ``moves`` break (empty when none)."""
    out = []
    f = np.geomspace(20.0, min(20000.0, 0.49 * fs), 400)
    total = sum((rbj_db(m["type"], m["frequency_hz"], m["gain_db"], m["q"], fs, f)
                 for m in moves), np.zeros(len(f)))  # fmt: skip
    if np.max(np.abs(total)) > MAX_GAIN_DB + 0.02:
        out.append(f"summed response {np.max(np.abs(total)):.2f} dB")
    for a, b in itertools.combinations(moves, 2):
        apart = abs(math.log2(a["frequency_hz"] / b["frequency_hz"]))
        if a["type"] == b["type"] and apart < 1.0 / 3.0 - 0.01:
            out.append(f"two {a['type']} {apart:.2f} octave apart")
        if a["gain_db"] * b["gain_db"] < 0 and apart < 1.0 - 0.01:
            out.append(f"opposing {a['type']}/{b['type']} {apart:.2f} octave apart")
    for m in moves:
        if abs(m["gain_db"]) < MIN_MOVE_DB:  # (full amount) a move nobody would make
            out.append(f"negligible {m['type']} {m['gain_db']:+.1f} dB")
        if m["type"] == "peaking":
            if m["q"] > (4.0 if surgical else 2.0) + 1e-9:
                out.append(f"bell Q {m['q']}")
            if not 30.0 <= m["frequency_hz"] <= 16000.0:
                out.append(f"bell at {m['frequency_hz']} Hz")
        if not m["why"]:
            out.append("a move without its reason")
    return out


#: The smallest move a proposal makes at full amount (README: "dropping moves under 0.3 dB").
MIN_MOVE_DB = 0.3
#: The comparison's tolerance around the references' range for 1/3-octave bands (README).
THIRD_OCTAVE_TOLERANCE_DB = 1.5
#: What the fit's prediction (band-mean power gain, flat spectrum inside a band) may miss of the
#: boost measured on the processed excerpt.
MEASURED_SLACK_DB = 0.5


def apply_in_test(x: np.ndarray, fs: float, proposal: dict) -> np.ndarray:
    """The proposal's width and EQ moves applied here, without the project's processors: M/S
    with the side high-passed by a Linkwitz-Riley 4th order (two Butterworth 2nd-order
    sections, scipy) and scaled by the side gain, then the cookbook biquads on each channel."""
    y = np.array(x, dtype=float)
    width = proposal.get("width") or {}
    if y.shape[0] == 2 and (width.get("side_gain_db") or width.get("mono_below_hz")):
        mid, side = 0.5 * (y[0] + y[1]), 0.5 * (y[0] - y[1])
        if width.get("mono_below_hz"):
            b, a = butter(2, width["mono_below_hz"], "highpass", fs=fs)
            side = lfilter(b, a, lfilter(b, a, side))
        side = side * 10.0 ** ((width.get("side_gain_db") or 0.0) / 20.0)
        y = np.stack([mid + side, mid - side])
    for m in proposal["moves"]:
        b, a = rbj_ba(m["type"], m["frequency_hz"], m["gain_db"], m["q"], fs)
        y = lfilter(b, a, y, axis=1)
    return y


def band_powers(x: np.ndarray, fs: float, hz: list[float]) -> np.ndarray:
    """Power of ``x`` (all channels) in each base-ten 1/3-octave band centred on ``hz``, Hann-
    windowed: unwindowed, the excerpt's cut ends leak a broadband 1/f^2 spectrum that swamps a
    band 100 dB under the music (a lossy mix's empty top), and an EQ changes that leakage by
    other gains than its response (a 1.9 dB shelf read as a 6.3 dB boost at 20 kHz)."""
    spec = np.sum(np.abs(np.fft.rfft(x * np.hanning(x.shape[-1]), axis=-1)) ** 2, axis=0)
    f = np.fft.rfftfreq(x.shape[-1], 1.0 / fs)
    return np.array([np.sum(spec[(f >= h * 10.0**-0.05) & (f < h * 10.0**0.05)]) for h in hz])


def out_of_band_overlifts(proposal: dict, x: np.ndarray, mix, ref, fs: float) -> list[str]:
    """Bands below 30 Hz and above 16 kHz that the EQ moves, applied here to the excerpt ``x``
    after the proposal's width move, boost by more than the room the references leave there:
    how far their top (90th percentile plus the tolerance) is above the mix, both re loudness
    as the comparison measures them, less what the width move already added there (level-
    matched, never below 0: where the references are empty, a lossy top, there is no room).
    The level match takes the moves' loudness gain (measured with pyloudnorm) off every band;
    a loudness loss is not counted, since a cut elsewhere does not boost these bands."""
    if not proposal["moves"]:
        return []
    bands = {
        hz: m
        for name, m in compare(mix, [ref]).metrics.items()
        if name.startswith("third_octave.") and m.mix is not None
        and not 30.0 <= (hz := float(name.split(".", 1)[1])) <= 16000.0 and hz <= 0.49 * fs
    }  # fmt: skip
    if not bands:
        return []
    hz = list(bands)
    widened = apply_in_test(x, fs, {**proposal, "moves": []})
    p0, pw, p1 = (np.maximum(band_powers(v, fs, hz), 1e-300)
                  for v in (x, widened, apply_in_test(x, fs, proposal)))  # fmt: skip
    out, meter = [], pyln.Meter(fs)
    loud: dict[str, float] = {}
    for i, (h, m) in enumerate(bands.items()):
        width_db, boost = 10.0 * math.log10(pw[i] / p0[i]), 10.0 * math.log10(p1[i] / pw[i])
        room = 0.0 if m.p90 is None else max(m.p90 + THIRD_OCTAVE_TOLERANCE_DB - m.mix, 0.0)
        if boost <= max(room - width_db, 0.0) + MEASURED_SLACK_DB:
            continue
        if not loud:  # the level match, measured only where it decides (pyloudnorm)
            loud = {
                k: meter.integrated_loudness(v.T)
                for k, v in (("x", x), ("w", widened), ("y", apply_in_test(x, fs, proposal)))
            }
        width_matched = width_db - (loud["w"] - loud["x"])
        if boost - max(loud["y"] - loud["w"], 0.0) > max(room - width_matched, 0.0) + \
                MEASURED_SLACK_DB:  # fmt: skip
            out.append(f"boosts {h:g} Hz by {boost:.1f} dB, room {room:.1f} dB, "
                       f"width move {width_matched:+.1f} dB")  # fmt: skip
    return out


def _excerpt(path: Path) -> tuple[np.ndarray, int]:
    with open_audio(path) as src:
        fs, frames = src.info.sample_rate_hz, src.info.frames
        start = min(int(20 * fs), max(0, frames - int(EXCERPT_S * fs)))
        stop = min(frames, start + int(EXCERPT_S * fs))
        return np.concatenate(list(src.blocks(1 << 16, start_frame=start, stop_frame=stop)), 1), fs


@pytest.fixture(scope="module")
def tracks(corpus):
    """name -> (analysis, detuned analysis, sample rate, excerpt, detuned excerpt), each
    excerpt analysed once."""
    out = {}
    for p in sorted((corpus / "music").iterdir()):
        x, fs = _excerpt(p)
        det = apply_eq(x, DETUNE, fs) * 10 ** (-8 / 20)
        out[p.name] = (analyze_array(x, fs), analyze_array(det, fs), fs, x, det)
    return out


def _proposal(mix, ref) -> dict:
    p = build_proposal(mix, compare(mix, [ref]), target_lufs=-14.0, target_source="test")
    doc = json.loads(json.dumps(proposal_to_dict(p)))
    return {**doc["eq"], "width": doc["width"]}


def cross_profile_pairs() -> list[tuple[str, str]]:
    sources = {f.stem: [s["file"] for s in json.loads(f.read_text())["provenance"]]
               for f in sorted(PROFILES.glob("*.json"))}  # fmt: skip
    pairs = []
    for (_, a_files), (_, b_files) in itertools.combinations(sources.items(), 2):
        pairs += [(a, b) for a in a_files for b in b_files]
    return pairs


@pytest.fixture(scope="module")
def proposals(tracks):
    names = sorted(tracks)
    out = {"detuned": {}, "next": {}, "cross": {}}
    for n in names:
        mix, det = tracks[n][:2]
        out["detuned"][n] = _proposal(det, mix)
    sources = {a for pair in cross_profile_pairs() for a in pair}
    for a, b in zip(names, names[1:] + names[:1], strict=True):
        if a not in sources:  # the other tracks, each against the next one
            out["next"][(a, b)] = _proposal(tracks[a][0], tracks[b][0])
    for a, b in cross_profile_pairs():  # 48 kHz against 44.1 kHz as measured (bands agree)
        out["cross"][(a, b)] = _proposal(tracks[a][0], tracks[b][0])
    return out


def test_the_cookbook_responses_reach_their_gains():
    f = np.array([20.0, 1000.0, 20000.0])
    assert rbj_db("peaking", 1000.0, 6.0, 1.0, 48000, f)[1] == pytest.approx(6.0, abs=1e-9)
    low, high = rbj_db("low_shelf", 1000.0, 6.0, 0.7071, 48000, f), rbj_db(
        "high_shelf", 1000.0, 6.0, 0.7071, 48000, f)  # fmt: skip
    assert low[0] == pytest.approx(6.0, abs=0.01) and abs(low[2]) < 0.01
    assert high[2] == pytest.approx(6.0, abs=0.05) and abs(high[0]) < 0.01
    assert low[1] == pytest.approx(3.0, abs=0.01)  # half the gain (in dB) at the corner


def test_the_checker_catches_what_the_issue_saw():
    stacked = [
        {"type": "peaking", "frequency_hz": 16000.0, "gain_db": 6.0, "q": 0.9, "why": "x"}
    ] * 2
    seesaw = [
        {"type": "low_shelf", "frequency_hz": 49.0, "gain_db": 6.0, "q": 0.707, "why": "x"},
        {"type": "peaking", "frequency_hz": 50.0, "gain_db": -6.0, "q": 3.8, "why": "x"},
    ]
    assert any("summed" in r for r in broken_rules(stacked, 44100))
    assert any("two peaking" in r for r in broken_rules(stacked, 44100))
    assert any("opposing" in r for r in broken_rules(seesaw, 44100))
    assert any("Q 3.8" in r for r in broken_rules(seesaw, 44100))
    assert broken_rules([{**seesaw[1], "gain_db": 3.0}], 44100, surgical=True) == []


def test_no_proposal_breaks_the_rules(tracks, proposals):
    broken = {
        (group, key): rules
        for group, found in proposals.items()
        for key, eq in found.items()
        if (rules := broken_rules(eq["moves"], tracks[key if group == "detuned" else key[0]][2]))
    }
    assert broken == {}
    assert len(proposals["cross"]) == 45


def test_no_move_lifts_the_extremes_past_the_references(tracks, proposals):
    def pair(group, key):
        if group == "detuned":
            return tracks[key][4], tracks[key][1], tracks[key][0], tracks[key][2]
        return tracks[key[0]][3], tracks[key[0]][0], tracks[key[1]][0], tracks[key[0]][2]

    over, checked = {}, 0
    for group, found in proposals.items():
        for key, eq in found.items():
            x, mix, ref, fs = pair(group, key)
            f = np.array([25.0, 20000.0])
            if not any(np.any(rbj_db(m["type"], m["frequency_hz"], m["gain_db"], m["q"], fs, f)
                              > 0.0) for m in eq["moves"]):  # fmt: skip
                continue  # nothing lifts either end before level matching: nothing to measure
            checked += 1
            if found := out_of_band_overlifts(eq, x, mix, ref, fs):
                over[(group, key)] = found
    assert over == {}, "\n".join(f"{k}: {v}" for k, v in over.items())
    assert checked >= 20, checked  # the check measured a real share of the proposals


def test_the_extremes_check_catches_a_shelf_into_an_empty_top(corpus, tracks):
    name = sorted(tracks)[0]
    mix, _, fs, x, _ = tracks[name]
    spec = np.fft.rfft(x, axis=1)
    spec[:, np.fft.rfftfreq(x.shape[1], 1 / fs) > 15000.0] = 0.0  # a lossy encoder's empty top
    ref = analyze_array(np.fft.irfft(spec, n=x.shape[1], axis=1), fs)
    shelf = {"moves": [{"type": "high_shelf", "frequency_hz": 10000.0, "gain_db": 6.0,
                        "q": 0.7071}], "width": None}  # fmt: skip
    assert out_of_band_overlifts(shelf, x, mix, ref, fs)


def test_the_extremes_check_counts_the_width_move(tracks):
    """The low end a mono-below move removes (anti-phase sub) is measured, not ignored."""
    name = sorted(tracks)[0]
    mix, _, fs, x, _ = tracks[name]
    anti = np.array(x)
    t = np.arange(x.shape[1]) / fs
    sub = 0.3 * np.sin(2 * np.pi * 22.0 * t)
    anti[0] += sub
    anti[1] -= sub
    wide = analyze_array(anti, fs)
    mono = {"moves": [], "width": {"side_gain_db": None, "mono_below_hz": 120.0}}
    y = apply_in_test(anti, fs, mono)
    assert compare(analyze_array(y, fs), [mix]).metrics["third_octave.20"].mix < (
        compare(wide, [mix]).metrics["third_octave.20"].mix - 6.0
    )


def test_the_gate_never_trips_on_the_same_track_and_trips_on_most_cross_profile_pairs(proposals):
    assert not [n for n, eq in proposals["detuned"].items() if eq["too_far"]]
    tripped = sum(eq["too_far"] for eq in proposals["cross"].values())
    # whole tracks: all 90 cross-profile pairs trip (README); 10 s excerpts are a little closer
    assert tripped >= 0.8 * len(proposals["cross"]), (tripped, len(proposals["cross"]))
