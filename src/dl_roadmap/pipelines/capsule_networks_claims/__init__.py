"""capsule_networks_claims: what capsules claim, measured (routing iterations, unseen affine
transformations against a CNN of the same parameter count)."""

from dl_roadmap.pipelines.capsule_networks_claims.pipeline import create_pipeline

__all__ = ["create_pipeline"]
