"""Fast parametric response of a CMS-like detector, in plain numpy.

Not a simulation: each generator-level object is accepted with an efficiency and its
momentum is smeared with a resolution taken from published CMS performance figures,
rounded (muons: CMS, JINST 7 (2012) P10002 and JINST 13 (2018) P06015; jets and
calorimeters: CMS, JINST 12 (2017) P02014 and the CMS technical proposal). The model,
with every number, is described under "Detector model" in README.md.

The functions work on a batch of events at once: particles are flat arrays plus
``offsets`` (event i owns entries ``offsets[i]:offsets[i + 1]``), so nothing loops
over particles in Python. Jets are clustered by Pythia's SlowJet (anti-kT) in the
event loop and only smeared and selected here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DetectorConfig:
    """Parameters of the detector response; energies and momenta in GeV."""

    # muons: acceptance of the muon chambers, reconstruction efficiency, resolution
    # sigma(pT)/pT = muon_res_const (+) muon_res_slope * pT (added in quadrature)
    muon_eta_max: float = 2.4
    muon_pt_min: float = 5.0
    muon_efficiency: float = 0.95
    muon_res_const: float = 0.01
    muon_res_slope: float = 1.0e-4
    # generator-level muons kept in GenMuon_pt (no acceptance cut)
    gen_muon_pt_min: float = 3.0
    # isolation: scalar pT sum of visible particles (pT above iso_particle_pt_min)
    # within Delta R < iso_cone of the muon, the muon excluded, over the muon pT
    iso_cone: float = 0.4
    iso_particle_pt_min: float = 0.5
    # jets: anti-kT R = jet_r from visible particles; energy resolution
    # sigma(E)/E = jet_res_stochastic / sqrt(E) (+) jet_res_const
    jet_r: float = 0.4
    jet_cluster_pt_min: float = 10.0
    jet_pt_min: float = 20.0
    jet_eta_max: float = 4.7
    jet_res_stochastic: float = 1.0
    jet_res_const: float = 0.05
    # jets within jet_r of an isolated muon are that muon, and are removed
    jet_clean_muon_pt_min: float = 10.0
    jet_clean_muon_iso_max: float = 0.25
    # missing transverse momentum: visible particles within calo_eta_max, each
    # smeared by the subdetector that measures it
    calo_eta_max: float = 4.7
    tracker_eta_max: float = 2.5
    track_res_const: float = 0.01
    track_res_slope: float = 1.0e-4
    ecal_stochastic: float = 0.03
    ecal_const: float = 0.005
    hcal_stochastic: float = 1.0
    hcal_const: float = 0.05


@dataclass
class ParticleBatch:
    """Final-state generator particles of a batch of events (flat arrays)."""

    offsets: np.ndarray  # (n_events + 1,) int64
    pid: np.ndarray  # PDG id, int32
    px: np.ndarray  # GeV, float64
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray
    visible: np.ndarray  # bool: False for neutrinos and other invisible particles
    charged: np.ndarray  # bool

    @property
    def n_events(self) -> int:
        return len(self.offsets) - 1


@dataclass
class JetBatch:
    """Generator-level anti-kT jets (before smearing) of a batch of events."""

    offsets: np.ndarray  # (n_events + 1,) int64
    px: np.ndarray  # GeV, float64
    py: np.ndarray
    pz: np.ndarray
    e: np.ndarray


def pt_eta_phi(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transverse momentum, pseudorapidity and azimuth of 3-momenta."""
    pt = np.hypot(px, py)
    # guard: a particle exactly along the beam has pT = 0 and infinite eta
    eta = np.arcsinh(pz / np.maximum(pt, 1e-9))
    return pt, eta, np.arctan2(py, px)


def delta_phi(phi1: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """Azimuthal difference wrapped into [-pi, pi)."""
    return (phi1 - phi2 + np.pi) % (2 * np.pi) - np.pi


def quadrature(*terms: np.ndarray | float) -> np.ndarray:
    """Terms added in quadrature, sqrt(a^2 + b^2 + ...)."""
    return np.sqrt(sum(np.square(t) for t in terms))


def muon_resolution(pt: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """Relative muon pT resolution sigma(pT)/pT, growing linearly at high pT."""
    return quadrature(cfg.muon_res_const, cfg.muon_res_slope * pt)


def calo_resolution(e: np.ndarray, stochastic: float, const: float) -> np.ndarray:
    """Relative calorimeter energy resolution sigma(E)/E = s/sqrt(E) (+) c."""
    return quadrature(stochastic / np.sqrt(np.maximum(e, 1e-9)), const)


def _event_index(offsets: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _same_event_pairs(
    event_of_a: np.ndarray, b_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a, b) of entries in the same event; b grouped by ``b_offsets``."""
    counts = np.diff(b_offsets)[event_of_a]
    ia = np.repeat(np.arange(len(event_of_a)), counts)
    first = np.repeat(b_offsets[event_of_a], counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return ia, first + within


def _sorted_by_pt(event: np.ndarray, pt: np.ndarray) -> np.ndarray:
    """Order grouping entries by event, descending pT inside each event."""
    return np.lexsort((-pt, event))


def _offsets(event: np.ndarray, n_events: int) -> np.ndarray:
    counts = np.bincount(event, minlength=n_events)
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def respond(
    particles: ParticleBatch,
    jets: JetBatch,
    cfg: DetectorConfig,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Detector-level and generator-level quantities for a batch of events.

    Returns flat columns: per-object arrays (``Muon_*``, ``Jet_*``, ``GenMuon_pt``)
    sorted by descending pT inside each event with their counts ``nMuon``, ``nJet``,
    ``nGenMuon``, and per-event ``MET_pt``, ``MET_phi``, ``GenMET_pt`` (GeV).
    Random numbers are drawn from ``rng`` in a fixed order, so a seeded generator
    gives the same output.
    """
    n_events = particles.n_events
    event = _event_index(particles.offsets)
    pt, eta, phi = pt_eta_phi(particles.px, particles.py, particles.pz)
    out: dict[str, np.ndarray] = {}

    # generator level: neutrinos (and any other invisible particle) make GenMET
    invisible = ~particles.visible
    gen_mex = np.bincount(event[invisible], particles.px[invisible], n_events)
    gen_mey = np.bincount(event[invisible], particles.py[invisible], n_events)
    out["GenMET_pt"] = np.hypot(gen_mex, gen_mey)

    is_muon = np.abs(particles.pid) == 13
    gen_mu = np.flatnonzero(is_muon & (pt > cfg.gen_muon_pt_min))
    order = gen_mu[_sorted_by_pt(event[gen_mu], pt[gen_mu])]
    out["GenMuon_pt"] = pt[order]
    out["nGenMuon"] = np.bincount(event[order], minlength=n_events)

    # muons: smear every final-state muon, then acceptance, efficiency, threshold
    mu = np.flatnonzero(is_muon)
    mu_scale = 1.0 + muon_resolution(pt[mu], cfg) * rng.standard_normal(len(mu))
    mu_pt = pt[mu] * np.maximum(mu_scale, 1e-6)
    in_tracker = np.abs(eta[mu]) < cfg.muon_eta_max
    found = rng.random(len(mu)) < cfg.muon_efficiency
    reco = in_tracker & found & (mu_pt > cfg.muon_pt_min)
    reco_mu, reco_pt = mu[reco], mu_pt[reco]
    reco_iso = _isolation(reco_mu, reco_pt, event, pt, eta, phi, particles, cfg)
    order = _sorted_by_pt(event[reco_mu], reco_pt)
    reco_mu, reco_pt, reco_iso = reco_mu[order], reco_pt[order], reco_iso[order]
    out["Muon_pt"] = reco_pt
    out["Muon_eta"] = eta[reco_mu]
    out["Muon_phi"] = phi[reco_mu]
    # PDG id 13 is the negative muon
    out["Muon_charge"] = -np.sign(particles.pid[reco_mu]).astype(np.int32)
    out["Muon_pfRelIso04_all"] = reco_iso
    out["nMuon"] = np.bincount(event[reco_mu], minlength=n_events)

    muon_event = event[reco_mu]
    muon_eta, muon_phi = eta[reco_mu], phi[reco_mu]
    out.update(
        _jets(jets, muon_event, reco_pt, reco_iso, muon_eta, muon_phi, cfg, rng)
    )

    # MET: visible particles in the calorimeter acceptance, each smeared; muons
    # count (with their smeared pT) only where the tracker measures them
    met_pt = _smeared_visible_pt(particles, pt, eta, cfg, rng)
    met_pt[mu] = np.where(in_tracker, mu_pt, 0.0)
    mex = -np.bincount(event, met_pt * np.cos(phi), n_events)
    mey = -np.bincount(event, met_pt * np.sin(phi), n_events)
    out["MET_pt"] = np.hypot(mex, mey)
    out["MET_phi"] = np.arctan2(mey, mex)
    return out


def _isolation(
    muons: np.ndarray,
    muon_pt: np.ndarray,
    event: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    particles: ParticleBatch,
    cfg: DetectorConfig,
) -> np.ndarray:
    """Relative isolation: visible pT in a cone around each muon over its pT."""
    cand = np.flatnonzero(particles.visible & (pt > cfg.iso_particle_pt_min))
    cand_offsets = _offsets(event[cand], particles.n_events)
    im, ic = _same_event_pairs(event[muons], cand_offsets)
    other = cand[ic]
    muon = muons[im]
    dr2 = (eta[muon] - eta[other]) ** 2 + delta_phi(phi[muon], phi[other]) ** 2
    inside = (dr2 < cfg.iso_cone**2) & (other != muon)
    sum_pt = np.bincount(im[inside], pt[other[inside]], len(muons))
    return sum_pt / muon_pt


def _jets(
    jets: JetBatch,
    muon_event: np.ndarray,
    muon_pt: np.ndarray,
    muon_iso: np.ndarray,
    muon_eta: np.ndarray,
    muon_phi: np.ndarray,
    cfg: DetectorConfig,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Smear jet energies, apply pT and eta cuts, remove jets that are muons."""
    n_events = len(jets.offsets) - 1
    jet_event = _event_index(jets.offsets)
    pt, eta, phi = pt_eta_phi(jets.px, jets.py, jets.pz)
    sigma = calo_resolution(jets.e, cfg.jet_res_stochastic, cfg.jet_res_const)
    pt = pt * np.maximum(1.0 + sigma * rng.standard_normal(len(pt)), 0.0)
    keep = (pt > cfg.jet_pt_min) & (np.abs(eta) < cfg.jet_eta_max)

    isolated = (muon_pt > cfg.jet_clean_muon_pt_min) & (
        muon_iso < cfg.jet_clean_muon_iso_max
    )
    iso_offsets = _offsets(muon_event[isolated], n_events)
    ij, im = _same_event_pairs(jet_event, iso_offsets)
    dr2 = (eta[ij] - muon_eta[isolated][im]) ** 2 + delta_phi(
        phi[ij], muon_phi[isolated][im]
    ) ** 2
    keep[ij[dr2 < cfg.jet_r**2]] = False

    sel = np.flatnonzero(keep)
    sel = sel[_sorted_by_pt(jet_event[sel], pt[sel])]
    return {
        "Jet_pt": pt[sel],
        "Jet_eta": eta[sel],
        "Jet_phi": phi[sel],
        "nJet": np.bincount(jet_event[sel], minlength=n_events),
    }


def _smeared_visible_pt(
    particles: ParticleBatch,
    pt: np.ndarray,
    eta: np.ndarray,
    cfg: DetectorConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """pT of each particle as measured for MET; 0 for invisible or out of reach."""
    abs_id = np.abs(particles.pid)
    energy = particles.e
    tracked = particles.charged & (np.abs(eta) < cfg.tracker_eta_max)
    electromagnetic = (abs_id == 22) | (abs_id == 11)
    # charged particles in the tracker are measured there (particle flow); photons
    # and electrons elsewhere by the ECAL; the rest (neutral hadrons, and charged
    # hadrons beyond the tracker) by the HCAL
    sigma = np.where(
        tracked,
        quadrature(cfg.track_res_const, cfg.track_res_slope * pt),
        np.where(
            electromagnetic,
            calo_resolution(energy, cfg.ecal_stochastic, cfg.ecal_const),
            calo_resolution(energy, cfg.hcal_stochastic, cfg.hcal_const),
        ),
    )
    scale = np.maximum(1.0 + sigma * rng.standard_normal(len(pt)), 0.0)
    seen = particles.visible & (np.abs(eta) < cfg.calo_eta_max)
    return np.where(seen, pt * scale, 0.0)
