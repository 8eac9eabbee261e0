"""sequence_models: generated date pairs -> GRU encoder-decoders (no attention, additive,
multiplicative) and a Transformer, trained alike -> exact match against input length,
attention maps, the chosen model as an MLflow model. No tune/compress/explain stage: see
this folder's README."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.sequence_models import figures, nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.generate_dates, "params:sequence_models.data",
                 ["sequence_models_pairs", "sequence_models_ingest_summary"], name="generate_dates"),
            Node(nodes.train_models,
                 ["sequence_models_pairs", "params:sequence_models.data", "params:sequence_models.models",
                  "params:sequence_models.fit", "params:trainer", "params:sequence_models.num_threads"],
                 ["sequence_models_bundle", "sequence_models_histories"], name="train_models"),
            Node(nodes.evaluate_models,
                 ["sequence_models_bundle", "sequence_models_pairs", "params:sequence_models.data",
                  "params:sequence_models.length_bins"],
                 ["sequence_models_results", "sequence_models_by_length", "sequence_models_predictions"],
                 name="evaluate_models"),
            Node(nodes.summarize, ["sequence_models_results", "sequence_models_by_length"],
                 "sequence_models_metrics", name="summarize"),
            Node(figures.accuracy_by_length_figure, "sequence_models_by_length",
                 "sequence_models_plot_accuracy_by_length", name="plot_accuracy_by_length"),
            Node(figures.attention_maps_figure,
                 ["sequence_models_bundle", "sequence_models_pairs", "params:sequence_models.heatmaps"],
                 "sequence_models_plot_attention", name="plot_attention"),
            Node(figures.curves_figure, "sequence_models_histories", "sequence_models_plot_training_curves",
                 name="plot_training_curves"),
            Node(nodes.build_serving_model, ["sequence_models_bundle", "params:sequence_models.serving"],
                 "sequence_models_date_normaliser", name="build_serving_model"),
        ]
    )
