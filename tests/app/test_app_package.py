"""``analyzer.app`` imports its use cases on first use (PEP 562): a command pays only for its
own (``analyze`` does not import the translation, the master or the watch loop)."""

from __future__ import annotations

import importlib
import subprocess
import sys


def test_every_name_resolves_to_its_module() -> None:
    """``__all__``, the table of homes and the modules agree: a name added to one list only,
    or moved to another module, fails here rather than at a user's first run."""
    import analyzer.app as app

    assert sorted(app.__all__) == sorted(app._HOME)
    for name, home in app._HOME.items():
        module = importlib.import_module(f"analyzer.app.{home}")
        assert getattr(app, name) is getattr(module, name)
    assert set(app.__all__) <= set(dir(app))


def test_unknown_names_are_attribute_errors() -> None:
    import analyzer.app as app

    try:
        app.no_such_use_case  # noqa: B018
    except AttributeError as exc:
        assert "no_such_use_case" in str(exc)
    else:  # pragma: no cover - the assertion is the test
        raise AssertionError("expected AttributeError")


def test_the_analysis_use_case_imports_no_other() -> None:
    code = (
        "import sys; from analyzer.app import analyze, AnalyzeSettings; "
        "print(sorted(m for m in sys.modules if m.startswith('analyzer.app.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(eval(out.stdout))
    for other in ("translating", "mastering_run", "watching", "demo_run", "batch_run"):
        assert f"analyzer.app.{other}" not in loaded, loaded
