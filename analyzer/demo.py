"""A short stereo "mix" synthesised in code (drums, bass, chords), for ``mixanalyzer demo``.

Deterministic (fixed seed), 48 kHz, 16 bars at 120 BPM (32 s). Nothing is downloaded or shipped.
"""

from __future__ import annotations

import numpy as np

DEMO_SAMPLE_RATE_HZ = 48000
BPM = 120.0
BARS = 16


def _one_pole_lowpass(x: np.ndarray, cutoff_hz: float, fs: int) -> np.ndarray:
    """First-order low-pass by FFT (a smooth enough tone control for synthesis)."""
    n = x.shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / fs)
    return np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / cutoff_hz), n=n)


def _place(track: np.ndarray, sound: np.ndarray, start: int) -> None:
    end = min(track.shape[-1], start + sound.shape[-1])
    if start < end:
        track[..., start:end] += sound[..., : end - start]


def synthesize_demo_mix(sample_rate_hz: int = DEMO_SAMPLE_RATE_HZ, seed: int = 7) -> np.ndarray:
    """Return a ``(2, frames)`` float64 mix peaking near -1 dBFS."""
    fs = sample_rate_hz
    rng = np.random.default_rng(seed)
    beat = round(60.0 / BPM * fs)
    n = BARS * 4 * beat
    mix = np.zeros((2, n))

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
                mix, np.vstack([hat * (1 - pan), hat * pan]) * 1.6, b * beat + eighth * beat // 2
            )

    # Bass: two-harmonic-rich notes following the chord roots, one note per beat.
    roots_hz = [55.0, 43.65, 49.0, 41.2]  # A1, F1, G1, E1
    t = np.arange(beat) / fs
    env = np.minimum(1.0, t * 200) * np.exp(-t * 3)
    for b in range(BARS * 4):
        f0 = roots_hz[(b // 4) % 4]
        note = sum(np.sin(2 * np.pi * f0 * k * t) / k**1.5 for k in range(1, 8)) * env
        _place(mix, np.vstack([note, note]) * 0.45, b * beat)

    # Chords: detuned additive pads, one chord per bar, wide stereo.
    chords = [(220.0, 261.63, 329.63), (174.61, 220.0, 261.63), (196.0, 246.94, 293.66),
              (164.81, 207.65, 246.94)]  # fmt: skip
    bar = 4 * beat
    t = np.arange(bar) / fs
    env = np.minimum(1.0, t * 8) * np.minimum(1.0, (bar / fs - t) * 8)
    for i in range(BARS):
        left = np.zeros(bar)
        right = np.zeros(bar)
        for f in chords[i % 4]:
            for k, amp in ((1, 1.0), (2, 0.4), (3, 0.2), (4, 0.1)):
                left += amp * np.sin(2 * np.pi * f * k * 0.998 * t)
                right += amp * np.sin(2 * np.pi * f * k * 1.002 * t + 0.5)
        _place(mix, np.vstack([left, right]) * env * 0.06, i * bar)

    # Gentle fade-out over the last bar, then normalise the sample peak to -1 dBFS.
    mix -= mix.mean(axis=1, keepdims=True)  # the kick's pitch sweep leaves a little DC
    mix[:, -bar:] *= np.linspace(1.0, 0.0, bar)
    return mix * (10 ** (-1.0 / 20) / np.abs(mix).max())
