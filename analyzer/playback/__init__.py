"""Playback-system simulation: device models as data (:mod:`analyzer.playback.devices`),
translation metrics from the one-pass band spectra (:mod:`analyzer.playback.translate`) and
time-domain rendering of what each device plays (:mod:`analyzer.playback.render`).
"""
