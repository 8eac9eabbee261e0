"""What each stage needs from a task, checked when its pipeline is built: a miswired stage
fails inside compress_pipeline()/explain_pipeline()/tune_pipeline(), i.e. when the registry
loads, with the area and the missing hooks named."""

from __future__ import annotations

import re

import pytest
import torch

from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.stages.compress import VARIANTS, compress_pipeline
from dl_roadmap.core.stages.contract import StageWiringError
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from tests.core.stages.tiny import TINY_TASK
from tests.core.stages.toys import AGENT_TASK, mlp


def _compress(task: StageTask, area: str = "rl_agent", **kwargs):
    return compress_pipeline(task, area=area, model="m", config="params:c", data="d", **kwargs)


def _explain(task: StageTask, area: str = "rl_agent"):
    return explain_pipeline(task, area=area, model="m", data="d")


def test_an_image_classifier_needs_nothing_more_than_today():
    assert len(_compress(TINY_TASK, "digits").nodes) == 2 + len(VARIANTS)
    assert len(_explain(TINY_TASK, "digits").nodes) == 8
    tune_pipeline(TINY_TASK, area="digits", data="d", config="params:c")


def test_distillation_without_a_distillation_loss_fails_naming_the_area():
    task = StageTask(build_model=lambda config, base: mlp(), example_inputs=lambda data: torch.zeros(4, 6),
                     score=lambda model, data, config: 0.0, metric="return")
    message = ("compress stage for area 'rl_agent': variant 'distilled' needs StageTask.distill_loss, "
               "which the task does not provide")
    with pytest.raises(StageWiringError, match=f"^{re.escape(message)}$"):
        _compress(task, variants=["dynamic_int8", "distilled"])
    _compress(task, variants=["dynamic_int8", "static_int8"])  # what it can give is enough for these


def test_every_missing_need_is_listed_once():
    with pytest.raises(StageWiringError) as error:
        _compress(AGENT_TASK, variants=["dynamic_int8", "qat_int8", "student"])
    text = str(error.value)
    assert text.startswith("compress stage for area 'rl_agent': the fp32 reference needs "
                           "StageTask.example_inputs (or StageTask.datasets) and StageTask.score")
    assert "variant 'qat_int8' needs StageTask.train_model (or StageTask.datasets with StageTask.make_step)" in text
    assert "variant 'student' needs StageTask.build_model and StageTask.train_model" in text
    assert "dynamic_int8" not in text, "the fp32 reference's needs are not repeated per variant"


def test_training_variants_accept_a_train_model_hook():
    task = StageTask(build_model=lambda config, base: mlp(), example_inputs=lambda data: torch.zeros(4, 6),
                     score=lambda model, data, config: 0.0, train_model=lambda model, *rest: model,
                     distill_loss=lambda s, t, batch, settings: ((s - t) ** 2).mean())
    assert len(_compress(task).nodes) == 2 + len(VARIANTS)


def test_explain_needs_feature_names_for_non_image_kinds():
    task = StageTask(example_inputs=lambda data: torch.zeros(4, 6), input_kind="tabular")
    with pytest.raises(StageWiringError, match=r"^explain stage for area 'credit': input kind 'tabular' needs "
                                               r"StageTask\.feature_names, which the task does not provide$"):
        _explain(task, "credit")
    _explain(StageTask(example_inputs=lambda data: torch.zeros(4, 6), input_kind="tabular",
                       feature_names=[f"x{i}" for i in range(6)]), "credit")


def test_explain_needs_items_and_a_graph_for_nodes():
    with pytest.raises(StageWiringError, match=r"input kind 'image' needs StageTask\.example_inputs \(or "
                                               r"StageTask\.datasets\)"):
        _explain(AGENT_TASK)
    graph_task = StageTask(datasets=TINY_TASK.datasets, input_kind="nodes", feature_names=["a"])
    with pytest.raises(StageWiringError, match=r"input kind 'nodes' needs StageTask\.example_inputs \(the "
                                               r"node-feature matrix of the graph\)"):
        _explain(graph_task, "citations")


def test_tune_needs_an_objective_or_supervised_training():
    with pytest.raises(StageWiringError, match=r"^tune stage for area 'gan': tuning needs StageTask\.objective \(or "
                                               r"StageTask\.build_model, make_step and datasets\)"):
        tune_pipeline(StageTask(example_inputs=lambda data: torch.zeros(1)), area="gan", data="d", config="params:c")
    tune_pipeline(AGENT_TASK, area="rl_agent", data="d", config="params:c")


def test_a_stage_refuses_something_that_is_not_a_task():
    with pytest.raises(StageWiringError, match=r"compress stage for area 'x': expected a StageTask, got dict"):
        _compress({"build_model": None}, "x")


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"input_kind": "audio"}, ValueError, r"StageTask\.input_kind: one of \['image', 'sequence', 'tabular', "
                                              r"'nodes', 'observation'\], got 'audio'"),
        ({"score": 0.9}, TypeError, r"StageTask\.score: a function, got 0\.9"),
        ({"feature_names": "abc"}, TypeError, r"StageTask\.feature_names: a list of names"),
        ({"direction": "up"}, ValueError, r"StageTask\.direction"),
    ],
)
def test_a_malformed_task_fails_when_it_is_made(fields, error, message):
    with pytest.raises(error, match=message):
        StageTask(**fields)


def test_a_task_without_splits_says_so_when_asked_for_them():
    with pytest.raises(ValueError, match=r"StageTask\.datasets is not set"):
        AGENT_TASK.splits(None)
