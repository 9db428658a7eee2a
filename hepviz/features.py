"""Declarative feature recipes: from jagged event branches to flat float64 columns.

A Recipe is a tuple of Features, each naming its kind and input branches. It applies
to one chunk of events at a time, so it runs on a whole small file or chunk by chunk
on a large one. The k-th object is taken with numpy on the list offsets, which is
about 3.8x faster than ``ak.pad_none`` + ``ak.fill_none`` (see PERFORMANCE.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepviz.errors import ConfigError, MissingBranchError

logger = logging.getLogger(__name__)

# kind -> number of input branches
KINDS = {
    "value": 1,
    "count": 1,
    "nth": 1,
    "magnitude": 2,
    "nth_magnitude": 2,
    "sum": 1,
}

NANOAOD_BRANCHES = ("MET_pt", "Muon_pt")
TUTORIAL_BRANCHES = ("MET_px", "MET_py", "Muon_Px", "Muon_Py")
# A flat table (CSV, Parquet) that already holds the four features by name.
FLAT_COLUMNS = ("met", "n_muons", "muon1_pt", "muon2_pt")


@dataclass(frozen=True)
class Feature:
    """One output column.

    Args:
        name: column name, e.g. "muon1_pt".
        kind: "value" (scalar branch), "count" (objects per event, from a jagged
            branch or a scalar counter), "nth" (index-th object by descending value
            when the branch is a pt, else in stored order), "magnitude" (hypot of
            two scalar branches, e.g. MET from MET_px, MET_py), "nth_magnitude"
            (index-th object by descending hypot of two jagged branches, e.g. muon
            pt from Muon_Px, Muon_Py), "sum" (per-event sum, e.g. HT).
        branches: the input branch names (one, or two for magnitudes).
        index: which object for "nth" kinds; 0 is the leading one.
        fill: value when the event has fewer than index + 1 objects.
    """

    name: str
    kind: str
    branches: tuple[str, ...]
    index: int = 0
    fill: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(
                f"Feature {self.name!r} has kind {self.kind!r}; expected one of "
                f"{', '.join(KINDS)}."
            )
        if len(self.branches) != KINDS[self.kind]:
            raise ConfigError(
                f"Feature {self.name!r} of kind {self.kind!r} needs "
                f"{KINDS[self.kind]} branch(es), got {len(self.branches)}."
            )
        if self.index < 0:
            raise ConfigError(f"Feature {self.name!r}: index must be 0 or more.")


@dataclass(frozen=True)
class Recipe:
    """An ordered set of Features applied together to chunks of events."""

    features: tuple[Feature, ...]
    name: str = "custom"

    def branches(self) -> list[str]:
        """The branches to read, each once, in order of first use."""
        return list(dict.fromkeys(b for f in self.features for b in f.branches))

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def apply(self, arrays: ak.Array) -> dict[str, np.ndarray]:
        """Compute every feature of one chunk as float64 columns (n_events,)."""
        fields = list(arrays.fields)
        for b in self.branches():
            if b not in fields:
                raise MissingBranchError(b, fields, f"the arrays given to {self.name}")
        return {f.name: _compute(f, arrays) for f in self.features}


# Jagged helpers ----------------------------------------------------------------------


def _lists(array: ak.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(starts, stops, flat numeric content) of a jagged array, or None if it is not
    a plain list of numbers (e.g. it has missing values)."""
    layout = ak.to_layout(array)
    if isinstance(layout, ak.contents.ListOffsetArray):
        offsets = np.asarray(layout.offsets.data)
        starts, stops = offsets[:-1], offsets[1:]
    elif isinstance(layout, ak.contents.ListArray):
        starts, stops = np.asarray(layout.starts.data), np.asarray(layout.stops.data)
    elif isinstance(layout, ak.contents.RegularArray):
        starts = np.arange(layout.length) * layout.size
        stops = starts + layout.size
    else:
        return None
    if not isinstance(layout.content, ak.contents.NumpyArray):
        return None
    return starts, stops, np.asarray(layout.content.data)


def _is_jagged(array: ak.Array) -> bool:
    return array.ndim > 1


def _nth(starts, stops, content, index: int, fill: float) -> np.ndarray:
    """index-th element of each list, fill where the list is too short."""
    pos = starts + index
    present = pos < stops
    if len(content) == 0:
        return np.full(len(starts), fill, dtype=np.float64)
    picked = content[np.where(present, pos, 0)].astype(np.float64)
    return np.where(present, picked, fill)


def _descending(starts, stops, content) -> bool:
    """True when every list is already sorted by descending value (as NanoAOD is)."""
    if len(content) < 2:
        return True
    lo, hi = int(starts.min(initial=0)), int(stops.max(initial=0))
    if not np.array_equal(starts[1:], stops[:-1]):
        return False  # not contiguous: let ak.sort decide
    rises = content[lo + 1 : hi] > content[lo : hi - 1]
    # Pairs that straddle two events do not count.
    boundary = stops[:-1] - lo - 1
    boundary = boundary[(boundary >= 0) & (boundary < len(rises))]
    rises[boundary] = False
    return not rises.any()


def _nth_descending(jagged: ak.Array, index: int, fill: float) -> np.ndarray:
    lists = _lists(jagged)
    if lists is None:  # missing values or unusual layout: the slow, general way
        ordered = ak.sort(jagged, axis=1, ascending=False)
        padded = ak.pad_none(ordered, index + 1, axis=1)[:, index]
        return ak.to_numpy(ak.fill_none(padded, fill)).astype(np.float64)
    if not _descending(*lists):
        lists = _lists(ak.sort(jagged, axis=1, ascending=False))
    return _nth(*lists, index, fill)


def _is_pt(branch: str) -> bool:
    return branch.lower().endswith("pt")


def _scalar(arrays: ak.Array, branch: str, feature: Feature) -> np.ndarray:
    column = arrays[branch]
    if _is_jagged(column):
        raise ConfigError(
            f"Feature {feature.name!r} ({feature.kind}) needs a scalar branch, but "
            f"{branch!r} holds a list per event. Use 'count', 'nth' or 'sum' for it."
        )
    return ak.to_numpy(ak.fill_none(column, np.nan)).astype(np.float64)


def _jagged(arrays: ak.Array, branch: str, feature: Feature) -> ak.Array:
    column = arrays[branch]
    if not _is_jagged(column):
        raise ConfigError(
            f"Feature {feature.name!r} ({feature.kind}) needs a branch with a list "
            f"per event, but {branch!r} holds one number per event. Use 'value'."
        )
    return column


def _compute(f: Feature, arrays: ak.Array) -> np.ndarray:
    if f.kind == "value":
        return _scalar(arrays, f.branches[0], f)
    if f.kind == "count":
        column = arrays[f.branches[0]]
        if _is_jagged(column):
            return ak.to_numpy(ak.num(column, axis=1)).astype(np.float64)
        return _scalar(arrays, f.branches[0], f)
    if f.kind == "magnitude":
        return np.hypot(*(_scalar(arrays, b, f) for b in f.branches))
    if f.kind == "sum":
        return ak.to_numpy(ak.sum(_jagged(arrays, f.branches[0], f), axis=1)).astype(
            np.float64
        )
    if f.kind == "nth":
        column = _jagged(arrays, f.branches[0], f)
        if _is_pt(f.branches[0]):
            return _nth_descending(column, f.index, f.fill)
        lists = _lists(column)
        if lists is None:
            padded = ak.pad_none(column, f.index + 1, axis=1)[:, f.index]
            return ak.to_numpy(ak.fill_none(padded, f.fill)).astype(np.float64)
        return _nth(*lists, f.index, f.fill)
    # nth_magnitude: the object's magnitude (e.g. pt from px, py), by descending size
    x, y = (_jagged(arrays, b, f) for b in f.branches)
    return _nth_descending(np.hypot(x, y), f.index, f.fill)


# Presets -------------------------------------------------------------------------


def detect_schema(branch_names: Iterable[str]) -> str | None:
    """Say whether branch names follow NanoAOD ('nanoaod') or tutorial ('tutorial')
    conventions for muons and MET, are the four features already ('flat'), or
    neither (None)."""
    names = set(branch_names)
    if names.issuperset(FLAT_COLUMNS):
        return "flat"
    if names.issuperset(NANOAOD_BRANCHES):
        return "nanoaod"
    if names.issuperset(TUTORIAL_BRANCHES):
        return "tutorial"
    return None


def muon_met_recipe(branch_names: Iterable[str]) -> Recipe:
    """The muon + MET recipe: met, n_muons, muon1_pt, muon2_pt (GeV; 0 if absent).

    NanoAOD: MET_pt, nMuon (or the length of Muon_pt), Muon_pt. Tutorial: MET from
    MET_px and MET_py, NMuon (or the length of Muon_Px), muon pt = hypot(Px, Py).
    A table with columns met, n_muons, muon1_pt and muon2_pt is taken as it is.

    Raises:
        MissingBranchError: the names fit neither schema; names the closest.
    """
    names = list(branch_names)
    schema = detect_schema(names)
    if schema == "flat":
        return Recipe(tuple(Feature(c, "value", (c,)) for c in FLAT_COLUMNS),
                      name="muon_met_flat")
    if schema == "nanoaod":
        counter = "nMuon" if "nMuon" in names else "Muon_pt"
        return Recipe(
            (
                Feature("met", "value", ("MET_pt",)),
                Feature("n_muons", "count", (counter,)),
                Feature("muon1_pt", "nth", ("Muon_pt",), index=0),
                Feature("muon2_pt", "nth", ("Muon_pt",), index=1),
            ),
            name="muon_met_nanoaod",
        )
    if schema == "tutorial":
        counter = "NMuon" if "NMuon" in names else "Muon_Px"
        return Recipe(
            (
                Feature("met", "magnitude", ("MET_px", "MET_py")),
                Feature("n_muons", "count", (counter,)),
                Feature("muon1_pt", "nth_magnitude", ("Muon_Px", "Muon_Py"), index=0),
                Feature("muon2_pt", "nth_magnitude", ("Muon_Px", "Muon_Py"), index=1),
            ),
            name="muon_met_tutorial",
        )

    # Report the first missing branch of whichever schema the file is closer to.
    have = set(names)
    nano_missing = [b for b in NANOAOD_BRANCHES if b not in have]
    tut_missing = [b for b in TUTORIAL_BRANCHES if b not in have]
    nano_share = 1 - len(nano_missing) / len(NANOAOD_BRANCHES)
    tut_share = 1 - len(tut_missing) / len(TUTORIAL_BRANCHES)
    missing = tut_missing[0] if tut_share > nano_share else nano_missing[0]
    raise MissingBranchError(
        missing,
        names,
        "this file; the muon + MET recipe needs MET_pt and Muon_pt (NanoAOD "
        "style), MET_px, MET_py, Muon_Px and Muon_Py (tutorial style), or the "
        "columns met, n_muons, muon1_pt and muon2_pt",
    )


_ENERGY_LIKE = re.compile(r"(^|_)(pt|met|mass|ht|e|energy|px|py|pz)(\d*)(_|\d|$)",
                          re.IGNORECASE)


def unit_of(feature_name: str) -> str:
    """The unit of a feature from its name: "GeV" for momenta, energies and masses
    (met, muon1_pt, MET_px, Muon_pt_1, ...), "" for counts and anything unknown."""
    if feature_name.endswith("_count"):  # objects counted, whatever they carry
        return ""
    return "GeV" if _ENERGY_LIKE.search(feature_name) else ""
