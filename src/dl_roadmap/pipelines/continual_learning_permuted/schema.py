"""Schema of the `continual_learning_permuted` parameter block
(conf/base/parameters_continual_learning_permuted.yml), checked before a run starts: an
unknown key at any depth or a value out of range fails naming the key (core/schema.py)."""

from __future__ import annotations

from dl_roadmap.core.schema import Block
from dl_roadmap.image.continual_schema import ModelChoice, StudyParams
from dl_roadmap.image.schema import DataParams


class AreaParameters(Block):
    data: DataParams
    study: StudyParams
    model: ModelChoice


PARAMETERS = AreaParameters
