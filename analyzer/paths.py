"""Where mixanalyzer keeps the user's files, by the XDG Base Directory rules, and where the
package keeps the data it ships.

Every user folder follows one rule (:func:`user_dir`): ``$MIXANALYZER_<KIND>_DIR``, else
``$XDG_<KIND>_HOME/mixanalyzer``, else ``~/.<kind>/mixanalyzer`` (XDG Base Directory
Specification 0.8: ``~/.config`` and ``~/.cache`` are its defaults).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

APP_DIR_NAME = "mixanalyzer"
#: The package folder that holds the shipped genre profiles (``*.json``).
SHIPPED_PROFILES_PACKAGE = "analyzer.comparison.profile_data"


class UserDirError(Exception):
    """A user folder cannot be named: ``~user`` of no such user, or no home folder at all.
    (Not an :class:`analyzer.errors.AnalyzerError`: this module sits below that one; the CLI
    reports it as an output problem, exit 4.)"""


def user_dir(kind: str) -> Path:
    """The user's ``kind`` folder (``"config"`` or ``"cache"``): ``$MIXANALYZER_<KIND>_DIR``,
    else ``$XDG_<KIND>_HOME/mixanalyzer``, else ``~/.<kind>/mixanalyzer``."""
    name = f"MIXANALYZER_{kind.upper()}_DIR"
    env = os.environ.get(name)
    if env:
        try:
            path = Path(env).expanduser()
        except RuntimeError:  # ~user of no such user
            path = Path(env)
        if path.parts and path.parts[0].startswith("~"):
            raise UserDirError(f"${name}={env}: no such user's home folder")
        return path
    xdg = os.environ.get(f"XDG_{kind.upper()}_HOME")
    # "If an implementation encounters a relative path in any of these variables it should
    # consider the path invalid and ignore it" (XDG Base Directory Specification 0.8).
    base = Path(xdg) if xdg and os.path.isabs(xdg) else _home() / f".{kind}"
    return base / APP_DIR_NAME


def _home() -> Path:
    """The home folder (``$HOME``, else the password database); :class:`UserDirError` when
    neither gives one, instead of a RuntimeError."""
    try:
        return Path.home()
    except (RuntimeError, KeyError):
        raise UserDirError(
            "no home folder: set $HOME or $MIXANALYZER_CONFIG_DIR/_CACHE_DIR"
        ) from None


def config_dir() -> Path:
    """The user's configuration folder (targets, profiles): ``$MIXANALYZER_CONFIG_DIR``, else
    ``$XDG_CONFIG_HOME/mixanalyzer``, else ``~/.config/mixanalyzer``."""
    return user_dir("config")


def cache_dir() -> Path:
    """The user's cache folder (the batch result cache): ``$MIXANALYZER_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/mixanalyzer``, else ``~/.cache/mixanalyzer``."""
    return user_dir("cache")


def user_profiles_dir() -> Path:
    """Where the user's genre profiles live and ``reference build`` writes by default."""
    return config_dir() / "profiles"


def shipped_profiles() -> Traversable:
    """The genre profiles shipped inside the package (read with :mod:`importlib.resources`, so
    they are found from an installed wheel as from the source tree)."""
    return resources.files(SHIPPED_PROFILES_PACKAGE)
