"""Parameter schemas: every parameter block is checked before the first node runs.

Each block has a pydantic model beside the code that reads it (``TrainerParams`` in
core/devices.py, ``FitParams`` in core/training.py, an area's ``PARAMETERS`` in
``pipelines/<area>/schema.py``...). Models derive from ``Block``, which refuses unknown keys
at any depth, and state ranges with ``Field(gt=0)``, ``Literal[...]`` and the like.
Nodes keep receiving the plain dicts from the YAML files: the schemas only check them.

``check_parameters`` is what the project's hook runs before ``kedro run`` starts a node::

    check_parameters(parameters, ["mnist_autoencoder"])
    # ParameterError: parameters failed their schemas:
    # - mnist_autoencoder.autoencoder.latent_dim: Input should be greater than 0 (got 0)
    # - autoencoder: unknown parameter block; known blocks: ['activations', ..., 'trainer']
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import types
from collections.abc import Iterable, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

import dl_roadmap.pipelines

logger = logging.getLogger(__name__)

SHARED_BLOCKS = ("trainer", "yardstick")  # root keys pipelines read besides their own


class Block(BaseModel):
    """Base of every parameter schema: unknown keys are errors, at every depth."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ParameterError(ValueError):
    """Parameters that do not match their schemas; the message lists every problem."""


def area_names() -> list[str]:
    """Every area folder under pipelines/ (whether or not this run loads it)."""
    return sorted(info.name for info in pkgutil.iter_modules(dl_roadmap.pipelines.__path__) if info.ispkg)


def area_schema(area: str) -> type[BaseModel] | None:
    """The ``PARAMETERS`` model of ``pipelines/<area>/schema.py``, or None without one."""
    try:
        module = importlib.import_module(f"dl_roadmap.pipelines.{area}.schema")
    except ModuleNotFoundError as error:
        if error.name == f"dl_roadmap.pipelines.{area}.schema":
            return None
        raise
    return getattr(module, "PARAMETERS")


def shared_schemas() -> dict[str, type[BaseModel]]:
    """Schemas of the blocks shared by every pipeline, by root key."""
    from dl_roadmap.core.devices import TrainerParams
    from dl_roadmap.image.yardstick import YardstickParams  # the generators' shared yardstick

    return {"trainer": TrainerParams, "yardstick": YardstickParams}


def check_parameters(parameters: Mapping[str, Any], pipelines: Iterable[str]) -> None:
    """Check the shared blocks and the blocks of ``pipelines`` against their schemas, and
    refuse root keys that belong to no block.

    Raises:
        ParameterError: naming each offending key (dotted path), the problem and the value.
    """
    problems: list[str] = []
    known = set(area_names()) | set(SHARED_BLOCKS)
    for key in sorted(set(parameters) - known):
        problems.append(f"{key}: unknown parameter block; known blocks: {sorted(known)}")
    schemas = dict(shared_schemas())
    for area in pipelines:
        schema = area_schema(area)
        if schema is None:
            # tests/test_registry.py requires a schema of every area; a run still goes ahead.
            logger.warning("%s: no pipelines/%s/schema.py, so its parameters are not checked", area, area)
        elif area in parameters:
            schemas[area] = schema
        else:
            problems.append(f"{area}: the pipeline's parameter block is missing (conf/base/parameters_{area}.yml)")
    for key, schema in schemas.items():
        if key in parameters:
            problems += schema_problems(schema, parameters[key], key)
    if problems:
        raise ParameterError("parameters failed their schemas:\n" + "\n".join(f"- {p}" for p in problems))


def schema_problems(schema: type[BaseModel], value: Any, where: str) -> list[str]:
    """One line per validation error: ``<where>.<dotted key>: <problem> (got <value>)``."""
    try:
        schema.model_validate(value)
    except ValidationError as error:
        return [_describe(item, where, schema) for item in error.errors()]
    return []


def _describe(item: Mapping[str, Any], where: str, schema: type[BaseModel]) -> str:
    path = ".".join([where, *(str(part) for part in item["loc"])])
    if item["type"] == "extra_forbidden":
        parent = _model_at(schema, item["loc"][:-1])
        known = sorted(parent.model_fields) if parent is not None else []
        return f"{path}: unknown key; known keys here: {known}"
    return f"{path}: {item['msg']} (got {_short(item.get('input'))})"


def _short(value: Any, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error raised on a whole block would
    otherwise print the block."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _model_at(schema: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The nested model at ``loc``, following model-typed fields and the items of dict and
    list fields (None where it cannot)."""
    annotation: Any = schema
    for part in loc:
        model = _model_type(annotation)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            continue
        annotation = _item_type(annotation)
        if annotation is None:
            return None
    return _model_type(annotation)


def _model_type(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):  # Optional[Model], Model | None
        found = _model_type(argument)
        if found is not None:
            return found
    return None


def _item_type(annotation: Any) -> Any:
    """The value type of a ``dict[str, X]`` or the item type of a ``list[X]`` (through Optional)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return next((item for item in map(_item_type, get_args(annotation)) if item is not None), None)
    if origin is dict:
        return get_args(annotation)[1]
    if origin is list:
        return get_args(annotation)[0]
    return None
