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
    # torch 2.13 deprecates its own eager-mode quantization internals, which the compress
    # stage's int8 variants use; raised inside torch on every quantized model.
    (r"torch\.quantize_per_tensor, torch\.quantize_per_channel", "UserWarning", r"torch\..*"),
    (r"Please use quant_min and quant_max to specify the range", "UserWarning", r"torch\..*"),
    (r"TypedStorage is deprecated", "UserWarning", r"torch\..*"),
    # TorchScript scripting torch's own quantized modules (static int8, QAT) trips its parser.
    (r"The TorchScript type system doesn't support instance-level annotations", "UserWarning", r"ast"),
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
