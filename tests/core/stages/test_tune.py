"""The tune stage on the tiny digits task: targets, resume after a kill, MLflow trials."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from dl_roadmap.core.stages.tune.nodes import apply_best, optimize, select_best, study_figures
from dl_roadmap.core.stages.tune.study import PruningCallback, build_pruner, build_sampler, study_config
from tests.core.stages import tune_worker
from tests.core.stages.tiny import CPU_TRAINER, TINY_CONFIG, TINY_TASK

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _load(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=url)


def test_a_rerun_continues_the_study_up_to_its_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    first = tune_worker.run(url, "grow", n_trials=2, max_epochs=2)
    assert sorted(first["number"]) == [0, 1]
    again = tune_worker.run(url, "grow", n_trials=2, max_epochs=2)
    assert len(again) == 2, "the target was reached: no new trials"
    more = tune_worker.run(url, "grow", n_trials=4, max_epochs=2)
    assert sorted(more["number"]) == [0, 1, 2, 3]
    assert set(more["state"]) == {"COMPLETE"}


def test_a_killed_workers_trial_is_failed_and_retried_from_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.core.stages.tune_worker", url, "killed", "2", "40"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        victim = _wait_for_running_trial(url, "killed", min_epochs=3, timeout=120)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    time.sleep(2.5)  # longer than the grace period (2 x heartbeat of 1 s)

    trials = tune_worker.run(url, "killed", n_trials=2, max_epochs=40)
    study = _load(url, "killed")
    killed = study.trials[victim.number]
    assert killed.state == optuna.trial.TrialState.FAIL
    retries = [t for t in study.trials if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == victim.number]
    assert len(retries) == 1
    retry = retries[0]
    assert retry.state == optuna.trial.TrialState.COMPLETE
    assert retry.params == victim.params
    assert retry.user_attrs["resumed_from_checkpoint"] is True
    assert (trials["state"] == "COMPLETE").sum() == 2


def _wait_for_running_trial(url: str, name: str, min_epochs: int, timeout: float) -> optuna.trial.FrozenTrial:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            running = _load(url, name).get_trials(states=(optuna.trial.TrialState.RUNNING,))
        except KeyError:  # the worker has not created the study yet
            running = []
        if running and len(running[0].intermediate_values) >= min_epochs:
            return running[0]
        time.sleep(0.2)
    raise AssertionError(f"no trial of {name!r} ran {min_epochs} epochs within {timeout} s")


def test_each_trial_is_a_nested_mlflow_run(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        with mlflow.start_run(run_name="parent") as parent:
            tune_worker.run(f"sqlite:///{tmp_path / 'optuna.db'}", "tracked", n_trials=2, max_epochs=2)
        client = mlflow.tracking.MlflowClient()
        children = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    finally:
        mlflow.set_tracking_uri(None)
    assert sorted(run.info.run_name for run in children) == ["trial-0", "trial-1"]
    for run in children:
        assert {"fit.optimizer.lr", "model.hidden"} <= set(run.data.params)
        assert run.data.tags["optuna.state"] == "COMPLETE"
        assert 0.0 < run.data.metrics["trial_val_acc"] <= 1.0
        assert "trial/val_acc" in run.data.metrics  # per-epoch curves from the training core


def test_best_trial_overrides_the_config_and_plots_are_drawn(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = tune_worker.study_params(None, "best", 3)
    trials = optimize(TINY_TASK, "tiny", tune_worker.digits_data(), TINY_CONFIG, CPU_TRAINER, study,
                      tune_worker.SEARCH_SPACE, {"train_limit": 300, "overrides": {"fit.max_epochs": 2}})
    assert (tmp_path / "data/07_model_output/tiny/tune/optuna.db").exists(), "default storage: a SQLite file under data/"
    best = select_best("tiny", trials, study)
    assert best["value"] == pytest.approx(trials["value"].max())
    config = apply_best(TINY_CONFIG, best)
    assert config["fit"]["optimizer"]["lr"] == best["params"]["fit.optimizer.lr"]
    assert config["model"]["hidden"] == best["params"]["model.hidden"]
    assert TINY_CONFIG["model"]["hidden"] == 32, "the area's config is not modified in place"
    figures = study_figures("tiny", trials, study)
    assert len(figures) == 3 and all(figure.axes for figure in figures)


def test_the_pruning_callback_stops_training_when_the_pruner_says_so(digits, tmp_path):
    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    trial = optuna.create_study(direction="maximize", pruner=AlwaysPrune()).ask()
    callback = PruningCallback(trial, "val_acc")
    result = TINY_TASK.train(TINY_CONFIG, TINY_TASK.splits(digits), None, CPU_TRAINER, name="pruned",
                             callbacks=[callback], fit_overrides={"checkpoint_dir": str(tmp_path)})
    assert callback.pruned_at == 0
    assert len(result.history) == 1
    assert trial.storage.get_trial(trial._trial_id).intermediate_values.keys() == {0}


@pytest.mark.parametrize(("name", "kind"), [("tpe", "TPESampler"), ("random", "RandomSampler"), ("grid", "GridSampler"),
                                            ("gp", "GPSampler"), ("cmaes", "CmaEsSampler")])
def test_samplers_by_name(name, kind):
    space = {"model.hidden": {"type": "int", "low": 16, "high": 32, "step": 16}}
    assert type(build_sampler({"name": name}, space)).__name__ == kind


def test_bad_study_parameters_name_the_key():
    with pytest.raises(ValueError, match=r"study\.sampler\.name: unknown sampler 'bayes'"):
        build_sampler({"name": "bayes"}, {})
    with pytest.raises(ValueError, match=r"study\.pruner\.name: unknown pruner 'early'"):
        build_pruner({"name": "early"})
    with pytest.raises(ValueError, match=r"study: unknown key\(s\) \['trials'\]"):
        study_config({"trials": 3})
    with pytest.raises(ValueError, match=r"study\.n_trials: must be a positive integer"):
        study_config({"n_trials": 0})


def test_a_search_path_through_a_non_mapping_is_refused_before_any_trial(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    space = {"label_smoothing.value": {"type": "float", "low": 0.0, "high": 0.1}}
    with pytest.raises(KeyError, match=r"label_smoothing\.value: label_smoothing is 0\.0, not a mapping"):
        optimize(TINY_TASK, "tiny", tune_worker.digits_data(), TINY_CONFIG, CPU_TRAINER,
                 tune_worker.study_params(None, "bad", 1), space)
    assert not (tmp_path / "data").exists(), "nothing was created for a refused search space"
