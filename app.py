"""hepviz dashboard: navigation, the active dataset and the runs at a glance.

Run with ``streamlit run app.py``. Each page in ``pages/`` reads its widgets,
calls the ``hepviz`` library and draws the result.
"""

from __future__ import annotations

import logging
from collections import Counter

import streamlit as st

from hepviz import jobs
from pages import common

st.set_page_config(page_title="hepviz", page_icon=":material/blur_on:", layout="wide")
if not logging.getLogger().handlers:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

# URL paths are left to Streamlit, which names them after the files (/Features,
# ...): with a pages/ folder beside st.navigation, other names make a reload of a
# page's URL show "Page not found" before the page runs.
PAGES = [
    st.Page("pages/1_Data.py", title="Data", icon=":material/folder_open:",
            default=True),
    st.Page("pages/2_Features.py", title="Features", icon=":material/bar_chart:"),
    st.Page("pages/3_Train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/4_Evaluate.py", title="Evaluate", icon=":material/target:"),
    st.Page("pages/5_Activations.py", title="Activations",
            icon=":material/stacked_line_chart:"),
]



def sidebar_dataset() -> None:
    st.markdown("### Active dataset")
    if "dataset_hash" not in st.session_state:
        st.warning(st.session_state.get("dataset_error", "No dataset loaded."))
        return
    eventset = common.load_dataset(st.session_state["dataset_hash"])
    n_signal = int((eventset.y == 1).sum())
    st.caption(common.md(st.session_state["dataset_name"]))
    st.markdown(
        f"**{eventset.n_events:,}** events · {n_signal:,} signal · "
        f"{eventset.n_events - n_signal:,} background  \n"
        f"features: {common.md(', '.join(eventset.feature_names))}"
    )


def sidebar_runs() -> None:
    st.markdown("### Runs")
    store = common.get_store()
    jobs.reap(store)  # a run whose worker died (machine restart) shows as failed
    records = store.list_runs()
    if not records:
        st.caption("No runs yet: train one on the Train page.")
        return
    counts = Counter(record.status for record in records)
    st.caption(" · ".join(f"{n} {status}" for status, n in counts.items()))
    for record in records[:5]:
        st.markdown(f"`{record.status:>9}` {common.md(common.run_label(record))}")


page = st.navigation(PAGES)
common.ensure_active_dataset()
try:
    page.run()
finally:
    # Drawn after the page, so that a dataset built or a run started on it shows
    # here at once; also when the page stopped early with st.stop().
    with st.sidebar:
        sidebar_dataset()
        active = any(r.status in common.ACTIVE_STATUSES
                     for r in common.get_store().list_runs())
        st.fragment(sidebar_runs, run_every=2.0 if active else None)()
