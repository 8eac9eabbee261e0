"""Parameters as a run sees them, and the check that a bad one is named before the run:
shared by every area's tests/pipelines/<area>/test_schema.py."""

from __future__ import annotations

import copy
import functools
import re
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader

from dl_roadmap.core.params import set_path
from dl_roadmap.core.schema import ParameterError, check_parameters
from dl_roadmap.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT

ENVIRONMENTS = ("base", "test", "gpu")


@functools.cache
def _loaded(env: str) -> dict:
    return OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)["parameters"]


def parameters(env: str = "base") -> dict:
    """Every parameter as a run in ``env`` sees it (globals resolved, the environment over base)."""
    return copy.deepcopy(_loaded(env))


def case_id(path: str | tuple[str, ...]) -> str:
    return ".".join(path) if isinstance(path, tuple) else path


def assert_named_before_the_run(area: str, path: str | tuple[str, ...], value: Any, key: str, problem: str) -> None:
    """Set ``path`` of the area's block to ``value`` (dotted, or a tuple of keys where a key
    itself has dots) and check that the parameter check fails naming ``<area>.<key>`` and
    ``problem``."""
    params = parameters()
    if isinstance(path, tuple):
        *parents, last = path
        functools.reduce(dict.__getitem__, parents, params[area])[last] = value
    else:
        set_path(params[area], path, value)
    with pytest.raises(ParameterError) as error:
        check_parameters(params, [area])
    named = re.escape(f"- {area}.{key}: ") + "(?s:.*)" + re.escape(problem)
    assert re.search(named, str(error.value)), error.value
