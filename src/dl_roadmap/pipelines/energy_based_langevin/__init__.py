"""energy_based_langevin: an energy-based model of images (JEM) trained with short-run
Langevin dynamics, its samples, and out-of-distribution detection with energy scores."""

from dl_roadmap.pipelines.energy_based_langevin.pipeline import create_pipeline

__all__ = ["create_pipeline"]
