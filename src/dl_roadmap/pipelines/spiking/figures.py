"""Figures of spiking (matplotlib Figures, no pyplot: the catalog saves them)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dl_roadmap.core.plotting import training_curves
from dl_roadmap.pipelines.spiking import lif_check


def membrane_figure(params: dict[str, Any]) -> Figure:
    """One neuron driven by a step current: input, membrane (ours and snntorch's on top of
    each other), threshold and spikes. The picture of the LIF equation."""
    steps, beta, threshold = 60, float(params["beta"]), float(params["threshold"])
    current = torch.zeros(steps, 1, 1)
    current[10:45] = 0.25
    ours_s, ours_u = lif_check.our_trace(current, beta, threshold)
    ref_s, ref_u = lif_check.snntorch_trace(current, beta, threshold)
    t = np.arange(steps)
    figure = Figure(figsize=(8, 5), layout="constrained")
    top, middle, bottom = figure.subplots(3, 1, sharex=True, height_ratios=[1, 2, 1])
    top.plot(t, current[:, 0, 0], color="gray")
    top.set(ylabel="I[t]", title=f"LIF neuron, beta = {beta}, threshold = {threshold}, reset by subtraction")
    middle.plot(t, ours_u[:, 0, 0].detach(), lw=3, alpha=0.5, label="ours")
    middle.plot(t, ref_u[:, 0, 0].detach(), "k--", lw=1, label="snntorch Leaky")
    middle.axhline(threshold, color="red", lw=0.8, label="threshold")
    middle.set(ylabel="U[t]")
    middle.legend(fontsize=8)
    bottom.eventplot([t[ours_s[:, 0, 0] > 0]], lineoffsets=1, colors="C0")
    bottom.eventplot([t[ref_s[:, 0, 0] > 0]], lineoffsets=0, colors="k")
    bottom.set(yticks=[0, 1], yticklabels=["snntorch", "ours"], xlabel="time step", ylabel="S[t]")
    return figure


def curves_figure(history: pd.DataFrame) -> Figure:
    """Loss and accuracy per epoch of the conv SNN."""
    return training_curves({"conv SNN": history})
