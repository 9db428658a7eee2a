"""Every page run through streamlit.testing's AppTest: no exception, the widgets
set by key, and what is drawn checked. Training runs as the real background job."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from hepviz.runs import RunStore
from hepviz.samples import DATA_DIR, PRESETS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
BUNDLED = all((DATA_DIR / f"{p}.root").exists()
              for p in PRESETS["wjets"].signal + PRESETS["wjets"].background)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh run store per test; the server-wide Streamlit caches are cleared
    so that no test sees another's store."""
    home = tmp_path / "home"
    monkeypatch.setenv("HEPVIZ_HOME", str(home))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield home
    st.cache_resource.clear()
    st.cache_data.clear()


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    return at.run()


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _upload(at: AppTest, *paths: Path) -> AppTest:
    at.radio(key="data_source").set_value("Upload files").run()
    at.file_uploader(key="uploader").set_value(
        [(p.name, p.read_bytes(), "application/octet-stream") for p in paths])
    return at.run()


@pytest.fixture
def two_class_app(home, tiny_nanoaod_root, make_nanoaod_root, tmp_path) -> AppTest:
    """The app with a signal file and a harder-MET background file built."""
    background = make_nanoaod_root(tmp_path / "bkg.root", seed=3, met_scale=60.0)
    at = _upload(_app(), tiny_nanoaod_root, background)
    return at.button(key="build").click().run()


def _wait_for_run(home: Path, timeout: float = 180) -> str:
    store = RunStore(home)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = store.list_runs()
        if records and records[0].status not in ("queued", "running"):
            return records[0].id
        time.sleep(0.5)
    raise AssertionError(f"run did not finish in {timeout} s: {store.list_runs()}")


@pytest.mark.skipif(not BUNDLED, reason="the bundled sample is not in data/")
def test_app_opens_on_the_bundled_sample(home):
    at = _app()
    _ok(at)
    assert not at.error
    assert "bundled sample" in at.session_state["dataset_name"]
    assert any("signal" in md.value for md in at.sidebar.markdown)
    assert len(at.get("plotly_chart")) == 2  # theory against detector level
    at.selectbox(key="levels_process").set_value("dy").run()
    _ok(at)

    at.switch_page("pages/2_Features.py").run()
    _ok(at)
    # QCD's cross section dwarfs the others: the page says so.
    assert any("of the background weight is qcd" in c.value for c in at.caption)


def test_upload_nanoaod_and_tutorial_files_builds_the_four_features(
        home, tiny_nanoaod_root, tiny_tutorial_root):
    at = _upload(_app(), tiny_nanoaod_root, tiny_tutorial_root)
    _ok(at)
    at.radio(key=f"class_{tiny_tutorial_root.name}").set_value("background")
    at.button(key="build").click().run()
    _ok(at)
    assert not at.error
    assert "met, n_muons, muon1_pt, muon2_pt" in at.success[0].value
    assert at.session_state["dataset_name"].startswith("uploaded")


@pytest.mark.parametrize("broken", ["text_named_root", "truncated_root",
                                    "empty_file", "empty_tree_root"])
def test_broken_upload_gets_a_message_not_a_traceback(home, request, broken,
                                                      tiny_nanoaod_root):
    bad = request.getfixturevalue(broken)
    at = _upload(_app(), tiny_nanoaod_root, bad)
    _ok(at)
    messages = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any(bad.name in m or "no events" in m for m in messages), messages


def test_missing_branches_get_a_message_naming_them(home, tmp_path,
                                                     tiny_nanoaod_root):
    table = tmp_path / "flat.csv"
    pd.DataFrame({"MET": [1.0, 2.0], "muons": [1, 2]}).to_csv(table, index=False)
    at = _upload(_app(), tiny_nanoaod_root, table)
    at.button(key="build").click().run()
    _ok(at)
    assert at.error and "not found" in at.error[0].value


def test_files_without_a_common_branch_are_explained(home, tmp_path,
                                                    tiny_nanoaod_root):
    table = tmp_path / "flat.csv"
    pd.DataFrame({"MET": [1.0, 2.0], "muons": [1, 2]}).to_csv(table, index=False)
    at = _upload(_app(), tiny_nanoaod_root, table)
    at.radio(key="recipe_kind").set_value("Choose branches").run()
    _ok(at)
    assert any("no branch or column name in common" in w.value for w in at.warning)


def test_nan_rows_dropped_constant_feature_and_one_class_explained(home, tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for name in ("sig.csv", "bkg.csv"):
        x = rng.normal(size=200)
        x[:3] = [np.nan, np.inf, -np.inf]
        path = tmp_path / name
        pd.DataFrame({"x": x, "flat": 5.0}).to_csv(path, index=False)
        frames.append(path)
    at = _upload(_app(), *frames)
    at.radio(key="class_bkg.csv").set_value("signal")  # one class only
    at.radio(key="recipe_kind").set_value("Choose branches").run()
    at.multiselect(key="custom_branches").set_value(["x", "flat"]).run()
    at.button(key="build").click().run()
    _ok(at)
    assert any("dropped" in w.value for w in at.warning)
    assert any("no background events" in w.value for w in at.warning)

    at.switch_page("pages/2_Features.py").run()
    _ok(at)
    assert any("constant" in w.value for w in at.warning)

    at.switch_page("pages/3_Train.py").run()
    _ok(at)
    assert at.error and "cannot be trained" in at.error[0].value


def test_features_page_shows_histograms_before_and_after_scaling(home, two_class_app):
    at = two_class_app
    at.switch_page("pages/2_Features.py").run()
    _ok(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 2 * 4
    params = at.dataframe[0].value
    assert list(params.columns[:3]) == ["feature", "mu", "sigma"]
    at.selectbox(key="scaler").set_value("minmax").run()
    _ok(at)
    assert "min" in at.dataframe[0].value.columns


def test_train_evaluate_and_activations_pages_on_a_finished_run(home, two_class_app):
    at = two_class_app

    at.switch_page("pages/3_Train.py").run()
    _ok(at)
    at.number_input(key="epochs").set_value(2)
    at.slider(key="depth").set_value(2)
    at.button(key="train").click().run()
    _ok(at)
    run_id = _wait_for_run(home)
    assert RunStore(home).get(run_id).status == "finished", RunStore(home).get(run_id)

    at.switch_page("pages/3_Train.py").run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 2  # loss and validation AUC curves

    at.switch_page("pages/4_Evaluate.py").run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 2  # ROC and output distribution
    auc = at.dataframe[0].value["AUC"].iloc[0]
    assert 0.5 < auc <= 1.0

    at.switch_page("pages/5_Activations.py").run()
    _ok(at)
    assert len(at.get("plotly_chart")) >= 4

    at.switch_page("pages/3_Train.py").run()
    at.number_input(key="epochs").set_value(1)
    at.button(key="train").click().run()
    at.button(key="train").click().run()  # a double click queues one run, not two
    assert len(RunStore(home).list_runs()) == 2
    second = RunStore(home).list_runs()[0].id
    assert second != run_id
    assert at.selectbox(key="follow_select").value == second  # follows the new run
    assert _wait_for_run(home) == second

    at.selectbox(key="follow_select").set_value(run_id).run()
    at.button(key=f"delete_{run_id}").click().run()
    assert len(RunStore(home).list_runs()) == 2  # asks first
    at.button(key=f"confirm_delete_{run_id}").click().run()
    _ok(at)
    assert [r.id for r in RunStore(home).list_runs()] == [second]


def test_pages_without_runs_say_what_to_do(home, tiny_nanoaod_root):
    at = _app()
    for page in ("pages/4_Evaluate.py", "pages/5_Activations.py"):
        at.switch_page(page).run()
        _ok(at)
        assert at.info and "Train page" in at.info[0].value


def test_train_presets_fill_the_form_for_the_vanishing_gradient_demo(
        home, two_class_app):
    at = two_class_app
    at.switch_page("pages/3_Train.py").run()
    preset = next(p for p in at.selectbox(key="train_preset").options
                  if p.startswith("Vanishing"))
    at.selectbox(key="train_preset").set_value(preset).run()
    _ok(at)
    assert at.slider(key="depth").value == 20
    assert at.toggle(key="batch_norm").value is False
    assert at.selectbox(key="architecture").value == "mlp"


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HZZ = SHARED / "uproot-HZZ.root"
RNTUPLE = SHARED / "Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root"


@pytest.mark.skipif(not HZZ.exists(), reason=f"{HZZ} not found")
def test_tutorial_style_file_gives_the_same_four_features(home, tiny_nanoaod_root):
    at = _upload(_app(), HZZ, tiny_nanoaod_root)
    at.button(key="build").click().run()
    _ok(at)
    assert not at.error
    assert "met, n_muons, muon1_pt, muon2_pt" in at.success[0].value


@pytest.mark.skipif(not RNTUPLE.exists(), reason=f"{RNTUPLE} not found")
def test_rntuple_without_met_explains_then_builds_from_chosen_branches(
        home, tiny_nanoaod_root):
    at = _upload(_app(), RNTUPLE, tiny_nanoaod_root)
    _ok(at)
    assert "Events (RNTuple, 1,000 events)" in at.selectbox(
        key=f"tree_{RNTUPLE.name}").format_func("Events")
    at.button(key="build").click().run()
    _ok(at)
    assert at.error and "MET" in at.error[0].value

    at.radio(key="recipe_kind").set_value("Choose branches").run()
    at.multiselect(key="custom_branches").set_value(["Muon_pt", "nMuon"]).run()
    at.button(key="build").click().run()
    _ok(at)
    assert not at.error
    assert "Muon_pt_1, nMuon" in at.success[0].value


def test_a_restarted_server_opens_on_the_dataset_made_active_last(home, two_class_app):
    at = two_class_app
    built = at.session_state["dataset_hash"]

    st.cache_resource.clear()  # a new server process: nothing cached, no sessions
    st.cache_data.clear()
    again = _app()
    _ok(again)
    assert again.session_state["dataset_hash"] == built
    assert again.session_state["dataset_name"].startswith("uploaded")
