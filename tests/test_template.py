"""`kedro pipeline create <area>` makes a complete area from templates/pipeline/ that runs
and passes its own tests at once (in a copy of the project, so nothing here changes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import PROJECT_ROOT

AREA = "probe_area"
KEDRO = str(Path(sys.executable).with_name("kedro"))


def _copy_project(root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    for part in ("conf", "src", "tests", "templates", "notebooks"):
        shutil.copytree(PROJECT_ROOT / part, project / part,
                        ignore=shutil.ignore_patterns("__pycache__", "local", "*.egg-info"))
    (project / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, project)
    (project / "data").mkdir()
    return project


def test_a_new_area_runs_and_passes_its_tests(tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    # The copy's sources come first, so the new area is importable without reinstalling.
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "KEDRO_DISABLE_TELEMETRY": "1",
           "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    created = subprocess.run([KEDRO, "pipeline", "create", AREA], cwd=project, env=env,
                             capture_output=True, text=True, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr

    for path in (f"src/dl_roadmap/pipelines/{AREA}/{name}" for name in
                 ("__init__.py", "pipeline.py", "nodes.py", "models.py", "schema.py", "README.md")):
        assert (project / path).is_file(), path
    for env_name in ("base", "test"):
        params = yaml.safe_load((project / "conf" / env_name / f"parameters_{AREA}.yml").read_text())
        assert list(params) == [AREA], "one root key, the pipeline's name"
    assert (project / "conf" / "base" / f"catalog_{AREA}.yml").is_file()
    assert not (project / "conf" / "base" / "test").exists(), "test parameters go to conf/test only"

    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/pipelines/{AREA}",
                             "tests/test_registry.py", "-k", f"{AREA} or registered or no_module"],
                            cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    assert " passed" in tested.stdout and "failed" not in tested.stdout
