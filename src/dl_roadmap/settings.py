"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # conf/gpu and conf/test change a few keys of a block (trainer.accelerator,
    # mnist_autoencoder.data.train_limit...), so environments merge key by key instead of replacing
    # whole top-level blocks.
    "merge_strategy": {"parameters": "soft", "catalog": "soft", "mlflow": "soft"},
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
        "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
    },
}

from dl_roadmap.hooks import (  # noqa: E402
    CheckParametersHook,
    CloseFinishedMlflowRunHook,
    DefaultPipelineNameHook,
    KeepGoodOutputsHook,
)

# pluggy calls tryfirst hooks last-registered first: the parameter check runs before the
# default name is filled in (it works that name out itself) and before MLflow opens a run.
HOOKS = (DefaultPipelineNameHook(), CheckParametersHook(), KeepGoodOutputsHook(), CloseFinishedMlflowRunHook())
