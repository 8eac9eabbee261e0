"""The explain stage beyond image classifiers: tabular features (a classifier and a
regressor), sequences, node features of a graph and agent observations, each on a tiny
model, through the same pipeline the areas use."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.explain.attributions import shap_maps
from dl_roadmap.core.stages.explain.target import ChosenOutput
from tests.core.stages.toys import (
    TABULAR_NAMES, RingGraphNet, SequenceNet, fit_plain, graph_features, mlp, observations, sequence_data,
    tabular_data, tabular_splits,
)

PARAMS = {"seed": 0, "baseline": 0.0, "examples": {"per_class": 6, "count": 12},
          "shap": {"background": 50, "n_samples": 60, "batch_size": 60}, "lime": {"num_samples": 400},
          "deletion": {"steps": 6, "random_orders": 3}}


class Kept(MemoryDataset):
    """A memory dataset the runner cannot empty, to read intermediate outputs afterwards."""

    def _release(self) -> None:
        pass


def _run(task: StageTask, model: torch.nn.Module, data: Any, area: str = "toy", **params: Any) -> dict[str, Any]:
    """The stage through Kedro on an in-memory catalog; every output, loaded."""
    stage = explain_pipeline(task, area=area, model="model", data="data")
    outputs = ("attributions", "faithfulness", "metrics", "attribution_maps_plot", "deletion_curves_plot")
    datasets = {"model": MemoryDataset(model), "data": MemoryDataset(data),
                **{f"params:{area}.explain.{k}": MemoryDataset(v) for k, v in {**PARAMS, **params}.items()},
                **{f"{area}.explain.{name}": Kept() for name in outputs}}
    catalog = DataCatalog(datasets)
    SequentialRunner().run(stage, catalog)
    return {name: catalog[f"{area}.explain.{name}"].load() for name in outputs}


def _mean_abs(maps: np.ndarray) -> np.ndarray:
    return np.abs(maps).reshape(len(maps), -1, maps.shape[-1]).mean(axis=(0, 1))


@pytest.fixture(scope="module")
def tabular() -> dict[str, Any]:
    data = tabular_data()
    train = tabular_splits(data)["train"].tensors
    return {"data": data, "model": fit_plain(mlp(), *train)}


def test_tabular_classifier_features_that_decide_rank_first(tabular):
    task = StageTask(datasets=tabular_splits, input_kind="tabular", feature_names=TABULAR_NAMES)
    out = _run(task, tabular["model"], tabular["data"])
    a = out["attributions"]
    assert a["shap"].shape == a["inputs"].shape == (12, 6) and a["names"] == TABULAR_NAMES
    for method in ("shap", "gradient_x_input", "lime"):
        top = set(np.argsort(-_mean_abs(a[method]))[:2])
        assert top == {0, 1}, f"{method} ranks x0 and x1 (the only inputs of the label) first"
    table = out["faithfulness"].set_index("method")
    assert list(table.index) == ["shap", "gradient_x_input", "lime", "random"]
    assert (table.loc[["shap", "gradient_x_input", "lime"], "auc"] < table.loc["random", "auc"]).all()
    assert set(out["metrics"]) == {f"explain.{m}.deletion_auc" for m in ("shap", "gradient_x_input", "lime", "random")}
    labels = [t.get_text() for t in out["attribution_maps_plot"].axes[0].get_yticklabels()]
    assert labels[:2] and set(labels[:2]) == {"x0", "x1"}, "bars carry the feature names, most important first"
    assert "features" in out["deletion_curves_plot"].axes[0].get_xlabel()


def test_a_chosen_value_of_a_regressor_is_explained_exactly_for_a_linear_model():
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3)
    inputs, background = torch.randn(5, 6).numpy(), torch.randn(1, 6).numpy()
    chosen = ChosenOutput(model, lambda out: out[:, 2])
    maps = shap_maps(chosen, inputs, background, np.zeros(5, dtype=int), n_samples=8, batch_size=8, seed=0)
    expected = (inputs - background) * model.weight.detach().numpy()[2]
    np.testing.assert_allclose(maps, expected, rtol=1e-4, atol=1e-6)


def test_tabular_regression_value_through_the_pipeline(tabular):
    data = tabular["data"]
    model = fit_plain(mlp(outputs=1), data["x"][:400], data["value"][:400, None], steps=400, lr=0.01, loss=F.mse_loss)
    task = StageTask(example_inputs=lambda d: d["x"], explain_output=lambda out: out[:, 0], input_kind="tabular",
                     feature_names=TABULAR_NAMES)
    out = _run(task, model, data)
    a = out["attributions"]
    assert a["readout"] == "value" and (a["labels"] == -1).all() and len(a["indices"]) == 12
    with torch.no_grad():
        np.testing.assert_allclose(a["probability"], model(torch.from_numpy(a["inputs"]))[:, 0].numpy(), rtol=1e-5)
    for method in ("shap", "gradient_x_input", "lime"):
        assert set(np.argsort(-_mean_abs(a[method]))[:2]) == {2, 4}, method
    table = out["faithfulness"].set_index("method")
    assert table.loc["shap", "auc"] < table.loc["random", "auc"]
    assert out["deletion_curves_plot"].axes[0].get_ylabel() == "explained value"


def test_sequence_attributions_find_the_steps_and_feature_that_decide():
    data = sequence_data()
    model = fit_plain(SequenceNet(), data["x"][:300], data["y"][:300], steps=300, lr=0.02)
    task = StageTask(example_inputs=lambda d: d["x"][300:], input_kind="sequence", feature_names=["signal", "noise"])
    out = _run(task, model, data)
    shap = out["attributions"]["shap"]
    assert shap.shape == (12, 12, 2)
    per_cell = np.abs(shap).mean(axis=0)  # (T, F)
    assert per_cell[8:, 0].sum() > 0.6 * per_cell.sum(), "the last four steps of feature 0 decide the class"
    table = out["faithfulness"].set_index("method")
    assert list(table.index) == ["shap", "gradient_x_input", "random"], "no LIME for sequences"
    assert table.loc["shap", "auc"] < table.loc["random", "auc"]
    assert "time" in out["attribution_maps_plot"].axes[1].get_ylabel()


def test_node_attributions_stay_on_the_feature_and_neighbours_the_model_reads():
    graph = graph_features()
    model = RingGraphNet().eval()
    task = StageTask(example_inputs=lambda d: d, input_kind="nodes", feature_names=["f0", "f1", "f2", "f3"])
    out = _run(task, model, graph)
    a = out["attributions"]
    assert a["shap"].shape == (12, 4) and a["shap_nodes"].shape == (12, 12)
    for method in ("shap", "gradient_x_input"):
        assert np.abs(a[method][:, 1:]).max() < 1e-6, "features 1-3 are never read"
        per_node = a[f"{method}_nodes"]
        for row, node in zip(per_node, a["indices"]):
            far = np.ones(12, dtype=bool)
            far[[(node - 1) % 12, node, (node + 1) % 12]] = False
            assert np.abs(row[far]).max() < 1e-6, "only the node and its two neighbours matter"
    with torch.no_grad():
        predicted = torch.softmax(model(graph), dim=1)[torch.as_tensor(a["indices"])].argmax(dim=1).numpy()
    np.testing.assert_array_equal(a["predicted"], predicted)
    assert len(out["attribution_maps_plot"].axes) >= 3


def test_an_agents_chosen_action_is_explained_even_when_it_is_not_the_argmax():
    obs = observations()
    torch.manual_seed(0)
    policy = fit_plain(mlp(4, 16, 2), obs, (obs[:, 3] > 0).long(), steps=200)
    task = StageTask(example_inputs=lambda d: d, explain_output=lambda out: torch.zeros(len(out), dtype=torch.long),
                     input_kind="observation", feature_names=["x", "v", "angle", "spin"])
    out = _run(task, policy, obs)
    a = out["attributions"]
    assert (a["predicted"] == 0).all() and a["readout"] == "softmax"
    with torch.no_grad():
        np.testing.assert_allclose(a["probability"], torch.softmax(policy(torch.from_numpy(a["inputs"])), 1)[:, 0],
                                   rtol=1e-5)
    assert np.argmax(_mean_abs(a["shap"])) == 3, "the action depends on the spin"


def test_an_image_value_goes_through_the_chosen_output_node(trained_tiny, digits):
    from tests.core.stages.tiny import TINY_TASK

    task = StageTask(build_model=TINY_TASK.build_model, make_step=TINY_TASK.make_step, datasets=TINY_TASK.datasets,
                     explain_output=lambda out: out[:, 3] - out.logsumexp(dim=1))  # log p(class 3)
    stage = explain_pipeline(task, area="digit3", model="model", data="data")
    assert "digit3.explain.choose_output" in {node.name for node in stage.nodes}
    out = _run(task, trained_tiny, digits, area="digit3", examples={"per_class": 1},
               lime={"cell": 4, "num_samples": 100})
    a = out["attributions"]
    assert a["readout"] == "value" and a["shap"].shape == a["inputs"].shape == (10, 1, 8, 8)
    assert (a["probability"] <= 0).all(), "log-probabilities"
    assert out["deletion_curves_plot"].axes[0].get_ylabel() == "explained value"


def test_a_wrong_number_of_feature_names_is_refused(tabular):
    task = StageTask(datasets=tabular_splits, input_kind="tabular", feature_names=["a", "b"])
    with pytest.raises(ValueError, match=r"toy\.explain: StageTask\.feature_names gives 2 names; the inputs have 6"):
        _run(task, tabular["model"], tabular["data"])


def test_integer_inputs_are_refused_with_the_reason():
    task = StageTask(example_inputs=lambda d: torch.zeros(8, 5, dtype=torch.long), input_kind="tabular",
                     feature_names=list("abcde"))
    with pytest.raises(ValueError, match=r"attributions need real-valued inputs"):
        _run(task, mlp(5), None)
