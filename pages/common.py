"""Streamlit-only helpers shared by the pages: the run store, the active dataset,
cached loaders and the way user-facing errors are shown.

Nothing here holds physics or training logic; it wires widgets to ``hepviz``.
"""

from __future__ import annotations

import streamlit as st

from hepviz import samples
from hepviz.dataset import EventSet, build_eventset
from hepviz.errors import HepvizError
from hepviz.features import muon_met_recipe
from hepviz.runs import ACTIVE, RunStore

ACTIVE_STATUSES = ACTIVE


@st.cache_resource
def get_store() -> RunStore:
    """One run store per server process, at $HEPVIZ_HOME or ./.hepviz."""
    return RunStore()


@st.cache_resource(show_spinner=False)
def load_dataset(dataset_hash: str) -> EventSet:
    """The EventSet of a content hash (immutable, so cached for good)."""
    return get_store().load_dataset(dataset_hash)


@st.cache_resource(show_spinner="Reading the bundled sample and building features…")
def _bundled_dataset_hash(preset: str, stamp: tuple) -> str:
    specs = samples.bundled_samples(preset)
    eventset = build_eventset(specs, muon_met_recipe)
    return get_store().save_dataset(eventset)


def bundled_dataset_hash(preset: str = samples.DEFAULT_PRESET) -> str:
    """Build (once per server and file version) the bundled sample of a preset."""
    specs = samples.bundled_samples(preset)
    return _bundled_dataset_hash(preset, samples.sample_stamp(specs))


def set_active_dataset(dataset_hash: str, name: str) -> None:
    """Make a stored dataset the one every page works on.

    It is kept in the session, in the page URL (so a reload restores it) and in
    the store as the last one made active (so a new tab or a restarted server
    opens on it rather than on the bundled sample).
    """
    store = get_store()
    store.name_dataset(dataset_hash, name)
    store.set_last_dataset(dataset_hash)
    st.session_state["dataset_hash"] = dataset_hash
    st.session_state["dataset_name"] = name
    st.query_params["dataset"] = dataset_hash


def ensure_active_dataset() -> None:
    """Find the active dataset: this session's, the URL's, the one made active
    last on this server, or else the bundled sample. Errors are shown, not raised."""
    if "dataset_hash" in st.session_state:
        st.query_params["dataset"] = st.session_state["dataset_hash"]
        return
    store = get_store()
    wanted = st.query_params.get("dataset")
    if not (wanted and store.has_dataset(wanted)):
        wanted = store.last_dataset()
    if wanted:
        st.session_state["dataset_hash"] = wanted
        st.session_state["dataset_name"] = store.dataset_name(wanted)
        st.query_params["dataset"] = wanted
        return
    try:
        dataset_hash = bundled_dataset_hash()
    except HepvizError as err:
        st.session_state["dataset_error"] = str(err)
        return
    preset = samples.PRESETS[samples.DEFAULT_PRESET]
    set_active_dataset(dataset_hash, f"bundled sample: {preset.title}")


def active_dataset() -> tuple[str, EventSet]:
    """The active dataset, or an explanation and a stop when there is none."""
    dataset_hash = st.session_state.get("dataset_hash")
    if dataset_hash is None:
        reason = st.session_state.get("dataset_error", "No dataset is loaded yet.")
        st.info(f"{reason} Choose or upload events on the Data page.")
        st.stop()
    return dataset_hash, load_dataset(dataset_hash)


def md(text: str) -> str:
    """Text shown literally inside Markdown (a Z/γ* must not start italics)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~$" else c for c in text)


def show_error(err: HepvizError) -> None:
    """Show a user-facing error and stop the page."""
    st.error(str(err))
    st.stop()


def run_label(record) -> str:
    """A short, unique label for a run in selectors and legends."""
    return f"{record.name} · {record.id[-6:]}"
