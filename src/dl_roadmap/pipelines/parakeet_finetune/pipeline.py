"""parakeet_finetune: ingest -> validate -> split -> starting model -> base evaluated ->
fine-tuning (the shared tune stage: Optuna trials, then the final run with the best values)
-> evaluation -> compress -> explain.

The demo corpus and the offline base it reads (``parakeet_demo_corpus``,
``parakeet_base_card``) are parakeet_base's outputs: the registry runs that pipeline first
(pipeline_registry.RUNS_FIRST), so a fresh machine fine-tunes offline."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.asr.finetune import ASR_TASK
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.pipelines.parakeet_finetune import compression, nodes

AREA = "parakeet_finetune"


def create_pipeline(**kwargs) -> Pipeline:
    # The fine-tuned model is the tune stage's final model: the `finetune` block is the
    # starting point and the best trial's values replace what the search covers.
    return (
        ingest_pipeline()
        + tune_pipeline(
            ASR_TASK, area=AREA, data="parakeet_splits", config=f"params:{AREA}.finetune", base="parakeet_start",
            outputs={"model": "parakeet_finetuned_model", "history": "parakeet_finetune_history"},
        )
        + evaluation_pipeline()
    )


def ingest_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(nodes.base_characters, [f"params:{AREA}.base", "parakeet_base_card"], "parakeet_base_characters",
                 name="base_characters"),
            Node(nodes.read_transcripts, [f"params:{AREA}.data", "parakeet_demo_corpus"], "parakeet_transcripts",
                 name="read_transcripts"),
            Node(
                nodes.validate_transcripts, ["parakeet_transcripts", f"params:{AREA}.data", "parakeet_base_characters"],
                ["parakeet_clean_rows", "parakeet_rejects", "parakeet_ingest_summary"], name="validate_transcripts",
            ),
            Node(nodes.check_rejects, ["parakeet_clean_rows", "parakeet_rejects", "parakeet_ingest_summary",
                                       f"params:{AREA}.data"], "parakeet_accepted_rows", name="check_rejects"),
            Node(
                nodes.split_transcripts, ["parakeet_accepted_rows", f"params:{AREA}.data"],
                ["parakeet_splits", "parakeet_train_manifest", "parakeet_validation_manifest", "parakeet_test_manifest"],
                name="split_transcripts",
            ),
            Node(nodes.prepare_start_model, [f"params:{AREA}.base", "parakeet_base_card", "parakeet_splits"],
                 "parakeet_start", name="prepare_start_model"),
        ]
    )


def evaluation_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(nodes.evaluate_base, [f"params:{AREA}.base", "parakeet_base_card", "parakeet_splits",
                                       f"params:{AREA}.evaluate"],
                 ["parakeet_base_utterances", "parakeet_base_speed"], name="evaluate_base"),
            Node(nodes.evaluate_finetuned, ["parakeet_finetuned_model", "parakeet_splits", f"params:{AREA}.evaluate"],
                 ["parakeet_finetuned_utterances", "parakeet_finetuned_speed"], name="evaluate_finetuned"),
            Node(
                nodes.summarize_finetuning,
                ["parakeet_base_utterances", "parakeet_base_speed", "parakeet_finetuned_utterances",
                 "parakeet_finetuned_speed", "parakeet_finetune_history", f"params:{AREA}.evaluate"],
                ["parakeet_results", "parakeet_top_errors", "parakeet_metrics", "parakeet_plot_wer",
                 "parakeet_plot_top_errors", "parakeet_plot_training_curves"],
                name="summarize_finetuning",
            ),
            Node(compression.compress_finetuned, ["parakeet_finetuned_model", "parakeet_splits", f"params:{AREA}.compress"],
                 ["parakeet_compression", "parakeet_plot_compression", "parakeet_compression_metrics"],
                 name="compress_finetuned"),
            Node(nodes.explain_finetuned, ["parakeet_finetuned_model", "parakeet_splits", f"params:{AREA}.explain"],
                 ["parakeet_attributions", "parakeet_plot_attributions", "parakeet_explain_metrics"],
                 name="explain_finetuned"),
        ]
    )
