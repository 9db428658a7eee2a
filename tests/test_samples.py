"""The bundled sample's presets and its theory-versus-detector comparison."""

from __future__ import annotations

import numpy as np
import pytest

from hepviz.errors import EmptyDatasetError
from hepviz.samples import DATA_DIR, bundled_samples, theory_vs_detector

needs_sample = pytest.mark.skipif(not (DATA_DIR / "wprime.root").exists(),
                                  reason="the bundled sample is not in data/")


@needs_sample
def test_wjets_preset_marks_w_signal_and_the_rest_background():
    specs = bundled_samples("wjets")
    assert {s.process: s.label for s in specs} == {
        "wjets": 1, "dy": 0, "ttbar": 0, "qcd": 0}
    assert all(s.weight_branch == "weight" and s.tree == "Events" for s in specs)


def test_missing_sample_files_are_named_with_what_to_do(tmp_path):
    with pytest.raises(EmptyDatasetError, match="wprime.root.*python -m hepviz"):
        bundled_samples("wprime", data_dir=tmp_path)


@needs_sample
def test_drell_yan_has_no_true_met_but_a_measured_one():
    met = theory_vs_detector("dy")["MET (GeV)"]
    width = np.diff(met.edges)
    theory = met.values["theory level"] * width
    detector = met.values["detector level"] * width
    assert theory.sum() == pytest.approx(1.0)
    # Z -> mu mu has almost no neutrinos: the true MET sits in the first bins,
    # the measured one (resolution, muons outside the acceptance) spreads out.
    assert theory[:2].sum() > 0.9
    assert detector[:2].sum() < 0.5


@needs_sample
def test_w_boson_met_at_theory_and_detector_level_agree_roughly():
    met = theory_vs_detector("wjets")["MET (GeV)"]
    centers = 0.5 * (met.edges[1:] + met.edges[:-1])
    means = {k: np.average(centers, weights=v) for k, v in met.values.items()}
    assert means["detector level"] == pytest.approx(means["theory level"], rel=0.2)
