"""Small FFT helpers on top of numpy's pocketfft (scipy.fft is avoided on the hot path: importing
scipy.signal alone costs ~0.6 s of start-up)."""

from __future__ import annotations


def next_fast_len(n: int) -> int:
    """Smallest integer >= ``n`` whose only prime factors are 2, 3 and 5 (fast for pocketfft)."""
    if n <= 1:
        return 1
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best
