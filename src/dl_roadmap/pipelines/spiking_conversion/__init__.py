"""spiking_conversion: ANN-to-SNN conversion by rate with data-based weight normalisation (Diehl et al. 2015)."""

from dl_roadmap.pipelines.spiking_conversion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
