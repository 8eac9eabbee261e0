"""graph_networks nodes on small inputs: training, the tables, the race, the schema."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from dl_roadmap.pipelines.graph_networks import nodes
from dl_roadmap.pipelines.graph_networks.data import karate_club
from dl_roadmap.pipelines.graph_networks.schema import PARAMETERS

GCN = {"model": {"kind": "gcn", "hidden": 16, "dropout": 0.0}, "optimizer": {"lr": 0.02, "weight_decay": 0.0},
       "loop": {"max_iterations": 60, "log_every": 30}}


@pytest.fixture
def trainer(tmp_path) -> dict:
    return {"accelerator": "cpu", "progress_bar": False, "data_root": str(tmp_path)}


def test_the_karate_gcn_learns_the_communities_from_four_labels(trainer) -> None:
    result = nodes.karate({**GCN, "seed": 0}, trainer)
    assert result["hidden"].shape == (34, 16) and result["predicted"].shape == (34,)
    assert result["test_acc"] >= 0.7, "one label per community is enough on this graph"


def test_benchmark_rows_summary_and_seed_models(trainer) -> None:
    graph = karate_club()
    params = {"seeds": [0, 1], "models": {"gcn": GCN, "mlp": {**GCN, "model": {"kind": "mlp", "hidden": 8}}},
              "label_propagation": {"steps": 10, "alpha": 0.9}}
    runs, summary, models = nodes.benchmark({"karate": graph}, params, trainer)
    assert len(runs) == 1 + 2 * 2 and set(models) == {"karate_gcn", "karate_mlp"}
    gcn = summary.set_index("method").loc["gcn"]
    assert gcn["seeds"] == 2 and gcn["test_acc_mean"] > summary.set_index("method").loc["mlp", "test_acc_mean"]


def test_summary_table_puts_mean_std_beside_the_published_figure() -> None:
    runs = pd.DataFrame({"dataset": "cora", "method": "gcn", "seed": [0, 1], "test_acc": [0.80, 0.82]})
    row = nodes.summary_table(runs).iloc[0]
    assert row["test_acc_mean"] == pytest.approx(81.0) and row["test_acc_std"] == pytest.approx(1.0)
    assert row["published"] == 81.5 and row["gap"] == pytest.approx(-0.5)


def test_mean_cosine_sees_identical_rows_as_one() -> None:
    assert nodes.mean_cosine(torch.ones(10, 4)) == pytest.approx(1.0)
    assert nodes.mean_cosine(torch.eye(10)) == pytest.approx(0.1)


def test_race_reports_both_times_and_their_ratio() -> None:
    graph = karate_club()
    table = nodes.race_layers({"cora": {**graph, "name": "cora"}}, {"dataset": "cora", "repeats": 2, "warmup": 1},
                              {"models": {"gcn": GCN, "gat": {**GCN, "model": {"kind": "gat", "hidden": 4, "heads": 2}}}})
    assert table["layer"].tolist() == ["gcn", "gat"] and (table["speed_ratio"] > 0).all()


def test_bad_parameters_fail_naming_the_key() -> None:
    import yaml

    from dl_roadmap.core.schema import schema_problems

    with open(Path(__file__).parents[3] / "conf/base/parameters_graph_networks.yml") as f:
        block = yaml.safe_load(f)["graph_networks"]
    assert not schema_problems(PARAMETERS, block, "graph_networks")
    block["benchmark"]["models"]["gcn"]["model"]["dropout"] = 1.5
    block["data"]["datasets"] = ["pubmed"]
    problems = "\n".join(schema_problems(PARAMETERS, block, "graph_networks"))
    assert "benchmark.models.gcn.model.dropout" in problems and "data.datasets" in problems
