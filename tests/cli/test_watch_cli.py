"""``mixanalyzer watch --serve`` as a user runs it: the address printed, the page and its event
stream served to 127.0.0.1 only (another Host header is refused, other paths are 404), the
page's CSP allowing ``connect-src 'self'`` and nothing else; a bounce's table on stdout;
Ctrl-C ends it with exit 130 and one line, no traceback; bad options get one line."""

from __future__ import annotations

import http.client
import re
import signal
import subprocess
from pathlib import Path

import pytest

from tests.app.test_watch import _wav_bytes
from tests.cli.test_cli import EXE, one_error_line, run, sigint_default


def start_watch(folder: Path, ref: Path, html: Path) -> tuple[subprocess.Popen, str]:
    """The watch started with --serve, and the URL it printed."""
    proc = subprocess.Popen(
        [*EXE, "watch", str(folder), "--ref", str(ref), "--html", str(html), "--serve",
         "--settle", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default,
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.match(r"serving (http://127\.0\.0\.1:\d+/)$", line.strip()):
            return proc, m.group(1)
    proc.kill()
    pytest.fail(f"no address printed: {proc.communicate()}")


def get(url: str, path: str, host: str | None = None) -> http.client.HTTPResponse:
    m = re.match(r"http://([\d.]+):(\d+)/", url)
    assert m
    conn = http.client.HTTPConnection(m.group(1), int(m.group(2)), timeout=30)
    conn.request("GET", path, headers={"Host": host or f"{m.group(1)}:{m.group(2)}"})
    return conn.getresponse()


def test_serves_only_the_page_to_localhost_and_stops_on_ctrl_c(tmp_path):
    ref, folder, html = tmp_path / "ref.wav", tmp_path / "b", tmp_path / "w.html"
    ref.write_bytes(_wav_bytes(2.0, 1))
    folder.mkdir()
    proc, url = start_watch(folder, ref, html)
    try:
        port = url.rsplit(":", 1)[1].strip("/")
        page = get(url, "/")
        assert page.status == 200
        csp = page.getheader("Content-Security-Policy")
        assert "connect-src 'self'" in csp and "default-src 'none'" in csp
        assert re.findall(r"connect-src [^;]*", csp) == ["connect-src 'self'"]
        body = page.read().decode()
        assert "mixanalyzer watch" in body and "Waiting for the first bounce" in body
        assert get(url, "/", host=f"localhost:{port}").status == 200
        for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1.nip.io:{port}"):
            refused = get(url, "/", host=host)
            assert refused.status == 403 and b"refused" in refused.read()
        assert get(url, "/events", host=f"attacker.test:{port}").status == 403
        assert get(url, "/w.history.jsonl").status == 404
        assert get(url, "/../w.html").status == 404
        events = get(url, "/events")
        assert events.getheader("Content-Type").startswith("text/event-stream")
        assert events.readline() == b"retry: 1000\n"
        (folder / "mix.wav").write_bytes(_wav_bytes(1.0, 2))
        assert proc.stdout is not None
        table = "".join(proc.stdout.readline() for _ in range(3))
        assert "bounce 1: mix.wav" in table
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["mixanalyzer: interrupted"], err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_idle_is_one_line_and_its_exit_code(tmp_path, sig, code):
    """Idle, the watch waits in watchfiles' native loop, which swallows the handler's exception
    and raises a bare KeyboardInterrupt (typer would make that a silent 130)."""
    ref, folder, html = tmp_path / "ref.wav", tmp_path / "b", tmp_path / "w.html"
    ref.write_bytes(_wav_bytes(2.0, 1))
    folder.mkdir()
    proc, url = start_watch(folder, ref, html)
    try:
        assert get(url, "/").status == 200  # up and idle
    finally:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.strip().splitlines() == ["mixanalyzer: interrupted"], err


def test_bad_options_get_one_line(tmp_path):
    one_error_line(run("watch", str(tmp_path), "--ref", "r.wav", "--serve"), 2, "--serve needs")
    one_error_line(run("watch", str(tmp_path), "--ref", "r.wav", "--history", "-"), 2,
                   "--history needs a file path")  # fmt: skip
    one_error_line(run("watch", str(tmp_path / "none"), "--ref", "r.wav"), 2, "no such")
    one_error_line(run("watch", str(tmp_path)), 2, "--ref")
    one_error_line(run("watch", str(tmp_path), "--ref", "r.wav", "--settle", "0"), 2, "--settle")
