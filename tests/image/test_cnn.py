"""Tests for dl_roadmap.image.cnn: conv blocks, the configurable small CNN and its builder."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.image.classification import classification_step
from dl_roadmap.image.cnn import SmallCNN, cnn_from_config, conv_block, downsampled_size, downsampling_blocks
from dl_roadmap.image.data import labelled_split


def test_conv_block_keeps_or_halves_the_resolution():
    x = torch.rand(2, 3, 28, 28)
    assert conv_block(3, 8)(x).shape == (2, 8, 28, 28)
    assert conv_block(3, 8, stride=2)(x).shape == (2, 8, 14, 14)
    assert conv_block(3, 8, stride=2)(torch.rand(2, 3, 7, 7)).shape == (2, 8, 4, 4), "odd sizes round up"
    conv = conv_block(3, 8)[0]
    assert conv.bias is None, "BatchNorm's shift replaces the bias"
    stage = nn.Sequential(*downsampling_blocks(3, 8))
    assert stage(x).shape == (2, 8, 14, 14)
    assert [downsampled_size(28, n) for n in range(4)] == [28, 14, 7, 4]


@pytest.mark.parametrize(("channels", "hidden"), [((8,), 16), ((8, 16), 0), ((4, 8, 8), 32)])
def test_small_cnn_gives_logits_for_each_depth_and_head(channels, hidden):
    model = SmallCNN(channels=channels, hidden=hidden, classes=7)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 7)
    assert len(model.features) == 2 * len(channels)
    linears = [m for m in model.head if isinstance(m, nn.Linear)]
    assert len(linears) == (2 if hidden else 1)
    assert linears[0].in_features == channels[-1] * downsampled_size(28, len(channels)) ** 2


def test_small_cnn_takes_other_image_shapes():
    assert SmallCNN(channels=(4, 8), in_channels=3, image_size=32)(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_seed_fixes_the_weights_without_touching_the_global_random_state():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a, b = SmallCNN((4,), hidden=8, seed=1), SmallCNN((4,), hidden=8, seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    c = SmallCNN((4,), hidden=8, seed=2)
    assert not torch.equal(a.features[0][0].weight, c.features[0][0].weight)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"channels": []}, "model.channels"), ({"channels": (8, 0)}, "model.channels"),
     ({"dropout": 1.0}, "model.dropout"), ({"hidden": -1}, "hidden >= 0")],
)
def test_bad_arguments_name_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SmallCNN(**kwargs)


def test_builder_reads_the_model_block_and_fit_seed():
    model = cnn_from_config({"model": {"channels": [4, 8], "hidden": 16}, "fit": {"seed": 3}})
    assert model.channels == (4, 8)
    reference = SmallCNN((4, 8), hidden=16, seed=3)
    assert torch.equal(model.head[1].weight, reference.head[1].weight)


def test_small_cnn_learns_an_easy_task(striped):
    torch.manual_seed(0)
    model = SmallCNN(channels=(8, 16), hidden=32, seed=0)
    images, labels = labelled_split(striped, "train").tensors
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(6):
        for start in range(0, len(images), 50):
            loss = classification_step(model.train(), (images[start:start + 50], labels[start:start + 50]))["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    test = labelled_split(striped, "test").tensors
    assert classification_step(model.eval(), test)["acc"] > 0.9, "bright row blocks are easy: far above chance (10%)"
