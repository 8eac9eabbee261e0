"""The three few-shot classifiers against hand computations of their equations."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from dl_roadmap.pipelines.few_shot.models import (fit_linear_head, linear_head_logits, matching_log_probs,
                                                  protonet_logits, prototypes, squared_euclidean)


def test_protonet_logits_are_minus_squared_distances_to_class_means() -> None:
    support = torch.tensor([[[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 6.0]]])   # classes 0, 0, 1, 1
    labels = torch.tensor([[0, 0, 1, 1]])
    query = torch.tensor([[[1.0, 1.0], [0.0, 5.0]]])
    assert torch.equal(prototypes(support, labels, 2), torch.tensor([[[1.0, 0.0], [0.0, 5.0]]]))
    # by hand: (1,1) -> c0=(1,0): 1, c1=(0,5): 1+16=17;  (0,5) -> c0: 1+25=26, c1: 0
    expected = -torch.tensor([[[1.0, 17.0], [26.0, 0.0]]])
    assert torch.allclose(protonet_logits(query, support, labels, 2), expected)


def test_squared_euclidean_matches_torch_cdist() -> None:
    a, b = torch.randn(3, 7, 5), torch.randn(3, 4, 5)
    assert torch.allclose(squared_euclidean(a, b), torch.cdist(a, b).pow(2), atol=1e-5)


def test_matching_attention_sums_to_class_probabilities() -> None:
    support = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    labels = torch.tensor([[0, 1, 1]])
    query = torch.tensor([[[2.0, 0.0]]])
    cos = torch.tensor([1.0, 0.0, float(1 / np.sqrt(2))], dtype=torch.float32)           # cos(query, each support item), by hand
    attention = torch.exp(3.0 * cos) / torch.exp(3.0 * cos).sum()
    expected = torch.log(torch.stack([attention[0], attention[1] + attention[2]]))
    got = matching_log_probs(query, support, labels, 2, scale=3.0)[0, 0]
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(got.exp().sum(), torch.tensor(1.0))


def test_linear_head_separates_its_support_and_episodes_stay_independent() -> None:
    torch.manual_seed(0)
    support = torch.cat([torch.randn(1, 5, 4) + 3, torch.randn(1, 5, 4) - 3], dim=1)
    labels = torch.tensor([[0] * 5 + [1] * 5])
    w, b = fit_linear_head(support, labels, 2, steps=50)
    assert (linear_head_logits(support, w, b).argmax(-1) == labels).all()
    # a second episode in the batch must not change the first one's head
    other = torch.randn(1, 10, 4)
    w2, b2 = fit_linear_head(torch.cat([support, other]), torch.cat([labels, labels.flip(-1)]), 2, steps=50)
    assert torch.allclose(w2[0], w[0], atol=1e-5) and torch.allclose(b2[0], b[0], atol=1e-5)


def test_linear_head_minimises_the_regularised_cross_entropy() -> None:
    torch.manual_seed(1)
    support, labels = torch.randn(1, 12, 3), torch.randint(0, 3, (1, 12))
    w, b = fit_linear_head(support, labels, 3, steps=2000, lr=0.1, weight_decay=0.01)
    w.requires_grad_(True)
    b.requires_grad_(True)
    loss = F.cross_entropy(linear_head_logits(support, w, b)[0], labels[0]) + 0.005 * w.pow(2).sum()
    loss.backward()
    assert w.grad.abs().max() < 1e-3 and b.grad.abs().max() < 1e-3, "a stationary point of the objective"
