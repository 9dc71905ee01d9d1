"""What a Dask worker runs besides the jobs; imported only with ``--scheduler`` (it imports
``distributed``, the optional ``[dask]`` extra)."""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin


class TuneWorker(WorkerPlugin):
    """:func:`analyzer.runtime.tune_process` on each worker at start-up, also on workers that
    join later. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``, so every block-sized
    temporary is handed back to the kernel and faulted in again: measured here, the analysis
    ran about 2x slower on a LocalCluster without this."""

    def setup(self, worker: Any) -> None:
        from analyzer.runtime import tune_process

        tune_process()
