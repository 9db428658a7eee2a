"""Lazy access to the optional Pythia 8 bindings (``pythia8mc``)."""

from __future__ import annotations

import importlib
from types import ModuleType

from hepviz.errors import MissingDependencyError

INSTALL_HINT = "pip install -r requirements-generate.txt"


def load_pythia() -> ModuleType:
    """Import ``pythia8mc``, or raise MissingDependencyError naming the install."""
    try:
        return importlib.import_module("pythia8mc")
    except ImportError as exc:
        raise MissingDependencyError(
            "Generating events needs Pythia 8 (the 'pythia8mc' package), which is "
            f"not installed ({exc}). Install it with `{INSTALL_HINT}`, or use the "
            "bundled sample in data/."
        ) from exc
