"""The README's "Python API" section runs: its ```python blocks are executed in order, in one
namespace, in an empty folder (so the examples cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def api_blocks() -> list[str]:
    """The ```python blocks between ``## Python API`` and the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Python API\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_section_shows_every_use_case() -> None:
    code = "\n".join(api_blocks())
    for name in ("analyze", "compare", "translate", "propose", "master", "batch", "build_profile"):
        assert re.search(rf"\b{name}\(", code), name


def test_the_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MIXANALYZER_CACHE_DIR", str(tmp_path / "cache"))
    namespace: dict[str, object] = {"__name__": "readme"}
    for i, block in enumerate(api_blocks()):
        exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
    out = capsys.readouterr().out
    assert "LUFS" in out and (tmp_path / "mix.master.wav").is_file()
    assert (tmp_path / "mine.json").is_file()
