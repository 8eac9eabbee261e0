"""After `kedro pipeline create <area>`: put the area's test parameters in conf/test/.

Kedro copies the template's config/ folder into one environment (conf/base); the test
environment's file has to go to conf/test/ itself, before Kedro copies config/.
"""

from pathlib import Path

area = Path.cwd()  # src/<package>/pipelines/<area>, where cookiecutter runs this hook
project = next(parent for parent in area.parents if (parent / "pyproject.toml").is_file())
source = area / "config" / "test"
target = project / "conf" / "test"
target.mkdir(parents=True, exist_ok=True)
for path in sorted(source.iterdir()):
    destination = target / path.name
    if destination.exists():
        raise SystemExit(f"{destination} exists already: remove it or choose another area name")
    path.rename(destination)
source.rmdir()
