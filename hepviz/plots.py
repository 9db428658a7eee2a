"""Pure functions from numbers to Plotly figures, shared by the pages.

Every figure here receives numbers already reduced on the server (bin counts, a
ROC curve of about a thousand points, per-layer summaries), never raw events:
a 1M-event histogram costs 8 kB of JSON this way instead of 11 MB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

SIGNAL_COLOR = "#d62728"
BACKGROUND_COLOR = "#1f77b4"
MAX_EPOCH_LINES = 6
RUN_DASHES = ("solid", "dash", "dot", "dashdot")
RUN_COLORS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
)


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str,
            log_y: bool = False, height: int = 320) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, font=dict(size=14), y=0.98, yanchor="top"),
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin=dict(l=50, r=10, t=75, b=40),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        bargap=0,
    )
    if log_y:  # ticks at powers of ten only
        fig.update_yaxes(type="log", dtick=1, exponentformat="power")
    return fig


def _step_trace(edges: np.ndarray, counts: np.ndarray, errors: np.ndarray | None,
                name: str, color: str, filled: bool) -> go.Bar:
    centers = 0.5 * (edges[:-1] + edges[1:])
    widths = np.diff(edges)
    return go.Bar(
        x=centers,
        y=counts,
        width=widths,
        name=name,
        marker=dict(
            color=color if filled else "rgba(0,0,0,0)",
            line=dict(color=color, width=1.5),
        ),
        opacity=0.45 if filled else 1.0,
        error_y=dict(type="data", array=errors, visible=errors is not None,
                     thickness=1, width=0, color=color),
        hovertemplate="%{x:.4g}: %{y:.4g}<extra>" + name + "</extra>",
    )


def density_title(density: bool, unit: str = "") -> str:
    """y-axis title of a histogram: per bin, or per unit of x at unit area."""
    if not density:
        return "events / bin"
    return f"(1/N) dN/dx [1/{unit}]" if unit else "(1/N) dN/dx"


def histogram_figure(hist, title: str = "", x_title: str = "",
                     log_y: bool = False, height: int = 300,
                     unit: str = "") -> go.Figure:
    """Signal and background of one feature, overlaid.

    Args:
        hist: a :class:`hepviz.histograms.FeatureHistogram`.
        unit: the unit of x ("GeV"), shown on both axes.
    """
    fig = go.Figure()
    fig.add_trace(_step_trace(hist.edges, hist.background, hist.background_err,
                              "background", BACKGROUND_COLOR, filled=True))
    fig.add_trace(_step_trace(hist.edges, hist.signal, hist.signal_err,
                              "signal", SIGNAL_COLOR, filled=False))
    fig.update_layout(barmode="overlay")
    x_title = x_title or hist.name
    if unit:
        x_title = f"{x_title} [{unit}]"
    return _layout(fig, title or hist.name, x_title, density_title(hist.density, unit),
                   log_y=log_y, height=height)


def overlay_figure(overlay, title: str, x_title: str, log_y: bool = False,
                   unit: str = "") -> go.Figure:
    """Distributions on shared edges (a :class:`hepviz.histograms.Overlay`)."""
    fig = go.Figure()
    for i, name in enumerate(overlay.values):
        fig.add_trace(_step_trace(overlay.edges, overlay.values[name],
                                  overlay.errors[name], name,
                                  RUN_COLORS[i % len(RUN_COLORS)], filled=i == 0))
    fig.update_layout(barmode="overlay")
    if unit:
        x_title = f"{x_title} [{unit}]"
    return _layout(fig, title, x_title, density_title(overlay.density, unit),
                   log_y=log_y)


def loss_figure(history, title: str = "Loss") -> go.Figure:
    """Training and validation loss per epoch.

    Args:
        history: a DataFrame with columns epoch, train_loss and val_loss.
    """
    fig = go.Figure()
    for column, name, dash in (("train_loss", "training", "solid"),
                               ("val_loss", "validation", "dash")):
        if column in history:
            fig.add_trace(go.Scatter(x=history["epoch"], y=history[column],
                                     mode="lines+markers", name=name,
                                     line=dict(dash=dash)))
    return _layout(fig, title, "epoch", "weighted binary cross-entropy")


def metric_figure(history, column: str, title: str, y_title: str) -> go.Figure:
    """One per-epoch metric (for example the validation AUC)."""
    fig = go.Figure()
    if column in history:
        fig.add_trace(go.Scatter(x=history["epoch"], y=history[column],
                                 mode="lines+markers", name=column))
    return _layout(fig, title, "epoch", y_title)


def roc_figure(curves: Mapping[str, object], convention: str = "rejection"
               ) -> go.Figure:
    """ROC curves of several runs in the convention physicists use.

    Args:
        curves: run label -> :class:`hepviz.evaluation.RocCurve`.
        convention: ``"rejection"`` plots background rejection 1 - eff_b against
            signal efficiency; ``"inverse"`` plots 1 / eff_b on a log axis, as in
            ATLAS and CMS tagging papers; ``"tpr"`` plots the machine-learning
            convention (true positive rate against false positive rate).
    """
    fig = go.Figure()
    for i, (label, roc) in enumerate(curves.items()):
        eff_s = np.asarray(roc.signal_eff)
        eff_b = np.asarray(roc.background_eff)
        if convention == "inverse":
            keep = eff_b > 0
            x, y = eff_s[keep], 1.0 / eff_b[keep]
        elif convention == "tpr":
            x, y = eff_b, eff_s
        else:
            x, y = eff_s, 1.0 - eff_b
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", name=f"{label} (AUC {roc.auc:.3f})",
            # Dashes keep runs with near-identical curves apart.
            line=dict(color=RUN_COLORS[i % len(RUN_COLORS)],
                      dash=RUN_DASHES[i % len(RUN_DASHES)]),
        ))
    if convention == "inverse":
        titles = ("signal efficiency ε_s", "background rejection 1/ε_b")
    elif convention == "tpr":
        titles = ("false positive rate ε_b", "true positive rate ε_s")
        fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="random",
                                 line=dict(color="grey", dash="dot")))
    else:
        titles = ("signal efficiency ε_s", "background rejection 1 − ε_b")
        fig.add_trace(go.Scatter(x=[0, 1], y=[1, 0], mode="lines", name="random",
                                 line=dict(color="grey", dash="dot")))
    fig = _layout(fig, "ROC curve (test split)", *titles,
                  log_y=convention == "inverse", height=420)
    fig.update_xaxes(range=[0, 1])
    return fig


def score_figure(test_hist, train_hist=None, title: str = "Network output",
                 log_y: bool = False) -> go.Figure:
    """Output distributions of signal and background, test split filled, train
    split as markers (the usual overtraining check)."""
    fig = histogram_figure(test_hist, title=title, x_title="network output",
                           log_y=log_y, height=380)
    fig.data[0].name = "background (test)"
    fig.data[1].name = "signal (test)"
    if train_hist is not None:
        centers = 0.5 * (train_hist.edges[:-1] + train_hist.edges[1:])
        for counts, name, color in ((train_hist.background, "background (train)",
                                     BACKGROUND_COLOR),
                                    (train_hist.signal, "signal (train)",
                                     SIGNAL_COLOR)):
            fig.add_trace(go.Scatter(x=centers, y=counts, mode="markers", name=name,
                                     marker=dict(color=color, size=6,
                                                 symbol="circle-open")))
    return fig


def layer_histograms_figure(layers: Sequence[str], edges: Sequence[np.ndarray],
                            counts: Sequence[np.ndarray], title: str,
                            x_title: str) -> go.Figure:
    """One small histogram per layer, stacked as rows of a ridgeline plot."""
    fig = go.Figure()
    n = len(layers)
    for i, (layer, e, c) in enumerate(zip(layers, edges, counts)):
        e = np.asarray(e, dtype=float)
        c = np.asarray(c, dtype=float)
        peak = c.max() if c.size and c.max() > 0 else 1.0
        offset = n - 1 - i
        x = np.repeat(e, 2)[1:-1]
        y = offset + 0.9 * np.repeat(c / peak, 2)
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", name=layer,
            line=dict(color=RUN_COLORS[i % len(RUN_COLORS)], width=1.5),
            hovertemplate=layer + "<extra></extra>",
        ))
        fig.add_trace(go.Scatter(x=[x.min(), x.max()], y=[offset, offset],
                                 mode="lines", showlegend=False, hoverinfo="skip",
                                 line=dict(color="lightgrey", width=0.5)))
    fig.update_yaxes(tickvals=list(range(n - 1, -1, -1)), ticktext=list(layers))
    fig = _layout(fig, title, x_title, "", height=max(300, 40 * n + 120))
    fig.update_layout(showlegend=False)
    return fig


def per_layer_figure(table, value: str, title: str, y_title: str,
                     series: str = "epoch", x: str = "layer",
                     x_title: str = "layer (input → output)",
                     log_y: bool = False) -> go.Figure:
    """A per-layer summary number, one line per epoch or per run.

    Args:
        table: a DataFrame with columns ``x``, ``series`` and ``value``; x values
            are plotted in the order they first appear.
        series: the column whose values become separate lines.
    """
    fig = go.Figure()
    order = list(dict.fromkeys(table[x]))
    groups = list(dict.fromkeys(table[series]))
    if series == "epoch" and len(groups) > MAX_EPOCH_LINES:
        # First, last and evenly spaced epochs between: a readable legend.
        keep = np.linspace(0, len(groups) - 1, MAX_EPOCH_LINES).round().astype(int)
        groups = [groups[i] for i in sorted(set(keep))]
    for i, group in enumerate(groups):
        rows = table[table[series] == group].set_index(x).reindex(order)
        if series == "epoch":  # later epochs darker
            shade = 0.25 + 0.75 * (i + 1) / len(groups)
            line = dict(color=f"rgba(31,119,180,{shade:.2f})")
            name = f"epoch {group}"
        else:
            line = dict(color=RUN_COLORS[i % len(RUN_COLORS)])
            name = str(group)
        fig.add_trace(go.Scatter(x=order, y=rows[value], mode="lines+markers",
                                 name=name, line=line))
    fig = _layout(fig, title, x_title, y_title, log_y=log_y, height=380)
    values = np.asarray(table[value], dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if log_y and values.size and np.log10(values.max() / values.min()) < 2:
        # Under two decades: ticks at 2 and 5 too, each written out in full.
        fig.update_yaxes(dtick="D2", tickformat=".0e")
    return fig
