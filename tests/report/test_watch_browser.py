"""``watch --serve`` in a real browser (issue 18, part 2): Debian's headless Chromium, driven by
Playwright through ``executable_path``, opens the served page; a bounce written into the
watched folder makes the open page reload itself (server-sent events) and show it, a second
bounce adds its change and the chart; the page requests nothing but itself and its event
stream, and the browser reports no CSP violation or script error.

Waiting uses Playwright's waits with a generous limit (a hang fails; no duration is checked:
the latency is a ``make bench`` figure)."""

from __future__ import annotations

import signal

import pytest

from tests.app.test_watch import _wav_bytes
from tests.cli.test_watch_cli import start_watch
from tests.report.test_listen_browser import _chromium


def test_the_served_page_reloads_on_each_bounce(tmp_path):
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    ref, folder, html = tmp_path / "ref.wav", tmp_path / "b", tmp_path / "w.html"
    ref.write_bytes(_wav_bytes(2.0, 1))
    folder.mkdir()
    proc, url = start_watch(folder, ref, html)
    requests: list[str] = []
    problems: list[str] = []
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium,
                                         args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
            pg = browser.new_page()
            pg.on("request", lambda r: requests.append(r.url))
            pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            pg.on("pageerror", lambda e: problems.append(str(e)))
            pg.goto(url)
            assert pg.get_attribute("body", "data-bounce") == "0"
            pg.wait_for_timeout(300)  # let the event stream connect (not a measurement)
            (folder / "mix1.wav").write_bytes(_wav_bytes(1.5, 2))
            pg.locator('body[data-bounce="1"]').wait_for(timeout=60000)  # (the CSP forbids eval)
            assert "mix1.wav" in pg.inner_text("#latest")
            assert pg.locator("#deltas tbody tr").count() >= 10
            (folder / "mix2.wav").write_bytes(_wav_bytes(1.5, 2, gain=0.1))
            pg.locator('body[data-bounce="2"]').wait_for(timeout=60000)
            rows = pg.inner_text("#deltas")
            assert "+6.0" in rows  # twice the gain: 6.0 dB louder than the previous bounce
            charts = pg.locator("#charts svg")
            # integrated, true peak, PLR (the LRA of 1.5 s is undefined: no chart)
            assert charts.count() == 3
            assert charts.first.get_attribute("aria-label") == "Integrated over the bounces"
            assert charts.first.locator("circle").count() == 2
            assert pg.locator("#history tbody tr").count() == 2
            browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert not problems, problems
    assert {r.split("/", 3)[3] for r in requests} == {"", "events"}
    assert all(r.startswith(url) for r in requests)
