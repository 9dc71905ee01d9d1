"""The report's listening section (issue 18): the data the player partial
(``templates/listen.html.j2``) and its script (``templates/listen.js``) need, from a
:class:`~analyzer.playback.listening.ListenSet`.

The clips travel as base64 Ogg Opus inside a JSON ``<script>`` element (decoded in the page
with ``decodeAudioData``), so the page still makes no request; the script is the package's own
file, inlined.
"""

from __future__ import annotations

import base64
import functools
from importlib import resources
from typing import Any

from analyzer.playback.listening import CLIP_S, ListenSet

#: The A/B crossfade (the page's FADE_S), centred on the switch.
FADE_MS = 20


@functools.cache
def listen_js() -> str:
    """The player's script (``templates/listen.js``), inlined into the page."""
    js = resources.files("analyzer.report").joinpath("templates/listen.js").read_text("utf-8")
    if "</script" in js.lower():
        raise RuntimeError("listen.js contains '</script'; cannot inline it safely")
    return js


def listen_context(ls: ListenSet) -> dict[str, Any]:
    """What ``listen.html.j2`` renders: the clips with their matched gains, the devices, the
    notes, and the JSON the script reads."""
    from analyzer.io.opus import OPUS_KBPS_PER_CHANNEL
    from analyzer.report.html import script_json

    gains = ls.matched_gains_db()
    levels = [c.integrated_lufs for c in ls.clips if c.integrated_lufs is not None]
    clips = [
        {"name": c.name, "role": c.role, "start_s": c.start_s, "duration_s": c.duration_s,
         "integrated_lufs": c.integrated_lufs, "matched_gain_db": g, "channels": c.channels}
        for c, g in zip(ls.clips, gains, strict=True)
    ]  # fmt: skip
    data = {
        "rate_hz": ls.rate_hz,
        "clip_s": CLIP_S,
        "target_lufs": min(levels) if levels else None,
        "clips": [{**row, "opus": base64.b64encode(c.opus).decode("ascii")}
                  for row, c in zip(clips, ls.clips, strict=True)],
        "devices": list(ls.devices),
    }  # fmt: skip
    return {
        "clips": clips,
        "devices": [{"name": d["name"], "label": d["label"]} for d in ls.devices],
        "notes": list(ls.notes),
        "rate_hz": ls.rate_hz,
        "kbps": OPUS_KBPS_PER_CHANNEL,
        "resampled": any(c.source_rate_hz != ls.rate_hz for c in ls.clips),
        "clip_s": max((c.duration_s for c in ls.clips), default=CLIP_S),
        "fade_ms": FADE_MS,
        "json": script_json(data),
        "js": listen_js(),
    }
