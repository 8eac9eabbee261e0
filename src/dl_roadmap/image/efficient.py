"""Efficient ImageNet architectures built from a ``model`` block, and how they are measured.

    model: {arch: mobilenet_v2, width: 0.5, resolution: 28, stem_stride: 1, dropout: 0.1}

``arch`` picks the network (mobilenet.py, efficientnet.py, squeezenet.py, or the plain
``SmallCNN`` of cnn.py); ``resolution`` r resizes the input to r x r (bilinear) before the
first layer, the third axis of compound scaling. At ImageNet size (``imagenet_model``) the
networks are exactly the published ones.

Multiply-adds are counted by ``torch.utils.flop_counter.FlopCounterMode``, which counts
2 FLOPs per multiply-add of every convolution and matrix product (MACs = FLOPs / 2);
BatchNorm, activations, pooling, the SE gate's product and the resize are not counted, as
the papers do not count them either.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dl_roadmap.core.stages.compress.measure import latency_ms as _median_latency_ms
from dl_roadmap.core.stages.compress.measure import parameter_count  # noqa: F401 (the image areas import it from here)
from dl_roadmap.image.cnn import SmallCNN
from dl_roadmap.image.efficientnet import EfficientNet
from dl_roadmap.image.mobilenet import MobileNetV1, MobileNetV2
from dl_roadmap.image.squeezenet import SqueezeNet

# The keys each architecture takes from the model block (besides arch and resolution).
ARCH_KEYS = {
    "mobilenet_v1": {"width", "stem_stride", "dropout"},
    "mobilenet_v2": {"width", "stem_stride", "dropout"},
    "efficientnet": {"width", "depth", "stem_stride", "dropout", "stochastic_depth"},
    "squeezenet": {"version", "width", "stem_stride", "dropout", "pool_first"},
    "plain_cnn": {"channels", "hidden", "dropout"},
}
_CLASSES = {"mobilenet_v1": MobileNetV1, "mobilenet_v2": MobileNetV2, "efficientnet": EfficientNet,
            "squeezenet": SqueezeNet}
# The published ImageNet networks: (arch, arguments)
IMAGENET = {
    "MobileNet V1": ("mobilenet_v1", {}),
    "MobileNet V2": ("mobilenet_v2", {}),
    "EfficientNet-B0": ("efficientnet", {}),
    "SqueezeNet 1.0": ("squeezenet", {"version": "1_0"}),
    "SqueezeNet 1.1": ("squeezenet", {"version": "1_1"}),
}


class Resized(nn.Module):
    """Bilinear resize of the input to ``size`` x ``size``, then the network."""

    def __init__(self, network: nn.Module, size: int):
        super().__init__()
        self.network, self.size = network, int(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False))


def build_model(model: dict[str, Any], classes: int = 10, in_channels: int = 1, image_size: int = 28) -> nn.Module:
    """The network of a ``model`` block for ``in_channels`` x ``image_size``² inputs.

    Raises:
        ValueError: an unknown arch, or a key the arch does not take (named).
    """
    model = dict(model)
    arch = model.pop("arch", None)
    if arch not in ARCH_KEYS:
        raise ValueError(f"model.arch: one of {sorted(ARCH_KEYS)}, got {arch!r}")
    resolution = int(model.pop("resolution", image_size))
    unknown = sorted(set(model) - ARCH_KEYS[arch])
    if unknown:
        raise ValueError(f"model: {arch} does not take {unknown}; it takes {sorted(ARCH_KEYS[arch])}")
    if arch == "plain_cnn":
        network = SmallCNN(**model, in_channels=in_channels, image_size=resolution, classes=classes)
    else:
        network = _CLASSES[arch](num_classes=classes, in_channels=in_channels, **model)
    return network if resolution == image_size else Resized(network, resolution)


def imagenet_model(name: str) -> nn.Module:
    """One of the published networks at ImageNet size (3 x 224 x 224 inputs, 1,000 classes)."""
    arch, arguments = IMAGENET[name]
    return _CLASSES[arch](num_classes=1000, in_channels=3, **arguments)


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-adds of one forward pass on a batch of one: FlopCounterMode's FLOPs / 2."""
    was_training = model.training
    model.eval()
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, *input_shape))
    model.train(was_training)
    return int(counter.get_total_flops() // 2)


@torch.inference_mode()
def latency_ms(model: nn.Module, input_shape: tuple[int, ...], repeats: int = 30, warmup: int = 5,
               threads: int = 1) -> float:
    """Median CPU milliseconds of one forward pass at batch 1, ``threads`` torch threads (the
    compress stage's timer on one random image of ``input_shape``)."""
    return _median_latency_ms(model, torch.rand(1, *input_shape), repeats, warmup, int(threads))
