"""The report's player in a real browser (issue 18): Debian's headless Chromium, driven by
Playwright through ``executable_path`` (no browser download), renders every device graph of the
page with an ``OfflineAudioContext`` (``window.mixanalyzerListen``), and each render is checked
against the Python renderer (:class:`~analyzer.playback.render.DeviceRenderer`) fed with the
same decoded clip, which the page hands over too:

- 1/3-octave band levels within 0.5 dB for every linear device (bands within 60 dB of the
  loudest band: below that both renders are float32 rounding);
- integrated loudness within 0.3 LU for every device (limiters and road noise included);
- the loudness-matched clips within 0.2 LU of each other on the studio path (a mono clip reads
  3.01 dB more once played on two speakers: BS.1770 measures it as one channel, as the page
  says);
- an A/B switch scheduled at 10.0 s lands at 10.0 s +- 10 ms, and the clip switched to plays
  from the same position (the output equals it sample for sample after the crossfade).

One page of three short synthetic clips (11 s: a 44.1 kHz stereo mix, so the resampling path
runs, a 48 kHz stereo reference and a mono one); device renders are 4 s long.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from analyzer.app.listening import listen_clips
from analyzer.dsp.bands import THIRD_OCTAVE_EXACT_HZ
from analyzer.measure.loudness import measure_loudness
from analyzer.playback.devices import BUILTIN_DEVICES
from analyzer.playback.render import DeviceRenderer
from analyzer.report.html import write_html
from analyzer.report.view import build_view

RENDER_S = 4.0
CLIP_S = 11.0


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)")


def _write(path: Path, x: np.ndarray, rate: int) -> None:
    import soundfile as sf

    sf.write(path, x.T, rate, subtype="PCM_24")


def _tilted_noise(seconds: float, rate: int, channels: int, tilt_db_oct: float, seed: int):
    """Gaussian noise with a spectral tilt (dB per octave re 1 kHz), band-limited 30 Hz-18 kHz."""
    n = round(seconds * rate)
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal((channels, n)), axis=1)
    f = np.fft.rfftfreq(n, 1 / rate)
    shape = np.zeros_like(f)
    inside = (f > 30) & (f < 18000)
    shape[inside] = 10 ** (tilt_db_oct * np.log2(f[inside] / 1000) / 20)
    x = np.fft.irfft(spec * shape, n, axis=1)
    return x / np.max(np.abs(x)) * 0.5


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("listen")
    _write(tmp / "mix.wav", _tilted_noise(CLIP_S, 44100, 2, -3.0, 1), 44100)
    _write(tmp / "ref.wav", _tilted_noise(CLIP_S, 48000, 2, -4.5, 2) * 1.6, 48000)
    _write(tmp / "mono.wav", _tilted_noise(CLIP_S, 48000, 1, -6.0, 3) * 0.7, 48000)
    report = tmp / "report.html"
    clips = listen_clips(tmp / "mix.wav", [tmp / "ref.wav", tmp / "mono.wav"])
    write_html(str(report), build_view("compare", []), listen=clips)
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium,
                                     args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        pg = browser.new_page()
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(report.as_uri())
        yield pg, requests, report
        browser.close()


def _arrays(channels: list[str]) -> np.ndarray:
    return np.stack([np.frombuffer(base64.b64decode(c), dtype="<f4").astype(np.float64)
                     for c in channels])  # fmt: skip


def _python_render(x: np.ndarray, device_name: str, play_lufs: float, frames: int) -> np.ndarray:
    r = DeviceRenderer(BUILTIN_DEVICES[device_name], 48000, x.shape[0], integrated_lufs=play_lufs)
    out = [r.process(x[:, k : k + 48000]) for k in range(0, x.shape[1], 48000)]
    y = np.concatenate([*out, r.flush()], axis=1)
    return y[:, :frames]


def _third_octave_db(y: np.ndarray) -> np.ndarray:
    """Power per 1/3-octave band (exact centres, edges at +-1/6 octave), L and R summed."""
    spec = np.sum(np.abs(np.fft.rfft(y, axis=1)) ** 2, axis=0)
    f = np.fft.rfftfreq(y.shape[1], 1 / 48000)
    out = []
    for c in THIRD_OCTAVE_EXACT_HZ:
        band = (f >= c * 2 ** (-1 / 6)) & (f < c * 2 ** (1 / 6))
        out.append(10 * np.log10(spec[band].sum() + 1e-300))
    return np.array(out)


def test_the_page_makes_no_request_and_reports_no_error(page) -> None:
    pg, requests, report = page
    assert pg.get_attribute("html", "data-errors") == "[]"
    assert requests == [report.as_uri()]
    spec = pg.evaluate("window.mixanalyzerListen.spec()")
    assert [c["name"].rsplit("/", 1)[-1] for c in spec["clips"]] == ["mix.wav", "ref.wav",
                                                                     "mono.wav"]  # fmt: skip
    assert "resampled 44100 -&gt; 48000 Hz" in report.read_text()  # said in the page


def _limiting_db(x: np.ndarray, device: str, play_lufs: float, frames: int) -> float:
    """How much the device's level behaviour takes off (LU): the render with the limiter
    against the same render without it (no finite loudness bypasses it)."""
    with_limiter = _python_render(x, device, play_lufs, frames)
    r = DeviceRenderer(BUILTIN_DEVICES[device], 48000, x.shape[0], integrated_lufs=None)
    linear = np.concatenate([r.process(x), r.flush()], axis=1)[:, :frames]
    return (measure_loudness(linear, 48000).integrated_lufs
            - measure_loudness(with_limiter, 48000).integrated_lufs)  # fmt: skip


#: The limited devices are also played this much louder than their nominal level, so that
#: their limiters work (at the nominal level these clips stay below the thresholds).
LOUDER_DB = {"phone": 25.0, "bluetooth-speaker": 35.0}


@pytest.mark.parametrize("device", list(BUILTIN_DEVICES))
def test_each_device_graph_matches_the_python_render(page, device: str) -> None:
    pg, _, _ = page
    frames = round(RENDER_S * 48000)
    louder = LOUDER_DB.get(device, 0.0)
    for clip in (1, 2):  # a stereo and a mono clip, loudness-matched
        got = pg.evaluate(f"window.mixanalyzerListen.renderDevice({clip}, '{device}', "
                          f"{RENDER_S}, true, {louder})")  # fmt: skip
        page_out = _arrays(got["channels"])
        decoded = _arrays(pg.evaluate(f"window.mixanalyzerListen.decodedClip({clip}, 6)"))
        x = decoded * 10 ** (got["gain_db"] / 20)
        py_out = _python_render(x, device, got["play_lufs"], frames)
        assert page_out.shape == py_out.shape == (2, frames)
        l_page = measure_loudness(page_out, 48000).integrated_lufs
        l_py = measure_loudness(py_out, 48000).integrated_lufs
        assert abs(l_page - l_py) <= 0.3, (device, clip, l_page, l_py)
        if louder:  # the limiter takes off more than the tolerance: the match above tests it
            assert _limiting_db(x, device, got["play_lufs"], frames) > 0.3
        if BUILTIN_DEVICES[device].level is None and BUILTIN_DEVICES[device].noise is None:
            b_page, b_py = _third_octave_db(page_out), _third_octave_db(py_out)
            audible = b_py > b_py.max() - 60
            worst = np.max(np.abs(b_page - b_py)[audible])
            assert worst <= 0.5, (device, clip, worst)


def test_loudness_matched_clips_play_at_one_loudness(page) -> None:
    pg, _, _ = page
    levels = []
    for clip in range(3):
        got = pg.evaluate(f"window.mixanalyzerListen.renderDevice({clip}, 'studio', "
                          f"{CLIP_S - 0.5}, true)")  # fmt: skip
        levels.append(measure_loudness(_arrays(got["channels"]), 48000).integrated_lufs)
    assert abs(levels[0] - levels[1]) <= 0.2, levels
    # The mono clip plays on both speakers and is matched as it plays there (dual mono), not as
    # BS.1770 reads it as one channel, which left it 3.01 dB louder than the others.
    assert abs(levels[2] - levels[0]) <= 0.2, levels


def test_a_switch_at_10_s_lands_at_10_s_in_sync(page) -> None:
    pg, _, _ = page
    spec = pg.evaluate("window.mixanalyzerListen.spec()")
    gains = [10 ** (c["matched_gain_db"] / 20) for c in spec["clips"]]
    out = _arrays(pg.evaluate("window.mixanalyzerListen.renderSwitch(0, 1, 10.0, 10.5)"))
    a = _arrays(pg.evaluate("window.mixanalyzerListen.decodedClip(0, 10.5)")) * gains[0]
    b = _arrays(pg.evaluate("window.mixanalyzerListen.decodedClip(1, 10.5)")) * gains[1]
    # Weight of b in each 1 ms window (least squares of out - a on b - a).
    win = 48
    n = out.shape[1] // win * win
    d, e = (out - a)[:, :n].reshape(2, -1, win), (b - a)[:, :n].reshape(2, -1, win)
    w = np.sum(d * e, axis=(0, 2)) / np.maximum(np.sum(e * e, axis=(0, 2)), 1e-30)
    crossing_s = (np.argmax(w >= 0.5) + 0.5) * win / 48000
    assert abs(crossing_s - 10.0) <= 0.010, crossing_s
    # Before the fade it is the mix, after it the reference at the same position.
    before, after = slice(0, round(9.98 * 48000)), slice(round(10.02 * 48000), n)
    assert np.max(np.abs(out[:, before] - a[:, before])) < 1e-5
    assert np.max(np.abs(out[:, after] - b[:, after])) < 1e-5
