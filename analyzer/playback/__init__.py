"""Playback-system simulation: device models as data (:mod:`analyzer.playback.devices`) and
translation metrics computed from the one-pass band spectra (:mod:`analyzer.playback.translate`).
Time-domain rendering (``--render``) is still to come.
"""
