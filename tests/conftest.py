"""Shared fixtures: tiny event files written into a test's temporary folder.

Each builder writes a few hundred events with a fixed seed, so tests stay fast and
their numbers stay the same from run to run. Builders that take arguments are
exposed as factories (``make_nanoaod_root(path, n_events=..., seed=...)``).
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def write_nanoaod_root(
    path: Path, n_events: int = 300, seed: int = 0, met_scale: float = 20.0
) -> Path:
    """Write a NanoAOD-style TTree 'Events': MET_pt, nMuon, Muon_pt, Muon_eta.

    Muon_pt is sorted by descending pt within each event, as in NanoAOD; an extra
    scalar 'genWeight' branch holds positive and negative weights.
    """
    import uproot

    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, n_events)
    flat_pt = rng.exponential(30.0, counts.sum()).astype(np.float32) + 3.0
    muon_pt = ak.sort(ak.unflatten(flat_pt, counts), ascending=False)
    muon_eta = ak.unflatten(rng.normal(0, 1.2, counts.sum()).astype(np.float32), counts)
    with uproot.recreate(path) as f:
        f.mktree(
            "Events",
            {"MET_pt": "float32", "genWeight": "float32", "Muon": _muon_type()},
        )
        f["Events"].extend(
            {
                "MET_pt": rng.exponential(met_scale, n_events).astype(np.float32),
                "genWeight": rng.choice([-1.0, 1.0], n_events, p=[0.1, 0.9]).astype(
                    np.float32
                ),
                "Muon": ak.zip({"pt": muon_pt, "eta": muon_eta}),
            }
        )
    return path


def _muon_type():
    return ak.types.from_datashape("var * {pt: float32, eta: float32}", highlevel=False)


def write_tutorial_root(path: Path, n_events: int = 300, seed: int = 1) -> Path:
    """Write a tutorial-style TTree 'events' (as uproot-HZZ.root).

    Branches: NMuon, Muon_Px, Muon_Py (jagged, not sorted by pt), MET_px, MET_py.
    """
    import uproot

    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, n_events).astype(np.int32)
    n_muons = int(counts.sum())
    px = ak.unflatten(rng.normal(0, 25, n_muons).astype(np.float32), counts)
    py = ak.unflatten(rng.normal(0, 25, n_muons).astype(np.float32), counts)
    with uproot.recreate(path) as f:
        f.mktree(
            "events",
            {
                "Muon": ak.types.from_datashape(
                    "var * {Px: float32, Py: float32}", highlevel=False
                ),
                "MET_px": "float32",
                "MET_py": "float32",
            },
            counter_name=lambda counted: "N" + counted,
        )
        f["events"].extend(
            {
                "Muon": ak.zip({"Px": px, "Py": py}),
                "MET_px": rng.normal(0, 20, n_events).astype(np.float32),
                "MET_py": rng.normal(0, 20, n_events).astype(np.float32),
            }
        )
    return path


@pytest.fixture
def make_nanoaod_root():
    """Factory: write_nanoaod_root(path, n_events=300, seed=0, met_scale=20.0)."""
    return write_nanoaod_root


@pytest.fixture
def tiny_nanoaod_root(tmp_path: Path) -> Path:
    """A 300-event NanoAOD-style ROOT file (MET_pt, nMuon, Muon_pt jagged)."""
    return write_nanoaod_root(tmp_path / "tiny_nanoaod.root")


@pytest.fixture
def tiny_tutorial_root(tmp_path: Path) -> Path:
    """A 300-event tutorial-style ROOT file (NMuon, Muon_Px/Py, MET_px/py)."""
    return write_tutorial_root(tmp_path / "tiny_tutorial.root")


@pytest.fixture
def empty_tree_root(tmp_path: Path) -> Path:
    """A ROOT file whose only tree 'Events' has the NanoAOD branches but no events."""
    import uproot

    path = tmp_path / "empty_tree.root"
    with uproot.recreate(path) as f:
        f.mktree("Events", {"MET_pt": "float32", "Muon": _muon_type()})
    return path


@pytest.fixture
def truncated_root(tmp_path: Path) -> Path:
    """A real ROOT file cut to half its length, as after an interrupted upload."""
    full = write_nanoaod_root(tmp_path / "full.root")
    data = full.read_bytes()
    path = tmp_path / "truncated.root"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.fixture
def text_named_root(tmp_path: Path) -> Path:
    """Plain prose saved under a .root name."""
    path = tmp_path / "not_really.root"
    path.write_text("These are my analysis notes, not an event file.\n")
    return path


@pytest.fixture
def root_named_csv(tmp_path: Path) -> Path:
    """A real NanoAOD-style ROOT file saved under a .csv name."""
    return write_nanoaod_root(tmp_path / "events.csv")


@pytest.fixture
def empty_file(tmp_path: Path) -> Path:
    """A zero-byte file named .root."""
    path = tmp_path / "empty.root"
    path.write_bytes(b"")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The folder of real sample files; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real sample files not found at {SHARED_DATA}")
    return SHARED_DATA
