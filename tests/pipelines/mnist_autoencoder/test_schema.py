"""mnist_autoencoder's parameters against their schema: the files a run reads pass, and a
misplaced key or a value out of range fails before any node runs, naming the dotted key;
a `kedro run` given such a parameter stops before its first node."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from dl_roadmap.core.schema import ParameterError
from tests.conftest import run_kedro
from tests.parameters import assert_named_before_the_run, case_id

AREA = "mnist_autoencoder"


# (path set: dotted, or a tuple of keys where a key has dots; value; dotted key the error
# names; the problem it reports)
CASES = [
    ("autoencoder.latent_dim", 0, "autoencoder.latent_dim", "unknown key; known keys here: ['augment'"),
    ("autoencoder.model.latent_dim", 0, "autoencoder.model.latent_dim", "Input should be greater than 0"),
    ("autoencoder.denoising.kind", "salt", "autoencoder.denoising.kind", "Input should be 'mask' or 'gaussian'"),
    ("autoencoder.denoising.level", 1.0, "autoencoder.denoising", "probability of dropping a pixel: below 1"),
    ("classifier.augment.translate", 1.5, "classifier.augment.translate", "less than 1"),
    ("classifier.fit.optimizer.momentum", 0.9, "classifier.fit.optimizer", "['momentum']: not arguments of"),
    ("report.projection", "umap", "report.projection", "Input should be 'tsne' or 'pca'"),
    ("data.val_size", 0, "data.val_size", "Input should be greater than 0"),
    (("tune", "search_space", "model.dropuot"), {"type": "float", "low": 0.0, "high": 0.5}, "tune",
     "tune.search_space.model.dropuot: unknown key; known keys here: ['dropout', 'hidden']"),
    (("tune", "search_space", "model.dropout", "high"), 1.0, "tune",
     "tune.search_space.model.dropout: Input should be less than 1"),
    ("tune.trial.overrides", {"fit.max_epoch": 2}, "tune", "tune.trial.overrides.fit.max_epoch: unknown key"),
    ("tune.study.sampler.n_startup", 3, "tune.study.sampler", "['n_startup']: not arguments of optuna's TPESampler"),
    ("compress.finetune.optimizer.lr", -1, "compress", "compress.finetune.optimizer.lr: Input should be greater"),
    ("compress.distillation.student", {"encoder.latent_dim": 0}, "compress",
     "compress.distillation.student.encoder.latent_dim: Input should be greater than 0"),
    ("compress.structured_pruning.ratio", 1.0, "compress.structured_pruning.ratio", "less than 1"),
    ("explain.lime.cell", 0, "explain.lime.cell", "Input should be greater than 0"),
    ("explain", {"seed": 0, "examples": {}, "shap": {}, "lime": {}, "deletion": {}}, "explain.baseline",
     "Field required"),
    ("compress.latency.batch_sizes", [1, "all"], "compress.latency.batch_sizes.1",
     "a positive batch size, or 'example'"),
]


@pytest.mark.parametrize(("path", "value", "key", "problem"), CASES, ids=[case_id(path) for path, *_ in CASES])
def test_a_bad_key_or_value_is_named_before_the_run(path, value, key, problem):
    assert_named_before_the_run(AREA, path, value, key, problem)


def _files(root: Path) -> dict[str, int]:
    """Every file under ``root`` with its modification time."""
    return {str(path.relative_to(root)): path.stat().st_mtime_ns for path in root.rglob("*") if path.is_file()}


def _mlflow_runs(project: Path) -> int:
    """Runs of every experiment in the project's MLflow store (0 before the store exists)."""
    store = project / "mlflow.db"
    if not store.exists():
        return 0
    client = MlflowClient(f"sqlite:///{store}")
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    return len(client.search_runs(experiments)) if experiments else 0


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({AREA: {"autoencoder": {"model": {"latent_dim": 0}}}},
         f"- {AREA}.autoencoder.model.latent_dim: Input should be greater than 0 (got 0)"),
        ({AREA: {"autoencoder": {"latent_dim": 0}}}, f"- {AREA}.autoencoder.latent_dim: unknown key"),
        ({"autoencoder": {"latent_dim": 0}}, "- autoencoder: unknown parameter block"),
    ],
    ids=["latent-size-0", "misplaced-key", "misplaced-block"],
)
def test_a_run_with_bad_parameters_stops_before_its_first_node(project_copy, params, named):
    """`kedro run --env test --params ...`: the run fails naming the key, writes no output
    and opens no MLflow run."""
    files, runs = _files(project_copy / "data"), _mlflow_runs(project_copy)
    with pytest.raises(ParameterError) as error:
        run_kedro(project_copy, pipeline=None, params=params)
    assert named in str(error.value)
    assert _files(project_copy / "data") == files
    assert _mlflow_runs(project_copy) == runs
