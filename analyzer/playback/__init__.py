"""Playback-system simulation: device models as data (:mod:`analyzer.playback.devices`).

Rendering and translation metrics (issue 5) build on these models and are not written yet.
"""
