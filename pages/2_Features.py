"""Features page: each feature's signal and background distributions, before and
after scaling, with the fitted scaling parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from hepviz.dataset import split_indices
from hepviz.errors import HepvizError
from hepviz.features import unit_of
from hepviz.histograms import feature_histograms
from hepviz.plots import histogram_figure
from hepviz.scaling import SCALERS, make_scaler
from pages import common

SCALER_TITLES = {
    "zscore": "z-score: (x − μ) / (σ + ε)",
    "minmax": "min-max to [0, 1]",
    "robust": "robust: (x − median) / IQR",
    "none": "no scaling",
}

st.title("Features")
dataset_hash, eventset = common.active_dataset()

controls = st.columns([2, 1, 1, 1])
kind = controls[0].selectbox("Scaler", SCALERS, format_func=SCALER_TITLES.get,
                             key="scaler")
bins = controls[1].slider("Bins", 10, 100, 40, step=5, key="bins")
log_y = controls[2].toggle("Log y", value=False, key="log_y")
weighted = controls[3].toggle("Event weights", value=True, key="weighted",
                              help="Weight each event by its cross-section weight; "
                                   "shapes are normalised to unit area either way.")


@st.cache_data(show_spinner="Scaling and binning…", max_entries=32)
def compute(dataset_hash: str, kind: str, bins: int, weighted: bool):
    eventset = common.load_dataset(dataset_hash)
    split = split_indices(eventset.n_events, eventset.y, seed=0)
    scaler = make_scaler(kind).fit(eventset.X[split.train])
    scaled = scaler.transform(eventset.X)
    weight = eventset.weight if weighted else np.ones(eventset.n_events)
    before = feature_histograms(eventset.X, eventset.y, weight,
                                eventset.feature_names, bins=bins)
    after = feature_histograms(scaled, eventset.y, weight,
                               eventset.feature_names, bins=bins)
    return before, after, scaler.parameters()


try:
    before, after, parameters = compute(dataset_hash, kind, bins, weighted)
except HepvizError as err:
    common.show_error(err)

st.markdown(
    f"Scaler fitted on the **training split** only (60% of {eventset.n_events:,} "
    "events, seed 0), exactly as the Train page does, then applied to all events."
)
table = pd.DataFrame(parameters)
table.insert(0, "feature", eventset.feature_names)
st.dataframe(table, hide_index=True)
for name, params in zip(eventset.feature_names, parameters):
    sigma = params.get("sigma")
    if sigma is not None and sigma == 0:
        st.warning(f"'{name}' is constant (σ = 0): the ε in the denominator keeps "
                   "its scaled value at 0 instead of dividing by zero. A constant "
                   "feature carries no information for the network.")

st.caption("Each class is normalised to unit area, (1/N) dN/dx, so the shapes of "
           "signal and background compare whatever their numbers of events.")
if weighted:
    for label, title in ((0, "background"), (1, "signal")):
        mask = eventset.y == label
        shares = np.bincount(eventset.process[mask], weights=eventset.weight[mask],
                             minlength=len(eventset.process_names))
        if len(np.flatnonzero(shares)) > 1 and shares.sum() > 0:
            top = int(np.argmax(shares))
            st.caption(
                f"With event weights, {shares[top] / shares.sum():.1%} of the "
                f"{title} weight is {eventset.process_names[top]}: its shape "
                f"dominates the {title} histograms. Switch weights off to see every "
                "process equally per event.")
for hist_before, hist_after in zip(before, after):
    left, right = st.columns(2)
    left.plotly_chart(
        histogram_figure(hist_before, title=f"{hist_before.name}: before scaling",
                         log_y=log_y, unit=unit_of(hist_before.name)),
        key=f"before_{hist_before.name}", width="stretch")
    right.plotly_chart(
        histogram_figure(hist_after,
                         title=f"{hist_after.name}: after {SCALER_TITLES[kind]}",
                         x_title=f"scaled {hist_after.name} (no unit)",
                         log_y=log_y),
        key=f"after_{hist_after.name}", width="stretch")
