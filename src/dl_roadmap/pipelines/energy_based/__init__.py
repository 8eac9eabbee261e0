"""energy_based: Boltzmann machines from their energy functions: a Bernoulli RBM trained by
CD-1, CD-k and PCD (checked against scikit-learn), its log-likelihood by AIS, the Hopfield
network and a deep belief net."""

from dl_roadmap.pipelines.energy_based.pipeline import create_pipeline

__all__ = ["create_pipeline"]
