"""The report as typed data (:mod:`analyzer.report.view.model`): what people see, built once
from the result types and shared by the HTML report, its plots and the terminal (tonal bars,
findings). Nothing here measures, formats for a medium or prints."""

from analyzer.report.view.batch import batch_view, batch_view_for
from analyzer.report.view.build import VIEW_VERSION, build_view, findings_of
from analyzer.report.view.comparison import comparison_view, translation_view
from analyzer.report.view.master import master_view, master_view_for
from analyzer.report.view.model import (
    BatchView,
    ComparisonView,
    Finding,
    MasterView,
    MetricRow,
    ReportView,
    TrackView,
    TranslationView,
)
from analyzer.report.view.track import MAX_SERIES_POINTS, decimate, platform_rows, track_view

__all__ = [
    "MAX_SERIES_POINTS",
    "VIEW_VERSION",
    "BatchView",
    "ComparisonView",
    "Finding",
    "MasterView",
    "MetricRow",
    "ReportView",
    "TrackView",
    "TranslationView",
    "batch_view",
    "batch_view_for",
    "build_view",
    "comparison_view",
    "decimate",
    "findings_of",
    "master_view",
    "master_view_for",
    "platform_rows",
    "track_view",
    "translation_view",
]
