"""The networks built at ImageNet size (3 x 224 x 224, 1,000 classes) against the published
reference implementations: parameter counts exactly, multiply-adds (FlopCounterMode, FLOPs / 2)
within MAC_TOLERANCE of the papers' figures."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dl_roadmap.image.efficient import IMAGENET, count_macs, imagenet_model, parameter_count
from dl_roadmap.image.mobilenet import depthwise_separable, make_divisible

# Published parameters: torchvision's weight metadata (num_params) for V2, B0 and both
# SqueezeNets (B0 also efficientnet-pytorch 0.7.1); Keras' MobileNet (trainable) for V1.
PARAMS = {"MobileNet V1": 4_231_976, "MobileNet V2": 3_504_872, "EfficientNet-B0": 5_288_548,
          "SqueezeNet 1.0": 1_248_424, "SqueezeNet 1.1": 1_235_496}
# Published multiply-adds: Howard et al. 2017 (569 M), Sandler et al. 2018 (300 M), Tan & Le
# 2019 (0.39 B, rounded to two digits), torchvision's _ops for SqueezeNet (0.819 G, 0.349 G).
MACS = {"MobileNet V1": 569e6, "MobileNet V2": 300e6, "EfficientNet-B0": 390e6,
        "SqueezeNet 1.0": 819e6, "SqueezeNet 1.1": 349e6}
# 0.39 B is B0's count rounded to 10 M: ±5 M of 390 M is 1.3%; we allow 1.5%.
MAC_TOLERANCE = 0.015


@pytest.mark.parametrize("name", list(IMAGENET))
def test_parameter_count_equals_the_reference_exactly(name: str) -> None:
    assert parameter_count(imagenet_model(name)) == PARAMS[name]


@pytest.mark.parametrize("name", list(IMAGENET))
def test_multiply_adds_match_the_paper(name: str) -> None:
    macs = count_macs(imagenet_model(name), (3, 224, 224))
    assert macs == pytest.approx(MACS[name], rel=MAC_TOLERANCE)


def test_imagenet_models_output_1000_logits() -> None:
    model = imagenet_model("MobileNet V2").eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)


def test_the_counter_agrees_with_the_depthwise_separable_cost_formula() -> None:
    """k² M F² (depthwise) + M N F² (pointwise), Howard et al. eq. (5), on a 14x14 map."""
    m, n, f, k = 32, 64, 14, 3
    block = nn.Sequential(depthwise_separable(m, n, 1))
    assert count_macs(block, (m, f, f)) == k * k * m * f * f + m * n * f * f


def test_make_divisible_rounds_to_eight_and_never_loses_ten_percent() -> None:
    assert make_divisible(32 * 0.35) == 16
    assert make_divisible(24 * 0.5) == 16   # 12 -> 16: 8 would lose a third
    assert make_divisible(1280) == 1280
    for value in (3.0, 11.2, 37.0, 100.0, 515.0):
        assert make_divisible(value) % 8 == 0 and make_divisible(value) >= 0.9 * value
