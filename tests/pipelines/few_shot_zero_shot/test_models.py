"""The dual encoder's scores and the generalized zero-shot metrics against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dl_roadmap.pipelines.few_shot_zero_shot.models import (DualEncoder, ausuc, gzsl_scores, harmonic_mean,
                                                            per_class_accuracy, seen_only_step, seen_unseen_curve)

ATTRIBUTES = np.eye(4, 3, dtype=np.float32)
ATTRIBUTES[3] = [1, 1, 0]


def test_scores_are_scaled_cosines_between_image_and_description() -> None:
    torch.manual_seed(0)
    model = DualEncoder(ATTRIBUTES, seen=[0, 1], dim=5, channels=(4,), hidden=0, temperature=7.0).eval()
    x = torch.rand(3, 1, 28, 28)
    f = model.image_encoder(x)
    g = model.attribute_encoder(torch.as_tensor(ATTRIBUTES))
    expected = 7.0 * F.cosine_similarity(f[:, None, :], g[None, :, :], dim=-1)
    assert torch.allclose(model(x), expected, atol=1e-5)


def test_training_softmax_runs_over_seen_classes_only() -> None:
    torch.manual_seed(0)
    model = DualEncoder(ATTRIBUTES, seen=[0, 1], dim=5, channels=(4,), hidden=0)
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 0, 1])
    logits = model(x)
    expected = F.cross_entropy(logits[:, :2], y)
    assert torch.allclose(seen_only_step(model, (x, y))["loss"], expected, atol=1e-6)
    seen_only_step(model, (x, y))["loss"].backward()
    assert model.attribute_encoder[0].weight.grad[:, 2].abs().sum() == 0, "attribute 2 belongs to unseen classes only"


def test_gzsl_metrics_by_hand() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    # predictions: class 0 both right, class 1 one right, class 2 (unseen) one right, class 3 none
    scores = np.full((8, 4), -1.0)
    for i, p in enumerate([0, 0, 1, 0, 2, 0, 1, 1]):
        scores[i, p] = 1.0
    assert per_class_accuracy(scores.argmax(1), labels, [0, 1]) == pytest.approx(0.75)
    result = gzsl_scores(scores, labels, seen=[0, 1], unseen=[2, 3])
    assert result["acc_seen"] == pytest.approx(0.75) and result["acc_unseen"] == pytest.approx(0.25)
    assert result["harmonic_mean"] == pytest.approx(2 * 0.75 * 0.25 / 1.0)
    assert harmonic_mean(0.0, 0.0) == 0.0


def test_calibration_trades_seen_for_unseen_accuracy() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 25)
    scores = rng.normal(size=(100, 4)) + 2 * np.eye(4)[labels]
    scores[:, :2] += 1.5                          # a bias towards the seen classes
    gammas, acc_s, acc_u = seen_unseen_curve(scores, labels, [0, 1], [2, 3], points=50)
    assert acc_u[0] == 0 and acc_s[-1] == 0, "the sweep runs from never-unseen to always-unseen"
    assert np.all(np.diff(acc_u) >= 0) and np.all(np.diff(acc_s) <= 0)
    assert 0 < ausuc(acc_s, acc_u) <= 1
