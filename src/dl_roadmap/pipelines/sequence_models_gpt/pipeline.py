"""sequence_models_gpt: Shakespeare's plays -> a character-level GPT (nanoGPT's CPU recipe)
-> validation loss and perplexity, samples, KV-cache speed, the temperature/top-k sweep, the
model as an MLflow model. No tune/compress/explain stage: see this folder's README."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.sequence_models_gpt import figures, nodes

P = "params:sequence_models_gpt"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.read_plays, f"{P}.data",
                 ["sequence_models_gpt_corpus", "sequence_models_gpt_plays", "sequence_models_gpt_ingest_summary"],
                 name="read_plays"),
            Node(nodes.train_gpt,
                 ["sequence_models_gpt_corpus", f"{P}.data", f"{P}.model", f"{P}.training", f"{P}.loop",
                  "params:trainer", f"{P}.num_threads"],
                 ["sequence_models_gpt_bundle", "sequence_models_gpt_history"], name="train_gpt"),
            Node(nodes.evaluate_gpt, ["sequence_models_gpt_bundle", "sequence_models_gpt_corpus", f"{P}.data"],
                 "sequence_models_gpt_figures", name="evaluate_gpt"),
            Node(nodes.write_samples, ["sequence_models_gpt_bundle", f"{P}.sampling"],
                 "sequence_models_gpt_samples", name="write_samples"),
            Node(nodes.cache_benchmark, ["sequence_models_gpt_bundle", f"{P}.benchmark"],
                 "sequence_models_gpt_cache_benchmark", name="cache_benchmark"),
            Node(nodes.sampling_sweep, ["sequence_models_gpt_bundle", "sequence_models_gpt_corpus", f"{P}.sweep"],
                 "sequence_models_gpt_sweep", name="sampling_sweep"),
            Node(nodes.summarize, ["sequence_models_gpt_figures", "sequence_models_gpt_cache_benchmark"],
                 "sequence_models_gpt_metrics", name="summarize"),
            Node(figures.loss_curves_figure, ["sequence_models_gpt_history", f"{P}.anchor_val_loss"],
                 "sequence_models_gpt_plot_loss_curves", name="plot_loss_curves"),
            Node(figures.sampling_figure, "sequence_models_gpt_sweep", "sequence_models_gpt_plot_sampling",
                 name="plot_sampling"),
            Node(nodes.build_serving_model, "sequence_models_gpt_bundle", "sequence_models_gpt_shakespeare",
                 name="build_serving_model"),
        ]
    )
