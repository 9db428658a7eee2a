"""Exceptions a user may see.

Each subclasses the matching builtin (a missing branch is still a ``KeyError``), and
its message says what was expected, what was found and what to do next. Pages catch
``HepvizError`` and show its message; anything else is a bug and surfaces as one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class HepvizError(Exception):
    """Base class of every error whose message is meant for the user."""

    def __str__(self) -> str:  # KeyError would otherwise quote its message
        return str(self.args[0]) if self.args else ""


class UnreadableFileError(HepvizError, ValueError):
    """A file is not what its name says, is truncated, or cannot be parsed."""


class MissingBranchError(HepvizError, KeyError):
    """A recipe needs a branch (or column) the file does not have."""

    def __init__(self, missing: str, available: Iterable[str], where: str = "") -> None:
        available = list(available)
        close = difflib.get_close_matches(missing, available, n=5, cutoff=0.5)
        hint = f" Closest names: {', '.join(close)}." if close else ""
        place = f" in {where}" if where else ""
        super().__init__(
            f"Branch '{missing}' not found{place}.{hint} "
            f"Pick another branch or another feature recipe."
        )
        self.missing = missing
        self.closest = close


class EmptyDatasetError(HepvizError, ValueError):
    """A tree, file or selection holds no usable events."""


class DatasetError(HepvizError, ValueError):
    """A dataset cannot be used as asked (one class only, bad labels, ...)."""


class ConfigError(HepvizError, ValueError):
    """A model, training or feature setting is out of its allowed range."""


class RunNotFoundError(HepvizError, KeyError):
    """No run with this identifier exists in the run store."""


class MissingDependencyError(HepvizError, ImportError):
    """An optional package is needed; the message names the install command."""
