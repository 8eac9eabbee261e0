"""architectures_memory: the adding problem, the regressor and the study on tiny inputs."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.pipelines.architectures_memory import nodes
from dl_roadmap.pipelines.architectures_memory.models import MEAN_PREDICTOR_MSE, LastStepRegressor, adding_problem


def test_adding_problem_marks_one_step_in_each_half() -> None:
    data = adding_problem(500, 20, seed=0)
    x, y = data.tensors
    marks = x[:, :, 1]
    assert (marks.sum(1) == 2).all()
    assert (marks[:, :10].sum(1) == 1).all() and (marks[:, 10:].sum(1) == 1).all()
    torch.testing.assert_close(y, (x[:, :, 0] * marks).sum(1))


def test_always_answering_one_scores_about_one_sixth() -> None:
    _, y = adding_problem(20000, 10, seed=1).tensors
    assert abs(float(((y - 1) ** 2).mean()) - MEAN_PREDICTOR_MSE) < 0.01


def test_a_length_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        adding_problem(4, 1, seed=0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_regressor_maps_sequences_to_one_number(cell: str) -> None:
    assert LastStepRegressor(cell, 8)(torch.rand(3, 7, 2)).shape == (3,)


def test_short_sequences_are_learned_and_the_table_says_so(tmp_path) -> None:
    params = {"lengths": [4], "cells": ["gru"], "hidden_size": 16, "train_size": 2048, "test_size": 256, "seed": 0,
              "solved_mse": 0.05, "stop_mse": 0.02, "threads": 1,
              "fit": {"max_epochs": 15, "batch_size": 64, "seed": 0, "optimizer": {"name": "Adam", "lr": 0.01},
                      "scheduler": {"name": "none"}, "checkpoint_dir": str(tmp_path), "resume": False}}
    table, model = nodes.memory_study(params, {"accelerator": "cpu", "progress_bar": False})
    row = table.iloc[0]
    assert row["test_mse"] < 0.05 and row["solved"], "a GRU adds two numbers four steps apart"
    assert row["updates"] <= 15 * 32
    metrics = nodes.memory_metrics(table)
    assert metrics["gru_longest_solved"]["value"] == 4.0
    assert model(torch.rand(2, 4, 2)).shape == (2,)
