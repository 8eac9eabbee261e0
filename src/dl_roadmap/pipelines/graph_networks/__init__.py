"""graph_networks: GCN and GAT from their equations, checked and raced against PyG, on Cora and CiteSeer."""

from dl_roadmap.pipelines.graph_networks.pipeline import create_pipeline

__all__ = ["create_pipeline"]
