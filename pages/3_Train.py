"""Train page: configure a network, start it as a background job and follow its
loss curves live. Jobs run in their own processes, so they carry on while the
user switches pages, reloads the browser or closes it."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from hepviz import jobs
from hepviz.dataset import check_trainable
from hepviz.errors import HepvizError
from hepviz.models import ModelConfig, build_model, model_summary
from hepviz.plots import loss_figure, metric_figure
from hepviz.scaling import SCALERS
from hepviz.training import TrainConfig, pick_device
from pages import common

# The binary cross-entropy of a constant output of 1/2 (balanced classes).
LN2 = 0.6931471805599453

st.title("Train")
dataset_hash, eventset = common.active_dataset()
store = common.get_store()
try:
    check_trainable(eventset)
except HepvizError as err:
    st.error(f"This dataset cannot be trained on: {err}")
    st.stop()

DEFAULTS = dict(architecture="mlp", depth=4, width=64, batch_norm=True,
                activation="relu", train_scaler="zscore", learning_rate=1e-3,
                epochs=10, batch_size=512, seed=0, run_name="")
# Starting points for the lecture's argument: same depth, with and without skips.
PRESETS = {
    "MLP, 4 layers of 64 with batch norm": dict(
        architecture="mlp", depth=4, width=64, batch_norm=True, activation="relu"),
    "Vanishing gradients: plain MLP, 20 ReLU layers, no batch norm": dict(
        architecture="mlp", depth=20, width=32, batch_norm=False,
        activation="relu"),
    "The cure: 10 residual blocks (20 layers), no batch norm": dict(
        architecture="resnet", depth=10, width=32, batch_norm=False,
        activation="relu"),
    "Saturation: plain MLP, 20 sigmoid layers, no batch norm": dict(
        architecture="mlp", depth=20, width=32, batch_norm=False,
        activation="sigmoid"),
}
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)


def apply_preset() -> None:
    st.session_state.update(PRESETS[st.session_state["train_preset"]])


st.selectbox("Start from", list(PRESETS), key="train_preset", on_change=apply_preset,
             help="Train the plain 20-layer network and the residual one, then "
                  "compare them on the Activations page.")

# A container, not a form: in a form, Enter in any field would start a run.
with st.container(border=True):
    st.markdown(f"Dataset: **{common.md(st.session_state['dataset_name'])}** "
                f"({eventset.n_events:,} events, {len(eventset.feature_names)} "
                "features)")
    left, middle, right = st.columns(3)
    architecture = left.selectbox(
        "Network", ["mlp", "resnet"], key="architecture",
        format_func={"mlp": "MLP (plain or with batch norm)",
                     "resnet": "Residual blocks (skip connections)"}.get)
    depth = left.slider("Depth (hidden layers or residual blocks)", 1, 40,
                        key="depth")
    width = left.select_slider("Width", [8, 16, 32, 64, 128, 256], key="width")
    batch_norm = middle.toggle("Batch normalization", key="batch_norm",
                               help="Normalize each layer's pre-activations over "
                                    "the batch, then scale by γ and shift by β.")
    activation = middle.selectbox("Activation", ["relu", "tanh", "sigmoid"],
                                  key="activation")
    scaler = middle.selectbox("Input scaling", SCALERS, key="train_scaler")
    learning_rate = right.select_slider(
        "Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
        key="learning_rate")
    epochs = right.number_input("Epochs", 1, 500, key="epochs")
    batch_size = right.select_slider("Batch size", [64, 128, 256, 512, 1024, 2048,
                                                    4096], key="batch_size")
    seed = right.number_input("Seed", 0, 2**31 - 1, key="seed")
    name = st.text_input("Run name", key="run_name",
                         placeholder="e.g. resnet-20-blocks")
    submitted = st.button("Train", type="primary", key="train")

model_cfg = ModelConfig(architecture=architecture, n_inputs=eventset.X.shape[1],
                        width=int(width), depth=int(depth), batch_norm=batch_norm,
                        activation=activation)
train_cfg = TrainConfig(learning_rate=float(learning_rate), epochs=int(epochs),
                        batch_size=int(batch_size), seed=int(seed))

# A second click while the first submission is still on its way would queue the
# same run twice.
config_key = (dataset_hash, repr(model_cfg), repr(train_cfg), scaler, name)
last_key, last_time = st.session_state.get("last_submit", (None, 0.0))
if submitted and config_key == last_key and time.monotonic() - last_time < 10:
    st.toast("This run was just submitted; follow it below.")
    submitted = False
if submitted:
    st.session_state["last_submit"] = (config_key, time.monotonic())
    default_name = (f"{architecture}-{depth}x{width}"
                    f"{'-bn' if batch_norm else ''}-{activation}")
    try:
        model_cfg.validate()
        run_id = jobs.submit(store, dataset_hash, model_cfg, train_cfg,
                             scaler=scaler, name=name or default_name,
                             feature_names=eventset.feature_names)
    except HepvizError as err:
        common.show_error(err)
    st.session_state["followed_run"] = run_id
    st.session_state["follow_select"] = run_id  # show the new run's curves
    st.toast(f"Run {name or default_name} submitted.")

with st.expander("Model summary"):
    try:
        model_cfg.validate()
        summary = pd.DataFrame(model_summary(build_model(model_cfg),
                                             model_cfg.n_inputs))
        st.dataframe(summary, hide_index=True)
        st.caption(f"{int(summary['n_params'].sum()):,} parameters · training on "
                   f"{pick_device().type}")
    except HepvizError as err:
        st.error(str(err))


def live_view() -> None:
    jobs.reap(store)
    records = store.list_runs()
    if not records:
        st.info("No runs yet. Configure a network above and press Train.")
        return
    labels = {record.id: common.run_label(record) for record in records}
    # The run followed last (also across page switches), else one still training,
    # else the newest one.
    if st.session_state.get("follow_select") not in labels:
        followed = st.session_state.get("followed_run")
        active = [r.id for r in records if r.status in common.ACTIVE_STATUSES]
        st.session_state["follow_select"] = (
            followed if followed in labels else (active or [records[0].id])[0])
    run_id = st.selectbox("Follow run", list(labels), format_func=labels.get,
                          key="follow_select")
    st.session_state["followed_run"] = run_id
    record = store.get(run_id)

    status_col, cancel_col = st.columns([5, 1])
    status_col.progress(float(record.progress),
                        text=common.md(record.message or record.status))
    if record.status in common.ACTIVE_STATUSES:
        if cancel_col.button("Cancel", key=f"cancel_{run_id}"):
            jobs.cancel(store, run_id)
            st.toast("Cancel requested; the run stops after the current batch.")
    elif cancel_col.button("Delete", key=f"delete_{run_id}",
                           help="Remove the run, its weights and metrics from disk."):
        st.session_state["confirm_delete"] = run_id
    if record.status not in common.ACTIVE_STATUSES and (
            st.session_state.get("confirm_delete") == run_id):
        # Deleting cannot be undone, and the store is shared: ask once more.
        ask, yes, no = st.columns([4, 1, 1])
        ask.warning(f"Delete {common.md(labels[run_id])} with its weights, metrics "
                    "and predictions? This cannot be undone.")
        if yes.button("Delete for good", key=f"confirm_delete_{run_id}"):
            store.delete_run(run_id)
            for key in ("followed_run", "follow_select", "confirm_delete"):
                st.session_state.pop(key, None)
            st.rerun(scope="app")
        if no.button("Keep it", key=f"keep_{run_id}"):
            st.session_state.pop("confirm_delete", None)
            st.rerun(scope="fragment")
    if record.status == "failed":
        st.error(f"The run failed: {record.error}")
    history = store.metrics(run_id)
    if len(history) >= 3 and abs(history["train_loss"].iloc[-1] - LN2) < 1e-3:
        st.info("The training loss stays at ln 2 ≈ 0.693: the network gives the same "
                "output for every event and is not learning, whatever the validation "
                "AUC says. The Activations page shows why.")
    if len(history):
        left, right = st.columns(2)
        left.plotly_chart(loss_figure(history), key="loss_live", width="stretch")
        auc = metric_figure(history, "val_auc", "Validation AUC (weighted)", "AUC")
        # A fixed axis: on an autoscaled one, noise in the 4th digit looks like a
        # collapse.
        auc.update_yaxes(range=[min(0.5, float(history["val_auc"].min()) - 0.02),
                                1.0])
        right.plotly_chart(auc, key="auc_live", width="stretch")

    was_active = st.session_state.get("was_active", False)
    is_active = any(r.status in common.ACTIVE_STATUSES for r in records)
    st.session_state["was_active"] = is_active
    if was_active and not is_active:
        st.rerun(scope="app")  # refresh the sidebar once the last job ends

    with st.expander("All runs"):
        st.dataframe(pd.DataFrame([{
            "run": labels[r.id], "status": r.status, "progress": r.progress,
            "message": r.message, "error": r.error,
        } for r in records]), hide_index=True)


any_active = any(r.status in common.ACTIVE_STATUSES for r in store.list_runs())
st.subheader("Runs")
st.fragment(live_view, run_every=1.5 if any_active else None)()
