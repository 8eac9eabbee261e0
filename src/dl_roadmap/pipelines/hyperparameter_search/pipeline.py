"""hyperparameter_search: one objective (a small MLP on an MNIST subset, short fixed budget)
searched by grid, random, TPE and GP samplers through the shared tune stage, and by
scikit-learn's GridSearchCV and RandomizedSearchCV, the random samplers again with other
seeds; then one comparison of them all (table, best-so-far curves, sampled points, spread).

The objective is the image library's MLP_TASK (a DeepMLP from the config's `model` block, the
classification step, accuracy): the Optuna strategies reach it through the tune stage, the
scikit-learn searches through ``estimator.TorchMLPClassifier``; both train with
``MLP_TASK.train`` (core ``fit``), so a configuration gets the same score whichever strategy
proposes it."""

import warnings

from kedro.pipeline import Node, Pipeline, pipeline

from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.data import split_mnist
from dl_roadmap.image.tasks import MLP_TASK
from dl_roadmap.pipelines.hyperparameter_search import nodes, plots

AREA = "hyperparameter_search"
# One tune stage per sampler, each under its own namespace <AREA>.<strategy>.tune, with its
# own study block (sampler, study name; the default storage is a file per namespace).
OPTUNA_STRATEGIES = ("grid", "random", "tpe", "gp")
SKLEARN_STRATEGIES = ("sklearn_grid", "sklearn_random")
SPLITS = f"{AREA}_splits"


def create_pipeline(**kwargs) -> Pipeline:
    # No compress or explain stage: see this folder's README.
    searches = sum((optuna_search(strategy) for strategy in OPTUNA_STRATEGIES), Pipeline([]))
    return ingest_pipeline() + searches + sklearn_pipeline() + comparison_pipeline()


def ingest_pipeline() -> Pipeline:
    return Pipeline([
        Node(split_mnist, ["mnist_raw", f"params:{AREA}.data"], [SPLITS, f"{AREA}_ingest_summary"],
             name="split_mnist"),
    ])


def optuna_search(strategy: str) -> Pipeline:
    """The tune stage for one sampler. Its search space and trial budget are remapped to the
    area's shared blocks, so every strategy searches the same space with the same budget
    by construction; only its `study` block (sampler, name) is its own."""
    stage = tune_pipeline(MLP_TASK, area=f"{AREA}.{strategy}", data=SPLITS, config=f"params:{AREA}.objective")
    prefix = f"params:{AREA}.{strategy}.tune"
    return pipeline(stage, parameters={
        f"{prefix}.search_space": f"params:{AREA}.search_space",
        f"{prefix}.trial": f"params:{AREA}.trial",
    })


def sklearn_pipeline() -> Pipeline:
    shared = [SPLITS, f"params:{AREA}.objective", f"params:{AREA}.search_space"]
    return Pipeline([
        Node(nodes.sklearn_grid_search, [*shared, "params:trainer"],
             [f"{AREA}_sklearn_grid_trials", f"{AREA}_sklearn_grid_best_params", f"{AREA}_sklearn_grid_model"],
             name="sklearn_grid_search"),
        Node(nodes.sklearn_random_search, [*shared, f"params:{AREA}.sklearn_random", "params:trainer"],
             [f"{AREA}_sklearn_random_trials", f"{AREA}_sklearn_random_best_params", f"{AREA}_sklearn_random_model"],
             name="sklearn_random_search"),
        # The random samplers again with other sampler seeds (<sampler>_seed<k>): the spread
        # of a search at this budget. Lighter than a tune stage each (in-memory studies,
        # one nested MLflow run per study, no per-study plots), to keep the run short.
        Node(nodes.repeat_searches,
             [SPLITS, f"params:{AREA}.objective", f"params:{AREA}.search_space", f"params:{AREA}.repeats", "params:trainer"],
             [f"{AREA}_repeat_trials", f"{AREA}_repeat_best"], name="repeat_searches"),
    ])


def comparison_pipeline() -> Pipeline:
    def per_strategy(optuna_name: str, sklearn_name: str) -> dict[str, str]:
        return {**{s: f"{AREA}.{s}.tune.{optuna_name}" for s in OPTUNA_STRATEGIES},
                **{s: f"{AREA}_{s}_{sklearn_name}" for s in SKLEARN_STRATEGIES}}

    # The tune stages' outputs are read here by their namespaced names, which Kedro warns
    # about outside a namespace; reading them is what the comparison is for.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="One or more dataset names contain")
        return _comparison_nodes(per_strategy)


def _comparison_nodes(per_strategy) -> Pipeline:
    return Pipeline([
        Node(nodes.final_test_accuracies,
             {"splits": SPLITS, "config": f"params:{AREA}.objective", **per_strategy("model", "model")},
             f"{AREA}_test_accuracy", name="final_test_accuracies"),
        Node(nodes.collect_trials, {"repeats": f"{AREA}_repeat_trials", **per_strategy("trials", "trials")},
             f"{AREA}_trials", name="collect_trials"),
        Node(nodes.compare_strategies,
             {"trials": f"{AREA}_trials", "test_accuracy": f"{AREA}_test_accuracy",
              "ingest_summary": f"{AREA}_ingest_summary", "repeats": f"{AREA}_repeat_best",
              **per_strategy("best_params", "best_params")},
             [f"{AREA}_results", f"{AREA}_metrics"], name="compare_strategies"),
        Node(nodes.seed_spread, f"{AREA}_results", f"{AREA}_seed_spread", name="summarize_seed_spread"),
        Node(plots.seed_spread_figure, f"{AREA}_trials", f"{AREA}_plot_seed_spread", name="plot_seed_spread"),
        Node(plots.best_so_far_figure, f"{AREA}_trials", f"{AREA}_plot_best_so_far", name="plot_best_so_far"),
        Node(plots.sampled_points_figure, [f"{AREA}_trials", f"params:{AREA}.search_space"],
             f"{AREA}_plot_sampled_points", name="plot_sampled_points"),
    ])
