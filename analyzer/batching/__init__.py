"""Many files at once: the job runner (local pool or Dask), its workers and the result cache."""
