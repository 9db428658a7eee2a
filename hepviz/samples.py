"""The bundled sample: which file holds which process, and which is signal.

The files in ``data/`` are made by ``python -m hepviz generate`` (see
``data/README.md``): one ROOT file per process with a NanoAOD-style ``Events``
tree and a per-event ``weight`` (cross section x 1 fb^-1 / events generated).
A *preset* says which processes are signal and which are background, as a
physicist would frame the classroom example or the W' search. The files also keep
generator-level quantities, so theory and detector level can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import numpy as np

from hepviz.dataset import SampleSpec
from hepviz.errors import EmptyDatasetError
from hepviz.features import Feature, Recipe
from hepviz.histograms import Overlay, overlay_histograms
from hepviz.sources import read_arrays

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

PROCESS_TITLES = {
    "wjets": "W → μν",
    "dy": "Z/γ* → μμ",
    "ttbar": "tt̄",
    "qcd": "QCD bb̄/cc̄",
    "wprime": "W′ → μν (1 TeV)",
}


@dataclass(frozen=True)
class Preset:
    """A signal-versus-background framing of the bundled processes."""

    name: str
    title: str
    signal: tuple[str, ...]
    background: tuple[str, ...]


PRESETS = {
    "wjets": Preset(
        "wjets",
        "W → μν against Z/γ*, tt̄ and QCD (classroom example)",
        signal=("wjets",),
        background=("dy", "ttbar", "qcd"),
    ),
    "wprime": Preset(
        "wprime",
        "W′ → μν search against all Standard Model processes",
        signal=("wprime",),
        background=("wjets", "dy", "ttbar", "qcd"),
    ),
}
DEFAULT_PRESET = "wjets"


def bundled_samples(preset: str = DEFAULT_PRESET, data_dir: Path | None = None
                    ) -> list[SampleSpec]:
    """The sample specifications of a preset, one per process file.

    Raises EmptyDatasetError when the files of the preset are not in ``data_dir``.
    """
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    chosen = PRESETS[preset]
    specs = []
    missing = []
    for label, processes in ((1, chosen.signal), (0, chosen.background)):
        for process in processes:
            path = data_dir / f"{process}.root"
            if not path.is_file():
                missing.append(path.name)
                continue
            specs.append(
                SampleSpec(
                    path=str(path),
                    label=label,
                    process=process,
                    tree="Events",
                    weight_branch="weight",
                )
            )
    if missing:
        raise EmptyDatasetError(
            f"The bundled sample is incomplete: {', '.join(missing)} not found in "
            f"{data_dir}. Regenerate it with 'python -m hepviz generate' "
            "(see data/README.md) or upload your own files on the Data page."
        )
    return specs


def sample_stamp(specs: list[SampleSpec]) -> tuple:
    """A cache key that changes when any file of the sample changes."""
    return tuple(
        (spec.path, Path(spec.path).stat().st_mtime_ns, spec.label) for spec in specs
    )


# Generator-level quantity next to its detector-level counterpart, per variable.
LEVELS = {
    "MET (GeV)": (("MET_pt", "value"), ("GenMET_pt", "value")),
    "leading-muon pT (GeV)": (("Muon_pt", "nth"), ("GenMuon_pt", "nth")),
}


def theory_vs_detector(process: str, bins: int = 40, data_dir: Path | None = None
                       ) -> dict[str, Overlay]:
    """Weighted shapes of each LEVELS variable at generator and detector level.

    Events without the object at one level (no muon) are left out of that level's
    histogram, so the leading-muon shapes compare events that have one.
    """
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    path = data_dir / f"{process}.root"
    if not path.is_file():
        raise EmptyDatasetError(f"{path.name} is not in {data_dir}.")
    features = [
        Feature(f"{level}:{label}", kind, (branch,), fill=np.nan)
        for label, pair in LEVELS.items()
        for level, (branch, kind) in zip(("detector", "theory"), pair)
    ]
    recipe = Recipe(tuple(features), name="levels")
    arrays = read_arrays(str(path), "Events", recipe.branches() + ["weight"])
    columns = recipe.apply(arrays)
    weight = ak.to_numpy(arrays["weight"]).astype(np.float64)
    return {
        label: overlay_histograms(
            {f"{level} level": columns[f"{level}:{label}"]
             for level in ("theory", "detector")},
            weight=weight, bins=bins)
        for label in LEVELS
    }
