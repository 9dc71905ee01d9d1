"""The ``watch`` page: the latest bounce's delta table, the top differences, a chart of the
bounces so far and the history, as one small self-contained HTML page (no Plotly: inline SVG).

It is rendered by Jinja2 with autoescape (file names and messages are data). Its one script
reloads the page when ``watch --serve`` announces a newer bounce on its event stream; it runs
only when the page is served over HTTP (a page opened as a file makes no request). The Content
Security Policy allows that script by its SHA-256 hash, inline styles, and ``connect-src
'self'`` (the event stream) and nothing else; :data:`WATCH_CSP` is sent as a header by the
server too. A ``<meta name="generator" content="mixanalyzer watch">`` marks the page as a
watch page, so a later watch may replace it without ``--force``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from analyzer.dsp.bands import BROAD_BAND_BY_KEY

#: The marker of a page this command wrote.
MARKER = '<meta name="generator" content="mixanalyzer watch">'
#: The page's one script: reload when the server announces another bounce than the one shown
#: (sent on connecting too, so a bounce analysed while the page loaded is not missed).
RELOAD_SCRIPT = (
    "(function(){if(!/^https?:$/.test(location.protocol)||!window.EventSource)return;"
    "var shown=document.body.getAttribute('data-bounce');"
    "var es=new EventSource('/events');"
    "es.addEventListener('bounce',function(e){if(e.data!==shown){es.close();"
    "location.reload();}});})();"
)
_HASH = base64.b64encode(hashlib.sha256(RELOAD_SCRIPT.encode()).digest()).decode()
#: The page's Content Security Policy (the meta element and the server's header).
WATCH_CSP = (
    f"default-src 'none'; script-src 'sha256-{_HASH}'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
#: Units of the figures by their key's family.
_UNITS = {"integrated_lufs": "LUFS", "true_peak_dbtp": "dBTP", "plr_db": "dB", "lra_lu": "LU",
          "tonal": "dB", "score": "pts"}  # fmt: skip
_LABELS = {"integrated_lufs": "Integrated", "true_peak_dbtp": "True peak", "plr_db": "PLR",
           "lra_lu": "LRA"}  # fmt: skip
#: The figures charted over the bounces.
CHARTED = ("integrated_lufs", "true_peak_dbtp", "plr_db", "lra_lu")


def figure_label(key: str) -> tuple[str, str]:
    """``(label, unit)`` of a figure key (``tonal.low`` -> ``("tonal low (60–250 Hz)", "dB")``)."""
    if key in _LABELS:
        return _LABELS[key], _UNITS[key]
    family, _, name = key.partition(".")
    if family == "tonal" and name in BROAD_BAND_BY_KEY:
        band = BROAD_BAND_BY_KEY[name]
        return f"tonal {band.label} ({band.range_text})", "dB"
    return f"{name} score" if family == "score" else key, _UNITS.get(family, "")


def delta_rows(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: label, unit, value, change since the previous bounce, the
    references' value and the distance from it."""
    figures = entry.get("figures") or {}
    prev = entry.get("vs_previous") or {}
    refs = entry.get("references") or {}
    vs_refs = entry.get("vs_references") or {}
    rows = []
    for key, value in figures.items():
        label, unit = figure_label(key)
        rows.append({"key": key, "label": label, "unit": unit, "value": value,
                     "vs_previous": prev.get(key), "reference": refs.get(key),
                     "vs_references": vs_refs.get(key)})  # fmt: skip
    return rows


def _chart(entries: Sequence[Mapping[str, Any]], key: str) -> dict[str, Any] | None:
    """SVG geometry of one figure over the bounces (x: bounce, y: value), with the references'
    median as a dashed line; None with fewer than one value."""
    pts = [(int(e["bounce"]), float(e["figures"][key])) for e in entries
           if isinstance(e.get("figures"), dict) and e["figures"].get(key) is not None]  # fmt: skip
    if not pts:
        return None
    ref = next((e.get("references", {}).get(key) for e in reversed(entries) if "figures" in e),
               None)  # fmt: skip
    ys = [y for _, y in pts] + ([ref] if ref is not None else [])
    lo, hi = min(ys) - 0.5, max(ys) + 0.5
    x0, x1 = pts[0][0], max(pts[-1][0], pts[0][0] + 1)
    w, h, pad = 300.0, 120.0, 24.0

    def xy(b: float, v: float) -> tuple[float, float]:
        return (round(pad + (b - x0) / (x1 - x0) * (w - 2 * pad), 1),
                round(h - pad - (v - lo) / (hi - lo) * (h - 2 * pad), 1))  # fmt: skip

    label, unit = figure_label(key)
    return {
        "key": key, "label": label, "unit": unit, "width": w, "height": h,
        "points": [(*xy(b, v), b, v) for b, v in pts],
        "line": " ".join(f"{x},{y}" for x, y in (xy(b, v) for b, v in pts)),
        "ref_y": xy(x0, ref)[1] if ref is not None else None, "ref": ref,
        "lo": lo, "hi": hi, "x_first": pts[0][0], "x_last": pts[-1][0],
    }  # fmt: skip


def render_watch_page(
    entries: Sequence[Mapping[str, Any]], *, target: str, references: Sequence[str]
) -> str:
    """The page for the history so far (the last entry with figures is the one shown)."""
    import jinja2

    from analyzer.report.numbers import number

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer.report", "templates"),
        autoescape=True,  # file names and messages are data, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number
    latest = next((e for e in reversed(entries) if "figures" in e), None)
    charts = [c for c in (_chart(entries, k) for k in CHARTED) if c is not None]
    return env.get_template("watch.html.j2").render(
        csp=WATCH_CSP, marker=MARKER, script=RELOAD_SCRIPT, target=target,
        references=list(references), latest=latest, rows=delta_rows(latest) if latest else [],
        entries=list(reversed(entries)), charts=charts,
        shown=str(entries[-1]["bounce"]) if entries else "0",
    )  # fmt: skip


def is_watch_page(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a page this command wrote (its marker in the first 4 kB)."""
    try:
        with open(path, "rb") as fh:
            return MARKER.encode() in fh.read(4096)
    except OSError:
        return False
