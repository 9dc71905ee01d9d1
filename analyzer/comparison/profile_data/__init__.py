"""The genre profiles shipped with mixanalyzer (``*.json``, data only), read with
:mod:`importlib.resources` through :func:`analyzer.paths.shipped_profiles`; rebuilt by
``references/build_profiles.py`` in the repository."""
