"""Dataclass settings that round-trip through the JSON saved with each run."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

from hepviz.errors import ConfigError

T = TypeVar("T", bound="Settings")


class Settings:
    """Mixin for settings dataclasses: ``to_dict`` and a strict ``from_dict``."""

    kind: ClassVar[str] = "settings"  # named in error messages, e.g. "model"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], d: dict) -> T:
        """Build from a dict as saved with a run; unknown keys raise ConfigError."""
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(
                f"Unknown {cls.kind} settings: {', '.join(unknown)}. "
                f"Known settings: {', '.join(sorted(known))}."
            )
        return cls(**d)
