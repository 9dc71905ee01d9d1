"""The EQ proposal checked as a mastering engineer would check it, from its JSON moves alone.

The summed response is computed here with the Audio EQ Cookbook formulas (R. Bristow-Johnson)
written out in this file, not with the project's EQ. The rules
(:mod:`analyzer.mastering.tone_rules`): the summed response within ±max_gain over 20 Hz-20 kHz,
no two moves of the same type within 1/3 octave, no opposite-sign moves within an octave, bells
no narrower than Q 2 (without --surgical) and centred within 30 Hz-16 kHz. Proposals: the 16
corpus tracks (20 s excerpts, analysed once) detuned against themselves, the five outside the
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
import pytest

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
EXCERPT_S = 20.0
PROFILES = Path(__file__).parents[2] / "analyzer" / "comparison" / "profile_data"


def rbj_db(kind: str, f0: float, gain_db: float, q: float, fs: float, f: np.ndarray) -> np.ndarray:
    """|H| in dB of one cookbook biquad (peakingEQ, lowShelf, highShelf with Q)."""
    a = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * f0 / fs
    cw, alpha = math.cos(w0), math.sin(w0) / (2.0 * q)
    if kind == "peaking":
        b = [1 + alpha * a, -2 * cw, 1 - alpha * a]
        d = [1 + alpha / a, -2 * cw, 1 - alpha / a]
    else:
        s = 2.0 * math.sqrt(a) * alpha
        sign = 1.0 if kind == "low_shelf" else -1.0
        b = [a * ((a + 1) - sign * (a - 1) * cw + s),
             sign * 2 * a * ((a - 1) - sign * (a + 1) * cw),
             a * ((a + 1) - sign * (a - 1) * cw - s)]  # fmt: skip
        d = [(a + 1) + sign * (a - 1) * cw + s, -sign * 2 * ((a - 1) + sign * (a + 1) * cw),
             (a + 1) + sign * (a - 1) * cw - s]  # fmt: skip
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
        if m["type"] == "peaking":
            if m["q"] > (4.0 if surgical else 2.0) + 1e-9:
                out.append(f"bell Q {m['q']}")
            if not 30.0 <= m["frequency_hz"] <= 16000.0:
                out.append(f"bell at {m['frequency_hz']} Hz")
        if not m["why"]:
            out.append("a move without its reason")
    return out


#: The comparison's tolerance around the references' range for 1/3-octave bands (README).
THIRD_OCTAVE_TOLERANCE_DB = 1.5
#: Slack for the level match estimated here without K-weighting (the fit's own is K-weighted).
LEVEL_MATCH_SLACK_DB = 1.0


def out_of_band_overlifts(moves: list[dict], mix, comparison, fs: float) -> list[str]:
    """Bands below 30 Hz and above 16 kHz that the moves, level-matched, lift further above the
    mix than the references' top there (90th percentile plus the tolerance) allows: where the
    references are empty (a lossy top) there is no room at all. Computed here: the summed
    response with the cookbook formulas above, the level match as the mix's band-power-weighted
    mean of that response."""
    if not moves:
        return []
    bands = [(hz, v) for hz, v in zip(mix.spectrum.third_octave_hz, mix.spectrum.third_octave_db,
                                      strict=True) if v is not None]  # fmt: skip
    f = np.array([hz for hz, _ in bands])
    resp = sum((rbj_db(m["type"], m["frequency_hz"], m["gain_db"], m["q"], fs, f) for m in moves),
               np.zeros(len(f)))  # fmt: skip
    p = 10.0 ** (np.array([v for _, v in bands]) / 10.0)
    shift = 10.0 * math.log10(float(np.sum(p * 10.0 ** (resp / 10.0)) / float(np.sum(p))))
    out = []
    for hz, lift in zip(f, resp - shift, strict=True):
        if 30.0 <= hz <= 16000.0 or hz > 0.49 * fs or lift <= 0:
            continue
        m = comparison.metrics.get(f"third_octave.{hz:g}")
        if m is None or m.mix is None:
            continue
        room = 0.0 if m.p90 is None else max(m.p90 + THIRD_OCTAVE_TOLERANCE_DB - m.mix, 0.0)
        if lift > room + LEVEL_MATCH_SLACK_DB:
            out.append(f"lifts {hz:g} Hz by {lift:.1f} dB, room {room:.1f} dB")
    return out


def _excerpt(path: Path) -> tuple[np.ndarray, int]:
    with open_audio(path) as src:
        fs, frames = src.info.sample_rate_hz, src.info.frames
        start = min(int(20 * fs), max(0, frames - int(EXCERPT_S * fs)))
        stop = min(frames, start + int(EXCERPT_S * fs))
        return np.concatenate(list(src.blocks(1 << 16, start_frame=start, stop_frame=stop)), 1), fs


@pytest.fixture(scope="module")
def tracks(corpus):
    """name -> (analysis, detuned analysis, sample rate), each excerpt analysed once."""
    out = {}
    for p in sorted((corpus / "music").iterdir()):
        x, fs = _excerpt(p)
        det = apply_eq(x, DETUNE, fs) * 10 ** (-8 / 20)
        out[p.name] = (analyze_array(x, fs), analyze_array(det, fs), fs)
    return out


def _proposal(mix, ref) -> dict:
    p = build_proposal(mix, compare(mix, [ref]), target_lufs=-14.0, target_source="test")
    doc = json.loads(json.dumps(proposal_to_dict(p)))
    return doc["eq"]


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
        mix, det, _ = tracks[n]
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


@pytest.mark.xfail(
    strict=True,
    reason="open (issue 14): measured independently, 2 of the 66 proposals lift a band below "
    "30 Hz / above 16 kHz past the references' room (warzone2100 track3 against frozen-bubble: "
    "a +5.3 dB low shelf at 95 Hz lifts 20 Hz by 4.2 dB where 2.4 dB is allowed; frozen-bubble "
    "against Brahms: 20 kHz by 1.1 dB where 0 is allowed), while the fit's own K-weighted "
    "prediction holds them within it; one of the two is wrong",
)
def test_no_move_lifts_the_extremes_past_the_references(tracks, proposals):
    def pair(group, key):
        if group == "detuned":
            return tracks[key][1], tracks[key][0], tracks[key][2]
        return tracks[key[0]][0], tracks[key[1]][0], tracks[key[0]][2]

    over = {}
    for group, found in proposals.items():
        for key, eq in found.items():
            mix, ref, fs = pair(group, key)
            if found := out_of_band_overlifts(eq["moves"], mix, compare(mix, [ref]), fs):
                over[(group, key)] = found
    assert over == {}


def test_the_extremes_check_catches_a_shelf_into_an_empty_top(corpus, tracks):
    name = sorted(tracks)[0]
    mix, _, fs = tracks[name]
    x, _ = _excerpt(corpus / "music" / name)
    spec = np.fft.rfft(x, axis=1)
    spec[:, np.fft.rfftfreq(x.shape[1], 1 / fs) > 15000.0] = 0.0  # a lossy encoder's empty top
    ref = analyze_array(np.fft.irfft(spec, n=x.shape[1], axis=1), fs)
    shelf = [{"type": "high_shelf", "frequency_hz": 10000.0, "gain_db": 6.0, "q": 0.7071}]
    assert out_of_band_overlifts(shelf, mix, compare(mix, [ref]), fs)


def test_the_gate_never_trips_on_the_same_track_and_trips_on_most_cross_profile_pairs(proposals):
    assert not [n for n, eq in proposals["detuned"].items() if eq["too_far"]]
    tripped = sum(eq["too_far"] for eq in proposals["cross"].values())
    # whole tracks: all 90 cross-profile pairs trip (README); 20 s excerpts are a little closer
    assert tripped >= 0.8 * len(proposals["cross"]), (tripped, len(proposals["cross"]))
