"""self_supervised: SimCLR, MoCo v2, BYOL, rotation prediction and the autoencoder on one encoder, judged on frozen features."""

from dl_roadmap.pipelines.self_supervised.pipeline import create_pipeline

__all__ = ["create_pipeline"]
