"""Figures of spiking networks shared by the spiking areas (matplotlib Figures, no pyplot:
the catalog saves them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def energy_figure(energy: pd.DataFrame, title: str = "") -> Figure:
    """Per layer: output spike rate, and estimated energy per image, SNN against ANN."""
    layers = energy[energy["layer"] != "total"]
    figure = Figure(figsize=(10, 4), layout="constrained")
    left, right = figure.subplots(1, 2)
    x = np.arange(len(layers))
    left.bar(x, layers["output_spike_rate"].fillna(0))
    left.set(xticks=x, xticklabels=layers["layer"], ylabel="spikes per neuron per step",
             title="spike rate after each synapse layer")
    right.bar(x - 0.2, layers["ann_pj"] / 1e6, 0.4, label="ANN (MACs x 4.6 pJ)")
    right.bar(x + 0.2, layers["snn_pj"] / 1e6, 0.4, label="SNN (ACs x 0.9 pJ + analog MACs)")
    total = energy.iloc[-1]
    right.set(xticks=x, xticklabels=layers["layer"], ylabel="uJ per image (estimate)",
              title=f"{title} total: ANN {total.ann_pj / 1e6:.2f} uJ, SNN {total.snn_pj / 1e6:.2f} uJ")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.tick_params(axis="x", rotation=30)
    return figure
