"""The compress stage on a task that is not an image classifier: a regression MLP over six
tabular features, described only by hooks (example inputs, a score, its own training loop,
a distillation loss). Every variant runs, latency is measured on the task's inputs."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from torch import nn

from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.stages.compress import VARIANTS, compress_pipeline
from dl_roadmap.core.stages.compress.measure import cycled, latency_ms
from dl_roadmap.core.stages.compress.prune import remove_linear_units
from dl_roadmap.core.stages.compress.quantize import ScriptedModel
from tests.core.stages.toys import fit_plain, mlp, tabular_data

TRAINER = {"accelerator": "cpu", "devices": 1, "progress_bar": False}


def _build(config: dict[str, Any], base: Any) -> nn.Module:
    torch.manual_seed(0)
    return mlp(6, int(config["model"]["hidden"]), 1)


def _r2(model: nn.Module, data: dict[str, torch.Tensor], config: dict[str, Any]) -> float:
    x, y = data["x"][500:], data["value"][500:, None]
    with torch.no_grad():
        error = F.mse_loss(model.eval()(x), y)
    return float(1 - error / y.var())


def _train(model: nn.Module, config: dict[str, Any], data: dict[str, torch.Tensor], base: Any,
           trainer: dict[str, Any]) -> nn.Module:
    steps = int(config.get("fit", {}).get("max_epochs", 1)) * 50
    return fit_plain(model, data["x"][:400], data["value"][:400, None], steps=steps, lr=0.01, loss=F.mse_loss)


def _mse(student: torch.Tensor, teacher: torch.Tensor, batch: Any, settings: dict[str, Any]) -> torch.Tensor:
    return F.mse_loss(student, teacher)


REGRESSION = StageTask(build_model=_build, example_inputs=lambda data: data["x"][:400], score=_r2, train_model=_train,
                       distill_loss=_mse, metric="r2", input_kind="tabular", feature_names=[f"x{i}" for i in range(6)])
CONFIG = {"model": {"hidden": 32}}
PARAMS = {
    "finetune": {"max_epochs": 2},
    "calibration": {"size": 200, "batch_size": 50},
    "qat": {},
    "unstructured_pruning": {"amount": 0.5},
    "structured_pruning": {"ratio": 0.5},
    "distillation": {"student": {"model.hidden": 12}, "fit": {"max_epochs": 12, "batch_size": 32,
                                                               "optimizer": {"name": "Adam", "lr": 0.01}}},
    "latency": {"batch_sizes": [1, 32, "example"], "repeats": 2, "warmup": 1, "threads": 1},
}


@pytest.fixture(scope="module")
def regression() -> dict[str, Any]:
    data = tabular_data()
    model = fit_plain(_build(CONFIG, None), data["x"][:400], data["value"][:400, None], steps=400, lr=0.01,
                      loss=F.mse_loss)
    return {"data": data, "model": model}


@pytest.fixture(scope="module")
def compressed(regression: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    trainer = {**TRAINER, "data_root": str(tmp_path_factory.mktemp("root"))}
    stage = compress_pipeline(REGRESSION, area="reg", model="reg_model", config="params:reg", data="reg_data")
    catalog = DataCatalog({
        "reg_model": MemoryDataset(regression["model"]), "reg_data": MemoryDataset(regression["data"]),
        "params:reg": MemoryDataset(CONFIG), "params:trainer": MemoryDataset(trainer),
        **{f"params:reg.compress.{key}": MemoryDataset(value) for key, value in PARAMS.items()},
        **{f"reg.compress.{variant}_model": MemoryDataset(copy_mode="assign") for variant in VARIANTS},
    })
    SequentialRunner().run(stage, catalog)
    table = catalog["reg.compress.results"].load().set_index("variant")
    models = {variant: catalog[f"reg.compress.{variant}_model"].load() for variant in VARIANTS}
    return {"table": table, "models": models}


def test_every_variant_is_scored_by_the_tasks_function(compressed, regression):
    table = compressed["table"]
    assert list(table.index) == ["fp32", *VARIANTS]
    assert table.loc["fp32", "test_r2"] == pytest.approx(_r2(regression["model"], regression["data"], CONFIG))
    assert table.loc["fp32", "test_r2"] > 0.95
    for variant in ("dynamic_int8", "static_int8", "qat_int8", "pruned_unstructured", "pruned_structured"):
        assert table.loc[variant, "test_r2"] > 0.85, variant
    assert table.loc["distilled", "test_r2"] > 0.5
    assert "best_val_r2" not in table.columns, "a training hook reports no validation score"
    assert table.loc["distilled", "best_val_distill_loss"] >= 0, "the distillation fit's own validation loss"


def test_latency_is_measured_on_the_tasks_inputs(compressed, regression):
    table = compressed["table"]
    for column in ("latency_b1_ms", "latency_b32_ms", "latency_example_ms", "speedup_b32", "speedup_example"):
        assert (table[column] > 0).all(), column
    assert table.loc["fp32", "speedup_example"] == 1.0
    inputs = cycled((regression["data"]["x"][:3],), 8)
    assert inputs[0].shape == (8, 6) and torch.equal(inputs[0][3], inputs[0][0])
    assert latency_ms(regression["model"], inputs, repeats=2, warmup=0, threads=1) > 0


def test_the_variants_are_the_compressed_models(compressed):
    models, table = compressed["models"], compressed["table"]
    x = torch.randn(5, 6)
    assert not any(type(m) is nn.Linear for m in models["dynamic_int8"].modules())
    for variant in ("static_int8", "qat_int8"):
        assert isinstance(models[variant], ScriptedModel) and models[variant](x).shape == (5, 1)
    assert table.loc["pruned_unstructured", "sparsity"] == pytest.approx(0.5, abs=0.01)
    widths = [m.out_features for m in models["pruned_structured"].modules() if isinstance(m, nn.Linear)]
    assert widths == [16, 16, 1], "hidden units halved, the output layer kept"
    assert table.loc["pruned_structured", "units_removed"] == pytest.approx(1 - 33 / 65)
    for variant in ("student", "distilled"):
        assert [m.out_features for m in models[variant].modules() if isinstance(m, nn.Linear)] == [12, 12, 1]


def test_structured_pruning_of_an_mlp_needs_a_hidden_layer():
    with pytest.raises(ValueError, match="needs a convolution or two Linear layers"):
        remove_linear_units(nn.Linear(6, 1), torch.randn(2, 6), 0.5)


def test_dynamic_int8_refuses_a_model_with_nothing_to_quantize():
    from dl_roadmap.core.stages.compress.quantize import dynamic_int8

    with pytest.raises(ValueError, match="has no Linear, LSTM or GRU layer"):
        dynamic_int8(nn.Sequential(nn.Conv1d(2, 4, 3), nn.ReLU()))
