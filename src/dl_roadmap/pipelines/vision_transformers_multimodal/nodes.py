"""Nodes of vision_transformers_multimodal: generated image-caption pairs, the dual encoder
trained with the symmetric InfoNCE loss, retrieval recall, zero-shot classification by
prompts against a linear probe, and their figures. Plain functions of plain values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.linear_model import LogisticRegression
from torch.utils.data import TensorDataset

from dl_roadmap.core.plotting import training_curves
from dl_roadmap.core.tracking import metrics_for_mlflow
from dl_roadmap.core.training import fit
from dl_roadmap.pipelines.vision_transformers_multimodal import pairs as captions
from dl_roadmap.pipelines.vision_transformers_multimodal.clip import DualEncoder, clip_step

SPLITS = ("train", "val", "test")


def make_pairs(mnist_raw: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train and val pairs from MNIST's training digits, test pairs from its test digits."""
    sources = {"train": "train", "val": "train", "test": "test"}
    data = {split: captions.make_pairs(mnist_raw[f"{source}_images"], mnist_raw[f"{source}_labels"],
                                       int(params["pairs"][split]), int(params["seed"]) + i)
            for i, (split, source) in enumerate(sources.items())}
    summary = {"source": mnist_raw.get("source", "unknown"), **{f"{s}_pairs": len(data[s]["ids"]) for s in SPLITS},
               "example_captions": captions.describe(data["train"], 5)}
    return data, summary


def _dataset(split: dict[str, np.ndarray]) -> TensorDataset:
    return TensorDataset(*(torch.from_numpy(split[key]) for key in ("images", "ids", "pair")))


def train_dual_encoder(data: dict[str, Any], params: dict[str, Any], trainer: dict[str, Any]
                       ) -> tuple[DualEncoder, pd.DataFrame]:
    """The dual encoder trained on the train pairs, the epoch with the lowest validation loss kept."""
    model = DualEncoder(params["image"], params["text"], int(params["embed_dim"]), len(captions.VOCABULARY),
                        captions.LENGTH, seed=int(params["fit"]["seed"]))
    trainer = {**trainer, "num_threads": params.get("threads") or trainer.get("num_threads")}
    result = fit(model, _dataset(data["train"]), _dataset(data["val"]), step=clip_step, name="clip",
                 fit_params={**params["fit"], "monitor": "val_loss", "mode": "min"}, trainer_params=trainer)
    return result.model.eval(), result.history


@torch.no_grad()
def _embed_images(model: DualEncoder, images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).unsqueeze(1).float() / 255
    return torch.cat([model.encode_images(x[i:i + 512]) for i in range(0, len(x), 512)])


def recall_at(scores: torch.Tensor, correct: torch.Tensor, k: int) -> float:
    """Share of queries (rows) whose correct item (column index ``correct``) ranks in the top k."""
    top = scores.topk(k, dim=1).indices
    return float((top == correct[:, None]).any(1).float().mean())


@torch.no_grad()
def evaluate(model: DualEncoder, data: dict[str, Any], params: dict[str, Any]
             ) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Retrieval, zero-shot and linear-probe figures on the held-out test pairs.

    - image -> text: each test image against the 100 captions (one per meaning);
    - text -> image: each of the 100 captions against one test image per meaning;
    - zero-shot: the left digit from prompts ``zero_shot_template`` ({cls}, {other}),
      each class's embedding the normalised mean over the 10 fillers (a prompt ensemble);
    - linear probe: logistic regression on frozen image embeddings of train pairs, left digit;
    - order: how often an image's best caption names its two digits in the swapped order
      (pairs of two different digits), and how often it names the right two digits in either order.
    """
    test = data["test"]
    images = _embed_images(model, test["images"])
    ids, meaning = captions.all_captions()
    texts = model.encode_texts(torch.from_numpy(ids))
    position = {int(m): i for i, m in enumerate(meaning)}
    i2t = images @ texts.T
    row = torch.tensor([position[int(p)] for p in test["pair"]])
    gallery = [int(np.flatnonzero(test["pair"] == m)[0]) for m in meaning if (test["pair"] == m).any()]
    present = torch.tensor([position[int(test["pair"][g])] for g in gallery])
    t2i = texts[present] @ images[gallery].T  # query q's own image is gallery entry q
    own = torch.arange(len(gallery))
    prompts = torch.from_numpy(captions.prompts(params["zero_shot_template"]))
    classes = torch.nn.functional.normalize(model.encode_texts(prompts.flatten(0, 1)).view(10, 10, -1).mean(1), dim=-1)
    zero_shot = float(((images @ classes.T).argmax(1) == torch.from_numpy(test["left"])).float().mean())
    probe_n = int(params["probe"]["train_pairs"])
    probe = LogisticRegression(max_iter=int(params["probe"]["max_iter"]))
    probe.fit(_embed_images(model, data["train"]["images"][:probe_n]).numpy(), data["train"]["left"][:probe_n])
    linear = float(probe.score(images.numpy(), test["left"]))
    best = meaning[i2t.argmax(1).numpy()]
    different = test["left"] != test["right"]
    swapped = best == 10 * test["right"] + test["left"]
    figures = {
        "image_to_text_recall_at_1": recall_at(i2t, row, 1), "image_to_text_recall_at_5": recall_at(i2t, row, 5),
        "text_to_image_recall_at_1": recall_at(t2i, own, 1), "text_to_image_recall_at_5": recall_at(t2i, own, 5),
        "zero_shot_left_digit_acc": zero_shot, "linear_probe_left_digit_acc": linear,
        "image_to_text_swapped_order": float(swapped[different].mean()),
        "image_to_text_same_two_digits": float(((best == test["pair"]) | swapped).mean()),
        "temperature": float(1 / model.tau.exp().clamp(max=100)),
    }
    chance = {"image_to_text_recall_at_1": 0.01, "image_to_text_recall_at_5": 0.05,
              "text_to_image_recall_at_1": 1 / len(gallery), "text_to_image_recall_at_5": 5 / len(gallery),
              "zero_shot_left_digit_acc": 0.1, "linear_probe_left_digit_acc": 0.1,
              "image_to_text_swapped_order": 0.01, "image_to_text_same_two_digits": 0.02, "temperature": None}
    table = pd.DataFrame([{"metric": k, "value": v, "chance": chance[k]} for k, v in figures.items()])
    examples = {"i2t": i2t[:8].numpy(), "images": test["images"][:8], "pair": test["pair"][:8]}
    return table, metrics_for_mlflow(figures), examples


def curves_figure(history: pd.DataFrame) -> Figure:
    """Contrastive loss and in-batch matching accuracy per epoch, train against validation."""
    return training_curves({"dual encoder": history})


def retrieval_figure(examples: dict[str, Any]) -> Figure:
    """Test images with their three best captions among the 100 (image -> text)."""
    ids, meaning = captions.all_captions()
    count = len(examples["images"])
    figure = Figure(figsize=(9, 1.25 * count))
    axes = figure.subplots(count, 2, squeeze=False, gridspec_kw={"width_ratios": [1, 2.2]})
    for i in range(count):
        axes[i, 0].imshow(examples["images"][i], cmap="gray")
        axes[i, 0].axis("off")
        best = np.argsort(-examples["i2t"][i])[:3]
        lines = [f"{'*' if meaning[b] == examples['pair'][i] else ' '} "
                 f"{captions.caption(meaning[b] // 10, meaning[b] % 10)}  ({examples['i2t'][i][b]:.2f})" for b in best]
        axes[i, 1].text(0, 0.5, "\n".join(lines), va="center", family="monospace", fontsize=8)
        axes[i, 1].axis("off")
    figure.suptitle("Image -> text: the three nearest captions (* = the true one; cosine similarity)", fontsize=10)
    figure.tight_layout()
    return figure


def log_model(model: DualEncoder) -> DualEncoder:
    """The dual encoder for MLflow: input images (N, 1, 28, 56) float in [0, 1], output their
    L2-normalised embeddings (N, embed_dim); ``encode_texts`` embeds caption ids."""
    return model.eval()
