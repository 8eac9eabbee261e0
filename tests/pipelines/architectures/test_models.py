"""architectures: LeNet-5 as published, the flip step, and receptive fields."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.cnn import SmallCNN
from dl_roadmap.pipelines.architectures.models import C3_TABLE, LeNet5, Squash, fashion_step
from dl_roadmap.pipelines.architectures.receptive import effective_fields, spatial_layers, theoretical_fields


def test_lenet_maps_images_to_logits_with_the_papers_layer_sizes() -> None:
    model = LeNet5()
    shapes = {}
    hooks = [m.register_forward_hook(lambda _m, _i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:])))
             for n, m in model.layers()]
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    for hook in hooks:
        hook.remove()
    assert shapes == {"C1": (6, 28, 28), "S2": (6, 14, 14), "C3": (16, 10, 10), "S4": (16, 5, 5), "C5": (120, 1, 1)}


def test_c3_connections_follow_table_one() -> None:
    """60 of the 96 (C3 map, S2 map) pairs are connected: 1,516 trainable parameters, as the paper counts."""
    mask = LeNet5().c3.mask[:, :, 0, 0]
    assert int(mask.sum()) == 60 == sum(len(inputs) for inputs in C3_TABLE)
    assert int(mask.sum()) * 25 + 16 == 1516
    assert mask[0].tolist() == [1, 1, 1, 0, 0, 0] and mask[15].tolist() == [1] * 6


def test_an_unconnected_map_does_not_reach_a_c3_output() -> None:
    model = LeNet5()
    x = torch.zeros(1, 6, 14, 14, requires_grad=True)
    model.c3(x)[0, 0].sum().backward()  # C3 map 0 reads S2 maps 0, 1, 2 only
    reached = x.grad.abs().sum(dim=(0, 2, 3))
    assert (reached[:3] > 0).all() and (reached[3:] == 0).all()


def test_squashing_function_maps_plus_minus_one_to_itself() -> None:
    torch.testing.assert_close(Squash()(torch.tensor([1.0, -1.0, 0.0])), torch.tensor([1.0, -1.0, 0.0]), atol=1e-4, rtol=0)


def test_theoretical_receptive_fields() -> None:
    lenet = [row["receptive_field"] for row in theoretical_fields(spatial_layers(LeNet5()))]
    assert lenet == [5, 6, 14, 16, 32]  # C5 sees the whole padded 32x32 input
    modern = [row["receptive_field"] for row in theoretical_fields(spatial_layers(SmallCNN((4, 8))))]
    assert modern == [3, 5, 9, 13]


def test_effective_field_stays_inside_the_theoretical_square() -> None:
    model = SmallCNN((4, 8), seed=0)
    fields = effective_fields(model, torch.rand(4, 1, 28, 28))
    theory = theoretical_fields(spatial_layers(model))
    for row in theory:
        field = fields[row["layer"]]
        rows, cols = np.nonzero(field > 0)
        assert rows.max() - rows.min() + 1 <= row["receptive_field"]
        assert cols.max() - cols.min() + 1 <= row["receptive_field"]


def test_flip_step_mirrors_only_while_training() -> None:
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(x.clone())
            return torch.zeros(len(x), 10, requires_grad=True)

    images = torch.rand(8, 1, 28, 28)
    labels = torch.zeros(8, dtype=torch.long)
    model = Probe()
    fashion_step(model.train(), (images, labels), flip=1.0)
    torch.testing.assert_close(seen[-1], images.flip(3))
    fashion_step(model.eval(), (images, labels), flip=1.0)
    torch.testing.assert_close(seen[-1], images)


@pytest.mark.parametrize("seed", [0, 1])
def test_lenet_is_seeded(seed: int) -> None:
    assert torch.equal(LeNet5(seed=seed).c1.weight, LeNet5(seed=seed).c1.weight)
