"""capsule_networks: a CapsNet with dynamic routing (Sabour et al. 2017) trained on MNIST,
its reconstructions, what its capsule dimensions encode, and unseen affine transformations."""

from dl_roadmap.pipelines.capsule_networks.pipeline import create_pipeline

__all__ = ["create_pipeline"]
