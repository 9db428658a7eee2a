"""Physics sanity of the committed sample in data/ (made by hepviz.generate)."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
import vector

DATA = Path(__file__).resolve().parent.parent / "data"
MUON_MASS_GEV = 0.10566
Z_MASS_GEV = 91.19
WPRIME_MASS_GEV = 1000.0  # the default of `python -m hepviz generate`, see data/README
MIN_EVENTS = {"wjets": 20_000, "dy": 20_000, "ttbar": 20_000, "qcd": 20_000,
              "wprime": 10_000}  # fmt: skip
BRANCHES = [
    "nMuon", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_charge",
    "Muon_pfRelIso04_all", "nJet", "Jet_pt", "Jet_eta", "Jet_phi",
    "MET_pt", "MET_phi", "GenMET_pt", "GenMuon_pt", "weight",
]  # fmt: skip


def _read(process: str) -> ak.Array:
    path = DATA / f"{process}.root"
    if not path.exists():
        pytest.fail(f"{path} is missing; regenerate it as data/README.md describes")
    with uproot.open(path) as f:
        return f["Events"].arrays(BRANCHES, library="ak")


def _muons(events: ak.Array) -> ak.Array:
    return vector.zip(
        {
            "pt": events.Muon_pt,
            "eta": events.Muon_eta,
            "phi": events.Muon_phi,
            "mass": ak.full_like(events.Muon_pt, MUON_MASS_GEV),
        }
    )


@pytest.mark.parametrize("process", sorted(MIN_EVENTS))
def test_sample_has_enough_consistent_events(process):
    events = _read(process)
    assert len(events) >= MIN_EVENTS[process]
    np.testing.assert_array_equal(events.nMuon, ak.num(events.Muon_pt))
    np.testing.assert_array_equal(events.nJet, ak.num(events.Jet_pt))
    assert ak.all(events.weight > 0)
    assert ak.all(ak.flatten(events.Muon_pt) > 0)
    # muons come sorted by descending pT
    assert ak.all(ak.flatten(events.Muon_pt[:, :-1] >= events.Muon_pt[:, 1:]))


def test_sample_fits_in_25_mb():
    total = sum(p.stat().st_size for p in DATA.glob("*.root"))
    assert total <= 25e6


def test_wjets_leading_muon_pt_is_about_half_the_w_mass():
    events = _read("wjets")
    leading = events.Muon_pt[events.nMuon > 0][:, 0]
    assert 30.0 <= ak.mean(leading) <= 50.0


def test_dy_dimuon_mass_peaks_at_the_z():
    events = _read("dy")
    muons = _muons(events[events.nMuon >= 2])
    mass = (muons[:, 0] + muons[:, 1]).mass.to_numpy()
    counts, edges = np.histogram(mass, bins=np.arange(60.0, 120.5, 1.0))
    peak = edges[np.argmax(counts)] + 0.5
    assert abs(peak - Z_MASS_GEV) < 3.0


def test_ttbar_has_more_jets_than_wjets():
    assert ak.mean(_read("ttbar").nJet) > ak.mean(_read("wjets").nJet) + 1.0


def test_wprime_transverse_mass_has_its_jacobian_edge_at_the_mass():
    events = _read("wprime")
    events = events[events.nMuon > 0]
    pt, phi = events.Muon_pt[:, 0], events.Muon_phi[:, 0]
    # transverse mass of the leading muon and MET (massless limit)
    mt = np.sqrt(2 * pt * events.MET_pt * (1 - np.cos(phi - events.MET_phi)))
    counts, edges = np.histogram(mt.to_numpy(), bins=np.arange(0.0, 2000.0, 50.0))
    peak = edges[np.argmax(counts)] + 25.0
    assert abs(peak - WPRIME_MASS_GEV) < 0.15 * WPRIME_MASS_GEV
    # the edge: little beyond M apart from the W' width and the resolution
    assert np.mean(mt > 1.15 * WPRIME_MASS_GEV) < 0.05
