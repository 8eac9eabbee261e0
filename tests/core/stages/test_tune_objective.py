"""The tune stage on a task that is not supervised: an objective that trains a config and
reports a return per iteration, pruned by Optuna's pruners, then retrained with the best."""

from __future__ import annotations

import optuna
import pytest
import torch

from dl_roadmap.core.stages.task import StageTask
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.core.stages.tune.nodes import apply_best, default_dir, optimize, retrain_best, select_best
from tests.core.stages.toys import AGENT_CONFIG, AGENT_TASK, OneWeight

SPACE = {"lr": {"type": "categorical", "choices": [0.2, 0.001]}}
TRAINER = {"accelerator": "cpu", "devices": 1, "progress_bar": False}


def _study(name: str, pruner: dict, sampler: dict | None = None, n_trials: int = 2) -> dict:
    return {"name": name, "n_trials": n_trials, "sampler": sampler or {"name": "grid", "seed": 0}, "pruner": pruner}


def _trainer(tmp_path) -> dict:
    return {**TRAINER, "data_root": str(tmp_path / "root")}


def test_a_threshold_pruner_stops_the_run_that_cannot_reach_it(tmp_path):
    study = _study("agent", {"name": "threshold", "lower": -3.0, "n_warmup_steps": 3})
    trials = optimize(AGENT_TASK, "agent", None, AGENT_CONFIG, _trainer(tmp_path), study, SPACE)
    states = dict(zip(trials["params_lr"], trials["state"]))
    assert states == {0.2: "COMPLETE", 0.001: "PRUNED"}
    stored = optuna.load_study(study_name="agent", storage=f"sqlite:///{default_dir('agent', _trainer(tmp_path))}/optuna.db")
    pruned = next(t for t in stored.trials if t.params["lr"] == 0.001)
    complete = next(t for t in stored.trials if t.params["lr"] == 0.2)
    assert max(pruned.intermediate_values) == 3, "stopped at the first step after the warm-up"
    assert len(complete.intermediate_values) == AGENT_CONFIG["iterations"], "one report per iteration"
    assert complete.value == pytest.approx(complete.intermediate_values[AGENT_CONFIG["iterations"] - 1])


def test_a_median_pruner_prunes_the_trial_that_falls_behind(tmp_path):
    space = {"lr": {"type": "categorical", "choices": [0.25, 0.001]}}  # equal curves never prune each other
    study = _study("median", {"name": "median", "n_startup_trials": 1, "n_warmup_steps": 2},
                   sampler={"name": "random", "seed": 2}, n_trials=6)  # a good trial first
    trials = optimize(AGENT_TASK, "agent", None, AGENT_CONFIG, _trainer(tmp_path), study, space)
    pruned = trials[trials["state"] == "PRUNED"]
    assert len(pruned) >= 1
    assert set(pruned["params_lr"]) == {0.001}, "only the learning rate too small to improve falls behind"
    assert (trials.loc[trials["params_lr"] != 0.001, "state"] == "COMPLETE").all()


def test_the_best_config_is_retrained_into_the_final_model(tmp_path):
    trainer = _trainer(tmp_path)
    study = _study("final", {"name": "none"})
    trials = optimize(AGENT_TASK, "agent", None, AGENT_CONFIG, trainer, study, SPACE)
    best = select_best("agent", trials, study, trainer)
    assert best["params"] == {"lr": 0.2}
    config = apply_best(AGENT_CONFIG, best)
    model, history, metrics = retrain_best(AGENT_TASK, None, config, trainer)
    assert isinstance(model, OneWeight) and float(model.w.detach()) > 1.9
    assert list(history.columns) == ["step", "return"] and len(history) == AGENT_CONFIG["iterations"]
    assert metrics["tuned_return"]["value"] == pytest.approx(history["return"].iloc[-1])


def test_the_default_storage_lives_under_the_trainer_data_root(tmp_path):
    trainer = _trainer(tmp_path)
    optimize(AGENT_TASK, "agent", None, AGENT_CONFIG, trainer, _study("rooted", {"name": "none"}), SPACE)
    assert (tmp_path / "root/07_model_output/agent/tune/optuna.db").exists()
    assert default_dir("agent", None).as_posix() == "data/07_model_output/agent/tune", "no data_root: data/"


def test_an_objective_returning_no_model_is_refused_for_the_final_training():
    task = StageTask(objective=lambda config, data, base, trainer, report: 1.0, metric="return")
    with pytest.raises(ValueError, match=r"must return \(value, model\)"):
        retrain_best(task, None, {}, TRAINER)


def test_an_objective_task_refuses_a_train_limit(tmp_path):
    with pytest.raises(ValueError, match=r"tune\.trial\.train_limit: only for tasks trained on datasets"):
        optimize(AGENT_TASK, "agent", None, AGENT_CONFIG, _trainer(tmp_path), _study("limit", {"name": "none"}), SPACE,
                 {"train_limit": 10})
    assert not (tmp_path / "root").exists(), "refused before the study was created"


def test_the_stage_runs_as_a_pipeline_on_an_objective_task(tmp_path):
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    stage = tune_pipeline(AGENT_TASK, area="agent", data="agent_data", config="params:agent_config")
    params = {"params:agent_config": AGENT_CONFIG, "params:trainer": _trainer(tmp_path),
              "params:agent.tune.study": _study("kedro", {"name": "threshold", "lower": -3.0, "n_warmup_steps": 3}),
              "params:agent.tune.search_space": SPACE, "params:agent.tune.trial": {}}
    catalog = DataCatalog({"agent_data": MemoryDataset(None), **{k: MemoryDataset(v) for k, v in params.items()}})
    outputs = SequentialRunner().run(stage, catalog)
    model = outputs["agent.tune.model"].load()
    assert isinstance(model, OneWeight)
    torch.testing.assert_close(model.w.detach(), torch.tensor([2.0]), atol=0.05, rtol=0)
    assert outputs["agent.tune.study_metrics"].load()["trials_pruned"]["value"] == 1
