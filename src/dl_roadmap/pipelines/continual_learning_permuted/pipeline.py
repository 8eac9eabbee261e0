"""continual_learning_permuted: permuted MNIST (ten tasks) in the three scenarios of van de Ven
& Tolias (2019), seven methods trained over the task sequence through the core loop, the
accuracy matrices and transfer metrics, the figures. No shared stage: see the README."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.image.continual_study import ingest
from dl_roadmap.pipelines.continual_learning_permuted import nodes

AREA = "continual_learning_permuted"


def create_pipeline(**kwargs) -> Pipeline:
    p = f"params:{AREA}"
    runs = [f"{AREA}_runs_task", f"{AREA}_runs_domain", f"{AREA}_runs_class"]
    return Pipeline(
        [
            Node(ingest, ["mnist_raw", f"{p}.data", f"{p}.study.sequence"], [f"{AREA}_splits", f"{AREA}_ingest_summary"],
                 name="ingest"),
            Node(nodes.permutations, [f"{AREA}_splits", f"{p}.study.sequence"], f"{AREA}_permutations",
                 name="permutations"),
            Node(nodes.train_task_il, [f"{AREA}_splits", f"{p}.study", "params:trainer"], runs[0], name="train_task_il"),
            Node(nodes.train_domain_il, [f"{AREA}_splits", f"{p}.study", "params:trainer"], runs[1],
                 name="train_domain_il"),
            Node(nodes.train_class_il, [f"{AREA}_splits", f"{p}.study", "params:trainer"], runs[2],
                 name="train_class_il"),
            Node(nodes.summarise, runs,
                 [f"{AREA}_results", f"{AREA}_matrices", f"{AREA}_curves", f"{AREA}_metrics"], name="summarise"),
            Node(nodes.matrices_figure, f"{AREA}_matrices", f"{AREA}_plot_accuracy_matrices", name="plot_matrices"),
            Node(nodes.task1_figure, f"{AREA}_curves", f"{AREA}_plot_task1_accuracy", name="plot_task1"),
            Node(nodes.results_figure, f"{AREA}_results", f"{AREA}_plot_results", name="plot_results"),
            Node(nodes.pick_model, [*runs, f"{p}.model"], f"{AREA}_model", name="pick_model"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
