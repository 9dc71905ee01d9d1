"""A short stereo "mix" synthesised in code (drums, bass, chords), for ``mixanalyzer demo``
(the demo run itself is :func:`analyzer.app.run_demo`).

Deterministic (fixed seed), 48 kHz, 16 bars at 120 BPM (32 s). Nothing is downloaded or shipped.
:func:`synthesize_demo_mix` can add the faults a mix engineer meets: a dull top end, a weak low
end, too little level, and side signal in the lows (:data:`DEMO_FAULTS`);
:func:`synthesize_demo_reference` is the same arrangement balanced and mastered louder.
"""

from __future__ import annotations

import numpy as np

DEMO_SAMPLE_RATE_HZ = 48000
BPM = 120.0
BARS = 16


def _lowpass_response(f: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """First-order low-pass (a smooth enough tone control for synthesis)."""
    return 1.0 / (1.0 + 1j * f / cutoff_hz)


def _one_pole_lowpass(x: np.ndarray, cutoff_hz: float, fs: int) -> np.ndarray:
    """:func:`_lowpass_response` applied by FFT."""
    n = x.shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / fs)
    return np.fft.irfft(np.fft.rfft(x) * _lowpass_response(f, cutoff_hz), n=n)


LOW_SHELF_HZ = 180.0


def _low_shelf_response(f: np.ndarray, corner_hz: float, gain_db: float) -> np.ndarray:
    """First-order low shelf: ``gain_db`` well below ``corner_hz``, 0 dB well above."""
    g = 10 ** (gain_db / 20)
    s = 1j * f / (corner_hz * np.sqrt(g))  # corner placed so the shelf is centred on corner_hz
    return (g + s) / (1.0 + s)


def _place(track: np.ndarray, sound: np.ndarray, start: int) -> None:
    end = min(track.shape[-1], start + sound.shape[-1])
    if start < end:
        track[..., start:end] += sound[..., : end - start]


#: The faulty demo mix: top end rolled off from 4 kHz, lows shelved by -10 dB, side signal at
#: 80-110 Hz, peak at -8 dBFS (too quiet for streaming).
DEMO_FAULTS = {"top_cutoff_hz": 4000.0, "low_shelf_db": -10.0, "low_side": 0.3, "peak_dbfs": -8.0}


def synthesize_demo_reference(sample_rate_hz: int = DEMO_SAMPLE_RATE_HZ) -> np.ndarray:
    """The demo arrangement balanced (full bass, open top, mono lows) and mastered louder: a
    gentle tanh saturation before the peak is set to -1 dBFS."""
    mix = synthesize_demo_mix(sample_rate_hz, seed=11, bass_gain_db=1.0, hat_gain=1.4)
    driven = np.tanh(mix * 2.5)
    return driven * (10 ** (-1.0 / 20) / np.abs(driven).max())


def _add_drums(
    mix: np.ndarray, rng: np.random.Generator, fs: int, beat: int, hat_gain: float
) -> None:
    """Kick on every beat, snare on 2 and 4, hi-hats on the eighths (panned), added to ``mix``."""
    # Kick: pitch-swept sine with a fast decay.
    t = np.arange(int(0.35 * fs)) / fs
    kick = np.sin(2 * np.pi * (45 * t + 60 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 9)
    # Snare: tone plus filtered noise.
    t = np.arange(int(0.25 * fs)) / fs
    snare = 0.5 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    snare += 0.6 * _one_pole_lowpass(rng.standard_normal(t.size), 5000, fs) * np.exp(-t * 18)
    # Hi-hat: high-passed noise (noise minus its low-passed self).
    t = np.arange(int(0.06 * fs)) / fs
    noise = rng.standard_normal(t.size)
    hat = 0.25 * (noise - _one_pole_lowpass(noise, 7000, fs)) * np.exp(-t * 60)

    for b in range(BARS * 4):
        _place(mix, np.vstack([kick, kick]) * 0.9, b * beat)
        if b % 2 == 1:
            _place(mix, np.vstack([snare * 0.9, snare]) * 0.7, b * beat)
        for eighth in range(2):
            pan = 0.6 if eighth else 0.4
            _place(
                mix,
                np.vstack([hat * (1 - pan), hat * pan]) * 1.6 * hat_gain,
                b * beat + eighth * beat // 2,
            )


def _pad(chord: tuple[float, ...], t: np.ndarray) -> np.ndarray:
    """One bar of a detuned additive pad, ``(2, len(t))``."""
    left = np.zeros(t.size)
    right = np.zeros(t.size)
    for f in chord:
        for k, amp in ((1, 1.0), (2, 0.4), (3, 0.2), (4, 0.1)):
            left += amp * np.sin(2 * np.pi * f * k * 0.998 * t)
            right += amp * np.sin(2 * np.pi * f * k * 1.002 * t + 0.5)
    return np.vstack([left, right])


def synthesize_demo_mix(
    sample_rate_hz: int = DEMO_SAMPLE_RATE_HZ,
    seed: int = 7,
    *,
    top_cutoff_hz: float | None = None,
    bass_gain_db: float = 0.0,
    low_side: float = 0.0,
    low_shelf_db: float = 0.0,
    peak_dbfs: float = -1.0,
    hat_gain: float = 1.0,
) -> np.ndarray:
    """Return a ``(2, frames)`` float64 mix with its sample peak at ``peak_dbfs``.

    ``top_cutoff_hz`` rolls the whole mix off above that frequency (second order),
    ``bass_gain_db`` sets the bass line's level, ``low_side`` adds an anti-phase (side-only)
    voice at twice the bass root (80-110 Hz) at that fraction of the unchanged bass level, and
    ``hat_gain`` scales the hi-hats; ``low_shelf_db`` shelves the whole mix below
    :data:`LOW_SHELF_HZ` (a thin low end)."""
    fs = sample_rate_hz
    rng = np.random.default_rng(seed)
    beat = round(60.0 / BPM * fs)
    n = BARS * 4 * beat
    mix = np.zeros((2, n))

    _add_drums(mix, rng, fs, beat, hat_gain)

    # Bass: two-harmonic-rich notes following the chord roots, one note per beat.
    roots_hz = [55.0, 43.65, 49.0, 41.2]  # A1, F1, G1, E1
    t = np.arange(beat) / fs
    env = np.minimum(1.0, t * 200) * np.exp(-t * 3)
    bass = 0.45 * 10 ** (bass_gain_db / 20)
    # The four roots repeat: each note is computed once (the same samples every time).
    notes = {f0: sum(np.sin(2 * np.pi * f0 * k * t) / k**1.5 for k in range(1, 8)) * env
             for f0 in roots_hz}  # fmt: skip
    for b in range(BARS * 4):
        f0 = roots_hz[(b // 4) % 4]
        note = notes[f0]
        _place(mix, np.vstack([note, note]) * bass, b * beat)
        if low_side:
            side = np.sin(2 * np.pi * 2 * f0 * 1.003 * t) * env * 0.45 * low_side
            _place(mix, np.vstack([side, -side]), b * beat)

    # Chords: detuned additive pads, one chord per bar, wide stereo.
    chords = [(220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (196.0, 246.94, 293.66),
              (164.81, 207.65, 246.94)]  # fmt: skip
    bar = 4 * beat
    t = np.arange(bar) / fs
    env = np.minimum(1.0, t * 8) * np.minimum(1.0, (bar / fs - t) * 8)
    pads = [_pad(chord, t) for chord in chords]  # four chords, each bar of one is the same
    for i in range(BARS):
        _place(mix, pads[i % 4] * env * 0.12, i * bar)

    # Gentle fade-out over the last bar, then normalise the sample peak to -1 dBFS.
    mix -= mix.mean(axis=1, keepdims=True)  # the kick's pitch sweep leaves a little DC
    mix[:, -bar:] *= np.linspace(1.0, 0.0, bar)
    if low_shelf_db or top_cutoff_hz is not None:  # the tone faults: one FFT round trip
        f = np.fft.rfftfreq(n, 1.0 / fs)
        h = _low_shelf_response(f, LOW_SHELF_HZ, low_shelf_db) if low_shelf_db else 1.0
        if top_cutoff_hz is not None:
            h = h * _lowpass_response(f, top_cutoff_hz) ** 2  # second order: two poles
        mix = np.fft.irfft(np.fft.rfft(mix) * h, n=n)
    return mix * (10 ** (peak_dbfs / 20) / np.abs(mix).max())
