"""Tests of hepviz.generate: Pythia settings, detector model, writer, event loop."""

from __future__ import annotations

import sys

import awkward as ak
import numpy as np
import pytest
import uproot

from hepviz.errors import ConfigError, MissingDependencyError
from hepviz.generate.detector import DetectorConfig, JetBatch, ParticleBatch, respond
from hepviz.generate.processes import PROCESSES, process_settings
from hepviz.generate.pythia import load_pythia

PYTHIA_REASON = (
    "pythia8mc (Pythia 8) is not installed; the generator tests need "
    "`pip install -r requirements-generate.txt`"
)
EXPECTED_BRANCHES = {
    "nMuon", "Muon_pt", "Muon_eta", "Muon_phi", "Muon_charge",
    "Muon_pfRelIso04_all", "nJet", "Jet_pt", "Jet_eta", "Jet_phi",
    "MET_pt", "MET_phi", "GenMET_pt", "GenMuon_pt", "weight",
}  # fmt: skip
# enough W and DY events for the mean MET comparison to be stable, few of the rest
N_EVENTS = {"wjets": 200, "dy": 200, "ttbar": 30, "qcd": 30, "wprime": 30}


def _particles(rows: list[tuple[int, float, float, float]]) -> ParticleBatch:
    """One event from (pid, pt, eta, phi) rows; all visible except neutrinos."""
    pid = np.array([r[0] for r in rows], dtype=np.int32)
    pt, eta, phi = (np.array([r[i] for r in rows], dtype=float) for i in (1, 2, 3))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    neutrino = np.isin(np.abs(pid), [12, 14, 16])
    return ParticleBatch(
        offsets=np.array([0, len(rows)]),
        pid=pid, px=px, py=py, pz=pz, e=np.sqrt(px**2 + py**2 + pz**2),
        visible=~neutrino, charged=np.abs(pid) == 13,
    )  # fmt: skip


def _no_jets() -> JetBatch:
    empty = np.zeros(0)
    return JetBatch(np.array([0, 0]), empty, empty, empty, empty)


def _perfect_detector() -> DetectorConfig:
    return DetectorConfig(
        muon_efficiency=1.0, muon_res_const=0.0, muon_res_slope=0.0,
        track_res_const=0.0, track_res_slope=0.0, ecal_stochastic=0.0,
        ecal_const=0.0, hcal_stochastic=0.0, hcal_const=0.0,
    )  # fmt: skip


def test_settings_hold_seed_and_wprime_mass():
    settings = process_settings("wprime", seed=42, wprime_mass=2000.0)
    assert "Random:seed = 42" in settings
    assert "34:m0 = 2000.0" in settings
    assert "Beams:eCM = 13000." in settings


@pytest.mark.parametrize(
    "process, seed", [("zjets", 1), ("wjets", 0), ("wjets", 900_000_001)]
)
def test_settings_refuse_unknown_process_and_bad_seed(process, seed):
    with pytest.raises(ConfigError):
        process_settings(process, seed)


def test_missing_pythia_names_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # import now raises
    with pytest.raises(MissingDependencyError, match="requirements-generate.txt"):
        load_pythia()


def test_isolation_counts_visible_particles_inside_the_cone():
    # a 40 GeV muon; a 2 GeV photon at Delta R = 0.3 (inside), a 5 GeV photon at
    # Delta R = 0.5 (outside) and a neutrino inside the cone (invisible)
    event = _particles(
        [(13, 40.0, 0.0, 0.0), (22, 2.0, 0.3, 0.0), (22, 5.0, 0.0, 0.5),
         (14, 30.0, 0.1, 0.0)]
    )  # fmt: skip
    out = respond(event, _no_jets(), _perfect_detector(), np.random.default_rng(0))
    assert out["nMuon"].tolist() == [1]
    assert out["Muon_pt"] == pytest.approx([40.0])
    assert out["Muon_pfRelIso04_all"] == pytest.approx([2.0 / 40.0])
    assert out["Muon_charge"].tolist() == [-1]


def test_met_is_minus_visible_sum_and_genmet_the_neutrinos():
    event = _particles([(-13, 40.0, 0.0, 0.0), (14, 30.0, 0.5, np.pi)])
    out = respond(event, _no_jets(), _perfect_detector(), np.random.default_rng(0))
    assert out["MET_pt"] == pytest.approx([40.0])
    assert np.cos(out["MET_phi"]) == pytest.approx([-1.0])
    assert out["GenMET_pt"] == pytest.approx([30.0])


def test_muons_outside_acceptance_are_lost_and_sorted_by_pt():
    event = _particles(
        [(13, 20.0, 0.0, 0.0), (-13, 50.0, 1.0, 2.0), (13, 30.0, 2.6, 1.0),
         (13, 2.0, 0.0, -1.0)]
    )  # fmt: skip
    out = respond(event, _no_jets(), _perfect_detector(), np.random.default_rng(0))
    assert out["Muon_pt"] == pytest.approx([50.0, 20.0])
    assert out["GenMuon_pt"] == pytest.approx([50.0, 30.0, 20.0])
    # the muon at eta 2.6 escapes the tracker: MET balances the other three only
    seen = [(20.0, 0.0), (50.0, 2.0), (2.0, -1.0)]
    mex = -sum(pt * np.cos(phi) for pt, phi in seen)
    mey = -sum(pt * np.sin(phi) for pt, phi in seen)
    assert out["MET_pt"] == pytest.approx([np.hypot(mex, mey)])


@pytest.fixture(scope="module")
def generated():
    pytest.importorskip("pythia8mc", reason=PYTHIA_REASON)
    from hepviz.generate.run import generate

    return {p: generate(p, n, seed=3) for p, n in N_EVENTS.items()}


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_generated_columns_are_consistent(generated, process):
    columns, summary = generated[process]
    n = N_EVENTS[process]
    assert summary.n_events == n
    assert len(columns["MET_pt"]) == n
    assert columns["nMuon"].sum() == len(columns["Muon_pt"])
    assert columns["nJet"].sum() == len(columns["Jet_pt"])
    assert (columns["Muon_pt"] > 0).all()
    assert (columns["weight"] > 0).all()
    assert summary.weight == pytest.approx(summary.sigma_pb * 1000.0 / n)


def test_written_file_has_the_nanoaod_schema(generated, tmp_path):
    from hepviz.generate.writer import write_events

    columns, _ = generated["wjets"]
    path = write_events(tmp_path / "wjets.root", columns)
    with uproot.open(path) as f:
        tree = f["Events"]
        assert EXPECTED_BRANCHES <= set(tree.keys())
        arrays = tree.arrays(["nMuon", "Muon_pt"], library="ak")
    assert tree.num_entries == N_EVENTS["wjets"]
    np.testing.assert_array_equal(arrays["nMuon"], ak.num(arrays["Muon_pt"]))
    np.testing.assert_allclose(
        ak.flatten(arrays["Muon_pt"]), columns["Muon_pt"], rtol=1e-6
    )


def test_met_in_w_events_is_well_above_drell_yan(generated):
    met_w = generated["wjets"][0]["MET_pt"].mean()
    met_dy = generated["dy"][0]["MET_pt"].mean()
    assert met_w > 1.4 * met_dy


def test_same_seed_gives_same_events():
    pytest.importorskip("pythia8mc", reason=PYTHIA_REASON)
    from hepviz.generate.run import generate

    first, _ = generate("dy", 10, seed=11)
    second, _ = generate("dy", 10, seed=11)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
