"""Parameter schemas: unknown keys at any depth and out-of-range values are named."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import Field

from dl_roadmap.core import schema
from dl_roadmap.core.schema import Block, ParameterError, check_parameters, schema_problems


class Model(Block):
    latent_dim: int = Field(default=16, gt=0)
    kind: Literal["conv", "mlp"] = "conv"


class Area(Block):
    model: Model = Model()
    epochs: int = Field(default=1, ge=1)
    variants: dict[str, Model] = {}


@pytest.fixture
def one_area(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "area_names", lambda: ["toy"])
    monkeypatch.setattr(schema, "area_schema", lambda area: Area if area == "toy" else None)


def test_a_value_out_of_range_names_the_dotted_key() -> None:
    problems = schema_problems(Area, {"model": {"latent_dim": 0}}, "toy")
    assert problems == ["toy.model.latent_dim: Input should be greater than 0 (got 0)"]


def test_an_unknown_nested_key_lists_the_keys_known_there() -> None:
    problems = schema_problems(Area, {"model": {"latent": 3}}, "toy")
    assert problems == ["toy.model.latent: unknown key; known keys here: ['kind', 'latent_dim']"]


def test_an_unknown_key_inside_a_mapping_of_blocks_lists_the_keys_known_there() -> None:
    problems = schema_problems(Area, {"variants": {"small": {"latent": 3}}}, "toy")
    assert problems == ["toy.variants.small.latent: unknown key; known keys here: ['kind', 'latent_dim']"]


def test_a_long_value_is_cut_in_the_message() -> None:
    (problem,) = schema_problems(Area, {"epochs": "x" * 500}, "toy")
    assert problem.endswith("...)") and len(problem) < 220


def test_a_choice_outside_the_allowed_values_lists_them() -> None:
    (problem,) = schema_problems(Area, {"model": {"kind": "rnn"}}, "toy")
    assert problem.startswith("toy.model.kind: Input should be 'conv' or 'mlp'")


def test_a_misplaced_block_is_an_unknown_root_key(one_area: None) -> None:
    with pytest.raises(ParameterError, match=r"- model: unknown parameter block; known blocks: \['toy', 'trainer', 'yardstick'\]"):
        check_parameters({"toy": {}, "model": {"latent_dim": 0}}, ["toy"])


def test_every_problem_is_reported_at_once(one_area: None) -> None:
    with pytest.raises(ParameterError) as error:
        check_parameters({"toy": {"epochs": 0, "model": {"latent_dim": -1}}, "trainer": {"devices": 0}}, ["toy"])
    message = str(error.value)
    assert "toy.epochs" in message and "toy.model.latent_dim" in message and "trainer.devices" in message


def test_a_good_block_passes(one_area: None) -> None:
    check_parameters({"toy": {"epochs": 3, "model": {"latent_dim": 8}}, "trainer": {"accelerator": "cpu"}}, ["toy"])


def test_a_pipeline_without_its_block_is_refused(one_area: None) -> None:
    with pytest.raises(ParameterError, match=r"toy: the pipeline's parameter block is missing"):
        check_parameters({}, ["toy"])


def test_a_pipeline_without_a_schema_runs_unchecked_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(schema, "area_names", lambda: ["bare"])
    monkeypatch.setattr(schema, "area_schema", lambda area: None)
    check_parameters({"bare": {"anything": 1}}, ["bare"])
    assert "bare: no pipelines/bare/schema.py" in caplog.text
