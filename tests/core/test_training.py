"""Tests for dl_roadmap.core.training.fit, the one training entry point.

Everything is tiny (a linear classifier on a few hundred 2-D points, a few epochs) so the
module runs in seconds on a busy CPU. Step functions and callbacks are module-level on
purpose: ``fit`` requires picklable step functions (``ddp_spawn`` workers import them).
"""

from __future__ import annotations

import copy
import re
from functools import partial
from pathlib import Path

import mlflow
import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from mlflow.tracking import MlflowClient
from torch import nn
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from dl_roadmap.core.lightning_module import accepts_context
from dl_roadmap.core.schema import schema_problems
from dl_roadmap.core.training import (
    FIT_DEFAULTS, OPTIMIZER_ENTRY_DEFAULTS, FitParams, StepContext, checkpoint_root, fit, fit_config,
)

CPU = {"accelerator": "cpu", "progress_bar": False}
HISTORY_COLUMNS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "epoch_seconds"}


# --------------------------------------------------------------------------- helpers
def classification_step(model: nn.Module, batch) -> dict[str, torch.Tensor]:
    """The documented step contract: named scalars, one of them ``loss``."""
    inputs, labels = batch
    logits = model(inputs)
    return {"loss": F.cross_entropy(logits, labels), "acc": (logits.argmax(1) == labels).float().mean()}


def scaled_step(model: nn.Module, batch) -> dict[str, torch.Tensor]:
    """A loss scaled up 1000x, so its gradients are far larger than any clip value used here."""
    inputs, labels = batch
    return {"loss": 1000.0 * F.cross_entropy(model(inputs), labels)}


def loss_less_step(model: nn.Module, batch) -> dict[str, torch.Tensor]:
    """Breaks the step contract: no ``loss`` entry."""
    inputs, labels = batch
    return {"error": F.cross_entropy(model(inputs), labels)}


def blobs(n: int = 128, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two linearly separable classes in 2-D with a margin around x0 + x1 = 0."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 2, generator=generator)
    labels = (inputs.sum(1) > 0).long()
    inputs = inputs + (2 * labels - 1).unsqueeze(1).float() * 0.75
    return inputs, labels


def blob_set(n: int = 128, seed: int = 0) -> TensorDataset:
    return TensorDataset(*blobs(n, seed))


def linear_model(seed: int = 0) -> nn.Module:
    """A fresh 2->2 linear classifier whose initial weights depend only on ``seed``."""
    torch.manual_seed(seed)
    return nn.Linear(2, 2)


def fit_params(checkpoint_dir: Path, **overrides) -> dict:
    params = {
        "max_epochs": 3,
        "batch_size": 32,
        "seed": 0,
        "optimizer": {"name": "SGD", "lr": 0.5},
        "checkpoint_dir": str(checkpoint_dir),
    }
    params.update(overrides)
    return params


def accuracy(model: nn.Module, data: TensorDataset) -> float:
    inputs, labels = data.tensors
    with torch.no_grad():
        return (model(inputs).argmax(1) == labels).float().mean().item()


def mean_loss(model: nn.Module, data: TensorDataset) -> float:
    inputs, labels = data.tensors
    with torch.no_grad():
        return F.cross_entropy(model(inputs), labels).item()


def total_grad_norm(module: nn.Module) -> float:
    grads = [p.grad.detach().flatten() for p in module.parameters() if p.grad is not None]
    return torch.cat(grads).norm().item()


class FailAtEpochEnd(Callback):
    """Simulates a crash (e.g. a killed job) at the end of epoch ``epoch`` (0-based)."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == self.epoch:
            raise RuntimeError(f"simulated crash at the end of epoch {self.epoch}")


class EpochCounter(Callback):
    """Records which epochs this ``fit`` call actually trained."""

    def __init__(self):
        self.epochs: list[int] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.epochs.append(trainer.current_epoch)


class BatchCounter(Callback):
    """Counts the training batches this ``fit`` call ran."""

    def __init__(self):
        self.count = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.count += 1


class GradNormRecorder(Callback):
    """Total gradient norm before and after Lightning's clipping, per optimizer step.

    In Lightning 2.4 ``on_before_optimizer_step`` runs *before* clipping
    (``Precision._after_closure``), and gradients are zeroed only at the start of the next
    step's closure, so ``on_train_batch_end`` sees exactly the clipped gradients that the
    optimizer applied.
    """

    def __init__(self):
        self.before: list[float] = []
        self.after: list[float] = []

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.before.append(total_grad_norm(pl_module))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.after.append(total_grad_norm(pl_module))


@pytest.fixture
def mlflow_experiment(tmp_path, monkeypatch):
    """A throw-away sqlite MLflow store and an experiment whose artifacts stay in tmp_path;
    yields (tracking URI, experiment id). The global tracking URI is restored afterwards."""
    from mlflow.tracking._tracking_service import utils as tracking_utils

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # restored by monkeypatch
    previous = tracking_utils._tracking_uri
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment("core-tests", artifact_location=(tmp_path / "artifacts").as_uri())
    yield uri, experiment_id
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


# --------------------------------------------------------------------------- training
def test_fit_trains_a_classifier_and_records_one_history_row_per_epoch(tmp_path):
    """fit learns a separable problem and reports one history row per epoch, loss falling."""
    data = blob_set()
    model = linear_model()
    assert accuracy(model, data) < 0.9  # the untrained model is not already good

    result = fit(model, data, data, step=classification_step, name="clf",
                 fit_params=fit_params(tmp_path, max_epochs=4), trainer_params=CPU)

    history = result.history
    assert HISTORY_COLUMNS <= set(history.columns)
    assert history["epoch"].tolist() == [0, 1, 2, 3]
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert history["val_loss"].is_monotonic_decreasing
    assert history["val_acc"].iloc[-1] >= 0.95
    assert (history["lr"] == 0.5).all()  # no scheduler: constant rate
    assert (history["epoch_seconds"] > 0).all()
    assert accuracy(result.model, data) >= 0.95
    assert not result.model.training
    assert next(result.model.parameters()).device.type == "cpu"
    assert result.stopped_early is False
    assert result.resumed_from is None
    assert result.seconds > 0
    assert list(tmp_path.iterdir()) == []  # the finished run's checkpoints are cleaned up


def test_fit_without_validation_data_trains_every_epoch_and_has_no_best_score(tmp_path):
    """Without a validation set nothing is monitored: all epochs run, train_* only."""
    data = blob_set(64)
    result = fit(linear_model(), data, step=classification_step, name="no-val",
                 fit_params=fit_params(tmp_path, max_epochs=2, early_stopping_patience=1),
                 trainer_params=CPU)

    assert result.history["epoch"].tolist() == [0, 1]
    assert not any(column.startswith("val_") for column in result.history.columns)
    assert result.best_score is None
    assert result.stopped_early is False
    assert accuracy(result.model, data) >= 0.9


def mode_recording_step(model: nn.Module, batch) -> dict[str, torch.Tensor]:
    out = classification_step(model, batch)
    return {**out, "in_training_mode": torch.tensor(float(model.training))}


def test_a_model_given_in_eval_mode_trains_in_training_mode(tmp_path):
    """A model restored from disk arrives in evaluation mode; its training steps must still
    run in training mode (dropout, augmentation) and its validation steps in evaluation."""
    model = nn.Sequential(nn.Dropout(0.1), nn.Linear(2, 2)).eval()
    data = blob_set(64)
    result = fit(model, data, data, step=mode_recording_step, name="modes",
                 fit_params=fit_params(tmp_path, max_epochs=2), trainer_params=CPU)
    assert result.history["train_in_training_mode"].tolist() == [1.0, 1.0]
    assert result.history["val_in_training_mode"].tolist() == [0.0, 0.0]


def test_a_step_without_loss_is_rejected(tmp_path):
    """The step function must return a ``loss``; otherwise the error says so."""
    data = blob_set(16)
    with pytest.raises(KeyError, match="loss"):
        fit(linear_model(), data, data, step=loss_less_step, name="no-loss",
            fit_params=fit_params(tmp_path, max_epochs=1), trainer_params=CPU)


def test_same_seed_gives_identical_weights_and_another_seed_does_not(tmp_path):
    """fit seeds shuffling itself: same seed -> same weights, whatever the global RNG state."""
    data = blob_set(64)
    params = fit_params(tmp_path, max_epochs=2, batch_size=8, seed=7)

    first = fit(linear_model(), data, data, step=classification_step, name="seeded",
                fit_params=params, trainer_params=CPU)
    torch.rand(100)  # disturb the global RNG between the two calls
    second = fit(linear_model(), data, data, step=classification_step, name="seeded",
                 fit_params=params, trainer_params=CPU)
    other = fit(linear_model(), data, data, step=classification_step, name="seeded",
                fit_params={**params, "seed": 8}, trainer_params=CPU)

    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    assert not all(
        torch.equal(a, b) for a, b in zip(first.model.state_dict().values(), other.model.state_dict().values())
    )


def test_early_stopping_stops_when_the_monitored_metric_cannot_improve(tmp_path):
    """With lr 0 val_loss never improves: patience 1 stops after 2 of 5 epochs."""
    data = blob_set(64)
    result = fit(linear_model(), data, data, step=classification_step, name="stuck",
                 fit_params=fit_params(tmp_path, max_epochs=5, early_stopping_patience=1,
                                       optimizer={"name": "SGD", "lr": 0.0}),
                 trainer_params=CPU)

    assert result.stopped_early is True
    assert len(result.history) == 2 < 5
    assert result.history["val_loss"].nunique() == 1


@pytest.mark.parametrize(("monitor", "mode"), [("val_loss", "min"), ("val_acc", "max")])
def test_best_epoch_weights_are_restored(tmp_path, monitor, mode):
    """The returned model holds the best monitored epoch, not the last one.

    The validation labels are the training labels flipped, so the better the model fits the
    training data the worse its validation metric: the best epoch is an early one.
    """
    inputs, labels = blobs(128)
    train, val = TensorDataset(inputs, labels), TensorDataset(inputs, 1 - labels)
    result = fit(linear_model(), train, val, step=classification_step, name=f"best-{mode}",
                 fit_params=fit_params(tmp_path, max_epochs=3, optimizer={"name": "SGD", "lr": 0.1},
                                       monitor=monitor, mode=mode),
                 trainer_params=CPU)

    values = result.history[monitor]
    best = values.min() if mode == "min" else values.max()
    assert result.best_score == pytest.approx(best, abs=0)
    assert best != values.iloc[-1], "precondition: the best epoch must not be the last one"
    restored = mean_loss(result.model, val) if monitor == "val_loss" else accuracy(result.model, val)
    assert restored == pytest.approx(best, rel=1e-5, abs=1e-6)


def test_restore_best_false_returns_the_last_epochs_weights(tmp_path):
    """Same set-up as above (the best epoch is an early one): with ``restore_best: false``
    the model holds the last epoch, and best_score still reports the best epoch."""
    inputs, labels = blobs(128)
    train, val = TensorDataset(inputs, labels), TensorDataset(inputs, 1 - labels)
    result = fit(linear_model(), train, val, step=classification_step, name="last",
                 fit_params=fit_params(tmp_path, max_epochs=3, optimizer={"name": "SGD", "lr": 0.1},
                                       monitor="val_loss", mode="min", restore_best=False),
                 trainer_params=CPU)

    values = result.history["val_loss"]
    assert result.best_score == pytest.approx(values.min(), abs=0)
    assert values.min() != values.iloc[-1], "precondition: the best epoch must not be the last one"
    assert mean_loss(result.model, val) == pytest.approx(values.iloc[-1], rel=1e-5, abs=1e-6)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    """A crash leaves last.ckpt behind; the same call again continues from it and cleans up."""
    data = blob_set()
    params = fit_params(tmp_path, max_epochs=4)

    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(linear_model(), data, data, step=classification_step, name="resumable",
            fit_params=params, trainer_params=CPU, callbacks=[FailAtEpochEnd(1)])
    run_dirs = [path for path in tmp_path.iterdir() if path.is_dir()]
    assert len(run_dirs) == 1 and run_dirs[0].name.startswith("resumable-")
    last = run_dirs[0] / "last.ckpt"
    assert last.is_file()
    saved_epoch = torch.load(last, map_location="cpu", weights_only=False)["epoch"]

    counter = EpochCounter()
    result = fit(linear_model(), data, data, step=classification_step, name="resumable",
                 fit_params=params, trainer_params=CPU, callbacks=[counter])

    assert result.resumed_from == str(last)
    assert counter.epochs == list(range(saved_epoch + 1, 4))  # continued, did not restart at 0
    assert result.history["epoch"].tolist() == [0, 1, 2, 3]
    assert result.history["val_acc"].iloc[-1] >= 0.9
    assert not run_dirs[0].exists()


def test_a_completed_run_leaves_nothing_to_resume(tmp_path):
    """After a successful fit, an identical second fit starts from scratch."""
    data = blob_set(64)
    params = fit_params(tmp_path, max_epochs=1)
    first = fit(linear_model(), data, data, step=classification_step, name="done",
                fit_params=params, trainer_params=CPU)
    counter = EpochCounter()
    second = fit(linear_model(), data, data, step=classification_step, name="done",
                 fit_params=params, trainer_params=CPU, callbacks=[counter])

    assert first.resumed_from is None and second.resumed_from is None
    assert counter.epochs == [0]
    assert list(tmp_path.iterdir()) == []


def test_gradient_clipping_bounds_the_applied_gradient_norm(tmp_path):
    """gradient_clip_val caps the total norm of the gradients the optimizer applies."""
    data = blob_set(64)
    clip = 0.5
    recorder = GradNormRecorder()
    fit(linear_model(), data, data, step=scaled_step, name="clipped",
        fit_params=fit_params(tmp_path, max_epochs=1, optimizer={"name": "SGD", "lr": 1e-4},
                              gradient_clip_val=clip),
        trainer_params=CPU, callbacks=[recorder])

    assert len(recorder.before) == len(recorder.after) == 2  # 64 samples / batch 32
    assert min(recorder.before) > 10 * clip  # unclipped, the gradients are far too large
    assert max(recorder.after) <= clip + 1e-6
    assert max(recorder.after) == pytest.approx(clip, rel=1e-4)


@pytest.mark.parametrize(
    ("fit_overrides", "trainer_params", "key"),
    [
        ({"epochs": 3}, CPU, "epochs"),
        ({"batch_size": 0}, CPU, "batch_size"),
        ({"mode": "up"}, CPU, "mode"),
        ({"optimizer": {"name": "NoSuchOptimizer", "lr": 0.1}}, CPU, "optimizer.name"),
        ({"optimizer": {"name": "SGD"}}, CPU, "optimizer.lr"),
        ({"scheduler": {"name": "sawtooth"}}, CPU, "scheduler.name"),
        ({}, {**CPU, "gpus": 1}, "gpus"),
        ({}, {**CPU, "strategy": "ddp"}, "strategy"),
    ],
    ids=["unknown-fit-key", "batch-size-0", "mode-up", "unknown-optimizer", "missing-lr",
         "unknown-scheduler", "unknown-trainer-key", "ddp-outside-torchrun"],
)
def test_bad_parameters_raise_a_value_error_naming_the_key(tmp_path, monkeypatch, fit_overrides,
                                                           trainer_params, key):
    """Every misconfiguration fails loudly with a ValueError that names the offending key."""
    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)  # i.e. not launched by torchrun
    data = blob_set(16)
    with pytest.raises(ValueError, match=re.escape(key)):
        fit(linear_model(), data, data, step=classification_step, name="bad",
            fit_params=fit_params(tmp_path, max_epochs=1, **fit_overrides), trainer_params=trainer_params)


# --------------------------------------------------------------------------- two processes
def test_ddp_spawn_trains_with_two_processes_and_logs_once_per_epoch(tmp_path, mlflow_experiment):
    """Two CPU processes: the caller gets the trained best weights back, and rank zero alone
    writes the history and the MLflow metrics (one value per epoch, no duplicates)."""
    data = blob_set(256)
    model = linear_model(seed=3)
    initial = copy.deepcopy(model.state_dict())
    epochs = 2

    tracking_uri, experiment_id = mlflow_experiment
    with mlflow.start_run(experiment_id=experiment_id) as run:
        result = fit(model, data, data, step=classification_step, name="ddp",
                     fit_params=fit_params(tmp_path / "ckpt", max_epochs=epochs),
                     trainer_params={"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn",
                                     "progress_bar": False})

    history = result.history
    assert history["epoch"].tolist() == list(range(epochs))  # one row per epoch, no duplicates
    # The best checkpoint was written (once, by rank zero) and loaded into the returned model.
    assert result.best_score == history["val_loss"].min()
    best_row = history.loc[history["val_loss"].idxmin()]
    assert mean_loss(result.model, data) == pytest.approx(best_row["val_loss"], rel=1e-5)
    assert accuracy(result.model, data) == pytest.approx(best_row["val_acc"], abs=1e-6)
    assert best_row["val_acc"] >= 0.9
    assert any(not torch.equal(initial[k], v) for k, v in result.model.state_dict().items())
    assert not (tmp_path / "ckpt").exists() or list((tmp_path / "ckpt").iterdir()) == []

    client = MlflowClient(tracking_uri)
    for metric in ("val_loss", "val_acc", "train_loss", "lr", "epoch_seconds"):
        logged = client.get_metric_history(run.info.run_id, f"ddp/{metric}")
        assert sorted(m.step for m in logged) == list(range(epochs)), metric
    val_loss = {m.step: m.value for m in client.get_metric_history(run.info.run_id, "ddp/val_loss")}
    assert [val_loss[e] for e in range(epochs)] == pytest.approx(history["val_loss"].tolist())


# --------------------------------------------------------------------------- streams
class BlobStream(IterableDataset):
    """An endless stream of labelled blob points (no len()): data made on the fly."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed)
        while True:
            point = torch.randn(2, generator=generator)
            label = int(point.sum() > 0)
            yield point + (2 * label - 1) * 0.75, label


def test_a_stream_without_len_trains_in_epochs_of_steps_per_epoch(tmp_path):
    """An endless IterableDataset trains: epochs are steps_per_epoch batches, loss falls,
    and a schedule spans max_epochs * steps_per_epoch steps (the lr ends at its floor)."""
    counter = EpochCounter()
    batches = BatchCounter()
    result = fit(linear_model(), BlobStream(), blob_set(64), step=classification_step, name="stream",
                 fit_params=fit_params(tmp_path, max_epochs=3, steps_per_epoch=4, batch_size=16,
                                       scheduler={"name": "cosine"}),
                 trainer_params=CPU, callbacks=[counter, batches])

    assert counter.epochs == [0, 1, 2]
    assert batches.count == 3 * 4
    history = result.history
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert accuracy(result.model, blob_set()) >= 0.9
    assert history["lr"].is_monotonic_decreasing and history["lr"].iloc[-1] == pytest.approx(0.0, abs=1e-9)


def test_a_stream_needs_steps_per_epoch(tmp_path):
    with pytest.raises(ValueError, match="steps_per_epoch"):
        fit(linear_model(), BlobStream(), step=classification_step, name="endless",
            fit_params=fit_params(tmp_path), trainer_params=CPU)


def test_an_interrupted_stream_run_resumes_from_its_checkpoint(tmp_path):
    """The checkpoint folder of a stream is found again by a new call (no len(), no address)."""
    params = fit_params(tmp_path, max_epochs=3, steps_per_epoch=4, batch_size=16)
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(linear_model(), DataLoader(BlobStream(seed=1), batch_size=16), blob_set(32), step=classification_step,
            name="stream-resume", fit_params=params, trainer_params=CPU, callbacks=[FailAtEpochEnd(1)])
    counter = EpochCounter()
    result = fit(linear_model(), DataLoader(BlobStream(seed=1), batch_size=16), blob_set(32),
                 step=classification_step, name="stream-resume", fit_params=params, trainer_params=CPU,
                 callbacks=[counter])
    assert result.resumed_from is not None
    assert counter.epochs == [1, 2]


# --------------------------------------------------------------------------- step context
CONTEXTS: list[StepContext] = []


def context_step(model: nn.Module, batch, context: StepContext) -> dict[str, torch.Tensor]:
    CONTEXTS.append(context)
    return classification_step(model, batch)


def test_accepts_context_only_for_a_required_third_parameter():
    def with_setting(model, batch, augment=None):
        return {}

    assert accepts_context(context_step)
    assert not accepts_context(classification_step)
    assert not accepts_context(with_setting)
    assert not accepts_context(partial(context_step, context=None))


def test_the_step_sees_global_step_and_epoch_across_a_resume(tmp_path):
    """Training calls see global_step 0, 1, 2... over epochs of 4 batches; after a crash in
    epoch 1 the resumed call starts again from the end of epoch 0 at global_step 4.
    Validation calls see the steps trained so far."""
    data, params = blob_set(64), fit_params(tmp_path, max_epochs=3, batch_size=16)
    CONTEXTS.clear()
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(linear_model(), data, data, step=context_step, name="context", fit_params=params,
            trainer_params=CPU, callbacks=[FailAtEpochEnd(1)])
    assert [c.global_step for c in CONTEXTS if c.stage == "train"] == list(range(8))
    CONTEXTS.clear()
    fit(linear_model(), data, data, step=context_step, name="context", fit_params=params, trainer_params=CPU)

    train = [c for c in CONTEXTS if c.stage == "train"]
    val = [c for c in CONTEXTS if c.stage == "val"]
    assert [c.global_step for c in train] == list(range(4, 12))
    assert [c.epoch for c in train] == [step // 4 for step in range(4, 12)]
    assert [c.batch_idx for c in train] == [step % 4 for step in range(4, 12)]
    assert all(c.optimizer is None for c in CONTEXTS)
    assert sorted({(c.epoch, c.global_step) for c in val}) == [(1, 8), (2, 12)]


# --------------------------------------------------------------------------- several optimizers
class TwoParts(nn.Module):
    """Two independent linear regressions, each trained by its own optimizer."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.first, self.second = nn.Linear(2, 1), nn.Linear(2, 1)


def two_losses_step(model: TwoParts, batch, context: StepContext) -> dict[str, torch.Tensor]:
    CONTEXTS.append(context)
    inputs, targets = batch
    return {"loss_first": F.mse_loss(model.first(inputs).squeeze(1), targets[:, 0]),
            "loss_second": F.mse_loss(model.second(inputs).squeeze(1), targets[:, 1])}


def regression_set(n: int = 128) -> TensorDataset:
    inputs = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    targets = torch.stack([inputs @ torch.tensor([2.0, -1.0]), inputs @ torch.tensor([-3.0, 0.5])], 1)
    return TensorDataset(inputs, targets)


class StepsPerOptimizer(Callback):
    def __init__(self):
        self.counts: dict[int, int] = {}

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        index = trainer.optimizers.index(optimizer)
        self.counts[index] = self.counts.get(index, 0) + 1


def parts_params(tmp_path: Path, optimizers: dict, **overrides) -> dict:
    """fit parameters for several optimizers: no single ``optimizer`` entry."""
    params = fit_params(tmp_path, optimizers=optimizers, **overrides)
    if "optimizer" not in overrides:
        del params["optimizer"]
    return params


def test_two_optimizers_train_their_own_parts_at_a_two_to_one_ratio(tmp_path):
    """first steps on every batch, second on one in two, each with its own schedule; the step
    is called once per turn, in the listed order, and must return that turn's loss."""
    data, steps, model = regression_set(), StepsPerOptimizer(), TwoParts()
    before = copy.deepcopy(model.state_dict())
    optimizers = {"first": {"params": "first", "optimizer": {"name": "SGD", "lr": 0.1}},
                  "second": {"params": "second", "optimizer": {"name": "SGD", "lr": 0.2},
                             "scheduler": {"name": "cosine"}, "every": 2}}
    CONTEXTS.clear()
    result = fit(model, data, data, step=two_losses_step, name="two", trainer_params=CPU, callbacks=[steps],
                 fit_params=parts_params(tmp_path, optimizers, max_epochs=2, batch_size=16, monitor="val_loss_first"))

    assert steps.counts == {0: 16, 1: 8}  # 8 batches x 2 epochs; every: 2 -> half as many
    turns = [c.optimizer for c in CONTEXTS if c.stage == "train"][:5]
    assert turns == ["first", "second", "first", "first", "second"]
    history = result.history
    for part in ("first", "second"):
        assert history[f"train_loss_{part}"].iloc[-1] < 0.5 * history[f"train_loss_{part}"].iloc[0]
        assert not torch.equal(before[f"{part}.weight"], result.model.state_dict()[f"{part}.weight"])
    assert (history["lr_first"] == 0.1).all()
    assert history["lr_second"].iloc[-1] == pytest.approx(0.0, abs=1e-9)  # its cosine spans its own 8 steps


def first_only_step(model: nn.Module, batch) -> dict[str, torch.Tensor]:
    inputs, labels = batch
    return {"loss_only": 1000.0 * F.cross_entropy(model(inputs), labels)}


def test_gradient_clipping_applies_to_each_optimizer(tmp_path):
    """With SGD lr 1 a clipped step moves the weights by exactly the clip norm."""
    model, clip = linear_model(), 0.05
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    result = fit(model, blob_set(32), step=first_only_step, name="clip-manual", trainer_params=CPU,
                 fit_params=parts_params(tmp_path, {"only": {"params": "", "optimizer": {"name": "SGD", "lr": 1.0}}},
                                         max_epochs=1, gradient_clip_val=clip))
    after = torch.cat([p.detach().flatten() for p in result.model.parameters()])
    assert (after - before).norm().item() == pytest.approx(clip, rel=1e-4)


@pytest.mark.parametrize(
    ("optimizers", "overrides", "error", "message"),
    [
        ({"first": {"params": "third"}}, {}, ValueError, "optimizers.first.params"),
        ({"first": {"params": ""}, "second": {"params": "second"}}, {}, ValueError, "share parameters"),
        ({"first": {"params": "first", "lr": 0.1}}, {}, ValueError, "optimizers.first: unknown key"),
        ({"first": {"params": "first", "every": 0}}, {}, ValueError, "optimizers.first.every"),
        ({"first": {"params": "first"}}, {"optimizer": {"name": "SGD", "lr": 0.1}}, ValueError, "single optimizer"),
        ({"first": {"params": "first"}, "third": {"params": "second"}}, {}, KeyError, "loss_third"),
    ],
    ids=["no-such-part", "shared", "unknown-key", "every-0", "optimizer-too", "missing-loss"],
)
def test_bad_optimizers_fail_naming_the_entry(tmp_path, optimizers, overrides, error, message):
    params = parts_params(tmp_path, optimizers, max_epochs=1, **overrides)
    with pytest.raises(error, match=re.escape(message)):
        fit(TwoParts(), regression_set(32), step=two_losses_step, name="bad-parts", fit_params=params,
            trainer_params=CPU)


# --------------------------------------------------------------------------- whole-split evaluation
def f1_score(model: nn.Module, batches) -> dict[str, float]:
    """F1 of class 1 over every prediction of the split: not a mean of per-batch values."""
    predictions, labels = [], []
    for inputs, batch_labels in batches:
        predictions.append(model(inputs).argmax(1))
        labels.append(batch_labels)
    predicted, truth = torch.cat(predictions), torch.cat(labels)
    true_positives = ((predicted == 1) & (truth == 1)).sum().item()
    return {"f1": 2 * true_positives / max((predicted == 1).sum().item() + (truth == 1).sum().item(), 1)}


def sorted_blob_set(n: int = 128) -> TensorDataset:
    """Blob points sorted by label, so whole batches hold one class: per-batch F1 is far from F1."""
    inputs, labels = blobs(n, seed=1)
    order = labels.argsort(stable=True)
    return TensorDataset(inputs[order], labels[order])


def test_evaluate_scores_the_whole_split_and_is_monitored(tmp_path):
    train, val = blob_set(), sorted_blob_set()
    result = fit(linear_model(), train, val, step=classification_step, name="f1", evaluate=f1_score,
                 fit_params=fit_params(tmp_path, max_epochs=3, optimizer={"name": "SGD", "lr": 0.05},
                                       monitor="val_f1", mode="max"),
                 trainer_params=CPU)

    assert result.best_score == result.history["val_f1"].max()
    whole = f1_score(result.model, DataLoader(val, batch_size=len(val)))["f1"]
    assert whole == pytest.approx(result.best_score, rel=1e-6)  # logged as float32
    per_batch = [f1_score(result.model, [batch])["f1"] for batch in DataLoader(val, batch_size=32)]
    assert abs(sum(per_batch) / len(per_batch) - whole) > 0.1  # a batch mean would be another figure
    assert "val_acc" in result.history  # the step's batch means are still there


def test_early_stopping_can_watch_the_whole_split_metric(tmp_path):
    data = blob_set(64)
    result = fit(linear_model(), data, data, step=classification_step, name="f1-stop", evaluate=f1_score,
                 fit_params=fit_params(tmp_path, max_epochs=5, optimizer={"name": "SGD", "lr": 0.0},
                                       monitor="val_f1", mode="max", early_stopping_patience=1),
                 trainer_params=CPU)
    assert result.stopped_early and len(result.history) == 2


def acc_again(model: nn.Module, batches) -> dict[str, float]:
    return {"acc": 0.5}


def test_evaluate_needs_validation_data_and_its_own_names(tmp_path):
    data = blob_set(32)
    with pytest.raises(ValueError, match="val_data"):
        fit(linear_model(), data, step=classification_step, name="no-val", evaluate=f1_score,
            fit_params=fit_params(tmp_path, max_epochs=1), trainer_params=CPU)
    with pytest.raises(ValueError, match=r"\['acc'\]"):
        fit(linear_model(), data, data, step=classification_step, name="clash", evaluate=acc_again,
            fit_params=fit_params(tmp_path, max_epochs=1), trainer_params=CPU)


# --------------------------------------------------------------------------- checkpoint folder
def test_checkpoints_go_under_the_trainer_data_root_by_default(tmp_path):
    params = fit_params(tmp_path, max_epochs=2)
    del params["checkpoint_dir"]
    with pytest.raises(RuntimeError, match="simulated crash"):
        fit(linear_model(), blob_set(32), step=classification_step, name="rooted", fit_params=params,
            trainer_params={**CPU, "data_root": str(tmp_path / "root")}, callbacks=[FailAtEpochEnd(1)])
    folders = list((tmp_path / "root" / "06_models" / "checkpoints").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("rooted-") and (folders[0] / "last.ckpt").is_file()
    assert checkpoint_root(fit_config({}), {}) == Path("data/06_models/checkpoints")
    assert checkpoint_root(fit_config({"checkpoint_dir": "elsewhere"}), {"data_root": "x"}) == Path("elsewhere")


# --------------------------------------------------------------------------- schema
def test_the_defaults_are_the_schemas_and_pass_it():
    """FIT_DEFAULTS is FitParams' dump: one statement of every default, valid by construction."""
    assert FIT_DEFAULTS == FitParams().model_dump()
    assert FIT_DEFAULTS["optimizer"] == {"name": "AdamW", "lr": 1e-3} and FIT_DEFAULTS["scheduler"] == {"name": "none"}
    assert schema_problems(FitParams, FIT_DEFAULTS, "fit") == []
    assert OPTIMIZER_ENTRY_DEFAULTS == {"params": None, "optimizer": {"name": "AdamW", "lr": 1e-3},
                                        "scheduler": {"name": "none"}, "every": 1}


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [
        ({"max_epochs": 0}, "fit.max_epochs", "greater than 0"),
        ({"batch_size": 2.5}, "fit.batch_size", "valid integer"),
        ({"mode": "up"}, "fit.mode", "'min' or 'max'"),
        ({"gradient_clip_algorithm": "l2"}, "fit.gradient_clip_algorithm", "'norm' or 'value'"),
        ({"early_stopping_patience": 0}, "fit.early_stopping_patience", "greater than 0"),
        ({"steps_per_epoch": -1}, "fit.steps_per_epoch", "greater than 0"),
        ({"optimizer": {"name": "SGD", "lr": 0.1, "betas": [0.9, 0.99]}}, "fit.optimizer", "['betas']"),
        ({"scheduler": {"name": "step", "pct_start": 0.2}}, "fit.scheduler", "not read by the 'step' schedule"),
        ({"optimizers": {"d": {"params": "d", "every": 0}}}, "fit.optimizers.d.every", "greater than 0"),
        ({"optimizers": {"d": {"params": "d", "rate": 2}}}, "fit.optimizers.d.rate", "unknown key"),
        ({"optimizers": {"d": {}}}, "fit.optimizers.d.params", "Field required"),
        ({"optimizers": {"d": {"params": "d"}}, "scheduler": {"name": "cosine"}}, "fit.optimizers",
         "single optimizer"),
        ({"optimizers": {}}, "fit.optimizers", "at least one entry"),
        ({"optimizer": None}, "fit.optimizers", "no optimizer"),
        ({"epochs": 3}, "fit.epochs", "unknown key; known keys here: ['batch_size'"),
    ],
    ids=["zero-epochs", "fractional-batch", "mode-up", "clip-algorithm", "zero-patience", "negative-steps",
         "foreign-optimizer-argument", "foreign-schedule-option", "every-0", "entry-typo", "entry-without-params",
         "single-and-several", "no-entries", "no-optimizer", "unknown-key"],
)
def test_the_fit_schema_names_the_dotted_key_of_a_bad_value(block, key, words):
    (problem,) = schema_problems(FitParams, block, "fit")
    assert problem.startswith(f"{key}: ") and words in problem


def test_a_good_fit_block_and_several_optimizers_pass_the_schema():
    assert schema_problems(FitParams, {"max_epochs": 3, "optimizer": {"name": "SGD", "lr": 0.1, "momentum": 0.9},
                                       "scheduler": {"name": "onecycle", "pct_start": 0.2}, "mode": "max",
                                       "gradient_clip_val": 1.0, "early_stopping_patience": 2}, "fit") == []
    several = {"d": {"params": "discriminator", "optimizer": {"name": "Adam", "lr": 2e-4}, "every": 1},
               "g": {"params": "generator", "scheduler": {"name": "cosine"}, "every": 2}}
    assert schema_problems(FitParams, {"optimizers": several}, "fit") == []


def test_fit_config_reports_every_bad_value_at_once():
    with pytest.raises(ValueError) as error:
        fit_config({"batch_size": 0, "mode": "up", "optimizer": {"name": "SGD"}})
    message = str(error.value)
    assert all(key in message for key in ("fit.batch_size", "fit.mode", "fit.optimizer.lr"))
