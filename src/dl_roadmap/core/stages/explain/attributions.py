"""Attribution maps of the explained output: SHAP (expected gradients) and LIME.

Both return one score per input element, with the input's shape. ``shap_maps`` takes items
of any shape (the feature kinds use it too); LIME's image explainer and the maps' figure
take image-like items whose last two axes are the image plane (H, W), every leading axis
a channel. The maps are drawn summed over channels. The explained output is the
predicted class of a classifier, or what the task chose (target.py).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from dl_roadmap.core.stages.explain.target import readouts


def probabilities(model: nn.Module, inputs: np.ndarray | torch.Tensor, batch_size: int = 512) -> np.ndarray:
    """Softmax of the model's logits, (N, classes), evaluated batch by batch in eval mode
    (a ``ChosenOutput`` in value mode: its values, (N, 1); see target.readouts)."""
    return readouts(model, inputs, batch_size)


class _Column(nn.Module):
    """One output column of a model, as a one-output model."""

    def __init__(self, model: nn.Module, column: int):
        super().__init__()
        self.model, self.column = model, int(column)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(*inputs)[:, self.column : self.column + 1]


def shap_maps(
    model: nn.Module,
    inputs: np.ndarray,
    background: np.ndarray,
    classes: np.ndarray,
    *,
    n_samples: int,
    batch_size: int,
    seed: int,
) -> np.ndarray:
    """SHAP values of the predicted-class logit for every input element.

    GradientExplainer estimates *expected gradients*: with a background image x' and
    alpha ~ U(0, 1) drawn at random n_samples times,

        phi_i(x) = E[(x_i - x'_i) * d f_c / d x_i (x' + alpha (x - x'))],

    i.e. integrated gradients averaged over baselines from the training data, so the
    maps sum (in expectation) to f_c(x) - E[f_c(x')]. It needs only autograd, so it holds
    for any differentiable model. DeepExplainer is not used: its DeepLIFT rules are
    backward hooks on known module types, so an nn.ReLU(inplace=True) (as in the
    project's DigitClassifier) makes it fail ("Output 0 of BackwardHookFunction is a view
    and is being modified inplace"), BatchNorm is only right as a linear map in eval
    mode, and nonlinearities called as functions in forward() are silently skipped.

    Args:
        model: classifier returning logits (N, classes).
        inputs: the items to explain, (N, *item_shape).
        background: reference items drawn from the training data, (B, *item_shape).
        classes: the output column to explain per item (the predicted class, or the task's
            choice; items whose class is not their largest output are explained one class
            at a time).
        n_samples: interpolation points per item (more = less noise, linear cost).
        batch_size: gradient evaluations per forward/backward pass.
        seed: seeds the background and alpha draws.
    Returns:
        float32 array shaped like ``inputs``.
    """
    model.eval()
    x = torch.as_tensor(inputs, dtype=torch.float32)
    classes = np.asarray(classes)
    with torch.no_grad():
        largest = model(x).argmax(dim=1).numpy()
    if np.array_equal(largest, classes):
        values, explained = _ranked_shap(model, x, background, n_samples, batch_size, seed)
        if not np.array_equal(explained, classes):
            raise RuntimeError("SHAP explained other classes than the predicted ones (tied logits?)")
        return values
    maps = np.zeros(x.shape, dtype=np.float32)
    for column in np.unique(classes):  # each chosen class as a one-output model
        rows = np.flatnonzero(classes == column)
        maps[rows] = _ranked_shap(_Column(model, column).eval(), x[rows], background, n_samples, batch_size, seed)[0]
    return maps


def _ranked_shap(model: nn.Module, x: torch.Tensor, background: np.ndarray, n_samples: int, batch_size: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """GradientExplainer's values for each item's largest output, and which output that was."""
    import shap

    # shap seeds NumPy's global generator (np.random.seed); restore it for the caller.
    state = np.random.get_state()
    try:
        with torch.enable_grad():
            explainer = shap.GradientExplainer(model, torch.as_tensor(background, dtype=torch.float32),
                                               batch_size=batch_size)
            # ranked_outputs=1 explains the largest logit, i.e. the predicted class.
            values, ranks = explainer.shap_values(x, nsamples=n_samples, ranked_outputs=1, rseed=seed)
    finally:
        np.random.set_state(state)
    return np.asarray(values)[..., 0].astype(np.float32), ranks[:, 0].numpy()


def grid_segments(height: int, width: int, cell: int) -> np.ndarray:
    """Label map (H, W) of square cell x cell patches (the last row/column may be smaller).

    A regular grid suits small digit images better than superpixels: SLIC or quickshift
    on a mostly black 28x28 image give a few large background segments and thin stroke
    segments of very different sizes, while a grid gives every region the same chance.
    """
    rows, cols = np.arange(height) // cell, np.arange(width) // cell
    return rows[:, None] * ((width + cell - 1) // cell) + cols[None, :]


def lime_maps(
    model: nn.Module,
    inputs: np.ndarray,
    classes: np.ndarray,
    *,
    num_samples: int,
    cell: int,
    num_features: int | None,
    batch_size: int,
    baseline: float,
    seed: int,
) -> np.ndarray:
    """LIME weights of the predicted class's probability, spread over each segment's elements.

    LIME switches grid segments off at random (to ``baseline``), fits a weighted ridge
    regression of the class probability on the on/off pattern and reads one weight per
    segment. A segment's weight w_s is the probability it adds, so each of its n_s pixels
    gets w_s / n_s (divided again over channels): maps then sum to sum_s w_s and rank
    pixels by evidence per pixel even where edge cells are smaller. Segments outside the
    top ``num_features`` (None = all) get 0.

    Returns:
        float32 array shaped like ``inputs``.
    """
    from lime import lime_image

    model.eval()
    inputs = np.asarray(inputs, dtype=np.float32)
    item_shape = inputs.shape[1:]
    height, width = item_shape[-2:]
    planes = int(np.prod(item_shape[:-2], dtype=int))
    segments = grid_segments(height, width, cell)
    n_segments = int(segments.max()) + 1
    sizes = np.bincount(segments.ravel(), minlength=n_segments)

    def classify(images: np.ndarray) -> np.ndarray:
        # LIME hands (B, H, W, 3) RGB images; grey items were repeated to RGB, so one
        # channel gives them back exactly.
        if planes == 1:
            images = images[..., :1]
        batch = np.moveaxis(images, -1, 1).reshape(len(images), *item_shape)
        return probabilities(model, batch, batch_size)

    maps = np.zeros_like(inputs)
    for i, (item, label) in enumerate(zip(inputs, classes)):
        image = np.moveaxis(item.reshape(planes, height, width), 0, -1)
        if planes == 1:
            image = np.repeat(image, 3, axis=-1)
        explainer = lime_image.LimeImageExplainer(random_state=np.random.RandomState([seed, i]))
        # lime 0.2 draws a tqdm bar per explanation and offers no switch to turn it off.
        with contextlib.redirect_stderr(io.StringIO()):
            explanation = explainer.explain_instance(
                image, classify, labels=(int(label),), top_labels=None, hide_color=baseline,
                num_features=num_features or n_segments, num_samples=num_samples, batch_size=batch_size,
                segmentation_fn=lambda _: segments,
            )
        weights = np.zeros(n_segments)
        for segment, weight in explanation.local_exp[int(label)]:
            weights[segment] = weight
        per_pixel = (weights / sizes)[segments] / planes
        maps[i] = np.broadcast_to(per_pixel, (planes, height, width)).reshape(item_shape)
    return maps


def pixel_scores(maps: np.ndarray) -> np.ndarray:
    """Attributions summed over channels: (N, *item_shape) -> (N, H, W)."""
    maps = np.asarray(maps)
    return maps.reshape(len(maps), -1, *maps.shape[-2:]).sum(axis=1)


def attribution_figure(
    inputs: np.ndarray, maps: dict[str, np.ndarray], labels: np.ndarray, predicted: np.ndarray,
    probability: np.ndarray, columns: Sequence[int], titles: Sequence[str] | None = None,
) -> Figure:
    """One column per chosen item: the image, then each method's map of the predicted class.

    Maps use a diverging colormap centred on 0 (red: evidence for the predicted class,
    blue: against), scaled per panel since attribution sizes differ between items and
    methods; the digit's outline is drawn over each map.
    """
    images = pixel_scores(inputs) / np.prod(np.asarray(inputs).shape[1:-2], dtype=int)
    scores = {name: pixel_scores(values) for name, values in maps.items()}
    figure = Figure(figsize=(1.35 * len(columns) + 0.8, 1.45 * (len(maps) + 1) + 0.6), layout="constrained")
    axes = figure.subplots(len(maps) + 1, len(columns), squeeze=False)
    for c, i in enumerate(columns):
        image = images[i]
        axes[0, c].imshow(image, cmap="gray")
        title = titles[i] if titles is not None else f"{labels[i]} -> {predicted[i]} ({probability[i]:.2f})"
        axes[0, c].set_title(title, fontsize=8)
        for r, (name, score) in enumerate(scores.items(), start=1):
            limit = float(np.abs(score[i]).max()) or 1.0
            axes[r, c].imshow(score[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            if image.max() > image.min():
                axes[r, c].contour(image, levels=[(image.min() + image.max()) / 2], colors="k", linewidths=0.5)
    for r, name in enumerate(["image", *maps]):
        axes[r, 0].set_ylabel(name, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    what = ("for the predicted class (title: true -> predicted (probability))" if titles is None
            else "of the explained output (title: the item and its output)")
    figure.suptitle(f"attributions {what};\nred = for, blue = against, colours scaled per panel", fontsize=9)
    return figure
