"""Activations page: what every layer outputs, and the gradient that reaches it,
so that a student sees why a deep plain network stalls (vanishing gradients, an
optimisation problem, not overfitting) and a residual one does not."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hepviz.errors import HepvizError
from hepviz.plots import layer_histograms_figure, per_layer_figure
from pages import common

ACTIVATION_KINDS = ("ReLU", "Tanh", "Sigmoid")

st.title("Activations")
st.markdown(
    "During training the network's gradient is passed backwards layer by layer. "
    "In a deep plain network it is multiplied by each layer's weights and "
    "activation slope on the way, and shrinks by a roughly constant factor per "
    "layer (ReLU with default initialisation, and even more so sigmoid, which "
    "saturates), so the first layers barely learn: the training loss stalls even "
    "though the network could fit the data — an **optimisation** problem, not "
    "overfitting. "
    "A residual block adds its input a⁽ˡ⁾ to Z⁽ˡ⁺²⁾ before the activation, giving "
    "the gradient a short path back. On the Train page, start from the plain "
    "20-layer MLP and from the 10 residual blocks (the same 20 layers, ReLU, no "
    "batch norm), train both, and compare them here."
)

store = common.get_store()
records = [r for r in store.list_runs() if r.status in ("finished", "running")]
if not records:
    st.info("No trained run yet. Train one on the Train page; its layers appear "
            "here epoch by epoch.")
    st.stop()
labels = {record.id: common.run_label(record) for record in records}


def load(run_id: str) -> dict | None:
    try:
        return store.load_probes(run_id)
    except HepvizError:
        return None


def summary_table(probes: dict, kinds: tuple[str, ...] | None) -> pd.DataFrame:
    rows = []
    for entry in probes["epochs"]:
        depth = 0
        for layer in entry["layers"]:
            if kinds is not None and layer["kind"] not in kinds:
                continue
            depth += 1
            rows.append({"epoch": entry["epoch"], "depth": depth,
                         "layer": layer["name"],
                         **{k: v for k, v in layer.items() if k != "hist"}})
    return pd.DataFrame(rows)


run_id = st.selectbox("Run", list(labels), format_func=labels.get, key="act_run")
all_layers = st.toggle("Show Linear and BatchNorm layers too", value=False,
                       key="act_all_layers",
                       help="By default only the activation outputs a⁽ˡ⁾ are shown.")
kinds = None if all_layers else ACTIVATION_KINDS
probes = load(run_id)
if not probes or not probes.get("epochs"):
    st.info("This run has not finished an epoch yet; its probes appear after the "
            "first one.")
    st.stop()

table = summary_table(probes, kinds)
st.subheader("Gradient reaching each layer, epoch by epoch")
st.plotly_chart(
    per_layer_figure(table, "grad_norm", "‖∂L/∂a‖ per layer (validation events)",
                     "gradient norm", log_y=True),
    key="grad_norm", width="stretch")
left, right = st.columns(2)
left.plotly_chart(per_layer_figure(table, "std", "Spread of each layer's output",
                                   "standard deviation"),
                  key="act_std", width="stretch")
if table["frac_saturated"].notna().any():
    right.plotly_chart(
        per_layer_figure(table, "frac_saturated",
                         "Saturated (sigmoid, tanh) or inactive (ReLU) outputs",
                         "fraction"),
        key="saturation", width="stretch")

final = probes.get("final")
if final:
    layers = [layer for layer in final["layers"]
              if kinds is None or layer["kind"] in kinds]
    st.subheader(f"Distributions after training ({final['n_events']:,} test events)")
    left, right = st.columns(2)
    left.plotly_chart(layer_histograms_figure(
        [layer["name"] for layer in layers],
        [layer["hist"]["activation"]["edges"] for layer in layers],
        [layer["hist"]["activation"]["counts"] for layer in layers],
        "Activations a⁽ˡ⁾", "activation value"), key="act_hist", width="stretch")
    # Runs probed before log magnitudes were recorded have linear ones only.
    logged = all("log_abs_gradient" in layer["hist"] for layer in layers)
    grad_key, x_title = (("log_abs_gradient", "log₁₀ |gradient|") if logged
                         else ("gradient", "gradient value"))
    right.plotly_chart(layer_histograms_figure(
        [layer["name"] for layer in layers],
        [layer["hist"][grad_key]["edges"] for layer in layers],
        [layer["hist"][grad_key]["counts"] for layer in layers],
        "Gradient magnitudes |∂L/∂a⁽ˡ⁾|", x_title),
        key="grad_hist", width="stretch")
    st.caption("Each row is one layer, input at the top. On the right, a shift to "
               "the left by one unit is a gradient ten times smaller: in a plain "
               "deep network the rows drift left towards the input; with residual "
               "blocks they stay together.")
else:
    st.caption("Histograms of every layer appear when the run has finished.")

st.subheader("Compare runs")
active_hash = st.session_state.get("dataset_hash")
on_active = [r.id for r in records if r.dataset_hash == active_hash]
compare = st.multiselect("Runs", list(labels), default=(on_active or list(labels))[:2],
                         format_func=labels.get, key="act_compare")
rows = []
for other in compare:
    other_probes = load(other)
    if not other_probes or not other_probes.get("epochs"):
        continue
    last = summary_table(other_probes, ACTIVATION_KINDS)
    last = last[last["epoch"] == last["epoch"].max()]
    rows.append(last.assign(run=labels[other]))
if rows:
    st.plotly_chart(
        per_layer_figure(pd.concat(rows), "grad_norm",
                         "Gradient norm per activation layer, last epoch",
                         "gradient norm", series="run", x="depth",
                         x_title="activation layer number (input → output; a "
                                 "residual network has one more, after its input "
                                 "layer)",
                         log_y=True),
        key="compare_grad", width="stretch")
