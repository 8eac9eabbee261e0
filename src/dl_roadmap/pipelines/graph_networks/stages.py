"""What the shared tune and explain stages need from this area (core/stages/README.md).

tune: an ``objective`` that trains one GCN config on Cora through the core loop and reports
the validation accuracy every epoch (Optuna's pruner reads it); the search runs over
dropout, learning rate and weight decay. explain: the node-feature kind, over the graph the
model stores (``model(x)`` gives one row of logits per node); feature names are the
bag-of-words columns (the data sets do not publish the words).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from dl_roadmap.core.stages import StageTask
from dl_roadmap.pipelines.graph_networks.models import model_from_config
from dl_roadmap.pipelines.graph_networks.train import train_node_classifier


def tune_objective(config: dict[str, Any], data: dict[str, dict[str, Any]], base: Any, trainer: dict[str, Any],
                   report: Callable[[float, int], None]) -> tuple[float, torch.nn.Module]:
    """Train ``config`` on its ``dataset``; the best validation accuracy and the model."""
    graph = data[config["dataset"]]
    model, _, scores = train_node_classifier(lambda: model_from_config(config, graph), graph, config, trainer,
                                             f"tune/{config['dataset']}", int(config.get("seed", 0)), report=report)
    return scores["val_acc"], model


def node_features(graphs: dict[str, dict[str, Any]]) -> torch.Tensor:
    """The explained graph's node features (V, F): Cora's (the logged model's graph)."""
    return torch.as_tensor(graphs["cora"]["x"])


TASK = StageTask(
    objective=tune_objective,
    metric="val_acc",
    direction="maximize",
    example_inputs=node_features,
    input_kind="nodes",
    feature_names=lambda graphs: [f"word{i}" for i in range(graphs["cora"]["x"].shape[1])],
)
