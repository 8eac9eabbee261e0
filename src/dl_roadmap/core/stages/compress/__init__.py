"""The compress stage: int8 quantization, pruning and distillation of an area's trained
model, each variant measured (test metric, size on disk, CPU latency) against fp32."""

from dl_roadmap.core.stages.compress.pipeline import VARIANTS, compress_pipeline

__all__ = ["VARIANTS", "compress_pipeline"]
