"""Anchor for the mastering benchmark: Matchering alone (no mixanalyzer in the process) matching
TARGET to REFERENCE and writing a 24-bit WAV, as in its README.

    python benchmarks/_anchor_matchering.py TARGET REFERENCE OUT
"""

from __future__ import annotations

import sys

import matchering as mg

if __name__ == "__main__":
    target, reference, out = sys.argv[1:4]
    mg.process(target=target, reference=reference, results=[mg.pcm24(out)])
