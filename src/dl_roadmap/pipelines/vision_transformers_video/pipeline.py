"""vision_transformers_video: MNIST digits -> Moving-MNIST clips (recipes) -> a divided
space-time video transformer and a frame-averaging CNN trained on whether the two digits
end closer together -> scores, curves, test clips as an animated GIF."""

from kedro.pipeline import Node, Pipeline

from dl_roadmap.pipelines.vision_transformers_video import nodes

AREA = "vision_transformers_video"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(nodes.make_clips, ["mnist_raw", f"params:{AREA}"], [f"{AREA}_clips", f"{AREA}_clips_summary"],
                 name="make_clips"),
            Node(nodes.train_models, [f"{AREA}_clips", f"params:{AREA}", "params:trainer"],
                 [f"{AREA}_results", f"{AREA}_histories", f"{AREA}_model", f"{AREA}_metrics"], name="train_models"),
            Node(nodes.curves_figure, f"{AREA}_histories", f"{AREA}_plot_training_curves", name="plot_training_curves"),
            Node(nodes.frames_figure, [f"{AREA}_clips", f"{AREA}_model", f"params:{AREA}"],
                 f"{AREA}_plot_test_clips", name="plot_test_clips"),
            Node(nodes.clips_gif, [f"{AREA}_clips", f"{AREA}_model", f"params:{AREA}"], f"{AREA}_clips_gif",
                 name="animate_test_clips"),
            Node(nodes.log_model, f"{AREA}_model", f"{AREA}_model_mlflow", name="log_model"),
        ]
    )
