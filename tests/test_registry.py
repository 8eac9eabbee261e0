"""Every registered pipeline meets the area standard's paperwork: its own parameters (root key =
its name) and test parameters, a schema, a README with a results table, an end-to-end test;
its catalog patterns cannot capture another area's datasets; no module is too long to read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dl_roadmap.core.schema import area_names, area_schema, check_parameters
from tests.parameters import ENVIRONMENTS, parameters

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dl_roadmap"
AREAS = area_names()
MAX_MODULE_LINES = 500


def _registered() -> list[str]:
    from kedro.framework.project import configure_project, pipelines

    configure_project("dl_roadmap")
    return sorted(name for name in pipelines if name != "__default__")


def test_every_area_folder_is_registered() -> None:
    assert set(AREAS) <= set(_registered())


@pytest.mark.parametrize("area", AREAS)
def test_area_has_its_parameters_and_test_parameters(area: str) -> None:
    for env in ("base", "test"):
        path = ROOT / "conf" / env / f"parameters_{area}.yml"
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
        roots = set(yaml.safe_load(path.read_text()) or {})
        assert roots == {area}, f"{path.relative_to(ROOT)}: one root key, {area!r}, got {sorted(roots)}"


@pytest.mark.parametrize("area", AREAS)
def test_area_has_a_schema(area: str) -> None:
    assert area_schema(area) is not None, f"pipelines/{area}/schema.py needs a PARAMETERS model"


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("area", AREAS)
def test_area_parameters_pass_their_schema(area: str, env: str) -> None:
    """The files a run in each environment reads (globals resolved, env over base)."""
    check_parameters(parameters(env), [area])


@pytest.mark.parametrize("area", AREAS)
def test_area_readme_has_a_results_table(area: str) -> None:
    readme = PACKAGE / "pipelines" / area / "README.md"
    assert readme.is_file(), f"{readme.relative_to(ROOT)} is missing"
    assert re.search(r"^\|.*\|\s*$", readme.read_text(), re.MULTILINE), f"{readme.relative_to(ROOT)} has no table"


@pytest.mark.parametrize("area", AREAS)
def test_area_has_an_end_to_end_test(area: str) -> None:
    tests = list((ROOT / "tests" / "pipelines" / area).glob("test_*.py"))
    assert any("--env test" in t.read_text() or "run_kedro(" in t.read_text() for t in tests), (
        f"tests/pipelines/{area}/ needs a test that runs the pipeline with --env test"
    )


@pytest.mark.parametrize("area", AREAS)
def test_area_catalog_patterns_are_prefixed_with_the_area(area: str) -> None:
    path = ROOT / "conf" / "base" / f"catalog_{area}.yml"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    for name in yaml.safe_load(path.read_text()) or {}:
        if "{" in name:
            assert name.startswith((f"{area}_", f"{area}.")), (
                f"{path.relative_to(ROOT)}: pattern {name!r} could capture another area's datasets; "
                f"start it with '{area}_' or '{area}.'"
            )


def test_shared_stage_patterns_are_namespaced() -> None:
    for path in sorted((ROOT / "conf" / "base").glob("catalog_*.yml")):
        area = path.stem.removeprefix("catalog_")
        if area in AREAS:
            continue
        for name in yaml.safe_load(path.read_text()) or {}:
            assert "{" not in name or name.startswith("{area}."), f"{path.name}: pattern {name!r} is not namespaced"


def test_no_module_is_too_long_to_read() -> None:
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
