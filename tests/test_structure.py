"""The shape of the package, checked on its source (AST): module and function sizes, no private
name imported across modules, and only ``analyzer.io`` touching soundfile or soxr. The import
layers themselves are import-linter's contract in ``pyproject.toml`` (``lint-imports``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analyzer"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80
#: A function longer than MAX_FUNCTION_LINES says why in its docstring with these words.
LONG_FUNCTION_MARK = "DSP kernel"
AUDIO_LIBRARIES = ("soundfile", "soxr")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(tree: ast.Module) -> list[tuple[int, str]]:
    """``(line, module)`` of every import, at any depth (function-level imports count)."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def test_the_package_is_found() -> None:
    assert len(_modules()) > 20


def test_no_module_over_500_lines() -> None:
    long = [
        f"{_name(p)}: {n} lines"
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "modules over 500 lines:\n" + "\n".join(long)


def test_no_function_over_80_lines_unless_a_dsp_kernel() -> None:
    long = []
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            lines = (node.end_lineno or node.lineno) - start + 1
            doc = ast.get_docstring(node) or ""
            if lines > MAX_FUNCTION_LINES and LONG_FUNCTION_MARK not in doc:
                long.append(f"{_name(path)}:{node.lineno} {node.name}(): {lines} lines")
    assert not long, "functions over 80 lines (not a 'DSP kernel'):\n" + "\n".join(long)


def test_no_private_name_imported_across_modules() -> None:
    private = []
    for path in _modules():
        for node in ast.walk(_tree(path)):
            if not isinstance(node, ast.ImportFrom) or node.level != 0 or not node.module:
                continue
            if node.module != "analyzer" and not node.module.startswith("analyzer."):
                continue
            for alias in node.names:
                is_dunder = alias.name.startswith("__") and alias.name.endswith("__")
                if alias.name.startswith("_") and not is_dunder:
                    private.append(f"{_name(path)}:{node.lineno} {node.module}.{alias.name}")
    assert not private, "private names imported from another module:\n" + "\n".join(private)


def test_only_analyzer_io_imports_soundfile_or_soxr() -> None:
    found = []
    for path in _modules():
        if path.relative_to(PACKAGE).parts[0] == "io":
            continue
        for line, module in _imported_modules(_tree(path)):
            if module.split(".")[0] in AUDIO_LIBRARIES:
                found.append(f"{_name(path)}:{line} imports {module}")
    assert not found, "soundfile/soxr outside analyzer/io:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expect"),
    [
        ("from analyzer.x import _hidden\n", 1),
        ("from analyzer import __version__\nfrom os import _exit\n", 0),
    ],
)
def test_the_private_import_rule_itself(source: str, expect: int) -> None:
    tree = ast.parse(source)
    hits = [
        a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("analyzer")
        for a in n.names
        if a.name.startswith("_") and not a.name.endswith("__")
    ]
    assert len(hits) == expect
