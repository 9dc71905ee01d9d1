"""Errors a user can cause, each with its exit code.

Only the CLI turns an :class:`AnalyzerError` into a message and an exit code;
nothing below it prints.

Exit codes (documented in the README):

====  ==========================================================
0     success
1     internal bug (an unexpected exception; please report it)
2     usage error (bad option or argument)
3     bad audio input (missing, unreadable, unsupported, truncated, empty, NaN/Inf)
4     output problem (exists without ``--force``, cannot be written, a non-finite or silent master)
5     a ``--fail-on`` check failed; a ``master`` verification check failed (after writing)
====  ==========================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_OUTPUT = 4
EXIT_CHECK_FAILED = 5


class AnalyzerError(Exception):
    """Base of every error a user can cause. ``slug`` is a stable machine-readable cause."""

    exit_code: int = EXIT_INTERNAL
    slug: str = "error"

    def __init__(self, message: str, *, slug: str | None = None) -> None:
        super().__init__(message)
        if slug is not None:
            self.slug = slug

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.slug


class UsageError(AnalyzerError):
    """A bad option or argument (exit 2)."""

    exit_code = EXIT_USAGE
    slug = "usage"


class AudioLoadError(AnalyzerError):
    """The file cannot be opened or decoded: missing, a directory, unreadable, unsupported,
    truncated or corrupt (exit 3)."""

    exit_code = EXIT_BAD_INPUT
    slug = "unreadable"


class InvalidAudioError(AnalyzerError):
    """The file decodes but its content cannot be measured: no frames, NaN/Inf samples (exit 3)."""

    exit_code = EXIT_BAD_INPUT
    slug = "invalid"


class OutputError(AnalyzerError):
    """An output cannot be written, or exists and ``--force`` was not given (exit 4)."""

    exit_code = EXIT_OUTPUT
    slug = "output"


class CheckFailedError(AnalyzerError):
    """A ``--fail-on`` threshold was crossed (exit 5)."""

    exit_code = EXIT_CHECK_FAILED
    slug = "check-failed"


class ProfileError(AnalyzerError):
    """A profile cannot be used: not found, malformed, a newer schema, other analysis settings,
    a bad profile name, or no audio files to build from (exit 2)."""

    exit_code = EXIT_USAGE
    slug = "profile"


class MatcheringError(AnalyzerError):
    """Matchering refused the pair: too short, identical, silent, ... (exit 3: the input)."""

    exit_code = EXIT_BAD_INPUT
    slug = "matchering"


class CacheError(AnalyzerError):
    """The result cache database cannot be opened or used (exit 4 if it ever reached the CLI;
    the batch runner catches it and goes on without the cache, with a note)."""

    exit_code = EXIT_OUTPUT
    slug = "cache"


class ReferencesFailedError(AudioLoadError):
    """References of a ``batch`` that could not be measured (exit 3): the message names the last
    one, ``earlier`` holds the messages of the others (the CLI shows them first)."""

    def __init__(self, message: str, *, earlier: tuple[str, ...] = (), slug: str | None = None):
        super().__init__(message, slug=slug)
        self.earlier = earlier
