"""capsule_networks: MNIST -> a CapsNet (learning rate and reconstruction weight tuned by the
shared tune stage on small trials, then trained on the full budget) -> test accuracy on
clean and affNIST-style images, reconstructions, what each capsule dimension encodes; then
the shared explain stage on the trained CapsNet."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages import StageTask
from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.core.stages.tune import tune_pipeline
from dl_roadmap.image.capsule_training import capsnet_from_config, capsule_step_for
from dl_roadmap.image.data import labelled_splits
from dl_roadmap.pipelines.capsule_networks import nodes

AREA = "capsule_networks"

# A CapsNet classifies by capsule lengths, not logits: tune and explain read the step's
# accuracy, and explain attributes the longest capsule's length (the probability that the
# predicted digit is present) rather than a softmax of lengths.
TASK = StageTask(
    build_model=capsnet_from_config,
    make_step=capsule_step_for,
    datasets=labelled_splits,
    metric="acc",
    direction="maximize",
    explain_output=lambda lengths: lengths.max(dim=1).values,
)


def create_pipeline(**kwargs) -> Pipeline:
    return (
        area_pipeline()
        + tune_pipeline(TASK, area=AREA, data=f"{AREA}_splits", config=f"params:{AREA}.train",
                        outputs={"model": f"{AREA}_model", "history": f"{AREA}_history"})
        + explain_pipeline(TASK, area=AREA, model=f"{AREA}_model", data=f"{AREA}_splits")
    )


def area_pipeline() -> Pipeline:
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", f"params:{AREA}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.evaluate_capsnet, [f"{AREA}_model", f"{AREA}_splits", f"params:{AREA}.affine"],
                 [f"{AREA}_results", f"{AREA}_metrics", f"{AREA}_test_predictions"], name="evaluate_capsnet"),
            Node(nodes.curves_figure, f"{AREA}_history", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.confusion_figure, [f"{AREA}_test_predictions", f"{AREA}_splits"],
                 f"{AREA}_plot_confusion_matrix", name="plot_confusion_matrix"),
            Node(nodes.reconstructions_figure, [f"{AREA}_model", f"{AREA}_splits"],
                 f"{AREA}_plot_reconstructions", name="plot_reconstructions"),
            Node(nodes.perturbation_figure, [f"{AREA}_model", f"{AREA}_splits", f"params:{AREA}.perturb"],
                 f"{AREA}_plot_capsule_dimensions", name="plot_capsule_dimensions"),
            Node(nodes.affine_examples_figure, [f"{AREA}_splits", f"params:{AREA}.affine"],
                 f"{AREA}_plot_affine_examples", name="plot_affine_examples"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
