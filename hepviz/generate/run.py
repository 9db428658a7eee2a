"""The event loop: Pythia generates, SlowJet clusters, the detector model responds.

Pythia's ``nextBatch`` hands each event over as awkward arrays, from which the
final-state particles are taken as numpy arrays without a per-particle Python loop;
SlowJet (anti-kT, via Pythia's built-in fjcore) runs on the same event in C++. The
detector response then runs vectorised on batches of ``chunk_size`` events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from hepviz.errors import ConfigError, HepvizError
from hepviz.generate.detector import DetectorConfig, JetBatch, ParticleBatch, respond
from hepviz.generate.processes import DEFAULT_WPRIME_MASS_GEV, process_settings
from hepviz.generate.pythia import load_pythia
from hepviz.generate.writer import write_events

logger = logging.getLogger(__name__)

MB_TO_FB = 1.0e12
LUMINOSITY_FB = 1.0
# Pythia retries failed events itself; this many failures in a row means a setup bug
MAX_FAILURES = 100


@dataclass
class GenerationSummary:
    """What one generation run produced, for logs and data/README.md."""

    process: str
    n_events: int
    seed: int
    sigma_pb: float
    sigma_err_pb: float
    weight: float  # per event, for 1 fb^-1
    wall_seconds: float
    pythia_version: str
    settings: list[str] = field(default_factory=list)
    out: str | None = None

    @property
    def events_per_second(self) -> float:
        return self.n_events / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"events_per_second": self.events_per_second}


class _ParticleTable:
    """Cache of PDG id -> (visible, charged), filled from Pythia's ParticleData."""

    def __init__(self, particle_data) -> None:
        self._data = particle_data
        self._visible: dict[int, bool] = {}
        self._charged: dict[int, bool] = {}

    def flags(self, pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids, inverse = np.unique(pid, return_inverse=True)
        for i in ids.tolist():
            if i not in self._visible:
                self._visible[i] = bool(self._data.isVisible(i))
                self._charged[i] = self._data.chargeType(i) != 0
        visible = np.array([self._visible[i] for i in ids.tolist()], dtype=bool)
        charged = np.array([self._charged[i] for i in ids.tolist()], dtype=bool)
        return visible[inverse], charged[inverse]


def _final_state(batch) -> tuple[np.ndarray, ...]:
    """PDG id, px, py, pz, E of the final-state particles of a one-event batch."""
    prt = batch.layout.content("prt")
    offsets = np.asarray(prt.offsets)
    rows = slice(int(offsets[0]), int(offsets[1]))
    record = prt.content
    momentum = record.content("p")
    final = np.asarray(record.content("status").data)[rows] > 0
    arrays = [np.asarray(record.content("id").data)[rows]]
    for component in ("px", "py", "pz", "e"):
        arrays.append(np.asarray(momentum.content(component).data)[rows])
    return tuple(a[final] for a in arrays)


def _jet_momenta(slow_jet) -> list[tuple[float, float, float, float]]:
    jets = []
    for i in range(slow_jet.sizeJet()):
        p = slow_jet.p(i)
        jets.append((p.px(), p.py(), p.pz(), p.e()))
    return jets


def _concat_offsets(counts: list[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def generate(
    process: str,
    n_events: int,
    seed: int,
    out: str | Path | None = None,
    wprime_mass: float = DEFAULT_WPRIME_MASS_GEV,
    detector: DetectorConfig | None = None,
    chunk_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, np.ndarray], GenerationSummary]:
    """Generate ``n_events`` of ``process`` and, if ``out`` is given, write them.

    Args:
        process: one of ``hepviz.generate.PROCESSES`` (wjets, dy, ttbar, qcd, wprime).
        n_events: number of events to generate; all are kept, also those without
            a muon.
        seed: random seed for Pythia and for the detector smearing (1..900000000).
        out: path of the ROOT file to write, or None to only return the columns.
        wprime_mass: W' mass in GeV for the ``wprime`` process.
        detector: detector model parameters; the defaults of DetectorConfig.
        chunk_size: events per vectorised detector batch. The output is
            reproducible for a given seed and chunk size; another chunk size
            draws the detector smearing in another order.
        progress: called as ``progress(n_done, n_events)`` after each event.

    Returns:
        The flat output columns and a GenerationSummary (cross section in pb,
        per-event weight for 1 fb^-1, timing).
    """
    if n_events < 1:
        raise ConfigError(f"Asked for {n_events} events; ask for at least 1.")
    detector = detector or DetectorConfig()
    settings = process_settings(process, seed, wprime_mass)
    pythia8 = load_pythia()

    pythia = pythia8.Pythia("", False)
    for line in settings:
        if not pythia.readString(line):
            raise ConfigError(f"Pythia refused the setting '{line}'.")
    if not pythia.init():
        raise HepvizError(
            f"Pythia failed to initialise process '{process}'; rerun with -v to see "
            "its log, and check the settings in hepviz/generate/processes.py."
        )
    # anti-kT (power -1), visible final-state particles (select 2), massive inputs
    slow_jet = pythia8.SlowJet(
        -1, detector.jet_r, detector.jet_cluster_pt_min, detector.jet_eta_max, 2, 2
    )
    table = _ParticleTable(pythia.particleData)
    rng = np.random.default_rng(seed)

    chunks: list[dict[str, np.ndarray]] = []
    start = time.perf_counter()
    n_done = failures = 0
    while n_done < n_events:
        particles: list[tuple[np.ndarray, ...]] = []
        jets: list[tuple[float, float, float, float]] = []
        jet_counts: list[int] = []
        while len(particles) < min(chunk_size, n_events - n_done):
            batch = pythia.nextBatch(1)
            if len(batch) == 0:
                failures += 1
                if failures > MAX_FAILURES:
                    raise HepvizError(
                        f"Pythia failed {failures} events in a row for '{process}'."
                    )
                continue
            failures = 0
            slow_jet.analyze(pythia.event)
            event_jets = _jet_momenta(slow_jet)
            particles.append(_final_state(batch))
            jets += event_jets
            jet_counts.append(len(event_jets))
            if progress is not None:
                progress(n_done + len(particles), n_events)
        chunks.append(_respond(particles, jets, jet_counts, table, detector, rng))
        n_done += len(particles)
    wall = time.perf_counter() - start

    info = pythia.infoPython()
    sigma_pb = info.sigmaGen() * 1e9
    weight = info.sigmaGen() * MB_TO_FB * LUMINOSITY_FB / n_events
    columns = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    columns["weight"] = np.full(n_events, weight)
    summary = GenerationSummary(
        process=process,
        n_events=n_events,
        seed=seed,
        sigma_pb=sigma_pb,
        sigma_err_pb=info.sigmaErr() * 1e9,
        weight=weight,
        wall_seconds=wall,
        pythia_version=_pythia_version(pythia),
        settings=settings,
        out=str(out) if out is not None else None,
    )
    logger.info(
        "%s: %d events in %.1f s (%.1f events/s), sigma = %.4g +- %.2g pb",
        process, n_events, wall, summary.events_per_second, sigma_pb,
        summary.sigma_err_pb,
    )
    if out is not None:
        write_events(out, columns)
    return columns, summary


def _respond(particles, jets, jet_counts, table, detector, rng):
    """Run the detector model on one chunk of events."""
    pid, px, py, pz, e = (np.concatenate(a) for a in zip(*particles))
    visible, charged = table.flags(pid)
    batch = ParticleBatch(
        offsets=_concat_offsets([len(p[0]) for p in particles]),
        pid=pid, px=px, py=py, pz=pz, e=e, visible=visible, charged=charged,
    )
    jet_array = np.array(jets, dtype=np.float64).reshape(-1, 4)
    jet_batch = JetBatch(_concat_offsets(jet_counts), *jet_array.T)
    return respond(batch, jet_batch, detector, rng)


def _pythia_version(pythia) -> str:
    """The pythia8mc package version (e.g. 8.317.2), else Pythia's own (8.317)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pythia8mc")
    except PackageNotFoundError:  # a source build without package metadata
        return f"{pythia.parm('Print:version'):.3f}"
