"""Nodes of advanced_generative: RealNVP and Glow trained by maximum likelihood on
dequantized MNIST, scored in bits per dimension and with the shared yardstick; RealNVP on
2-D toy densities with its density drawn. Plain functions of plain values: call them from a
notebook as the pipeline does."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.loop import LoopContext, OptimizedModel, run_loop
from dl_roadmap.core.plotting import image_grid
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.generator_model import GeneratorModel
from dl_roadmap.image.quality_curve import quality_curve, quality_curve_figure
from dl_roadmap.image.yardstick import Yardstick, plot_yardstick, yardstick_table
from dl_roadmap.pipelines.advanced_generative.flows import (
    Flow, ImageFlow, TemperedSampler, dequantize, glow, realnvp,
)
from dl_roadmap.pipelines.advanced_generative.toy import as_points, grid_log_density, point_flow, sample_density

AREA = "advanced_generative"
FLOWS = ("realnvp", "glow")
# Test bits per dimension on MNIST as tabulated by FFJORD (Grathwohl et al., 2019, Table 2).
PUBLISHED_BPD = {"realnvp": 1.06, "glow": 1.05}
PUBLISHED_SOURCE = "Grathwohl et al. 2019 (FFJORD), Table 2"


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> dict[str, np.ndarray]:
    """Seeded train/val/test splits of MNIST (the same split the yardstick's classifier uses)."""
    splits, _ = split_mnist(raw, params)
    return splits


def fit_yardstick(splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]) -> Yardstick:
    """The shared yardstick on MNIST (trained once, then loaded from its cache)."""
    return Yardstick.fit(splits, params, trainer)


def build_flow(kind: str, settings: dict[str, Any]) -> ImageFlow:
    """RealNVP or Glow on (1, 28, 28) behind the logit transform, from its parameter block."""
    model = settings["model"]
    if kind == "realnvp":
        flow = realnvp((1, 28, 28), int(model["hidden"]), int(model["scales"]), int(model["couplings"]))
    elif kind == "glow":
        flow = glow((1, 28, 28), int(model["hidden"]), int(model["levels"]), int(model["steps"]), bool(model["lu"]))
    else:
        raise ValueError(f"flow: one of {FLOWS}, got {kind!r}")
    return ImageFlow(flow, alpha=float(settings["alpha"]))


def train_flow(kind: str, splits: dict[str, np.ndarray], settings: dict[str, Any],
               trainer: dict[str, Any]) -> tuple[ImageFlow, pd.DataFrame]:
    """Maximum likelihood: minimise bits/dim of freshly dequantized training batches (a new
    uniform noise draw every time an image is seen), Adam, gradient norm clipped.

    Returns:
        The trained flow and its history (bits/dim per logged iteration, validation at the end).
    """
    loop = settings["loop"]
    iterations = int(loop["max_iterations"])
    torch.manual_seed(int(loop["seed"]))
    state = OptimizedModel(build_flow(kind, settings), settings, iterations)
    pixels = torch.from_numpy(splits["train_images"]).unsqueeze(1)
    val = torch.from_numpy(splits["val_images"][: int(settings["val_images"])]).unsqueeze(1)
    batch, clip = int(settings["batch_size"]), float(settings["grad_clip"])

    def iterate(state: OptimizedModel, context: LoopContext) -> dict[str, float]:
        index = torch.randint(len(pixels), (batch,))
        y = dequantize(pixels[index]).to(context.device)
        loss = state.model.bits_per_dim(y).mean()
        state.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(state.model.parameters(), clip)
        state.optimizer.step()
        if state.scheduler:
            state.scheduler.step()
        return {"bits_per_dim": float(loss.detach()), "grad_norm": float(norm)}

    def evaluate(state: OptimizedModel, context: LoopContext) -> dict[str, float]:
        return {"val_bits_per_dim": float(bits_per_dim_of(state.model, val, seed=1, batch_size=250).mean())}

    result = run_loop(state, iterate, name=f"{AREA}_{kind}", loop_params=loop, trainer_params=trainer,
                      evaluate=evaluate)
    return result.state.model.eval(), result.history


@torch.no_grad()
def bits_per_dim_of(model: ImageFlow, pixels: torch.Tensor, seed: int, batch_size: int = 500) -> torch.Tensor:
    """Bits per dimension of each 8-bit image (N,), one seeded dequantization draw each."""
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    device = next(model.parameters()).device
    out = [model.bits_per_dim(dequantize(chunk, generator).to(device)).cpu() for chunk in pixels.split(batch_size)]
    return torch.cat(out)


def train_realnvp(splits: dict[str, np.ndarray], settings: dict[str, Any],
                  trainer: dict[str, Any]) -> tuple[ImageFlow, pd.DataFrame]:
    return train_flow("realnvp", splits, settings, trainer)


def train_glow(splits: dict[str, np.ndarray], settings: dict[str, Any],
               trainer: dict[str, Any]) -> tuple[ImageFlow, pd.DataFrame]:
    return train_flow("glow", splits, settings, trainer)


def evaluate_flows(realnvp_model: ImageFlow, glow_model: ImageFlow, realnvp_history: pd.DataFrame,
                   glow_history: pd.DataFrame, splits: dict[str, np.ndarray], params: dict[str, Any]) -> pd.DataFrame:
    """Test NLL (nats per image) and bits per dimension of each flow beside the published
    figure, with its size and training budget (iterations, epochs, seconds)."""
    evaluation = params["evaluation"]
    test = torch.from_numpy(splits["test_images"][: evaluation["test_images"]]).unsqueeze(1)
    rows = []
    for kind, model, history in (("realnvp", realnvp_model, realnvp_history), ("glow", glow_model, glow_history)):
        settings = params[kind]
        start = time.perf_counter()
        bpd = bits_per_dim_of(model, test, seed=int(evaluation["seed"]))
        iterations = int(settings["loop"]["max_iterations"])
        rows.append({
            "model": kind, "parameters": sum(p.numel() for p in model.parameters()),
            "iterations": iterations,
            "epochs": round(iterations * int(settings["batch_size"]) / len(splits["train_images"]), 3),
            "train_seconds": round(float(history["seconds"].sum()), 1), "test_images": len(test),
            "test_nll_nats": float(bpd.mean() * model.dims * math.log(2)),
            "test_bits_per_dim": float(bpd.mean()), "test_bits_per_dim_sem": float(bpd.std() / math.sqrt(len(bpd))),
            "published_bits_per_dim": PUBLISHED_BPD[kind], "published_source": PUBLISHED_SOURCE,
            "eval_seconds": round(time.perf_counter() - start, 1),
        })
    return pd.DataFrame(rows)


def score_flows(realnvp_model: ImageFlow, glow_model: ImageFlow, results: pd.DataFrame, stick: Yardstick,
                params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Samples of each flow on the yardstick at every temperature of ``temperatures``
    (T = 1 is the model's own density; T < 1 is Glow's reduced-temperature sampling).

    Returns:
        yardstick.csv (reference rows, then each flow at each temperature; the T = 1 rows carry
        the flow's test NLL and bits/dim) and the temperature curve (model, T, figures).
    """
    n, seed = int(params["yardstick"]["samples"]), int(params["yardstick"]["seed"])
    likelihood = results.set_index("model")
    rows, curves = list(stick.reference_rows(n)), []
    for kind, model in (("realnvp", realnvp_model), ("glow", glow_model)):
        curve, scored = quality_curve(stick, lambda t, g, model=model: model.sample(n, g, temperature=t),
                                      params["yardstick"]["temperatures"], "T", kind, seed)
        for row, temperature in zip(scored, params["yardstick"]["temperatures"]):
            generator = torch.Generator().manual_seed(seed)
            row["overflow_share"] = model.overflow_share(n, generator, float(temperature))
            if row["model"] == f"{kind} T=1":
                row["nll_nats"] = float(likelihood.loc[kind, "test_nll_nats"])
                row["bits_per_dim"] = float(likelihood.loc[kind, "test_bits_per_dim"])
        rows += scored
        curves.append(curve)
    return yardstick_table(rows), pd.concat(curves, ignore_index=True)


def train_toy_flows(settings: dict[str, Any], trainer: dict[str, Any]) -> tuple[dict[str, Flow], pd.DataFrame]:
    """A RealNVP on points (ActNorm + MLP couplings) per toy density, fresh points every
    iteration; test NLL (nats per point) on fresh points and the mass on the plotting grid."""
    flows, rows = {}, []
    rng = np.random.default_rng(int(settings["seed"]))
    for name in settings["densities"]:
        loop = {**settings["loop"], "seed": int(settings["seed"])}
        torch.manual_seed(int(settings["seed"]))
        flow = point_flow(int(settings["hidden"]), int(settings["couplings"]))
        state = OptimizedModel(flow, settings, int(loop["max_iterations"]))

        def iterate(state: OptimizedModel, context: LoopContext, name: str = name) -> dict[str, float]:
            points = sample_density(name, int(settings["batch_size"]), np.random.default_rng(int(torch.randint(2**31, ()))))
            loss = -state.model.log_prob(as_points(points).to(context.device)).mean()
            state.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            state.optimizer.step()
            if state.scheduler:
                state.scheduler.step()
            return {"nll": float(loss.detach())}

        result = run_loop(state, iterate, name=f"{AREA}_toy_{name}", loop_params=loop, trainer_params=trainer)
        flow = result.state.model.eval()
        with torch.no_grad():
            test = as_points(sample_density(name, int(settings["test_points"]), rng))
            nll = float(-flow.log_prob(test).mean())
        _, mass = grid_log_density(flow, float(settings["plot"]["limit"]), int(settings["plot"]["points"]))
        rows.append({"density": name, "test_nll": nll, "grid_mass": mass, "iterations": result.iterations,
                     "train_seconds": round(result.seconds, 1)})
        flows[name] = flow
    return flows, pd.DataFrame(rows)


def toy_density_figure(flows: dict[str, Flow], settings: dict[str, Any]) -> Figure:
    """Per toy density: data, the learned density exp(log p) as a heat map, flow samples."""
    limit, points, n = float(settings["plot"]["limit"]), int(settings["plot"]["points"]), int(settings["plot"]["samples"])
    figure = Figure(figsize=(10, 3.4 * len(flows)), layout="constrained")
    axes = np.atleast_2d(figure.subplots(len(flows), 3))
    rng = np.random.default_rng(0)
    for row, (name, flow) in zip(axes, flows.items()):
        data = sample_density(name, n, rng)
        log_p, mass = grid_log_density(flow, limit, points)
        with torch.no_grad():
            samples = flow.inverse(torch.randn(n, 2, generator=torch.Generator().manual_seed(0))).numpy()
        row[0].scatter(data[:, 0], data[:, 1], s=1, alpha=0.5)
        row[1].imshow(np.exp(log_p), origin="lower", extent=(-limit, limit, -limit, limit), cmap="magma")
        row[2].scatter(samples[:, 0], samples[:, 1], s=1, alpha=0.5, color="C1")
        for ax, title in zip(row, (f"{name}: data", f"RealNVP density (grid mass {mass:.3f})", "RealNVP samples")):
            ax.set(title=title, xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", xticks=[], yticks=[])
    return figure


def samples_figure(realnvp_model: ImageFlow, glow_model: ImageFlow, params: dict[str, Any]) -> Figure:
    """Samples of both flows at each temperature (rows), the same seed for every row."""
    rows = {}
    for kind, model in (("RealNVP", realnvp_model), ("Glow", glow_model)):
        for temperature in params["yardstick"]["temperatures"]:
            images = model.sample(12, torch.Generator().manual_seed(0), temperature=float(temperature))
            rows[f"{kind} T={temperature:g}"] = images.numpy()
    return image_grid(rows, title="Flow samples: z ~ N(0, T^2 I) pulled back through the flow")


def curves_figure(realnvp_history: pd.DataFrame, glow_history: pd.DataFrame) -> Figure:
    """Training bits/dim (dequantized batches) against iteration, validation at the end."""
    figure = Figure(figsize=(7, 4.2), layout="constrained")
    ax = figure.subplots()
    for i, (kind, history) in enumerate((("RealNVP", realnvp_history), ("Glow", glow_history))):
        ax.plot(history["iteration"], history["bits_per_dim"], label=f"{kind} train", color=f"C{i}")
        if "val_bits_per_dim" in history:
            val = history.dropna(subset=["val_bits_per_dim"])
            ax.scatter(val["iteration"], val["val_bits_per_dim"], color=f"C{i}", marker="*", s=90,
                       label=f"{kind} validation")
    ax.axhline(PUBLISHED_BPD["realnvp"], color="gray", ls="--", lw=1, label="published (~1.05)")
    ax.set(xlabel="iteration", ylabel="bits per dimension", title="Flows on dequantized MNIST", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend()
    return figure


def temperature_figure(curve: pd.DataFrame) -> Figure:
    """Yardstick FID, precision and recall of the flows' samples against the temperature."""
    return quality_curve_figure(curve, "T", "Flows: sampling temperature T on the MNIST yardstick")


def yardstick_figure(table: pd.DataFrame) -> Figure:
    return plot_yardstick(table, title="advanced_generative: flows on the MNIST yardstick")


def summary_metrics(results: pd.DataFrame, toy: pd.DataFrame, table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Test NLL and bits/dim per flow, toy test NLL, and the T = 1 yardstick figures."""
    values: dict[str, float] = {}
    for row in results.to_dict("records"):
        values[f"{row['model']}.test_nll_nats"] = row["test_nll_nats"]
        values[f"{row['model']}.test_bits_per_dim"] = row["test_bits_per_dim"]
    for row in toy.to_dict("records"):
        values[f"toy.{row['density']}.test_nll"] = row["test_nll"]
    for row in table.to_dict("records"):
        if row["model"] in ("realnvp T=1", "glow T=1"):
            for key in ("fid", "precision", "recall"):
                values[f"{row['model'].split()[0]}.{key}"] = row[key]
    return metrics_for_mlflow(values)


def realnvp_generator(model: ImageFlow, temperature: float) -> GeneratorModel:
    """RealNVP as an MLflow generator: predict(DataFrame n, seed) -> (n, 1, 28, 28) in [0, 1]."""
    return GeneratorModel(TemperedSampler(model, temperature))


def glow_generator(model: ImageFlow, temperature: float) -> GeneratorModel:
    """Glow as an MLflow generator: predict(DataFrame n, seed) -> (n, 1, 28, 28) in [0, 1]."""
    return GeneratorModel(TemperedSampler(model, temperature))
