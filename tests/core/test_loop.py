"""Tests for dl_roadmap.core.loop.run_loop, the iteration-based loop for training without a
dataset. The states are tiny (a noisy quadratic minimised by gradient steps, a three-armed
bandit), so every test takes well under a second.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from dl_roadmap.core.loop import LOOP_DEFAULTS, LoopContext, LoopParams, loop_config, run_loop
from dl_roadmap.core.schema import schema_problems

CPU = {"accelerator": "cpu", "progress_bar": False}


class NoisyQuadratic:
    """Minimises (x - 3)^2 by gradient steps with noise from torch's global generator, so a
    resumed run matches an uninterrupted one only if the generator's state is restored."""

    def __init__(self, x: float = -5.0, lr: float = 0.1, noise: float = 0.5):
        self.x, self.lr, self.noise = torch.tensor(x), lr, noise

    def state_dict(self) -> dict:
        return {"x": self.x.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.x = state["x"].clone()


def descend(state: NoisyQuadratic, context: LoopContext) -> dict[str, float]:
    gradient = 2 * (state.x - 3.0) + state.noise * torch.randn(())
    state.x = state.x - state.lr * gradient
    return {"loss": float((state.x - 3.0) ** 2)}


class Crash(Exception):
    pass


def crash_at(iteration: int):
    def iterate(state: NoisyQuadratic, context: LoopContext) -> dict[str, float]:
        if context.iteration == iteration:
            raise Crash(f"simulated crash at iteration {iteration}")
        return descend(state, context)

    return iterate


def walk(state: NoisyQuadratic, context: LoopContext) -> dict[str, float]:
    """Steps x by +1 from -5: |x| is smallest at iteration 4 (x = 0) and grows afterwards."""
    state.x = state.x + 1.0
    return {"step": 1.0}


def distance(state: NoisyQuadratic, context: LoopContext) -> dict[str, float]:
    return {"distance": abs(float(state.x))}


def params(tmp_path, **overrides) -> dict:
    return {"max_iterations": 30, "checkpoint_dir": str(tmp_path / "checkpoints"), **overrides}


def comparable(history: pd.DataFrame) -> pd.DataFrame:
    return history.drop(columns="seconds")


class RecordingRun:
    """Stands in for the active MLflow run (RunHandle, tested in test_tracking.py)."""

    def __init__(self):
        self.logged: list[tuple[int, dict[str, float]]] = []

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.logged.append((step, dict(metrics)))


@pytest.fixture
def active_run(monkeypatch) -> RecordingRun:
    run = RecordingRun()
    monkeypatch.setattr("dl_roadmap.core.loop.RunHandle.current", classmethod(lambda cls: run))
    return run


def test_the_loop_minimises_and_logs_every_n_iterations(tmp_path, active_run):
    """One history row (and one MLflow value) per log_every iterations holding the mean of
    the window; the loss falls; finished runs leave no checkpoint behind."""
    result = run_loop(NoisyQuadratic(), descend, name="quad", trainer_params=CPU,
                      loop_params=params(tmp_path, log_every=5, checkpoint_every=4))

    history = result.history
    assert history["iteration"].tolist() == [4, 9, 14, 19, 24, 29]
    assert history["loss"].iloc[-1] < 0.05 * history["loss"].iloc[0]
    assert abs(float(result.state.x) - 3.0) < 0.5
    assert result.iterations == 30 and result.stopped_early is False and result.resumed_from is None
    assert not any((tmp_path / "checkpoints").glob("*/last.pt"))

    assert [step for step, _ in active_run.logged] == history["iteration"].tolist()
    assert [metrics["quad/loss"] for _, metrics in active_run.logged] == pytest.approx(history["loss"].tolist())
    assert all(set(metrics) == {"quad/loss", "quad/seconds"} for _, metrics in active_run.logged)


def test_a_row_holds_the_mean_of_its_window(tmp_path):
    """With log_every 3 a row's loss is the mean of its three iterations' losses."""
    every = run_loop(NoisyQuadratic(), descend, name="window", trainer_params=CPU,
                     loop_params=params(tmp_path, max_iterations=9, log_every=1))
    grouped = run_loop(NoisyQuadratic(), descend, name="window", trainer_params=CPU,
                       loop_params=params(tmp_path, max_iterations=9, log_every=3))
    means = every.history["loss"].groupby(np.arange(9) // 3).mean().tolist()
    assert grouped.history["loss"].tolist() == pytest.approx(means)


def test_an_interrupted_run_resumes_to_the_same_result(tmp_path):
    """A crash at iteration 13 leaves the checkpoint of iteration 10; the next call resumes
    there (the generators too) and ends exactly where an uninterrupted run ends."""
    loop = params(tmp_path, log_every=2, checkpoint_every=5)
    with pytest.raises(Crash):
        run_loop(NoisyQuadratic(), crash_at(13), name="resumable", trainer_params=CPU, loop_params=loop)
    assert len(list((tmp_path / "checkpoints").glob("resumable-*/last.pt"))) == 1

    calls: list[int] = []

    def counted(state, context):
        calls.append(context.iteration)
        return descend(state, context)

    torch.rand(10)  # the global generator moved on since the crash
    resumed = run_loop(NoisyQuadratic(), counted, name="resumable", trainer_params=CPU, loop_params=loop)
    straight = run_loop(NoisyQuadratic(), descend, name="straight", trainer_params=CPU,
                        loop_params=params(tmp_path / "other", log_every=2, checkpoint_every=5))

    assert resumed.resumed_from is not None and calls == list(range(10, 30))
    assert torch.equal(resumed.state.x, straight.state.x)
    pd.testing.assert_frame_equal(comparable(resumed.history), comparable(straight.history))


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_and_the_best_state(tmp_path, restore_best):
    """|x| is best at iteration 4; with patience 3 the loop stops at iteration 7 and returns
    the best state (restore_best) or the last."""
    result = run_loop(NoisyQuadratic(x=-5.0), walk, name="walk", evaluate=distance, trainer_params=CPU,
                      loop_params=params(tmp_path, monitor="distance", mode="min", early_stopping_patience=3,
                                         restore_best=restore_best))

    assert result.stopped_early is True and result.iterations == 8
    assert result.best_iteration == 4 and result.best_score == 0.0
    assert result.history["distance"].tolist() == [4, 3, 2, 1, 0, 1, 2, 3]
    assert float(result.state.x) == (0.0 if restore_best else 3.0)


class Bandit:
    """Three Bernoulli arms; epsilon-greedy value estimates in the state."""

    def __init__(self, probabilities=(0.2, 0.5, 0.8), epsilon: float = 0.1):
        self.probabilities = torch.tensor(probabilities)
        self.epsilon = epsilon
        self.values, self.counts = torch.zeros(3), torch.zeros(3)

    def state_dict(self) -> dict:
        return {"values": self.values.clone(), "counts": self.counts.clone()}

    def load_state_dict(self, state: dict) -> None:
        self.values, self.counts = state["values"].clone(), state["counts"].clone()


def pull(state: Bandit, context: LoopContext) -> dict[str, float]:
    explore = torch.rand(()) < state.epsilon or context.iteration < 3
    arm = int(torch.randint(3, ())) if explore else int(state.values.argmax())
    reward = float(torch.rand(()) < state.probabilities[arm])
    state.counts[arm] += 1
    state.values[arm] += (reward - state.values[arm]) / state.counts[arm]
    return {"reward": reward}


def greedy_arm(state: Bandit, context: LoopContext) -> dict[str, float]:
    return {"greedy_probability": float(state.probabilities[state.values.argmax()])}


def test_a_bandit_learns_its_best_arm_and_can_monitor_an_iteration_metric(tmp_path):
    """The monitor may be an iteration metric (its mean since the last evaluation)."""
    result = run_loop(Bandit(), pull, name="bandit", evaluate=greedy_arm, trainer_params=CPU,
                      loop_params=params(tmp_path, max_iterations=400, log_every=50, eval_every=50,
                                         monitor="reward", mode="max", restore_best=False))
    assert result.history["greedy_probability"].iloc[-1] == pytest.approx(0.8)
    assert result.history["reward"].iloc[-1] > 0.6
    assert result.best_score == pytest.approx(result.history["reward"].max())


def test_a_module_state_runs_on_the_trainer_device_and_comes_back_on_cpu(tmp_path):
    devices: list[str] = []

    def step(state: nn.Module, context: LoopContext) -> dict[str, float]:
        devices.append(context.device.type)
        assert next(state.parameters()).device.type == context.device.type
        return {"norm": float(state.weight.detach().norm())}

    result = run_loop(nn.Linear(2, 1), step, name="module", trainer_params=CPU,
                      loop_params=params(tmp_path, max_iterations=2))
    assert devices == ["cpu", "cpu"] and next(result.state.parameters()).device.type == "cpu"


def test_checkpoints_go_under_the_trainer_data_root_by_default(tmp_path):
    loop = {"max_iterations": 10, "checkpoint_every": 2}
    with pytest.raises(Crash):
        run_loop(NoisyQuadratic(), crash_at(5), name="rooted", loop_params=loop,
                 trainer_params={**CPU, "data_root": str(tmp_path)})
    assert len(list((tmp_path / "06_models" / "checkpoints").glob("rooted-*/last.pt"))) == 1


@pytest.mark.parametrize(
    ("overrides", "key"),
    [({"iterations": 5}, "iterations"), ({"max_iterations": 0}, "max_iterations"), ({"mode": "up"}, "mode"),
     ({"early_stopping_patience": 2}, "early_stopping_patience"), ({"checkpoint_every": -1}, "checkpoint_every")],
    ids=["unknown-key", "zero-iterations", "mode-up", "patience-without-monitor", "negative-checkpoint"],
)
def test_bad_loop_parameters_name_the_key(overrides, key):
    with pytest.raises(ValueError, match=re.escape(key)):
        loop_config(overrides)


def test_bad_states_and_metrics_fail_with_a_clear_message(tmp_path):
    with pytest.raises(TypeError, match="state_dict"):
        run_loop(object(), descend, name="no-state", loop_params=params(tmp_path), trainer_params=CPU)
    with pytest.raises(TypeError, match="mapping"):
        run_loop(NoisyQuadratic(), lambda state, context: 1.0, name="scalar", loop_params=params(tmp_path),
                 trainer_params=CPU)
    with pytest.raises(KeyError, match="'accuracy'"):
        run_loop(NoisyQuadratic(), descend, name="monitor", trainer_params=CPU,
                 loop_params=params(tmp_path, monitor="accuracy"))
    with pytest.raises(ValueError, match=r"\['loss'\]"):
        run_loop(NoisyQuadratic(), descend, name="clash", evaluate=lambda state, context: {"loss": 0.0},
                 trainer_params=CPU, loop_params=params(tmp_path))


def test_the_loop_defaults_are_the_schemas_and_pass_it():
    assert LOOP_DEFAULTS == LoopParams().model_dump()
    assert schema_problems(LoopParams, LOOP_DEFAULTS, "loop") == []


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [({"max_iterations": 0}, "loop.max_iterations", "greater than 0"),
     ({"eval_every": 1.5}, "loop.eval_every", "valid integer"),
     ({"checkpoint_every": 0}, "loop.checkpoint_every", "greater than 0"),
     ({"mode": "up"}, "loop.mode", "'min' or 'max'"),
     ({"monitor": ""}, "loop.monitor", "at least 1 character"),
     ({"early_stopping_patience": 3}, "loop", "needs a monitor"),
     ({"iterations": 5}, "loop.iterations", "unknown key; known keys here: ['checkpoint_dir'")],
    ids=["zero-iterations", "fractional-eval", "zero-checkpoint", "mode-up", "empty-monitor",
         "patience-without-monitor", "unknown-key"],
)
def test_the_loop_schema_names_the_dotted_key_of_a_bad_value(block, key, words):
    (problem,) = schema_problems(LoopParams, block, "loop")
    assert problem.startswith(f"{key}: ") and words in problem


def test_optimized_model_checkpoints_model_optimizer_and_schedule_together():
    from dl_roadmap.core.loop import OptimizedModel

    settings = {"optimizer": {"name": "Adam", "lr": 0.1}, "scheduler": {"name": "cosine"}}
    state = OptimizedModel(torch.nn.Linear(2, 1), settings, iterations=10)
    state.model(torch.ones(4, 2)).sum().backward()
    state.optimizer.step()
    state.scheduler.step()
    copy = OptimizedModel(torch.nn.Linear(2, 1), settings, iterations=10)
    copy.load_state_dict(state.state_dict())
    torch.testing.assert_close(copy.model.weight, state.model.weight)
    assert copy.optimizer.state_dict()["state"][0]["step"] == 1
    assert copy.scheduler.get_last_lr() == state.scheduler.get_last_lr() != [0.1]
