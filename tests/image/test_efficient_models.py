"""The small networks of the area: shapes, the blocks' equations, the build_model checks."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.image.efficient import Resized, build_model, count_macs
from dl_roadmap.image.efficientnet import EfficientNet, MBConv, SqueezeExcitation, drop_path
from dl_roadmap.image.mobilenet import InvertedResidual
from dl_roadmap.image.squeezenet import Fire
from dl_roadmap.pipelines.efficient_architectures.models import model_from_config

SMALL = [
    {"arch": "plain_cnn", "channels": [4, 8], "hidden": 8},
    {"arch": "mobilenet_v1", "width": 0.25, "stem_stride": 1},
    {"arch": "mobilenet_v2", "width": 0.25, "stem_stride": 1},
    {"arch": "efficientnet", "width": 0.25, "depth": 0.34, "stem_stride": 1},
    {"arch": "squeezenet", "version": "1_0", "width": 0.25, "stem_stride": 1, "pool_first": False},
    {"arch": "squeezenet", "version": "1_1", "width": 0.25, "stem_stride": 1},
    {"arch": "efficientnet", "width": 0.25, "depth": 0.34, "resolution": 20},
]


@pytest.mark.parametrize("model", SMALL, ids=lambda m: f"{m['arch']}-{m.get('version', '')}{m.get('resolution', '')}")
def test_small_networks_map_fashion_mnist_images_to_ten_logits(model) -> None:
    network = build_model(model).eval()
    with torch.no_grad():
        assert network(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_build_model_names_a_key_the_arch_does_not_take() -> None:
    with pytest.raises(ValueError, match=r"mobilenet_v2 does not take \['depth'\]"):
        build_model({"arch": "mobilenet_v2", "depth": 2.0})
    with pytest.raises(ValueError, match="model.arch"):
        build_model({"arch": "resnet"})


def test_the_builder_is_seeded() -> None:
    config = {"model": SMALL[2], "fit": {"seed": 3}}
    first, second = model_from_config(config), model_from_config(config)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_inverted_residual_adds_the_input_only_when_shapes_match() -> None:
    assert InvertedResidual(16, 16, 1, 6).residual
    assert not InvertedResidual(16, 16, 2, 6).residual
    assert not InvertedResidual(16, 24, 1, 6).residual
    block = InvertedResidual(8, 8, 1, 6).eval()
    x = torch.randn(2, 8, 5, 5)
    assert torch.allclose(block(x), x + block.block(x))


def test_the_bottleneck_is_linear() -> None:
    """The projection ends in BatchNorm, no ReLU: outputs can be negative."""
    block = InvertedResidual(8, 16, 1, 6).eval()
    assert (block(torch.randn(4, 8, 5, 5)) < 0).any()


def test_squeeze_excitation_is_a_sigmoid_gate_of_the_channel_means() -> None:
    se = SqueezeExcitation(6, 2)
    h = torch.randn(2, 6, 4, 4)
    gate = torch.sigmoid(se.fc2(torch.nn.functional.silu(se.fc1(h.mean((2, 3), keepdim=True)))))
    assert torch.allclose(se(h), h * gate)
    assert ((se(h) / h - gate).abs() < 1e-5).all()


def test_drop_path_keeps_the_expectation_and_is_off_in_evaluation() -> None:
    torch.manual_seed(0)
    y = torch.ones(20000, 1, 1, 1)
    dropped = drop_path(y, 0.3, training=True)
    assert torch.allclose(dropped.unique(), torch.tensor([0.0, 1 / 0.7]))
    assert float(dropped.mean()) == pytest.approx(1.0, abs=0.02)
    assert torch.equal(drop_path(y, 0.3, training=False), y)


def test_mbconv_skips_the_expansion_when_t_is_one() -> None:
    assert len(MBConv(16, 16, 3, 1, 1, 0.0).block) == 3      # depthwise, SE, project
    assert len(MBConv(16, 24, 3, 2, 6, 0.0).block) == 4


def test_compound_scaling_grows_depth_and_width() -> None:
    base, deeper = EfficientNet(10, depth=1.0), EfficientNet(10, depth=2.0)
    blocks = lambda m: sum(isinstance(x, MBConv) for x in m.modules())  # noqa: E731
    assert blocks(base) == 16 and blocks(deeper) == 32
    assert count_macs(EfficientNet(10, width=2.0), (3, 64, 64)) > 3 * count_macs(base, (3, 64, 64))


def test_fire_concatenates_both_expands() -> None:
    fire = Fire(32, 8, 16, 24)
    assert fire(torch.randn(1, 32, 7, 7)).shape == (1, 40, 7, 7)


def test_resolution_resizes_the_input() -> None:
    network = build_model({"arch": "mobilenet_v2", "width": 0.25, "resolution": 56})
    assert isinstance(network, Resized)
    plain = build_model({"arch": "mobilenet_v2", "width": 0.25})
    assert count_macs(network, (1, 28, 28)) == count_macs(plain, (1, 56, 56))
