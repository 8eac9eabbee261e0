"""efficient_architectures's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key."""

from __future__ import annotations

import pytest

from tests.parameters import assert_named_before_the_run, case_id

AREA = "efficient_architectures"

CASES = [
    ("family.mobilenet_v2.model.depth", 2.0, "family.mobilenet_v2.model", "mobilenet_v2 does not take ['depth']"),
    ("family.plain_cnn.model.arch", "resnet", "family.plain_cnn.model.arch", "Input should be 'mobilenet_v1'"),
    ("family.efficientnet_b0.model.width", 0, "family.efficientnet_b0.model.width", "Input should be greater than 0"),
    ("family.squeezenet_1_0.model.version", "1_2", "family.squeezenet_1_0.model.version", "Input should be '1_0'"),
    ("family.mobilenet_v1.model.stem_stride", 3, "family.mobilenet_v1.model.stem_stride", "Input should be 1 or 2"),
    ("latency.repeats", 0, "latency.repeats", "Input should be greater than 0"),
    ("quantization.scheme", "per_tensor", "quantization.scheme", "unknown key"),
    ("compress.finetune.max_epochs", 0, "compress", "max_epochs: Input should be greater than 0"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)
