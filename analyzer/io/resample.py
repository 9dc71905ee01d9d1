"""Sample-rate conversion with soxr (libsoxr, "very high quality": a linear-phase polyphase
filter with 175 dB stop-band rejection), whole arrays or streamed block by block. Nothing in
mixanalyzer resamples silently: callers ask for it and say so in their notes."""

from __future__ import annotations

import numpy as np

QUALITY = "VHQ"


def resample(x: np.ndarray, from_rate_hz: int, to_rate_hz: int) -> np.ndarray:
    """``x`` (``(channels, frames)``) converted from ``from_rate_hz`` to ``to_rate_hz``."""
    import soxr

    data = np.asarray(x, dtype=np.float64)
    return np.ascontiguousarray(soxr.resample(data.T, from_rate_hz, to_rate_hz, quality=QUALITY).T)


class StreamResampler:
    """soxr's streaming resampler over ``(channels, frames)`` blocks: :meth:`feed` each block,
    then :meth:`flush` once for the filter's tail. Outputs may be empty (0 frames)."""

    def __init__(self, from_rate_hz: int, to_rate_hz: int, channels: int) -> None:
        import soxr

        self.channels = channels
        self._stream = soxr.ResampleStream(
            from_rate_hz, to_rate_hz, channels, dtype="float64", quality=QUALITY
        )

    def feed_frames(self, frames: np.ndarray) -> np.ndarray:
        """One block shaped ``(frames, channels)`` in, the converted ``(frames, channels)`` out
        (the layout libsndfile reads and writes)."""
        return self._stream.resample_chunk(np.ascontiguousarray(frames), last=False)

    def flush_frames(self) -> np.ndarray:
        """The remaining output, ``(frames, channels)``."""
        return self._stream.resample_chunk(np.zeros((0, self.channels)), last=True)

    def feed(self, block: np.ndarray) -> np.ndarray:
        """One ``(channels, frames)`` block in, the converted ``(channels, frames)`` out."""
        return np.ascontiguousarray(self.feed_frames(np.ascontiguousarray(block.T)).T)

    def flush(self) -> np.ndarray:
        """The remaining output, ``(channels, frames)``."""
        return np.ascontiguousarray(self.flush_frames().T)
