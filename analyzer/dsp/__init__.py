"""Pure DSP primitives over numpy arrays: no I/O, no printing."""
