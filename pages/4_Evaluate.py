"""Evaluate page: ROC curves and AUC of finished runs on the test split, the
network output of signal and background, and the overtraining check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from hepviz.errors import HepvizError
from hepviz.evaluation import background_rejection_at, overtraining_test, roc_curve
from hepviz.histograms import feature_histogram
from hepviz.plots import roc_figure, score_figure
from pages import common

CONVENTIONS = {
    "rejection": "background rejection 1 − ε_b vs signal efficiency ε_s",
    "inverse": "background rejection 1/ε_b (log) vs signal efficiency ε_s",
    "tpr": "ML convention: true vs false positive rate",
}

# A network whose outputs differ by less than this across events has not learned.
STALLED_SPREAD = 1e-3

st.title("Evaluate")
store = common.get_store()
finished = [r for r in store.list_runs() if r.status == "finished"]
if not finished:
    st.info("No finished run yet. Train one on the Train page; this page shows "
            "its ROC curve once it has finished.")
    st.stop()

labels = {record.id: common.run_label(record) for record in finished}
datasets = {record.id: record.dataset_hash for record in finished}
active_hash = st.session_state.get("dataset_hash")
on_active = [run_id for run_id in labels if datasets[run_id] == active_hash]
chosen = st.multiselect(
    "Runs to compare", list(labels), default=(on_active or list(labels))[:3],
    format_func=labels.get, key="eval_runs",
    help="By default the newest runs trained on the active dataset.")
convention = st.radio("Convention", list(CONVENTIONS), format_func=CONVENTIONS.get,
                      horizontal=True, key="roc_convention")
if not chosen:
    st.info("Choose at least one run.")
    st.stop()
if not on_active:
    st.info("No finished run uses the active dataset; showing the newest runs.")
if len({datasets[run_id] for run_id in chosen}) > 1:
    st.warning("These runs were trained and tested on different datasets, so their "
               "ROC curves answer different questions: compare AUCs with care.")


@st.cache_data(show_spinner="Computing ROC curves…", max_entries=64)
def evaluate(run_id: str):
    predictions = store.load_predictions(run_id)
    test, train = (
        {key: predictions[key][predictions["split"] == part]
         for key in ("score", "y", "weight")}
        for part in ("test", "train")
    )
    roc = roc_curve(test["y"], test["score"], test["weight"])
    bins = dict(bins=40, range=(0.0, 1.0), density=True)
    test_hist = feature_histogram(test["score"], test["y"], test["weight"],
                                  name="score", **bins)
    train_hist = feature_histogram(train["score"], train["y"], train["weight"],
                                   name="score", **bins)
    ks = overtraining_test(train["score"], train["y"], test["score"], test["y"])
    return roc, test_hist, train_hist, ks, float(np.std(test["score"]))


results = {}
for run_id in chosen:
    try:
        results[run_id] = evaluate(run_id)
    except HepvizError as err:
        st.error(f"{labels[run_id]}: {err}")
if not results:
    st.stop()
for run_id, result in results.items():
    if result[4] < STALLED_SPREAD:
        st.warning(
            f"{labels[run_id]} gives almost the same output for every event (spread "
            f"{result[4]:.1e}): it has not learned, and its ROC curve and AUC are "
            "set by tiny fluctuations, even below 0.5. The Activations page shows "
            "why (vanishing gradients).")

st.plotly_chart(roc_figure({labels[r]: res[0] for r, res in results.items()},
                           convention=convention), key="roc", width="stretch")

rows = []
for run_id, (roc, _, _, ks, _) in results.items():
    record = store.get(run_id)
    rows.append({
        "run": labels[run_id],
        "AUC": round(roc.auc, 4),
        "1/ε_b at ε_s = 50%": float(f"{background_rejection_at(roc, 0.5):.3g}"),
        "1/ε_b at ε_s = 90%": float(f"{background_rejection_at(roc, 0.9):.3g}"),
        "KS p (signal)": ks.get("signal_p_value"),
        "KS p (background)": ks.get("background_p_value"),
        "network": record.config.get("model", {}).get("architecture"),
        "dataset": store.dataset_name(record.dataset_hash),
    })
st.dataframe(pd.DataFrame(rows).replace([np.inf], np.nan), hide_index=True)
st.caption("All numbers are on the test split (20% of the events, never seen in "
           "training) and use the event weights. AUC is the area under ε_s against "
           "ε_b; 1/ε_b is the background rejection factor at a fixed signal "
           "efficiency. The Train page's validation AUC is computed the same way "
           "on the validation split, so the two differ by statistical fluctuation. "
           "No uncertainties are shown: with few test events, or weights that "
           "vary by orders of magnitude (QCD in the bundled sample), a large 1/ε_b "
           "may rest on a handful of events. "
           "A KS p-value far below 0.05 between the train and test output "
           "distributions hints at overtraining (the KS test ignores weights).")

shown = st.selectbox("Output distribution of", list(results), format_func=labels.get,
                     key="score_run")
log_y = st.toggle("Log y", value=False, key="score_log")
_, test_hist, train_hist, _, _ = results[shown]
st.plotly_chart(score_figure(test_hist, train_hist, log_y=log_y), key="scores",
                width="stretch")
