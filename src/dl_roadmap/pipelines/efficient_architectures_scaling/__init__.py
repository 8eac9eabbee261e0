"""efficient_architectures_scaling: EfficientNet's compound scaling against scaling depth,
width or resolution alone, at equal multiply-adds, on Fashion-MNIST."""

from dl_roadmap.pipelines.efficient_architectures_scaling.pipeline import create_pipeline

__all__ = ["create_pipeline"]
