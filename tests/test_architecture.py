"""Areas import core/ and the domain libraries, never another area.

Every module under src/dl_roadmap/pipelines/<area>/ is parsed (not imported) and each
``import``/``from`` statement, at any depth and relative ones resolved, is checked: reaching
``dl_roadmap.pipelines.<anything but the area itself>`` fails the test with the file, line
and statement. What two areas share belongs in core/ or a domain library (asr/, image/).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PACKAGE = "dl_roadmap.pipelines"
PIPELINES = PROJECT_ROOT / "src" / "dl_roadmap" / "pipelines"


def areas(pipelines: Path) -> list[str]:
    """The area packages: folders under pipelines/ with an __init__.py."""
    return sorted(p.parent.name for p in pipelines.glob("*/__init__.py"))


def module_package(path: Path, pipelines: Path) -> list[str]:
    """The package a module's relative imports start from, as dotted parts: the module's
    folder (for an __init__.py, that folder is the package itself)."""
    return [*PACKAGE.split("."), *path.relative_to(pipelines).parent.parts]


def imported_modules(node: ast.Import | ast.ImportFrom, package: list[str]) -> list[str]:
    """Absolute names an import statement reaches: ``import a.b`` -> a.b; ``from a import b``
    -> a.b (b may be a module); relative ones resolved against ``package``."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, *([node.module] if node.module else [])])
    return [f"{base}.{alias.name}" for alias in node.names]


def other_area_imports(path: Path, area: str, pipelines: Path) -> list[str]:
    """``file:line: statement`` for every import in ``path`` that reaches into pipelines/
    outside ``area`` (another area, or a module there that areas would share)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_package(path, pipelines)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        for name in imported_modules(node, package):
            parts = name.split(".")
            if parts[:2] == PACKAGE.split(".") and len(parts) > 2 and parts[2] != area:
                where = path.relative_to(pipelines.parents[2])  # from the project root
                found.append((node.lineno, f"{where}:{node.lineno}: {ast.unparse(node)}  (reaches area {parts[2]!r})"))
                break
    return [text for _, text in sorted(found)]


def area_violations(pipelines: Path, area: str) -> list[str]:
    """Every import under ``pipelines/<area>`` that reaches outside the area."""
    return [hit for path in sorted((pipelines / area).rglob("*.py"))
            for hit in other_area_imports(path, area, pipelines)]


@pytest.mark.parametrize("area", areas(PIPELINES))
def test_area_imports_no_other_area(area):
    violations = area_violations(PIPELINES, area)
    assert not violations, (
        f"area {area!r} imports another area (move what they share into core/ or a domain library):\n"
        + "\n".join(violations)
    )


def test_every_area_is_checked():
    assert {"mnist_autoencoder", "activations", "parakeet_finetune"} <= set(areas(PIPELINES))


# --- the checker itself, on a made-up project -------------------------------------------------


@pytest.fixture
def fake_pipelines(tmp_path: Path) -> Path:
    root = tmp_path / "src" / "dl_roadmap" / "pipelines"
    files = {
        "__init__.py": "",
        "alpha/__init__.py": "from dl_roadmap.pipelines.alpha.pipeline import create_pipeline\n",
        "alpha/nodes.py": (
            "import numpy\n"
            "from dl_roadmap.core.training import fit\n"
            "from dl_roadmap.image.data import split_mnist\n"
            "from . import helpers\n"
            "from .helpers import thing\n"
            "from dl_roadmap.pipelines.alpha import helpers as again\n"
        ),
        "alpha/helpers.py": "thing = 1\n",
        "beta/__init__.py": "from .. import alpha\n",
        "beta/nodes.py": (
            "import dl_roadmap.pipelines.alpha.nodes\n"
            "from dl_roadmap.pipelines import alpha\n"
            "from ..alpha.helpers import thing\n"
            "def later():\n"
            "    from dl_roadmap.pipelines.alpha.nodes import numpy\n"
            "from dl_roadmap.pipelines.gone import thing as other\n"
        ),
        "beta/deep/inner.py": "from ...alpha import nodes\nfrom .. import nodes as own\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_checker_accepts_own_area_core_and_libraries(fake_pipelines):
    assert area_violations(fake_pipelines, "alpha") == []


def test_checker_names_file_line_and_statement_of_each_cross_import(fake_pipelines):
    hits = area_violations(fake_pipelines, "beta")
    assert hits == [
        "src/dl_roadmap/pipelines/beta/__init__.py:1: from .. import alpha  (reaches area 'alpha')",
        "src/dl_roadmap/pipelines/beta/deep/inner.py:1: from ...alpha import nodes  (reaches area 'alpha')",
        "src/dl_roadmap/pipelines/beta/nodes.py:1: import dl_roadmap.pipelines.alpha.nodes  (reaches area 'alpha')",
        "src/dl_roadmap/pipelines/beta/nodes.py:2: from dl_roadmap.pipelines import alpha  (reaches area 'alpha')",
        "src/dl_roadmap/pipelines/beta/nodes.py:3: from ..alpha.helpers import thing  (reaches area 'alpha')",
        "src/dl_roadmap/pipelines/beta/nodes.py:5: from dl_roadmap.pipelines.alpha.nodes import numpy"
        "  (reaches area 'alpha')",
        "src/dl_roadmap/pipelines/beta/nodes.py:6: from dl_roadmap.pipelines.gone import thing as other"
        "  (reaches area 'gone')",
    ]


# --- catalog patterns -----------------------------------------------------------------------


def catalog_patterns(conf: Path, area: str) -> list[str]:
    """The dataset patterns (names with a ``{placeholder}``) of ``catalog_<area>.yml``."""
    import yaml

    path = conf / f"catalog_{area}.yml"
    return [name for name in yaml.safe_load(path.read_text()) or {} if "{" in name] if path.exists() else []


@pytest.mark.parametrize("area", areas(PIPELINES))
def test_area_catalog_patterns_match_only_the_areas_own_names(area):
    """A pattern that does not start with ``<area>_`` or ``<area>.`` (e.g. ``"{name}_plot"``)
    would capture datasets of other areas that the area's catalog never meant to define."""
    foreign = [pattern for pattern in catalog_patterns(PROJECT_ROOT / "conf" / "base", area)
               if not pattern.startswith((f"{area}_", f"{area}."))]
    assert not foreign, f"conf/base/catalog_{area}.yml: patterns not prefixed with '{area}_' or '{area}.': {foreign}"


def test_pattern_check_reads_the_patterns_only(tmp_path):
    (tmp_path / "catalog_alpha.yml").write_text(
        'alpha_splits: {type: MemoryDataset}\n"alpha_plot_{name}": {type: MemoryDataset}\n'
        '"{name}_plot": {type: MemoryDataset}\n')
    assert catalog_patterns(tmp_path, "alpha") == ["alpha_plot_{name}", "{name}_plot"]
    assert catalog_patterns(tmp_path, "beta") == []
