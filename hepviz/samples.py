"""The bundled sample: which file holds which process, and which is signal.

The files in ``data/`` are made by ``python -m hepviz generate`` (see
``data/README.md``): one ROOT file per process with a NanoAOD-style ``Events``
tree and a per-event ``weight`` (cross section x 1 fb^-1 / events generated).
A *preset* says which processes are signal and which are background, as a
physicist would frame the classroom example or the W' search.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hepviz.dataset import SampleSpec
from hepviz.errors import EmptyDatasetError

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
