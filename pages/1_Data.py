"""Data page: choose the bundled sample or upload event files, inspect their trees
and branches, mark each file signal or background and build the features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from hepviz import samples
from hepviz.dataset import SampleSpec, build_eventset
from hepviz.errors import HepvizError
from hepviz.features import Feature, Recipe, muon_met_recipe
from hepviz.plots import overlay_figure
from hepviz.sources import list_trees
from pages import common

UPLOAD_TYPES = ["root", "csv", "parquet", "pq"]
JAGGED_QUANTITIES = {
    "leading (k = 1)": ("nth", 0),
    "second (k = 2)": ("nth", 1),
    "count per event": ("count", 0),
    "sum per event": ("sum", 0),
}

st.title("Data")
st.caption(
    "p-p collisions at √s = 13 TeV, muon + missing transverse energy. The "
    "canonical features are x1 = MET, x2 = number of muons, x3 = leading-muon "
    "pT, x4 = second-muon pT (0 when there is none)."
)


@st.cache_data(show_spinner=False)
def _trees(path: str, stamp: float):
    return list_trees(path)


def trees_of(path: str):
    from pathlib import Path

    return _trees(path, Path(path).stat().st_mtime)


@st.cache_data(show_spinner="Reading generator and detector level…")
def _levels(process: str, stamp: tuple):
    return samples.theory_vs_detector(process)


def levels_of(process: str, specs):
    return _levels(process, samples.sample_stamp(specs))


def branch_table(tree) -> pd.DataFrame:
    return pd.DataFrame(
        {"branch": list(tree.branches), "type": list(tree.branches.values())}
    )


def build_with_progress(specs, recipe, name: str) -> None:
    bar = st.progress(0.0, text="Reading events…")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=message)

    try:
        eventset = build_eventset(specs, recipe, progress=progress)
    except HepvizError as err:
        bar.empty()
        common.show_error(err)
    dataset_hash = common.get_store().save_dataset(eventset)
    bar.empty()
    common.set_active_dataset(dataset_hash, name)
    st.success(f"Built {eventset.n_events:,} events with features "
               f"{', '.join(eventset.feature_names)}.")


source = st.radio("Events from", ["Bundled sample", "Upload files"],
                  horizontal=True, key="data_source")

if source == "Bundled sample":
    preset = st.selectbox("Which physics question", list(samples.PRESETS),
                          format_func=lambda key: samples.PRESETS[key].title,
                          key="preset")
    try:
        specs = samples.bundled_samples(preset)
    except HepvizError as err:
        common.show_error(err)
    rows = []
    for spec in specs:
        tree = next(t for t in trees_of(spec.path) if t.name == "Events")
        rows.append({
            "process": samples.PROCESS_TITLES.get(spec.process, spec.process),
            "class": "signal" if spec.label == 1 else "background",
            "file": spec.path.rsplit("/", 1)[-1],
            "events": tree.num_entries,
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    with st.expander("Branches of the bundled files"):
        st.dataframe(branch_table(trees_of(specs[0].path)[0]), hide_index=True)
    with st.expander("Theory level against detector level"):
        st.caption("The generator knows the neutrinos (GenMET = their summed pT) and "
                   "every muon; the detector sees muons within |η| < 2.4 with a "
                   "resolution and MET from smeared visible particles (see the "
                   "README's Detector model).")
        process = st.selectbox("Process", [spec.process for spec in specs],
                               format_func=lambda p: samples.PROCESS_TITLES.get(p, p),
                               key="levels_process")
        for column, (label, overlay) in zip(
                st.columns(2), levels_of(process, specs).items()):
            name, unit = label.rsplit(" (", 1)
            column.plotly_chart(overlay_figure(overlay, name, name,
                                               unit=unit.rstrip(")")),
                                key=f"levels_{label}", width="stretch")
    if st.button("Use this sample", key="use_bundled", type="primary"):
        try:
            dataset_hash = common.bundled_dataset_hash(preset)
        except HepvizError as err:
            common.show_error(err)
        common.set_active_dataset(
            dataset_hash, f"bundled sample: {samples.PRESETS[preset].title}")
        st.success("The bundled sample is now the active dataset.")

else:
    uploads = st.file_uploader(
        "ROOT (TTree or RNTuple), CSV or Parquet files; one file per process",
        type=UPLOAD_TYPES, accept_multiple_files=True, key="uploader",
    )
    saved = st.session_state.setdefault("uploaded_paths", {})
    store = common.get_store()
    for upload in uploads or []:
        saved[upload.name] = str(store.save_upload(upload.name, upload.getvalue()))
    if not saved:
        st.info("Upload one file per process, then mark each as signal or "
                "background.")
        st.stop()

    specs: list[SampleSpec] = []
    branch_sets = []
    for i, (name, path) in enumerate(list(saved.items())):
        with st.container(border=True):
            head, remove = st.columns([6, 1])
            head.markdown(f"**{name}**")
            if remove.button("Remove", key=f"remove_{name}"):
                saved.pop(name)
                st.rerun()
            try:
                trees = trees_of(path)
            except HepvizError as err:
                st.error(str(err))
                continue
            if not trees:
                st.error(f"{name} holds no TTree, RNTuple or table.")
                continue
            cols = st.columns([2, 1, 2, 2])
            tree_names = [t.name for t in trees]
            tree_name = cols[0].selectbox(
                "Tree", tree_names, key=f"tree_{name}",
                format_func=lambda n, trees=trees: next(
                    f"{t.name} ({t.kind}, {t.num_entries:,} events)"
                    for t in trees if t.name == n),
            )
            tree = trees[tree_names.index(tree_name)]
            label = cols[1].radio("Class", ["signal", "background"],
                                  index=0 if i == 0 else 1, key=f"class_{name}")
            process = cols[2].text_input("Process", value=name.rsplit(".", 1)[0],
                                         key=f"process_{name}")
            scalars = [b for b, t in tree.branches.items() if "*" not in t]
            weight = cols[3].selectbox("Event weight", ["(none: 1 per event)"]
                                       + scalars, key=f"weight_{name}")
            with st.expander(f"{len(tree.branches)} branches"):
                st.dataframe(branch_table(tree), hide_index=True)
            if tree.num_entries == 0:
                st.warning(f"{tree_name} has no events; it is left out.")
                continue
            specs.append(SampleSpec(
                path=path, label=1 if label == "signal" else 0,
                process=process or name, tree=tree_name,
                weight_branch=None if weight.startswith("(none") else weight,
            ))
            branch_sets.append(tree.branches)

    if not specs:
        st.warning("None of the uploaded files can be used yet.")
        st.stop()

    st.subheader("Features")
    recipe_kind = st.radio(
        "Recipe", ["Muon + MET (x1 … x4)", "Choose branches"], horizontal=True,
        key="recipe_kind",
        help="Muon + MET understands NanoAOD names (MET_pt, nMuon, Muon_pt) and "
             "the tutorial style (MET_px/MET_py, NMuon, Muon_Px/Muon_Py).",
    )
    recipe = muon_met_recipe
    if recipe_kind == "Choose branches":
        common_branches = sorted(set.intersection(*(set(b) for b in branch_sets)))
        if not common_branches:
            st.warning("These files have no branch or column name in common, so no "
                       "feature can be read from all of them. Upload files of one "
                       "schema, or remove the odd one out.")
            st.stop()
        chosen = st.multiselect("Branches present in every file", common_branches,
                                key="custom_branches")
        features = []
        for branch in chosen:
            if "*" in branch_sets[0][branch]:
                what = st.selectbox(f"{branch} (one value per object)",
                                    list(JAGGED_QUANTITIES), key=f"q_{branch}")
                kind, index = JAGGED_QUANTITIES[what]
                suffix = {"nth": f"_{index + 1}", "count": "_count",
                          "sum": "_sum"}[kind]
                features.append(Feature(f"{branch}{suffix}", kind, (branch,),
                                        index=index))
            else:
                features.append(Feature(branch, "value", (branch,)))
        if not features:
            st.info("Choose at least one branch.")
            st.stop()
        recipe = Recipe(tuple(features), name="custom")

    if st.button("Build features", key="build", type="primary"):
        build_with_progress(specs, recipe,
                            "uploaded: " + ", ".join(s.process for s in specs))

if "dataset_hash" in st.session_state:
    st.subheader("Active dataset")
    eventset = common.load_dataset(st.session_state["dataset_hash"])
    st.caption(st.session_state["dataset_name"])
    per_process = pd.DataFrame({
        "process": [eventset.process_names[p] for p in eventset.process],
        "class": ["signal" if y == 1 else "background" for y in eventset.y],
        "weight": eventset.weight,
    }).groupby(["process", "class"], sort=False).agg(
        events=("weight", "size"), sum_of_weights=("weight", "sum")).reset_index()
    st.dataframe(per_process, hide_index=True)
    if st.session_state["dataset_name"].startswith("bundled"):
        st.caption("sum_of_weights: events expected in 1 fb⁻¹ (each event weighs "
                   "cross section × 1 fb⁻¹ / events generated).")
    else:
        st.caption("sum_of_weights: the sum of the chosen weight branch, or the "
                   "number of events when no weight was chosen.")
    classes = set(np.unique(eventset.y).tolist())
    if len(classes) < 2:
        missing = "background" if 1 in classes else "signal"
        st.warning(f"This dataset has no {missing} events, so no network can be "
                   f"trained on it. Mark at least one file as {missing}.")
    for note in eventset.notes:
        st.warning(note)
    st.markdown("First events:")
    first = pd.DataFrame(eventset.X[:10], columns=eventset.feature_names)
    first.insert(0, "class", np.where(eventset.y[:10] == 1, "signal", "background"))
    first.insert(0, "process",
                 [eventset.process_names[p] for p in eventset.process[:10]])
    st.dataframe(first, hide_index=True)
