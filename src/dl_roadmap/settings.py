"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # conf/gpu and conf/test change a few keys of a block (trainer.accelerator,
    # mnist.train_limit...), so environments merge key by key instead of replacing
    # whole top-level blocks.
    "merge_strategy": {"parameters": "soft", "catalog": "soft"},
    "config_patterns": {
        "parameters": ["parameters*", "parameters*/**", "**/parameters*"],
        "catalog": ["catalog*", "catalog*/**", "**/catalog*"],
    },
}

from dl_roadmap.hooks import CloseFinishedMlflowRunHook, DefaultPipelineNameHook  # noqa: E402

HOOKS = (DefaultPipelineNameHook(), CloseFinishedMlflowRunHook())
