"""deep_rl_sac nodes on a tiny budget: both implementations, the comparison, the model."""

from __future__ import annotations

import numpy as np
import pytest

from dl_roadmap.core.schema import ParameterError, check_parameters
from dl_roadmap.pipelines.deep_rl_sac import nodes
from tests.parameters import assert_named_before_the_run, parameters

TRAINER = {"accelerator": "cpu", "progress_bar": False}


@pytest.fixture(scope="module")
def params():
    return {**parameters("test")["deep_rl_sac"], "total_steps": 150, "checkpoint_every": None}


def test_both_implementations_compare_on_the_same_steps(params, tmp_path):
    ours_curves, ours, actor = nodes.train_ours(params, {**TRAINER, "data_root": str(tmp_path)})
    sb3_curves, sb3 = nodes.train_sb3(params, TRAINER)
    assert ours_curves["env_steps"].tolist() == sb3_curves["env_steps"].tolist() == [150]
    runs, summary = nodes.compare(ours, sb3, params)
    assert list(summary["implementation"]) == ["ours", "sb3"] and (summary["zoo_anchor"] == -156.995).all()
    assert nodes.curves_figure(ours_curves, sb3_curves, summary, params).axes
    model = nodes.policy_model(actor, params)
    assert model.predict(None, np.zeros((4, 3), np.float32)).shape == (4, 1)
    assert set(nodes.summary_metrics(summary)) == {"ours/final_return_mean", "ours/seconds_per_1k_steps",
                                                   "sb3/final_return_mean", "sb3/seconds_per_1k_steps"}


@pytest.mark.parametrize(("path", "value", "key", "problem"), [
    ("env_id", "Pendulum-v9", "env_id", "unknown Gymnasium environment 'Pendulum-v9'"),
    ("tau", 0.0, "tau", "greater than 0"),
])
def test_bad_parameters_name_the_key(path, value, key, problem):
    assert_named_before_the_run("deep_rl_sac", path, value, key, problem)


def test_evaluations_must_fall_on_the_same_steps():
    bad = parameters()
    bad["deep_rl_sac"]["eval_every"] = 3000
    with pytest.raises(ParameterError, match=r"- deep_rl_sac: .*must be a multiple of eval_every \(3000\)"):
        check_parameters(bad, ["deep_rl_sac"])
