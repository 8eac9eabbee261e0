"""Nodes of few_shot on small real inputs: ingest, evaluation, Lake's runs, the schema."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.core.schema import check_parameters
from dl_roadmap.image.fewshot_episodes import Conv4
from dl_roadmap.pipelines.few_shot import figures, nodes
from dl_roadmap.pipelines.few_shot.evaluate import draw_episodes, episode_accuracies
from tests.parameters import assert_named_before_the_run, parameters

DATA = {"train_set": "images_background_small1", "test_set": "images_background_small2", "rotations": [0, 180],
        "size": 28, "alphabets": ["Balinese", "Greek", "Tagalog"], "max_characters": 6}


@pytest.fixture(scope="module")
def omniglot():
    return nodes.ingest(DATA)


def test_ingest_drops_the_alphabets_training_saw_and_counts_rotations(omniglot) -> None:
    data, summary = omniglot
    assert summary["alphabets_dropped_from_test"] == ["Greek"], "Greek is in both small sets"
    assert summary["test_alphabets"] == ["Tagalog"] and summary["train_alphabets"] == ["Balinese", "Greek"]
    assert data["train"].shape == (2 * 12, 20, 28, 28) and data["test"].shape == (6, 20, 28, 28)
    assert torch.equal(torch.as_tensor(data["train"][12].copy()), torch.as_tensor(data["train"][0][:, ::-1, ::-1].copy()))


def test_ingest_refuses_an_unknown_alphabet() -> None:
    with pytest.raises(ValueError, match="data.alphabets: \\['Klingon'\\]"):
        nodes.ingest({**DATA, "alphabets": ["Klingon", "Latin", "Tagalog"]})


def test_a_perfect_embedding_scores_every_episode_right() -> None:
    # each class its own one-hot embedding: every method must be exact
    embeddings = torch.eye(8)[:, None, :].expand(8, 20, 8).clone()
    episodes = draw_episodes(8, 20, 5, 1, 3, 10, seed=0)
    settings = {"matching_scale": 10.0, "head": {"steps": 50, "lr": 0.5, "weight_decay": 0.0, "momentum": 0.9}}
    for method in ("protonet", "matching", "baseline"):
        assert (episode_accuracies(method, embeddings, episodes, settings) == 1.0).all(), method


def test_evaluate_gives_one_row_per_method_and_setting(omniglot) -> None:
    data, _ = omniglot
    models = {m: Conv4(8).eval() for m in ("protonet", "matching", "baseline")}
    train = {"matching": {"scale": 10.0}, "baseline": {"head": {"steps": 5}}}
    table = nodes.evaluate(models, data, {"ways": [5], "shots": [1, 2], "query": 3, "episodes": 4, "seed": 0}, train)
    assert len(table) == 6 and table["accuracy"].between(0, 100).all()
    assert table.set_index(["method", "shot"]).loc[("protonet", 1), "published"] == 98.8
    figures.accuracy_figure(table)


def test_one_shot_runs_scores_mhd_and_protonet() -> None:
    runs = nodes.ingest_runs({"runs": 2, "size": 28})
    assert [len(r["answer"]) for r in runs] == [20, 20]
    table = nodes.one_shot_runs(Conv4(8).eval(), runs).set_index("method")
    assert table.loc["modified_hausdorff", "error_rate"] < 60, "MHD is far better than chance (95%)"
    assert table.loc["modified_hausdorff", "published_error_rate"] == 38.8
    figures.one_shot_figure(table.reset_index())


def test_parameters_pass_and_bad_ones_fail_naming_the_key() -> None:
    check_parameters(parameters("base"), ["few_shot"])
    check_parameters(parameters("test"), ["few_shot"])
    assert_named_before_the_run("few_shot", "data.test_set", "images_background_small1", "data",
                                "must be different background sets")
    assert_named_before_the_run("few_shot", "evaluation.episodes", 1, "evaluation.episodes", "greater than or equal to 2")
    assert_named_before_the_run("few_shot", "train.protonet.episode.way", 1, "train.protonet.episode.way", "greater")
