"""The area's model builder for the shared stages; the networks themselves are in the image
library (image/mobilenet.py, image/efficientnet.py, image/squeezenet.py, built by
image/efficient.py), where the scaling pipeline finds them too."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dl_roadmap.image.efficient import build_model


def model_from_config(config: dict[str, Any], base: Any = None) -> nn.Module:
    """StageTask builder: the config's ``model`` for 28 x 28 grey images, seeded by its fit seed."""
    del base  # nothing pretrained: every model starts from its seed
    torch.manual_seed(int(config["fit"]["seed"]))
    return build_model(config["model"])
