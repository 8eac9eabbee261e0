"""Nodes of advanced_generative_gans: a small StyleGAN (unconditional) and a small BigGAN
(class-conditional) trained on Fashion-MNIST, scored with the shared yardstick, their truncation
curves, StyleGAN's style-mixing grid and noise, BigGAN's per-class figures. Plain functions of
plain values: call them from a notebook as the pipeline does."""

from __future__ import annotations

import copy
import random
from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.nn import functional as F

from dl_roadmap.core.loop import LoopContext, run_loop
from dl_roadmap.core.optim import build_optimizer
from dl_roadmap.core.plotting import image_grid
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.image.data import image_tensor, split_mnist
from dl_roadmap.image.generator_model import GeneratorModel
from dl_roadmap.image.quality_curve import quality_curve, quality_curve_figure
from dl_roadmap.image.yardstick import Yardstick, frechet_distance, plot_yardstick, precision_recall, yardstick_table
from dl_roadmap.pipelines.advanced_generative_gans.biggan import (
    BigGenerator, ProjectionDiscriminator, TruncatedBigSampler, hinge_discriminator_loss, hinge_generator_loss,
)
from dl_roadmap.pipelines.advanced_generative_gans.stylegan import (
    StyleDiscriminator, StyleGenerator, TruncatedStyleSampler,
)

AREA = "advanced_generative_gans"


def ingest(raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Seeded train/val/test splits of Fashion-MNIST (the yardstick's split too) and the class names."""
    splits, _ = split_mnist(raw, params)
    return splits, list(raw.get("class_names") or [str(label) for label in range(10)])


def fit_yardstick(splits: dict[str, np.ndarray], params: dict[str, Any], trainer: dict[str, Any]) -> Yardstick:
    """The shared yardstick on Fashion-MNIST (trained once, then loaded from its cache)."""
    return Yardstick.fit(splits, params, trainer)


class GANState(nn.Module):
    """Generator, discriminator, their optimizers and the generator's moving average (EMA),
    the network that is sampled (both papers sample an EMA of the generator's weights)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, settings: dict[str, Any]):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.ema = copy.deepcopy(generator).eval().requires_grad_(False)
        self.g_optimizer = build_optimizer(generator, settings["g_optimizer"])
        self.d_optimizer = build_optimizer(discriminator, settings["d_optimizer"])
        self.ema_beta = float(settings["ema_beta"])

    @torch.no_grad()
    def update_ema(self) -> None:
        for average, live in zip(self.ema.parameters(), self.generator.parameters()):
            average.lerp_(live, 1 - self.ema_beta)
        for average, live in zip(self.ema.buffers(), self.generator.buffers()):
            average.copy_(live)  # BatchNorm statistics and w_avg follow the live network

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "ema": self.ema.state_dict(), "g_optimizer": self.g_optimizer.state_dict(),
                "d_optimizer": self.d_optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.ema.load_state_dict(state["ema"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])


def _real_batch(splits: dict[str, np.ndarray], batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch of training images in [-1, 1] and their labels (torch's global generator)."""
    index = torch.randint(len(splits["train_labels"]), (batch,)).numpy()
    images = torch.from_numpy(splits["train_images"][index]).float().div(127.5).sub(1).unsqueeze(1)
    return images.to(device), torch.from_numpy(splits["train_labels"][index]).long().to(device)


def train_stylegan(splits: dict[str, np.ndarray], settings: dict[str, Any],
                   trainer: dict[str, Any]) -> tuple[StyleGenerator, pd.DataFrame]:
    """Non-saturating logistic loss, lazy R1 penalty on real images (every ``r1_every``
    iterations, gamma scaled by the interval, StyleGAN2), style-mixing regularisation with
    probability ``mixing_probability``.

    Returns:
        The EMA generator (eval mode) and the training history.
    """
    loop = settings["loop"]
    torch.manual_seed(int(loop["seed"]))
    state = GANState(StyleGenerator(**settings["model"]),
                     StyleDiscriminator(int(settings["model"]["channels"])), settings)
    batch, r1_every, gamma = int(settings["batch_size"]), int(settings["r1_every"]), float(settings["r1_gamma"])
    mixing = float(settings["mixing_probability"])

    def fake(state: GANState, n: int, device: torch.device) -> torch.Tensor:
        z = torch.randn(n, state.generator.z_dim, device=device)
        if random.random() < mixing:  # Python's generator: seeded and checkpointed by run_loop
            crossover = random.randint(1, state.generator.num_styles - 1)
            return state.generator(z, mix_z=torch.randn_like(z), crossover=crossover, track=True)
        return state.generator(z, track=True)

    def iterate(state: GANState, context: LoopContext) -> dict[str, float]:
        real, _ = _real_batch(splits, batch, context.device)
        with torch.no_grad():
            generated = fake(state, batch, context.device)
        d_loss = F.softplus(state.discriminator(generated)).mean() + F.softplus(-state.discriminator(real)).mean()
        metrics = {"d_loss": float(d_loss.detach())}
        if context.iteration % r1_every == 0:
            real.requires_grad_(True)
            (grad,) = torch.autograd.grad(state.discriminator(real).sum(), real, create_graph=True)
            r1 = grad.pow(2).flatten(1).sum(1).mean()
            d_loss = d_loss + 0.5 * gamma * r1_every * r1
            metrics["r1"] = float(r1.detach())
        state.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        state.d_optimizer.step()
        g_loss = F.softplus(-state.discriminator(fake(state, batch, context.device))).mean()
        state.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        state.g_optimizer.step()
        state.update_ema()
        return {**metrics, "g_loss": float(g_loss.detach())}

    result = run_loop(state, iterate, name=f"{AREA}_stylegan", loop_params=loop, trainer_params=trainer)
    return result.state.ema.eval(), result.history


def train_biggan(splits: dict[str, np.ndarray], settings: dict[str, Any],
                 trainer: dict[str, Any]) -> tuple[BigGenerator, pd.DataFrame]:
    """Hinge loss, ``d_steps`` discriminator steps per generator step, real labels for the
    real batch and uniformly drawn classes for the generated one.

    Returns:
        The EMA generator (eval mode) and the training history.
    """
    loop = settings["loop"]
    torch.manual_seed(int(loop["seed"]))
    model = settings["model"]
    state = GANState(BigGenerator(**model), ProjectionDiscriminator(int(model["classes"]), int(model["channels"])),
                     settings)
    batch, d_steps, classes = int(settings["batch_size"]), int(settings["d_steps"]), int(model["classes"])

    def iterate(state: GANState, context: LoopContext) -> dict[str, float]:
        device = context.device
        for _ in range(d_steps):
            real, labels = _real_batch(splits, batch, device)
            fake_labels = torch.randint(classes, (batch,), device=device)
            with torch.no_grad():
                fake = state.generator(torch.randn(batch, state.generator.z_dim, device=device), fake_labels)
            d_loss = hinge_discriminator_loss(state.discriminator(real, labels), state.discriminator(fake, fake_labels))
            state.d_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            state.d_optimizer.step()
        fake_labels = torch.randint(classes, (batch,), device=device)
        fake = state.generator(torch.randn(batch, state.generator.z_dim, device=device), fake_labels)
        g_loss = hinge_generator_loss(state.discriminator(fake, fake_labels))
        state.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        state.g_optimizer.step()
        state.update_ema()
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach())}

    result = run_loop(state, iterate, name=f"{AREA}_biggan", loop_params=loop, trainer_params=trainer)
    return result.state.ema.eval(), result.history


def _none_is_off(value: float | None) -> float:
    """BigGAN thresholds: null (no truncation) is plotted and named as 'inf'."""
    return float("inf") if value is None else float(value)


def score_generators(stylegan: StyleGenerator, biggan: BigGenerator, stick: Yardstick,
                     params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Truncation curves of both generators on the yardstick (StyleGAN: psi; BigGAN: the
    resampling threshold, null = none; BigGAN's classes drawn uniformly).

    Returns:
        yardstick.csv (reference rows, then every setting of both), StyleGAN's psi curve,
        BigGAN's threshold curve.
    """
    settings = params["yardstick"]
    n, seed = int(settings["samples"]), int(settings["seed"])
    style_curve, style_rows = quality_curve(
        stick, lambda psi, g: stylegan.sample(n, g, psi=psi), settings["psi"], "psi", "StyleGAN", seed)
    thresholds = [_none_is_off(t) for t in settings["thresholds"]]
    big_curve, big_rows = quality_curve(
        stick, lambda t, g: biggan.sample(n, g, threshold=None if t == float("inf") else t),
        thresholds, "threshold", "BigGAN", seed)
    table = yardstick_table(stick.reference_rows(n) + style_rows + big_rows)
    return table, style_curve, big_curve


def per_class_figures(biggan: BigGenerator, stick: Yardstick, splits: dict[str, np.ndarray], class_names: list[str],
                      params: dict[str, Any]) -> pd.DataFrame:
    """BigGAN per class, at the MLflow model's threshold: samples of class c against the real
    test images of class c (FID and precision/recall on the yardstick's features), and the
    share the yardstick's classifier puts in class c (class fidelity)."""
    n, seed = int(params["per_class"]["samples"]), int(params["per_class"]["seed"])
    threshold = params["mlflow"]["biggan_threshold"]
    test = image_tensor(splits, "test")
    rows = []
    for label, name in enumerate(class_names):
        images = biggan.sample(n, torch.Generator().manual_seed(seed + label), torch.full((n,), label),
                               threshold=threshold)
        real = stick.features(test[torch.from_numpy(splits["test_labels"] == label)])
        fake = stick.features(images)
        precision, recall = precision_recall(real, fake, stick.k)
        predicted = stick.probabilities(images).argmax(1)
        rows.append({"class": label, "name": name, "n": n, "fid_within_class": frechet_distance(real, fake),
                     "precision": precision, "recall": recall,
                     "classified_as_class": float((predicted == label).mean())})
    return pd.DataFrame(rows)


def stylegan_mixing_figure(stylegan: StyleGenerator, params: dict[str, Any]) -> Figure:
    """Style mixing: row 0 = sources A, column 0 = sources B; cell (i, j) takes A_j's styles
    before the crossover layer (coarse, 7 x 7 and 14 x 14) and B_i's after it (fine)."""
    settings = params["mixing"]
    k, crossover = int(settings["sources"]), int(settings["crossover"])
    generator = torch.Generator().manual_seed(int(settings["seed"]))
    psi = float(settings["psi"])
    with torch.no_grad():
        w_a = stylegan.styles(torch.randn(k, stylegan.z_dim, generator=generator), psi)
        w_b = stylegan.styles(torch.randn(k, stylegan.z_dim, generator=generator), psi)
        noise_seed = int(settings["seed"]) + 1

        def draw(ws: torch.Tensor) -> np.ndarray:
            return ((stylegan.synthesis(ws, torch.Generator().manual_seed(noise_seed)) + 1) / 2).numpy()

        repeat = stylegan.num_styles
        sources_a = draw(w_a.unsqueeze(1).repeat(1, repeat, 1))
        sources_b = draw(w_b.unsqueeze(1).repeat(1, repeat, 1))
        rows = {"A (sources)": np.concatenate([np.ones((1, 1, 28, 28)), sources_a])}
        for i in range(k):
            ws = w_a.unsqueeze(1).repeat(1, repeat, 1)
            ws[:, crossover:] = w_b[i]
            rows[f"B{i}: fine styles"] = np.concatenate([sources_b[i: i + 1], draw(ws)])
    return image_grid(rows, title=f"Style mixing: layers < {crossover} from A (columns), the rest from B (rows)")


def stylegan_noise_figure(stylegan: StyleGenerator, params: dict[str, Any]) -> Figure:
    """Per-layer noise: one w, several noise draws (row per w) and the pixel std across draws."""
    settings = params["mixing"]
    generator = torch.Generator().manual_seed(int(settings["seed"]) + 7)
    rows = {}
    with torch.no_grad():
        w = stylegan.styles(torch.randn(4, stylegan.z_dim, generator=generator), float(settings["psi"]))
        for i in range(len(w)):
            ws = w[i: i + 1].unsqueeze(1).repeat(6, stylegan.num_styles, 1)
            images = ((stylegan.synthesis(ws, generator) + 1) / 2).numpy()
            spread = images.std(0, keepdims=True)
            rows[f"w{i}"] = np.concatenate([images, spread / max(float(spread.max()), 1e-8)])
    return image_grid(rows, title="Per-layer noise: same style, six noise draws; last column: pixel std (scaled)")


def biggan_classes_figure(biggan: BigGenerator, class_names: list[str], params: dict[str, Any]) -> Figure:
    """One row per class: BigGAN samples at the MLflow model's threshold."""
    threshold = params["mlflow"]["biggan_threshold"]
    rows = {}
    for label, name in enumerate(class_names):
        images = biggan.sample(10, torch.Generator().manual_seed(label), torch.full((10,), label), threshold=threshold)
        rows[name] = images.numpy()
    return image_grid(rows, title=f"BigGAN, class-conditional (threshold {threshold})")


def stylegan_truncation_figure(curve: pd.DataFrame) -> Figure:
    """StyleGAN: FID, precision and recall against psi."""
    return quality_curve_figure(curve, "psi", "StyleGAN truncation: w = w_avg + psi (w - w_avg)")


def biggan_truncation_figure(curve: pd.DataFrame) -> Figure:
    """BigGAN: FID, precision and recall against the threshold (no truncation drawn at 4)."""
    return quality_curve_figure(curve.replace(float("inf"), 4.0), "threshold",
                                "BigGAN truncation: |z_i| <= threshold (4 = none)")


def curves_figure(style_history: pd.DataFrame, big_history: pd.DataFrame) -> Figure:
    """Discriminator and generator losses per iteration of both GANs."""
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, (name, history) in zip(axes, (("StyleGAN (logistic, R1)", style_history), ("BigGAN (hinge)", big_history))):
        for key in ("d_loss", "g_loss"):
            ax.plot(history["iteration"], history[key], label=key)
        ax.set(title=name, xlabel="iteration")
        ax.grid(alpha=0.3)
        ax.legend()
    return figure


def yardstick_figure(table: pd.DataFrame) -> Figure:
    return plot_yardstick(table, title="advanced_generative_gans: Fashion-MNIST yardstick")


def summary_metrics(style_curve: pd.DataFrame, big_curve: pd.DataFrame, per_class: pd.DataFrame) -> dict[str, dict[str, float]]:
    """FID/precision/recall at every truncation setting and BigGAN's mean per-class figures."""
    values: dict[str, float] = {}
    for row in style_curve.to_dict("records"):
        for key in ("fid", "precision", "recall"):
            values[f"stylegan.psi_{row['psi']:g}.{key}"] = row[key]
    for row in big_curve.to_dict("records"):
        for key in ("fid", "precision", "recall"):
            values[f"biggan.threshold_{row['threshold']:g}.{key}"] = row[key]
    values["biggan.per_class.fid_within_class_mean"] = float(per_class["fid_within_class"].mean())
    values["biggan.per_class.classified_as_class_mean"] = float(per_class["classified_as_class"].mean())
    return metrics_for_mlflow(values)


def stylegan_generator(stylegan: StyleGenerator, params: dict[str, Any]) -> GeneratorModel:
    """StyleGAN as an MLflow generator: predict(DataFrame n, seed) -> (n, 1, 28, 28) in [0, 1]."""
    return GeneratorModel(TruncatedStyleSampler(stylegan, float(params["mlflow"]["stylegan_psi"])))


def biggan_generator(biggan: BigGenerator, params: dict[str, Any]) -> GeneratorModel:
    """BigGAN as a conditional MLflow generator: predict(DataFrame n, seed, label) -> (n, 1, 28, 28)."""
    return GeneratorModel(TruncatedBigSampler(biggan, params["mlflow"]["biggan_threshold"]), conditional=True)
