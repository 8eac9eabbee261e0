"""The explain stage on the tiny digits task: maps, faithfulness, parameters and wiring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from dl_roadmap.core.stages.explain import explain_pipeline, nodes
from dl_roadmap.core.stages.explain.attributions import grid_segments, lime_maps, probabilities, shap_maps
from dl_roadmap.core.stages.explain.faithfulness import deletion_curve, deletion_order
from tests.core.stages.tiny import TINY_TASK

SHAP = {"background": 100, "n_samples": 100}
LIME = {"cell": 2, "num_samples": 500}


@pytest.fixture(scope="module")
def explained(digits: dict[str, Any], trained_tiny: nn.Module) -> dict[str, Any]:
    """Three test items per class through the stage's nodes."""
    examples = nodes.select_examples(TINY_TASK, "tiny", digits, trained_tiny, {"per_class": 3}, 0)
    shap = nodes.explain_with_shap(TINY_TASK, "tiny", trained_tiny, digits, examples, SHAP, 0)
    lime = nodes.explain_with_lime("tiny", trained_tiny, examples, LIME, 0.0, 0)
    attributions = nodes.collect_attributions(examples, shap, lime)
    curves = nodes.measure_deletion("tiny", trained_tiny, attributions, {"steps": 16}, 0.0, 0)
    table, metrics = nodes.summarize_faithfulness(curves)
    return {"attributions": attributions, "curves": curves, "table": table.set_index("method"), "metrics": metrics}


def test_examples_cover_every_class(explained: dict[str, Any], digits: dict[str, Any]) -> None:
    a = explained["attributions"]
    assert np.array_equal(np.bincount(a["labels"]), np.full(10, 3))
    assert np.array_equal(digits["test_y"][a["indices"]], a["labels"])
    assert np.array_equal(digits["test_x"][a["indices"]], a["inputs"])


@pytest.mark.parametrize("method", ["shap", "lime"])
def test_maps_have_the_input_shape_and_are_finite(explained: dict[str, Any], method: str) -> None:
    a = explained["attributions"]
    assert a[method].shape == a["inputs"].shape == (30, 1, 8, 8)
    assert np.isfinite(a[method]).all()
    assert (np.abs(a[method]).reshape(30, -1).max(axis=1) > 0).all()


def test_shap_maps_add_up_to_the_logit_change(explained: dict[str, Any], trained_tiny: nn.Module,
                                              digits: dict[str, Any]) -> None:
    """Completeness: sum phi = f_c(x) - E[f_c(x')] up to Monte Carlo noise."""
    a = explained["attributions"]
    with torch.no_grad():
        logits = trained_tiny.eval()(torch.from_numpy(a["inputs"])).numpy()[np.arange(30), a["predicted"]]
        reference = trained_tiny(torch.from_numpy(digits["train_x"])).numpy().mean(axis=0)[a["predicted"]]
    totals = a["shap"].reshape(30, -1).sum(axis=1)
    assert np.corrcoef(totals, logits - reference)[0, 1] > 0.9


def test_shap_is_exact_for_a_linear_model_with_one_background_item() -> None:
    """For f = Wx + b the expected gradient is (x - x') * W[c] whatever the path, also
    with channels (3, 5, 6)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 5 * 6, 4))
    inputs = torch.rand(4, 3, 5, 6).numpy()
    background = torch.rand(1, 3, 5, 6).numpy()
    classes = probabilities(model, inputs).argmax(axis=1)
    maps = shap_maps(model, inputs, background, classes, n_samples=8, batch_size=4, seed=0)
    weights = model[1].weight.detach().numpy()[classes].reshape(4, 3, 5, 6)
    np.testing.assert_allclose(maps, (inputs - background) * weights, rtol=1e-4, atol=1e-6)


def test_lime_finds_the_only_patch_the_model_reads() -> None:
    """Class 0's logit reads the top-left 2x2 patch only (3 channels, 6x6): that segment
    gets the only clearly non-zero LIME weight."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 2))
    with torch.no_grad():
        model[1].weight.zero_(), model[1].bias.zero_()
        model[1].weight[0].view(3, 6, 6)[:, :2, :2] = 2.0
        model[1].bias[1] = 4.0  # removing the patch flips the prediction to class 1
    inputs = np.ones((1, 3, 6, 6), dtype=np.float32)
    maps = lime_maps(model, inputs, np.array([0]), num_samples=300, cell=2, num_features=None, batch_size=100,
                     baseline=0.0, seed=0)
    scores = maps[0].sum(axis=0)
    segments = grid_segments(6, 6, 2)
    patch = scores[segments == 0]
    assert np.allclose(patch, patch[0]) and patch[0] > 0
    assert np.abs(scores[segments != 0]).max() < 0.05 * patch[0]


def test_lime_is_reproducible(explained: dict[str, Any], trained_tiny: nn.Module) -> None:
    a = explained["attributions"]
    first = {key: value[:4] if isinstance(value, np.ndarray) else value for key, value in a.items()}
    again = nodes.explain_with_lime("tiny", trained_tiny, first, LIME, 0.0, 0)
    other = nodes.explain_with_lime("tiny", trained_tiny, first, LIME, 0.0, 1)
    np.testing.assert_array_equal(again, a["lime"][:4])
    assert not np.array_equal(other, again)


def test_grid_segments() -> None:
    segments = grid_segments(5, 7, 3)
    assert segments.shape == (5, 7)
    assert np.array_equal(np.unique(segments), np.arange(6))  # 2 rows x 3 columns of cells
    assert np.array_equal(segments[:3, :3], np.zeros((3, 3)))
    assert segments[4, 6] == 5


def test_ties_break_randomly_but_reproducibly() -> None:
    scores = np.repeat([1.0, 3.0, 2.0], 4)  # three segments of four tied pixels
    order = deletion_order(scores, np.random.default_rng(0))
    assert set(order[:4]) == {4, 5, 6, 7} and set(order[4:8]) == {8, 9, 10, 11}
    assert np.array_equal(order, deletion_order(scores, np.random.default_rng(0)))
    orders = {tuple(deletion_order(scores, np.random.default_rng(seed))) for seed in range(5)}
    assert len(orders) > 1


@pytest.mark.parametrize("baseline", [0.0, 0.5])
def test_deletion_curve_ends(trained_tiny: nn.Module, digits: dict[str, Any], baseline: float) -> None:
    item = digits["test_x"][0]
    intact = probabilities(trained_tiny, item[None])[0]
    blank = probabilities(trained_tiny, np.full((1, *item.shape), baseline, dtype=np.float32))[0]
    label = int(intact.argmax())
    curve = deletion_curve(trained_tiny, item, np.random.default_rng(0).permutation(64), label, steps=8,
                           baseline=baseline)
    assert curve.shape == (9,)
    assert curve[0] == pytest.approx(intact[label], abs=1e-6)
    assert curve[-1] == pytest.approx(blank[label], abs=1e-6)
    assert not np.allclose(curve, curve[0])


def test_curves_start_at_the_prediction_and_end_at_the_baseline(explained: dict[str, Any],
                                                                 trained_tiny: nn.Module) -> None:
    a, curves = explained["attributions"], explained["curves"]
    blank = probabilities(trained_tiny, np.zeros((1, 1, 8, 8), dtype=np.float32))[0]
    assert set(curves["method"]) == {"shap", "lime", "random"}
    assert curves.groupby("method")["repeat"].nunique().to_dict() == {"lime": 1, "random": 3, "shap": 1}
    for _, curve in curves.groupby(["method", "example", "repeat"]):
        example = int(curve["example"].iloc[0])
        assert curve["fraction"].tolist() == pytest.approx(np.linspace(0, 1, 17).tolist())
        assert curve["probability"].iloc[0] == pytest.approx(a["probability"][example], abs=1e-6)
        assert curve["probability"].iloc[-1] == pytest.approx(blank[a["predicted"][example]], abs=1e-6)


def test_shap_and_lime_are_more_faithful_than_random(explained: dict[str, Any]) -> None:
    table = explained["table"]
    assert table.loc["random", "auc"] == table.loc["shap", "random_auc"]
    for method in ("shap", "lime"):
        assert table.loc[method, "auc"] < 0.6 * table.loc["random", "auc"]
        assert table.loc[method, "win_rate"] >= 0.8
        assert table.loc[method, "auc_gap"] == pytest.approx(table.loc["random", "auc"] - table.loc[method, "auc"])
    assert set(explained["metrics"]) == {f"explain.{m}.deletion_auc" for m in ("shap", "lime", "random")}
    assert explained["metrics"]["explain.shap.deletion_auc"] == {"value": table.loc["shap", "auc"], "step": 0}


def test_reversed_shap_order_is_less_faithful(explained: dict[str, Any], trained_tiny: nn.Module) -> None:
    """The AUC tells orders apart: removing the least supportive pixels first is worse."""
    a = explained["attributions"]
    flipped = {**a, "shap": -a["shap"], "lime": -a["lime"]}
    curves = nodes.measure_deletion("tiny", trained_tiny, flipped, {"steps": 16, "random_orders": 1}, 0.0, 0)
    table = nodes.summarize_faithfulness(curves)[0].set_index("method")
    assert table.loc["shap", "auc"] > explained["table"].loc["shap", "auc"] + 0.1
    assert table.loc["shap", "auc"] > table.loc["random", "auc"]


def test_figures(explained: dict[str, Any]) -> None:
    maps = nodes.plot_attributions(explained["attributions"])
    assert len(maps.axes) == 3 * 10  # image, SHAP, LIME for one item per class
    curves = nodes.plot_deletion(explained["curves"], explained["table"].reset_index())
    labels = [line.get_label() for line in curves.axes[0].get_lines()]
    assert [label.split()[0] for label in labels] == ["shap", "lime", "random"]


@pytest.mark.parametrize(
    ("block", "params", "key"),
    [
        ("shap", {"n_samples": 0}, "tiny.explain.shap.n_samples"),
        ("shap", {"nsamples": 10}, "tiny.explain.shap: unknown key(s) ['nsamples']"),
        ("lime", {"cell": 2.5}, "tiny.explain.lime.cell"),
        ("lime", {"num_features": -1}, "tiny.explain.lime.num_features"),
        ("examples", {"split": "dev"}, "tiny.explain.examples.split"),
        ("deletion", {"steps": True}, "tiny.explain.deletion.steps"),
        ("deletion", [1, 2], "tiny.explain.deletion: expected a mapping"),
    ],
)
def test_bad_parameters_name_the_key(block: str, params: Any, key: str) -> None:
    with pytest.raises(ValueError) as error:
        nodes.settings(params, block, "tiny")
    assert key in str(error.value)


def test_nodes_check_parameters(explained: dict[str, Any], trained_tiny: nn.Module, digits: dict[str, Any]) -> None:
    a = explained["attributions"]
    with pytest.raises(ValueError, match=r"tiny\.explain\.seed"):
        nodes.select_examples(TINY_TASK, "tiny", digits, trained_tiny, {}, -1)
    with pytest.raises(ValueError, match=r"tiny\.explain\.baseline"):
        nodes.explain_with_lime("tiny", trained_tiny, a, LIME, "black", 0)
    with pytest.raises(ValueError, match=r"tiny\.explain\.shap\.background"):
        nodes.explain_with_shap(TINY_TASK, "tiny", trained_tiny, digits, a, {"background": 0}, 0)
    with pytest.raises(ValueError, match=r"tiny\.explain\.deletion\.random_orders"):
        nodes.measure_deletion("tiny", trained_tiny, a, {"random_orders": 0}, 0.0, 0)
    assert nodes.settings(None, "lime", "tiny") == nodes.DEFAULTS["lime"]


STAGE_PARAMS = {"seed": 0, "baseline": 0.0, "examples": {"per_class": 1}, "shap": {"n_samples": 20, "background": 20},
                "lime": {"cell": 4, "num_samples": 100}, "deletion": {"steps": 4, "random_orders": 1}}


def test_pipeline_is_namespaced() -> None:
    stage = explain_pipeline(TINY_TASK, area="tiny", model="tiny_model", data="digits")
    names = {"select_examples", "explain_with_shap", "explain_with_lime", "collect_attributions", "measure_deletion",
             "summarize_faithfulness", "plot_attributions", "plot_deletion_curves"}
    assert {node.name for node in stage.nodes} == {f"tiny.explain.{name}" for name in names}
    assert stage.inputs() == {"tiny_model", "digits", *(f"params:tiny.explain.{key}" for key in STAGE_PARAMS)}
    stage_outputs = ("examples", "shap_maps", "lime_maps", "attributions", "deletion_curves", "faithfulness",
                     "metrics", "attribution_maps_plot", "deletion_curves_plot")
    assert stage.all_outputs() == {f"tiny.explain.{name}" for name in stage_outputs}
    shap_node = next(node for node in stage.nodes if node.name == "tiny.explain.explain_with_shap")
    assert shap_node.inputs == ["tiny_model", "digits", "tiny.explain.examples", "params:tiny.explain.shap",
                                "params:tiny.explain.seed"]


def test_pipeline_runs(trained_tiny: nn.Module, digits: dict[str, Any]) -> None:
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    stage = explain_pipeline(TINY_TASK, area="tiny", model="tiny_model", data="digits")
    catalog = DataCatalog({"tiny_model": MemoryDataset(trained_tiny), "digits": MemoryDataset(digits),
                           **{f"params:tiny.explain.{k}": MemoryDataset(v) for k, v in STAGE_PARAMS.items()}})
    outputs = SequentialRunner().run(stage, catalog)
    assert set(outputs) == {"tiny.explain.metrics", "tiny.explain.attribution_maps_plot",
                            "tiny.explain.deletion_curves_plot"}
    metrics = outputs["tiny.explain.metrics"].load()
    assert set(metrics) == {"explain.shap.deletion_auc", "explain.lime.deletion_auc", "explain.random.deletion_auc"}
    assert all(0 <= m["value"] <= 1 for m in metrics.values())
    assert len(outputs["tiny.explain.attribution_maps_plot"].load().axes) == 3 * 10


def test_catalog_patterns_resolve() -> None:
    """The stage's patterns resolve every stage output an area does not name itself."""
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    from dl_roadmap.settings import CONFIG_LOADER_ARGS

    conf = Path(__file__).resolve().parents[3] / "conf"
    catalog = DataCatalog.from_config(OmegaConfigLoader(str(conf), **CONFIG_LOADER_ARGS)["catalog"])
    resolver = catalog.config_resolver
    assert resolver.match_dataset_pattern("mnist_autoencoder.explain.attribution_maps_plot") == "{area}.explain.{name}_plot"
    paths = {
        "mnist_autoencoder.explain.attribution_maps_plot": "08_reporting/mnist_autoencoder/explain/attribution_maps.png",
        "mnist_autoencoder.explain.faithfulness": "08_reporting/mnist_autoencoder/explain/faithfulness.csv",
        "mnist_autoencoder.explain.deletion_curves": "08_reporting/mnist_autoencoder/explain/deletion_curves.csv",
        "other.explain.attributions": "07_model_output/other/explain/attributions.pkl",
    }
    for name, path in paths.items():
        assert str(catalog.get(name)._filepath).endswith(f"data/{path}"), name
    assert type(catalog.get("other.explain.metrics")).__name__ == "MlflowMetricsHistoryDataset"
    for name in ("examples", "shap_maps", "lime_maps"):  # intermediates stay in memory
        assert resolver.match_dataset_pattern(f"other.explain.{name}") is None
