"""The one objective every strategy searches: a small MLP on an MNIST subset, trained for a
short fixed budget, scored by its best validation accuracy over the epochs.

The Optuna strategies reach it through the shared tune stage, the scikit-learn searches
through ``estimator.TorchMLPClassifier``; both train with ``TASK.train`` (core ``fit``),
so a configuration gets the same score whichever strategy proposes it.
"""

from __future__ import annotations

from dl_roadmap.core.stages import StageTask
from dl_roadmap.pipelines.activations.nodes import mlp_from_config
from dl_roadmap.pipelines.mnist_autoencoder.nodes import classifier_step_for, labelled_splits

# DeepMLP from the config's `model` block, the MNIST classification step and splits.
TASK = StageTask(
    build_model=mlp_from_config,
    make_step=classifier_step_for,
    datasets=labelled_splits,
    metric="acc",
    direction="maximize",
)
