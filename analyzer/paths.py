"""Where the user's configuration lives (targets, profiles)."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_DIR_ENV = "MIXANALYZER_CONFIG_DIR"


def config_dir() -> Path:
    """The user's configuration folder: ``$MIXANALYZER_CONFIG_DIR``, else
    ``$XDG_CONFIG_HOME/mixanalyzer``, else ``~/.config/mixanalyzer``."""
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "mixanalyzer"
