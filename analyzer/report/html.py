"""The HTML report: one self-contained file (inline CSS, Plotly's JavaScript embedded once, no
network request of any kind), rendered by Jinja2 with autoescape from a view
(:class:`analyzer.report.view.ReportView`).

File names, tags and every other text are data: the template escapes them, and the plots' data
travel as JSON in a ``<script type="application/json">`` element whose ``<``, ``>`` and ``&`` are
``\\u`` escapes, so no string can close the element. Plot labels never carry user text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from analyzer.dsp.bands import BROAD_BANDS
from analyzer.report.findings import TrackFinding
from analyzer.report.numbers import finite, metric_decimals, number
from analyzer.report.view.model import (
    BatchTrackRow,
    DeviceCurve,
    DeviceView,
    LoudnessSeries,
    PeakSeries,
    ReferenceSpectrum,
    ReportView,
    SeriesView,
    TonalRow,
    TrackView,
    WidthRow,
)

if TYPE_CHECKING:
    from analyzer.playback.listening import ListenSet

#: Plotly config shared by every figure: no logo, no link to the cloud editor.
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}
#: The config of the small plots (device cards): no toolbar over the curves (drag still zooms,
#: a double click resets).
SMALL_PLOT_CONFIG = {"displayModeBar": False}
#: Frequency ticks in the 1-2-5 steps engineers read, with "k" for kHz (a log axis left to
#: Plotly reads "2 5 100 2 5 1000").
FREQ_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
_MIX = "#1f77b4"
_REF = "#7f7f7f"
_REF_FILL = "rgba(127,127,127,0.25)"
_BANDS_X = [band.label for band in BROAD_BANDS]


#: Trace types the vendored plotly.js bundle draws (its basic partial bundle, see
#: ``analyzer/report/vendor/README.md``); a figure of any other type would not be drawn.
PLOTLY_TRACE_TYPES = frozenset({"scatter", "bar", "pie"})


@functools.cache
def plotly_js() -> str:
    """plotly.js, inlined so the page works offline: the official basic partial bundle shipped in
    ``analyzer/report/vendor`` (scatter, bar and pie; a quarter of the full bundle's size, which
    the browser compiles in about half the time)."""
    from importlib.resources import files

    js = files("analyzer.report").joinpath("vendor", "plotly-basic.min.js").read_text("utf-8")
    if "</script" in js.lower():  # would end the inline <script> early
        raise RuntimeError("plotly.js contains '</script'; cannot inline it safely")
    return js


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: strict (no NaN), ``<``, ``>``, ``&`` and the
    JavaScript line separators escaped, so ``</script>`` or ``<!--`` in any string stay inert."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(ch, esc)
    return text


def _layout(title: str, xtitle: str, ytitle: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "xaxis": {"title": {"text": xtitle}, "automargin": True},
        "yaxis": {"title": {"text": ytitle}, "automargin": True},
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "height": 320,
        "legend": {"orientation": "h", "y": -0.25},
        "template": None,
    }
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(layout.get(k), dict):
            layout[k] = {**layout[k], **v}
        else:
            layout[k] = v
    return layout


def _line(x: Sequence[Any], y: Sequence[Any], name: str, **kw: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name, **kw}


def _hline(x0: float, x1: float, y: float, name: str, color: str) -> dict[str, Any]:
    return _line([x0, x1], [y, y], name, line={"dash": "dash", "color": color, "width": 1})


def _freq_axis() -> dict[str, Any]:
    """A log frequency axis, 20 Hz-21 kHz, ticked at :data:`FREQ_TICKS_HZ`."""
    return {
        "type": "log", "range": [1.3, 4.32], "title": {"text": "frequency (Hz)"},
        "tickvals": list(FREQ_TICKS_HZ), "automargin": True,
        "ticktext": [f"{f // 1000}k" if f >= 1000 else str(f) for f in FREQ_TICKS_HZ],
    }  # fmt: skip


def _spectrum_figure(t: TrackView, ref_band: ReferenceSpectrum | None) -> dict[str, Any]:
    assert t.spectrum is not None
    data = []
    if ref_band:
        data += [
            _line(ref_band.hz, ref_band.p10, "references 10 %",
                  line={"width": 0, "color": _REF}, showlegend=False),
            _line(ref_band.hz, ref_band.p90, "references 10-90 %", fill="tonexty",
                  fillcolor=_REF_FILL, line={"width": 0, "color": _REF}),
            _line(ref_band.hz, ref_band.median, "references median",
                  line={"dash": "dash", "color": _REF}),
        ]  # fmt: skip
    data.append(_line(t.spectrum.hz, t.spectrum.db, "mix",
                      line={"color": _MIX, "width": 2}, connectgaps=False))  # fmt: skip
    return {
        "data": data,
        "layout": _layout("Spectrum, 1/6-octave smoothed (level-matched)", "",
                          f"dB re {t.spectrum.re}", xaxis=_freq_axis()),
    }  # fmt: skip


def _bands_figure(rows: Sequence[TonalRow] | Sequence[WidthRow], title: str) -> dict[str, Any]:
    """Mix per broad band as bars, the references' median and range as markers."""
    data = [{"type": "bar", "x": _BANDS_X, "y": [r.mix_db for r in rows],
             "name": "mix", "marker": {"color": _MIX}}]  # fmt: skip
    if any(r.median is not None for r in rows):
        data.append(_ref_markers(rows))
    return {"data": data, "layout": _layout(title, "", "dB")}


def _loudness_figure(ls: LoudnessSeries) -> dict[str, Any]:
    data, x_end = [], 0.0
    for s, name, color in ((ls.momentary, "momentary (400 ms)", "#9ecae1"),
                           (ls.short_term, "short-term (3 s)", _MIX)):  # fmt: skip
        if s:
            data.append(_line(s.t_s, s.values, name, line={"color": color}))
            x_end = max(x_end, s.t_s[-1])
    if ls.integrated_lufs is not None:
        data.append(_hline(0, x_end, ls.integrated_lufs, "integrated", "#2ca02c"))
    for tl in ls.targets:
        data.append(_hline(0, x_end, tl.lufs, f"target {tl.lufs:g} LUFS", "#d62728"))
    return {"data": data, "layout": _layout("Loudness over time", "time (s)", "LUFS")}


def _peaks_figure(ps: PeakSeries) -> dict[str, Any]:
    data = []
    if ps.true_peak_3s:
        s = ps.true_peak_3s
        data.append(_line(s.t_s, s.values, "true peak per 3 s (dBTP)",
                          line={"color": "#d62728"}))  # fmt: skip
    if ps.psr:
        s = ps.psr
        data.append(_line(s.t_s, s.values, "PSR (dB)", yaxis="y2",
                          line={"color": "#9467bd"}))  # fmt: skip
    return {
        "data": data,
        "layout": _layout(
            "True peak and PSR over time", "time (s)", "dBTP",
            # A right-hand axis needs its own margin: its tick labels and title sit outside.
            yaxis2={"title": {"text": "PSR (dB)", "standoff": 8}, "overlaying": "y",
                    "side": "right", "automargin": True, "tickmode": "auto",
                    "showgrid": False},
            margin={"r": 70},
        ),
    }  # fmt: skip


def _correlation_figure(s: SeriesView) -> dict[str, Any]:
    return {
        "data": [_line(s.t_s, s.values, "correlation (400 ms, lowest)", line={"color": _MIX})],
        "layout": _layout("Stereo correlation over time", "time (s)", "r",
                          yaxis={"range": [-1.05, 1.05]}),
    }  # fmt: skip


#: Short labels of the located findings on the time plots, and the plots each one marks.
_MARK_LABEL = {
    "true_peak_over_0": "true peak",
    "true_peak_over_minus_1": "true peak",
    "intersample_overs": "overs",
    "clipped_runs": "first clip",
    "plr_low": "loudest 3 s",
    "correlation_negative": "lowest r",
}
_MARK_PLOTS = {
    "loudness": set(_MARK_LABEL) - {"correlation_negative"},
    "peaks": set(_MARK_LABEL) - {"correlation_negative"},
    "correlation": {"correlation_negative"},
}


def _marked(fig: dict[str, Any], findings: Sequence[TrackFinding], plot: str) -> dict[str, Any]:
    """``fig`` with a dotted vertical line and a label at each located finding that belongs on
    this plot (findings at the same time share one line)."""
    at: dict[float, list[str]] = {}
    for f in findings:
        if f.at_s is not None and f.code in _MARK_PLOTS[plot]:
            labels = at.setdefault(round(f.at_s, 2), [])
            if _MARK_LABEL[f.code] not in labels:
                labels.append(_MARK_LABEL[f.code])
    if not at:
        return fig
    colour = "#d62728"
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
               "line": {"color": colour, "dash": "dot", "width": 1}} for t in at]  # fmt: skip
    notes = [{"x": t, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
              "showarrow": False, "text": ", ".join(labels),
              "font": {"size": 10, "color": colour}} for t, labels in at.items()]  # fmt: skip
    fig["layout"] = {**fig["layout"], "shapes": shapes, "annotations": notes}
    return fig


def _track_figures(
    i: int, t: TrackView, ref_band: ReferenceSpectrum | None
) -> dict[str, dict[str, Any]]:
    """The figures of track ``i``, keyed by the element id the template gives each plot."""
    figs: dict[str, dict[str, Any]] = {}
    if t.spectrum:
        figs[f"spectrum-{i}"] = _spectrum_figure(t, ref_band)
    if t.tonal_balance:
        figs[f"tonal-{i}"] = _bands_figure(
            t.tonal_balance, "Tonal balance (dB relative to the track's own total)"
        )
    if t.loudness_series:
        figs[f"loudness-{i}"] = _marked(_loudness_figure(t.loudness_series), t.findings,
                                        "loudness")  # fmt: skip
    if t.peak_series:
        figs[f"peaks-{i}"] = _marked(_peaks_figure(t.peak_series), t.findings, "peaks")
    if t.stereo:
        if t.stereo.correlation_series:
            figs[f"correlation-{i}"] = _marked(
                _correlation_figure(t.stereo.correlation_series), t.findings, "correlation"
            )
        figs[f"width-{i}"] = _bands_figure(t.stereo.width, "Width per band (side / mid)")
    return figs


def _device_figure(d: DeviceView) -> dict[str, Any]:
    if d.curve:
        return _device_curve(d.curve)
    data = [{"type": "bar", "x": _BANDS_X, "y": [r.mix_db for r in d.tonal],
             "name": "mix", "marker": {"color": _MIX}}]  # fmt: skip
    if any(r.ref_db is not None for r in d.tonal):
        data.append({"type": "bar", "x": _BANDS_X, "y": [r.ref_db for r in d.tonal],
                     "name": "references (median)", "marker": {"color": _REF}})  # fmt: skip
    return {
        "data": data,
        "layout": _layout("", "", "dB re total", height=220, barmode="group",
                          margin={"t": 10, "b": 60}),
    }  # fmt: skip


def figures(view: ReportView) -> dict[str, dict[str, Any]]:
    """Plotly figures (plain ``{"data", "layout"}`` dicts) keyed by the element id the template
    gives each plot; only for the sections present."""
    figs: dict[str, dict[str, Any]] = {}
    comp = view.comparison
    for i, t in enumerate(view.tracks):
        figs.update(_track_figures(i, t, comp.reference_spectrum if comp and i == 0 else None))
    if view.translation:
        devices = view.translation.devices
        y_range = _shared_range([v for d in devices for v in _device_values(d)])
        for j, d in enumerate(devices):
            fig = _device_figure(d)
            if y_range is not None:  # one scale: the cards compare at a glance
                fig["layout"]["yaxis"] = {**fig["layout"]["yaxis"], "range": y_range}
            figs[f"device-{j}"] = {**fig, "config": SMALL_PLOT_CONFIG}
    master = view.master
    if master and master.response:
        r = master.response
        measured = master.engine == "matchering"  # Matchering's EQ, measured on the master
        name = "Matchering's EQ (measured)" if measured else "proposed EQ"
        figs["master-eq"] = {
            "data": [_line(r.hz, r.db, name, line={"color": _MIX, "width": 2})],
            "layout": _layout("Matchering's EQ, measured (master minus mix, level-matched)"
                              if measured else "Proposed EQ curve", "", "dB",
                              xaxis=_freq_axis()),
        }  # fmt: skip
    if master and len(view.tracks) > 1 and view.tracks[0].spectrum:
        figs["master-spectra"] = _master_spectra(view)
    if view.batch and view.batch.tracks:
        figs["batch-loudness"] = _batch_loudness(view.batch.tracks)
    # A chart with nothing to draw (a silent track's spectrum, the width of identical channels)
    # is left out; the page says why in its place (the template's ``plot`` macro).
    return {k: f for k, f in figs.items() if _drawable(f)}


def _drawable(fig: dict[str, Any]) -> bool:
    """Whether any trace of ``fig`` has a point with a finite value to draw."""
    return any(any(finite(v) is not None for v in trace.get("y") or ()) for trace in fig["data"])


#: The deepest a shared level axis goes below its highest value: a device's roll-off further
#: down is inaudible beside the rest, and a deeper axis flattens every curve on it.
SHARED_SPAN_DB = 60.0


def _shared_range(values: Sequence[float | None], step_db: float = 5.0) -> list[float] | None:
    """One y-range, on ``step_db`` steps, that holds every finite value down to
    :data:`SHARED_SPAN_DB` under the highest; ``None`` when there is none."""
    import math

    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None
    lo = math.floor(max(min(finite), max(finite) - SHARED_SPAN_DB) / step_db) * step_db
    hi = math.ceil(max(finite) / step_db) * step_db
    return [lo, hi if hi > lo else lo + step_db]


def _device_values(d: DeviceView) -> list[float | None]:
    """Every value a device card draws (curve or bars)."""
    if d.curve:
        return [*d.curve.mix, *(d.curve.ref_median or ())]
    return [v for r in d.tonal for v in (r.mix_db, r.ref_db)]


#: The batch chart's bars rise from this far below the quietest track (rounded down to 5 LU):
#: the loudest track has the longest bar and the differences stay readable.
BATCH_FLOOR_BELOW_LU = 6.0


def _batch_loudness(rows: Sequence[BatchTrackRow]) -> dict[str, Any]:
    """Integrated loudness per track as bars rising from a floor under the quietest track."""
    import math

    lufs = [r.integrated_lufs for r in rows]
    known = [v for v in lufs if v is not None]
    floor = 5.0 * math.floor((min(known) - BATCH_FLOOR_BELOW_LU) / 5.0) if known else -60.0
    top = max(known) + 1.0 if known else 0.0
    bars = {"type": "bar", "x": [f"{k + 1}" for k in range(len(rows))],
            "y": [None if v is None else round(v - floor, 2) for v in lufs], "base": floor,
            "customdata": lufs, "hovertemplate": "track %{x}: %{customdata:.1f} LUFS",
            "name": "integrated", "marker": {"color": _MIX}}  # fmt: skip
    return {"data": [bars], "layout": _layout("Integrated loudness per track", "track", "LUFS",
                                              xaxis={"type": "category"},
                                              yaxis={"range": [floor, top]})}  # fmt: skip


def _master_spectra(view: ReportView) -> dict[str, Any]:
    """The mix before and the master after (each re its own loudness), over the references'
    median and 10-90 % band when there are references."""
    before, after = view.tracks[0].spectrum, view.tracks[1].spectrum
    assert before is not None
    ref = view.comparison.reference_spectrum if view.comparison else None
    data = []
    if ref:
        data += [
            _line(ref.hz, ref.p10, "references 10 %", line={"width": 0, "color": _REF},
                  showlegend=False),
            _line(ref.hz, ref.p90, "references 10-90 %", fill="tonexty", fillcolor=_REF_FILL,
                  line={"width": 0, "color": _REF}),
            _line(ref.hz, ref.median, "references median", line={"dash": "dash", "color": _REF}),
        ]  # fmt: skip
    data.append(_line(before.hz, before.db, "before (mix)", line={"color": "#ff7f0e"}))
    if after:
        data.append(_line(after.hz, after.db, "after (master)", line={"color": _MIX, "width": 2}))
    title = "Spectrum before and after, 1/6 octave (level-matched)"
    y_range = _shared_range([*before.db, *(after.db if after else ())])
    return {"data": data, "layout": _layout(title, "", f"dB re {before.re}", xaxis=_freq_axis(),
                                            yaxis={"range": y_range})}  # fmt: skip


def _device_curve(curve: DeviceCurve) -> dict[str, Any]:
    """The level-matched 1/3-octave curve through one device: the mix and the references'
    median."""
    data = []
    if curve.ref_median:
        data.append(_line(curve.hz, curve.ref_median, "references (median)",
                          line={"dash": "dash", "color": _REF}))  # fmt: skip
    data.append(_line(curve.hz, curve.mix, "mix", line={"color": _MIX, "width": 2}))
    return {
        "data": data,
        "layout": _layout("", "", "dB re total", height=240, margin={"t": 10, "b": 40},
                          xaxis={**_freq_axis(), "title": {"text": ""}}, legend={"y": -0.2}),
    }  # fmt: skip


def _ref_markers(rows: Sequence[TonalRow] | Sequence[WidthRow]) -> dict[str, Any]:
    """The references' median with their 10-90 % range as error bars."""
    med = [r.median for r in rows]
    up = [None if m is None or r.p90 is None else round(r.p90 - m, 3)
          for m, r in zip(med, rows, strict=True)]  # fmt: skip
    down = [None if m is None or r.p10 is None else round(m - r.p10, 3)
            for m, r in zip(med, rows, strict=True)]  # fmt: skip
    return {
        "type": "scatter", "mode": "markers", "x": _BANDS_X, "y": med,
        "name": "references median (10-90 %)",
        "marker": {"color": "#ff7f0e", "size": 10, "symbol": "line-ew-open",
                   "line": {"width": 3, "color": "#ff7f0e"}},
        "error_y": {"type": "data", "symmetric": False, "array": up, "arrayminus": down,
                    "color": "#ff7f0e"},
    }  # fmt: skip


@functools.cache
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer.report", "templates"),
        autoescape=True,  # every file name, tag and message is data, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # One number formatter for every report (no "-0.0"; a correlation keeps two decimals).
    env.filters["number"] = number
    env.globals["metric_decimals"] = metric_decimals
    return env


def render_html(view: ReportView, *, listen: ListenSet | None = None) -> str:
    """The report as one self-contained HTML document; with ``listen``, the player section
    (:mod:`analyzer.report.listen_html`)."""
    figs = figures(view)
    template = _environment().get_template("report.html.j2")
    listening = None
    if listen is not None and listen.clips:
        from analyzer.report.listen_html import listen_context

        listening = listen_context(listen)
    return template.render(
        view=view,
        figures=figs,
        figures_json=script_json({"config": PLOT_CONFIG, "figures": figs}),
        plotly_js=plotly_js(),
        listen=listening,
    )


def write_html(
    path: str, view: ReportView, *, force: bool = False, listen: ListenSet | None = None
) -> None:
    """Render ``view`` and write it atomically; refuses to replace a file unless ``force``."""
    from analyzer.io import write_text_atomic

    write_text_atomic(path, render_html(view, listen=listen), force=force)
