"""The XDG rule for the user's folders, and the shipped profiles inside the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.paths import config_dir, shipped_profiles, user_dir, user_profiles_dir


@pytest.mark.parametrize("kind", ["config", "cache"])
def test_user_dir_precedence(kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(f"XDG_{kind.upper()}_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(f"MIXANALYZER_{kind.upper()}_DIR", str(tmp_path / "own"))
    assert user_dir(kind) == tmp_path / "own"
    monkeypatch.delenv(f"MIXANALYZER_{kind.upper()}_DIR")
    assert user_dir(kind) == tmp_path / "xdg" / "mixanalyzer"
    monkeypatch.delenv(f"XDG_{kind.upper()}_HOME")
    assert user_dir(kind) == tmp_path / "home" / f".{kind}" / "mixanalyzer"


def test_user_profiles_live_in_the_config_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MIXANALYZER_CONFIG_DIR", str(tmp_path))
    assert user_profiles_dir() == config_dir() / "profiles" == tmp_path / "profiles"


def test_shipped_profiles_are_package_data() -> None:
    names = {p.name for p in shipped_profiles().iterdir() if p.name.endswith(".json")}
    assert {"electronic.json", "orchestral.json", "ambient.json", "acoustic-band.json"} <= names
