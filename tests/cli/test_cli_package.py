"""The shape of the command-line package: ``--version`` stays fast (no typer, rich or numpy),
a command does not pay for pydantic,
command modules never import each other or the app that registers them, and the one progress
factory handles stages, parallel files and file counts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import analyzer.cli

COMMANDS = Path(analyzer.cli.__file__).parent / "commands"


def _main_then(argv: list[str], check: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI's ``main`` with ``argv`` in a fresh interpreter, then the Python ``check``
    (an assertion on ``sys.modules``); the process must end with 0."""
    code = (
        f"import sys; sys.argv = ['mixanalyzer', *{argv!r}]\n"
        "from analyzer.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"{check}\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_version_imports_neither_typer_nor_rich_nor_numpy() -> None:
    proc = _main_then(["--version"], "heavy = [m for m in ('typer', 'rich', 'numpy') "
                      "if m in sys.modules]; assert not heavy, heavy")  # fmt: skip
    assert proc.stdout.startswith("mixanalyzer ")


def test_a_command_does_not_import_pydantic() -> None:
    """typer 0.29 made pydantic a dependency and imports it with every command (about 60 ms of
    pydantic in 130-155 ms of typer's adapters, measured on this project's machine): typer is
    kept below 0.29 in pyproject.toml, and this fails if something brings it back."""
    _main_then(["schema"], "assert 'typer' in sys.modules and 'pydantic' not in sys.modules")


def test_command_modules_import_no_other_command_nor_the_app() -> None:
    for path in COMMANDS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("analyzer.cli.commands."), (path.name, name)
                assert name != "analyzer.cli.app", (path.name, name)


def test_every_verb_is_registered() -> None:
    from typer.main import get_command

    from analyzer.cli.app import app

    verbs = set(get_command(app).commands)  # type: ignore[attr-defined]
    assert verbs == {"analyze", "compare", "translate", "master", "reference", "batch", "cache",
                     "demo", "schema", "watch"}  # fmt: skip


def test_the_progress_factory() -> None:
    from analyzer.cli.progress import progress_bar

    with progress_bar(False) as bar:
        assert bar is None
    with progress_bar(True) as bar:
        assert bar is not None
        bar.step("analysing a.wav", 10, 100)
        bar.step("analysing b.wav", 50, 100)  # two files at once: two bars
        assert len(bar._tasks) == 2
        bar.step("analysing a.wav", 100, 100)
        bar.step("analysing b.wav", 100, 100)
        assert not bar._tasks and bar._live is None  # all done: the display is gone
    with progress_bar(True, files=True) as bar:
        assert bar is not None
        bar.file(1, 3, "a.wav")
        bar.file(2, 3, "b.wav")
        assert len(bar._tasks) == 1
