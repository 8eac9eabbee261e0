"""The stage blocks' schemas accept what the stages accept and refuse what they refuse."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dl_roadmap.core.stages.compress.schema import CompressParams
from dl_roadmap.core.stages.compress.settings import DEFAULTS as COMPRESS_DEFAULTS
from dl_roadmap.core.stages.explain.nodes import DEFAULTS as EXPLAIN_DEFAULTS
from dl_roadmap.core.stages.explain.schema import ExplainParams
from dl_roadmap.core.stages.tune.schema import TuneParams
from dl_roadmap.core.stages.tune.study import STUDY_DEFAULTS


def test_the_stages_own_defaults_pass():
    TuneParams.model_validate({"study": STUDY_DEFAULTS, "search_space": {"lr": {"type": "float", "low": 0.1,
                                                                                "high": 1.0}}})
    CompressParams.model_validate(COMPRESS_DEFAULTS)
    ExplainParams.model_validate({"seed": 0, "baseline": 0.0, **EXPLAIN_DEFAULTS})
    CompressParams.model_validate({"latency": {"batch_sizes": [1, "example"]},
                                   "finetune": {"optimizer": {"lr": 1e-4}, "scheduler": {"name": "none"}}})


@pytest.mark.parametrize(
    ("model", "block", "where"),
    [
        (TuneParams, {"study": {"n_trials": 0}}, "study.n_trials"),
        (TuneParams, {"study": {"pruner": {"name": "early"}}}, "study.pruner.name"),
        (TuneParams, {"study": {}, "search_space": {"lr": {"type": "float", "low": 2, "high": 1}}},
         "low (2.0) is greater than high (1.0)"),
        (TuneParams, {"study": {}, "trial": {"train_limt": 10}}, "trial.train_limt"),
        (CompressParams, {"structured_pruning": {"ratio": 1.5}}, "structured_pruning.ratio"),
        (CompressParams, {"latency": {"batch_sizes": [0]}}, "latency.batch_sizes"),
        (CompressParams, {"finetune": {"max_epoch": 2}}, "unknown fit key(s) ['max_epoch']"),
        (ExplainParams, {"examples": {"split": "dev"}}, "examples.split"),
        (ExplainParams, {"shap": {"nsamples": 10}}, "shap.nsamples"),
    ],
)
def test_bad_blocks_are_refused_naming_the_key(model, block, where):
    with pytest.raises(ValidationError) as error:
        model.model_validate(block)
    assert where in str(error.value)
