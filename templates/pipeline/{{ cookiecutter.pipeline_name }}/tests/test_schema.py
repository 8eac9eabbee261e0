"""{{ cookiecutter.pipeline_name }}'s parameters as a run sees them pass the schema; a misplaced
key and an out-of-range value fail naming the key."""

from __future__ import annotations

import copy

from kedro.config import OmegaConfigLoader

from dl_roadmap.core.schema import schema_problems
from dl_roadmap.pipelines.{{ cookiecutter.pipeline_name }}.schema import PARAMETERS
from dl_roadmap.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT

AREA = "{{ cookiecutter.pipeline_name }}"


def parameters(env: str) -> dict:
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return loader["parameters"][AREA]


def test_base_and_test_parameters_pass() -> None:
    for env in ("local", "test"):
        assert schema_problems(PARAMETERS, parameters(env), AREA) == []


def test_a_misplaced_key_and_a_bad_value_are_named() -> None:
    params = copy.deepcopy(parameters("test"))
    params["train"]["hidden"] = 64                  # belongs under train.model
    params["tuning"]["model"]["dropout"] = 1.5
    problems = "\n".join(schema_problems(PARAMETERS, params, AREA))
    assert f"{AREA}.train.hidden: unknown key" in problems
    assert f"{AREA}.tuning.model.dropout: Input should be less than 1" in problems
