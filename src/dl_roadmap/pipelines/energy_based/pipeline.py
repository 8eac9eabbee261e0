"""energy_based: a Bernoulli RBM from its energy function, trained by CD-1, CD-k and PCD and
checked against scikit-learn; its log-likelihood by annealed importance sampling (checked
against an exact log Z); Gibbs samples, filters and inpainting; the Hopfield network; a deep
belief net pretraining a classifier (explained by the shared explain stage); the RBM as a
generator on the shared yardstick."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.core.stages.explain import explain_pipeline
from dl_roadmap.image.tasks import classification_task
from dl_roadmap.pipelines.energy_based import figures, nodes
from dl_roadmap.pipelines.energy_based.dbn import model_from_config

AREA = "energy_based"

# The explain stage reads the DBN classifier as an image classifier of the MNIST splits.
TASK = classification_task(model_from_config)


def create_pipeline(**kwargs) -> Pipeline:
    return area_pipeline() + explain_pipeline(TASK, area=AREA, model=f"{AREA}_dbn_classifier", data=f"{AREA}_splits")


def area_pipeline() -> Pipeline:
    p = f"params:{AREA}"
    return Pipeline(
        [
            Node(nodes.ingest, ["mnist_raw", f"{p}.data"], [f"{AREA}_splits", f"{AREA}_ingest_summary"], name="ingest"),
            # RBM
            Node(nodes.check_against_sklearn, [f"{AREA}_splits", f"{p}.sklearn_check"], f"{AREA}_sklearn_check",
                 name="check_against_sklearn"),
            Node(nodes.train_rbms, [f"{AREA}_splits", f"{p}.rbm"], [f"{AREA}_rbms", f"{AREA}_rbm_history"],
                 name="train_rbms"),
            Node(nodes.exact_partition_check, [f"{AREA}_splits", f"{p}.exact_check"], f"{AREA}_exact_check",
                 name="exact_partition_check"),
            Node(nodes.estimate_likelihoods, [f"{AREA}_rbms", f"{AREA}_splits", f"{p}.ais", f"{p}.rbm"],
                 f"{AREA}_likelihoods", name="estimate_likelihoods"),
            Node(figures.likelihood_figure, [f"{AREA}_rbm_history", f"{AREA}_likelihoods"], f"{AREA}_plot_likelihood",
                 name="plot_likelihood"),
            Node(figures.filters_figure, [f"{AREA}_rbms", f"{p}.filters"], f"{AREA}_plot_filters", name="plot_filters"),
            Node(nodes.gibbs_chains, [f"{AREA}_rbms", f"{p}.chains"], f"{AREA}_chains", name="gibbs_chains"),
            Node(figures.chains_figure, f"{AREA}_chains", f"{AREA}_plot_gibbs_chains", name="plot_gibbs_chains"),
            Node(nodes.inpaint, [f"{AREA}_rbms", f"{AREA}_splits", f"{p}.inpainting"],
                 [f"{AREA}_inpainted", f"{AREA}_inpainting"], name="inpaint"),
            Node(figures.inpainting_figure, f"{AREA}_inpainted", f"{AREA}_plot_inpainting", name="plot_inpainting"),
            # the RBM as a generator
            Node(nodes.rbm_generator, [f"{AREA}_rbms", f"{p}.generator"], f"{AREA}_generator", name="rbm_generator"),
            Node(nodes.yardstick_scores, [f"{AREA}_splits", f"{AREA}_generator", f"{AREA}_likelihoods",
                                          f"{p}.generator", "params:yardstick", "params:trainer"], f"{AREA}_yardstick",
                 name="yardstick"),
            Node(figures.yardstick_figure, f"{AREA}_yardstick", f"{AREA}_plot_yardstick", name="plot_yardstick"),
            Node(nodes.log_generator, f"{AREA}_generator", f"{AREA}_generator_mlflow", name="log_generator"),
            # Hopfield
            Node(nodes.hopfield_study, f"{p}.hopfield",
                 [f"{AREA}_hopfield_capacity", f"{AREA}_hopfield_energy", f"{AREA}_hopfield_recall"],
                 name="hopfield_study"),
            Node(figures.hopfield_figure, [f"{AREA}_hopfield_capacity", f"{AREA}_hopfield_energy",
                                           f"{AREA}_hopfield_recall"], f"{AREA}_plot_hopfield", name="plot_hopfield"),
            # deep belief net
            Node(nodes.pretrain_dbn, [f"{AREA}_rbms", f"{AREA}_splits", f"{p}.dbn"], f"{AREA}_dbn_stack",
                 name="pretrain_dbn"),
            Node(nodes.dbn_label_budget, [f"{AREA}_dbn_stack", f"{AREA}_splits", f"{p}.dbn", "params:trainer"],
                 [f"{AREA}_dbn_runs", f"{AREA}_dbn_classifier"], name="dbn_label_budget"),
            Node(nodes.dbn_summary, f"{AREA}_dbn_runs", f"{AREA}_dbn_results", name="dbn_summary"),
            Node(figures.dbn_figure, f"{AREA}_dbn_runs", f"{AREA}_plot_dbn", name="plot_dbn"),
            Node(nodes.summary_metrics, [f"{AREA}_likelihoods", f"{AREA}_exact_check", f"{AREA}_sklearn_check",
                                         f"{AREA}_inpainting", f"{AREA}_hopfield_capacity", f"{AREA}_dbn_results",
                                         f"{AREA}_yardstick", f"{p}.generator"], f"{AREA}_metrics",
                 name="summary_metrics"),
        ]
    )
