"""What the shared tune stage needs from this area (core/stages/README.md): the VAE is a
supervised-style task (splits of (image, label) pairs, a step, a builder) whose metric is
the validation ELBO, maximized. The tune stage's retrained best config is the area's main
VAE. compress and explain do not apply (README: "Stages")."""

from __future__ import annotations

from dl_roadmap.core.stages import StageTask
from dl_roadmap.pipelines.generative.nodes import vae_datasets
from dl_roadmap.pipelines.generative.vae import vae_from_config, vae_step_for

TASK = StageTask(
    build_model=vae_from_config,
    make_step=vae_step_for,
    datasets=vae_datasets,
    metric="elbo",
    direction="maximize",
)
