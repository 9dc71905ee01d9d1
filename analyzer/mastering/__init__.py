"""Corrective mastering: the processors that turn a diagnosis into a fixed master (EQ moves,
the streaming true-peak limiter in :mod:`analyzer.mastering.limiter`)."""
