"""Write generated events as a NanoAOD-style ROOT file with uproot."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import awkward as ak
import numpy as np
import uproot

logger = logging.getLogger(__name__)

TREE_NAME = "Events"

# collection name -> fields; uproot names the branches <collection>_<field> and adds
# the counter n<collection>, as in CMS NanoAOD
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "Muon": ("pt", "eta", "phi", "charge", "pfRelIso04_all"),
    "Jet": ("pt", "eta", "phi"),
    "GenMuon": ("pt",),
}
EVENT_BRANCHES: tuple[str, ...] = ("MET_pt", "MET_phi", "GenMET_pt", "weight")


def write_events(path: str | Path, columns: dict[str, np.ndarray]) -> Path:
    """Write one TTree ``Events`` (lz4-compressed) from flat columns.

    Args:
        path: output file; its folder is created, and the file is written to a
            temporary name first so a crash leaves no truncated file behind.
        columns: per-event arrays (``EVENT_BRANCHES``), and for each collection
            ``n<Name>`` counts plus flat ``<Name>_<field>`` arrays.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree: dict[str, object] = {}
    for name, fields in COLLECTIONS.items():
        counts = np.asarray(columns[f"n{name}"], dtype=np.int64)
        record = {}
        for field in fields:
            flat = np.asarray(columns[f"{name}_{field}"])
            dtype = np.int32 if flat.dtype.kind in "iu" else np.float32
            record[field] = ak.unflatten(flat.astype(dtype), counts)
        tree[name] = ak.zip(record)
    for name in EVENT_BRANCHES:
        tree[name] = np.asarray(columns[name], dtype=np.float32)

    tmp = path.with_name(path.name + ".part")
    with uproot.recreate(tmp, compression=uproot.LZ4(4)) as out:
        # mktree, not out[name] = ...: uproot >= 5.7 writes an RNTuple by default
        out.mktree(TREE_NAME, tree, title="Events")
    os.replace(tmp, path)
    logger.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
