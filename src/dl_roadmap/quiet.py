"""Known third-party warnings that say nothing about a run, filtered once at start-up.

Each filter names the library and the exact message, so a new or different warning still
shows. conf/logging.yml does the same for chatty loggers.
"""

from __future__ import annotations

import warnings

# (message regex, category name, module regex) of warnings raised inside libraries on every run.
KNOWN_NOISE: tuple[tuple[str, str, str], ...] = (
    # Lightning 2.4 calls a torch pytree API that torch 2.13 deprecated; once per fit.
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", "Warning", r"lightning\..*"),
    # (Two start-up warnings cannot be caught here: kedro-mlflow's PythonModel without type
    # hints, and Kedro's preference of --pipelines over --pipeline. Both are raised by the
    # command line before it imports this package.)
)


def silence_known_noise() -> None:
    """Install the KNOWN_NOISE filters (idempotent)."""
    for message, category, module in KNOWN_NOISE:
        warnings.filterwarnings("ignore", message=message, category=_category(category), module=module)


def _category(name: str) -> type[Warning]:
    return {"Warning": Warning, "UserWarning": UserWarning}[name]
