"""The last line of defence of a master: a file with NaN or infinite samples, or one that is all
zero (digital silence, or nothing but dither), is refused before it gets its name (exit 4) and
the temporary file is removed. A silent or non-finite *input* is refused before any work
(exit 3); this catches a chain that would produce one anyway."""

from __future__ import annotations

import numpy as np

from analyzer.errors import OutputError
from analyzer.io import display_path


class MasterGuard:
    """Fed every block as it is written: ``block(y, values)`` with the chain's float output
    ``y`` and the quantised samples ``values``; ``finish()`` before the rename."""

    def __init__(self, out_path: str) -> None:
        self.out_path = out_path
        self.signal = False  # the chain put out a non-zero sample
        self.written = False  # and a non-zero sample survived quantisation

    def block(self, y: np.ndarray, values: np.ndarray) -> None:
        if not np.isfinite(y).all():
            raise OutputError(
                f"{display_path(self.out_path)}: the master would hold NaN or infinite samples: "
                "not written (please report it)",
                slug="non-finite-master",
            )
        self.signal = self.signal or bool(np.any(y != 0.0))
        self.written = self.written or bool(np.any(values != 0.0))

    def finish(self) -> None:
        if not (self.signal and self.written):
            raise OutputError(
                f"{display_path(self.out_path)}: the master would be silent (all zero): not "
                "written",
                slug="silent-master",
            )
