"""Coverage-guided fuzz target (atheris, libFuzzer) for the audio loader.

Each input is written to a file and opened with :func:`analyzer.io.open_audio`; every block is
decoded and fed to a loudness and a true-peak meter. The only exceptions allowed are the
project's own :class:`~analyzer.errors.AnalyzerError` subclasses: anything else (an IndexError in
the header parser, a numpy error in a meter, ...) is a finding and stops the fuzzer with the
input saved as ``crash-*``.

Run (``pip install -e '.[fuzz]'``)::

    mkdir -p fuzz/corpus && python fuzz/fuzz_loader.py fuzz/corpus fuzz/seeds \
        -max_total_time=600 -max_len=8192 -rss_limit_mb=6144

``fuzz/seeds`` is made on first run (small valid WAV, RF64, AIFF, FLAC, W64 files); libFuzzer
grows ``fuzz/corpus`` from them. The process grows by about 30 KB per execution under atheris'
instrumentation (5.2 GB after 176,000 executions; libFuzzer's default 2 GB limit stops a run
after about 7 minutes with "out-of-memory"), while the same inputs without instrumentation stay
at 47 MB, so the limit is raised rather than the growth treated as a finding. For longer runs,
repeat 10-minute runs on the same corpus (each starts afresh and continues from the corpus).
Each run leaves its scratch folder ``mixanalyzer-fuzz-*`` (one small file) in ``$FUZZ_TMP`` or
/tmp: libFuzzer ends the process without running Python's exit handlers.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from analyzer.errors import AnalyzerError
    from analyzer.io import open_audio
    from analyzer.measure.loudness import LoudnessMeter
    from analyzer.measure.truepeak import TruePeakMeter

#: Decode at most this many frames per input: a valid header may declare hours of audio.
MAX_FRAMES = 1 << 18
#: libsndfile sniffs the format from the content, but a name helps it with headerless formats.
_SUFFIXES = (".wav", ".flac", ".aiff", ".ogg", ".raw")
_DIR = Path(tempfile.mkdtemp(prefix="mixanalyzer-fuzz-", dir=os.environ.get("FUZZ_TMP")))


def test_one_input(data: bytes) -> None:
    """libFuzzer's entry point: one input, any bytes."""
    if not data:
        return
    path = _DIR / f"input{_SUFFIXES[data[0] % len(_SUFFIXES)]}"
    path.write_bytes(data[1:])
    try:
        with open_audio(path) as src:
            info = src.info
            loud = LoudnessMeter(info.sample_rate_hz, info.channels)
            peak = TruePeakMeter(info.sample_rate_hz, info.channels)
            done = 0
            for block in src.blocks(4096, stop_frame=MAX_FRAMES):
                loud.feed(block)
                peak.feed(block)
                done += block.shape[1]
            loud.result()
            peak.result()
    except AnalyzerError:
        pass


def write_seeds(folder: Path) -> None:
    """Small valid files of every container the loader checks for truncation."""
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(2000) / 8000.0
    x = 0.5 * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1)
    for name, fmt, subtype in (
        ("pcm16.wav", "WAV", "PCM_16"), ("float.wav", "WAV", "FLOAT"),
        ("pcm24.rf64", "RF64", "PCM_24"), ("pcm16.aiff", "AIFF", "PCM_16"),
        ("pcm16.flac", "FLAC", "PCM_16"), ("pcm24.w64", "W64", "PCM_24"),
    ):  # fmt: skip
        target = folder / name
        if not target.exists():
            sf.write(target, x, 8000, format=fmt, subtype=subtype)
            # The first byte picks the suffix (see test_one_input): 0 is ".wav".
            target.write_bytes(b"\x00" + target.read_bytes())


def main() -> None:
    """Make the seeds (when a ``seeds`` folder is named on the command line), then fuzz."""
    for arg in sys.argv[1:]:
        if not arg.startswith("-") and Path(arg).name == "seeds":
            write_seeds(Path(arg))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
