"""few_shot_zero_shot: Fashion-MNIST + an attribute table -> a dual encoder trained on seven
classes -> generalized zero-shot scores on all ten (seen, unseen, harmonic mean), the
seen-unseen curve, the confusion matrix and the model; then the shared explain stage: SHAP
and LIME maps of the class the dual encoder picks, unseen classes included. Tune and compress
are not wired: the README says why."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.image.data import labelled_splits
from dl_roadmap.pipelines.few_shot_zero_shot import figures, nodes

AREA = "few_shot_zero_shot"

# What the explain stage needs: (image, label) splits; test items span all ten classes, and
# the model's scores over all ten are explained at the class it picks.
TASK = StageTask(datasets=labelled_splits, metric="acc", direction="maximize")


def create_pipeline(**kwargs) -> Pipeline:
    return area_pipeline() + explain_pipeline(TASK, area=AREA, model=f"{AREA}_model", data=f"{AREA}_data")


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["fashion_mnist_raw", p, f"{p}.attributes"], [f"{AREA}_data", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.train_model, [f"{AREA}_data", f"{p}.train", "params:trainer"],
                 [f"{AREA}_model", f"{AREA}_history"], name="train_model"),
            Node(nodes.evaluate, [f"{AREA}_model", f"{AREA}_data", f"{p}.evaluation"],
                 [f"{AREA}_results", f"{AREA}_curve", f"{AREA}_test_predictions"], name="evaluate"),
            Node(nodes.summary_metrics, f"{AREA}_results", f"{AREA}_metrics", name="summary_metrics"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
            Node(figures.confusion_figure, [f"{AREA}_test_predictions", f"{AREA}_data"], f"{AREA}_plot_confusion",
                 name="plot_confusion"),
            Node(figures.curve_figure, [f"{AREA}_curve", f"{AREA}_results"], f"{AREA}_plot_seen_unseen_curve",
                 name="plot_seen_unseen_curve"),
            Node(figures.attributes_figure, f"{AREA}_data", f"{AREA}_plot_attributes", name="plot_attributes"),
        ]
    )
