"""Task sequences, the three scenarios' targets and masks, and the transfer metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.continual_tasks import (
    ContinualMLP, permuted_sequence, split_sequence, targets, task_accuracy, eval_mask, train_mask, transfer_metrics)


def fake_splits(n: int = 200) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out = {}
    for split in ("train", "val", "test"):
        out[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        out[f"{split}_labels"] = np.arange(n) % 10
    return out


def test_split_tasks_hold_two_digits_and_class_il_targets_are_the_digits() -> None:
    seq = split_sequence(fake_splits())
    for t in range(5):
        x, tasks, within = seq.fetch("train", seq.refs("train", t))
        digits = seq.labels["train"][seq.members["train"][t]]
        assert set(digits.tolist()) == {2 * t, 2 * t + 1}
        assert torch.equal(targets(seq, "class", tasks, within), digits)
        assert torch.equal(targets(seq, "domain", tasks, within), digits % 2)
        assert x.shape[1] == 784 and 0 <= float(x.min()) and float(x.max()) <= 1


def test_scenario_masks() -> None:
    seq = split_sequence(fake_splits())
    tasks = torch.tensor([0, 3])
    head = train_mask(seq, "task", tasks, current=3)
    assert head[0].nonzero().squeeze(1).tolist() == [0, 1] and head[1].nonzero().squeeze(1).tolist() == [6, 7]
    assert train_mask(seq, "domain", tasks, 3).shape == (2, 2) and train_mask(seq, "domain", tasks, 3).all()
    assert train_mask(seq, "class", tasks, 1)[0].tolist() == [True] * 4 + [False] * 6
    assert eval_mask(seq, "class", tasks).all() and eval_mask(seq, "task", tasks).sum(1).tolist() == [2, 2]


def test_permuted_tasks_reorder_pixels_and_keep_labels() -> None:
    seq = permuted_sequence(fake_splits(), n_tasks=3, seed=0)
    x0, _, y0 = seq.fetch("test", seq.refs("test", 0)[:5])
    x2, _, y2 = seq.fetch("test", seq.refs("test", 2)[:5])
    assert torch.equal(y0, y2) and not torch.equal(x0, x2)
    assert torch.equal(x2, x0[:, seq.permutations[2]]) and torch.equal(seq.permutations[0], torch.arange(784))


def test_accuracy_of_a_model_that_always_says_zero() -> None:
    seq = split_sequence(fake_splits())
    model = ContinualMLP(10, [4])
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.head.bias[0] = 1.0
    assert task_accuracy(model, seq, "class", 0) == pytest.approx(0.5)  # digits 0 and 1, half are 0
    assert task_accuracy(model, seq, "class", 1) == 0.0


def test_transfer_metrics_by_hand() -> None:
    R = np.array([[0.9, 0.2, 0.1],
                  [0.5, 0.8, 0.3],
                  [0.4, 0.6, 0.7]])
    b = np.array([0.1, 0.1, 0.2])
    m = transfer_metrics(R, b)
    assert m["acc"] == pytest.approx((0.4 + 0.6 + 0.7) / 3)
    assert m["bwt"] == pytest.approx(((0.4 - 0.9) + (0.6 - 0.8)) / 2)
    assert m["fwt"] == pytest.approx(((0.2 - 0.1) + (0.3 - 0.2)) / 2)
    assert m["forgetting"] == pytest.approx(((0.9 - 0.4) + (0.8 - 0.6)) / 2)
