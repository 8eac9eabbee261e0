"""parakeet_base: speak the two-domain demo corpus with espeak-ng, then train a small
Parakeet-architecture model (FastConformer + TDT) on domain A, cached in <data root>/06_models.

The registry runs these nodes first in parakeet_finetune (pipeline_registry.RUNS_FIRST), so
`kedro run --pipeline=parakeet_finetune` works on a fresh machine; both nodes reuse what an
earlier run made with the same parameters."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.parakeet_base import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.synthesize_demo_corpus, "params:parakeet_base.corpus", "parakeet_demo_corpus",
                 name="synthesize_demo_corpus"),
            Node(
                nodes.train_offline_base,
                ["parakeet_demo_corpus", "params:parakeet_base", "params:trainer", "params:parakeet_finetune.base.source"],
                ["parakeet_base_card", "parakeet_base_history", "parakeet_base_metrics"],
                name="train_offline_base",
            ),
        ]
    )
