"""The maths against PyTorch Geometric: GCNConv, GATConv and LabelPropagation with copied
weights on the same inputs (outputs to 1e-5), and the pieces our layers are built from."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

from dl_roadmap.pipelines.graph_networks.data import read_embedded, row_normalized
from dl_roadmap.pipelines.graph_networks.layers import (
    GATLayer, GCNLayer, label_propagation, normalized_adjacency, segment_softmax,
)
from dl_roadmap.pipelines.graph_networks.models import NodeClassifier, copy_into_pyg, sparse_input

TOL = 1e-5


@pytest.fixture(scope="module")
def cora() -> dict:
    graph = read_embedded("cora")
    graph["x"] = row_normalized(graph["x"])
    return graph


def random_graph(nodes: int = 40, edges: int = 200, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, nodes, (2, edges), generator=g)  # directed, repeated edges and self-loops included


def test_gcn_layer_matches_pyg_gcnconv_with_copied_weights(cora) -> None:
    from torch_geometric.nn import GCNConv

    torch.manual_seed(0)
    x, edges = torch.as_tensor(cora["x"]), torch.as_tensor(cora["edge_index"])
    reference = GCNConv(x.shape[1], 16)
    torch.nn.init.normal_(reference.bias)
    ours = GCNLayer(x.shape[1], 16)
    ours.load_state_dict(reference.state_dict())
    torch.testing.assert_close(ours(x, edges), reference(x, edges), atol=TOL, rtol=0)
    directed, h = random_graph(), torch.randn(40, 8)
    reference, ours = GCNConv(8, 4), GCNLayer(8, 4)
    ours.load_state_dict(reference.state_dict())
    torch.testing.assert_close(ours(h, directed), reference(h, directed), atol=TOL, rtol=0)


@pytest.mark.parametrize("heads,concat", [(8, True), (1, False), (3, False)])
def test_gat_layer_matches_pyg_gatconv_with_copied_weights(cora, heads, concat) -> None:
    from torch_geometric.nn import GATConv

    torch.manual_seed(1)
    x, edges = torch.as_tensor(cora["x"]), torch.as_tensor(cora["edge_index"])
    reference = GATConv(x.shape[1], 8, heads=heads, concat=concat).eval()
    torch.nn.init.normal_(reference.bias)
    ours = GATLayer(x.shape[1], 8, heads=heads, concat=concat).eval()
    ours.load_state_dict(reference.state_dict())
    torch.testing.assert_close(ours(x, edges), reference(x, edges), atol=TOL, rtol=0)
    _, (_, ref_alpha) = reference(x, edges, return_attention_weights=True)
    _, _, alpha = ours(x, edges, return_attention=True)
    torch.testing.assert_close(alpha.sum(), ref_alpha.sum(), atol=1e-3, rtol=0)


@pytest.mark.parametrize("kind", ["gcn", "gat", "mlp"])
def test_whole_networks_match_their_pyg_twins_in_output_and_gradient(cora, kind) -> None:
    torch.manual_seed(2)
    x = torch.as_tensor(cora["x"])
    ours = NodeClassifier(kind, x.shape[1], 7, hidden=8, heads=4, layers=3, residual=True,
                          edge_index=torch.as_tensor(cora["edge_index"])).eval()
    twin = copy_into_pyg(ours).eval()
    torch.testing.assert_close(ours(x), twin(x), atol=TOL, rtol=0)
    ours(x).logsumexp(1).sum().backward()
    twin(x).logsumexp(1).sum().backward()
    for (name, a), (_, b) in zip(ours.named_parameters(), twin.named_parameters()):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-4, rtol=1e-4, msg=name)


def test_the_sparse_input_path_equals_the_dense_one(cora) -> None:
    torch.manual_seed(3)
    x = torch.as_tensor(cora["x"])
    model = NodeClassifier("gcn", x.shape[1], 7, edge_index=torch.as_tensor(cora["edge_index"])).eval()
    dense = x.clone().requires_grad_(True)  # gradients to the input take the dense path
    torch.testing.assert_close(model(x), model(dense), atol=TOL, rtol=0)


def test_input_dropout_keeps_zeros_and_scales_the_kept_entries() -> None:
    torch.manual_seed(4)
    x = (torch.rand(200, 300) < 0.05).float()
    dropped = sparse_input(x, 0.5, training=True).to_dense()
    assert torch.all(dropped[x == 0] == 0)
    kept = dropped[x == 1]
    assert set(kept.unique().tolist()) <= {0.0, 2.0}
    assert abs((kept > 0).float().mean().item() - 0.5) < 0.05
    torch.testing.assert_close(sparse_input(x, 0.5, training=False).to_dense(), x)


def test_the_adjacency_product_backward_is_the_dense_one() -> None:
    edges, h = random_graph(), torch.randn(40, 5, dtype=torch.float32)
    layer = GCNLayer(5, 3)
    weight = layer.lin.weight
    dense = normalized_adjacency(edges, 40).to_dense()
    h1, h2 = h.clone().requires_grad_(True), h.clone().requires_grad_(True)
    (layer(h1, edges) ** 2).sum().backward()
    ((dense @ (h2 @ weight.T) + layer.bias) ** 2).sum().backward()
    torch.testing.assert_close(h1.grad, h2.grad, atol=TOL, rtol=1e-5)


def test_renormalised_adjacency_is_symmetric_with_unit_spectral_radius() -> None:
    edges = random_graph(100, 400, seed=6)
    a = normalized_adjacency(torch.cat([edges, edges.flip(0)], dim=1).unique(dim=1), 100).to_dense()
    torch.testing.assert_close(a, a.T)
    assert abs(torch.linalg.eigvalsh(a.double()).abs().max().item() - 1.0) < 1e-6  # D^-1/2 (A+I) D^-1/2


def test_segment_softmax_sums_to_one_per_node() -> None:
    e, index = torch.randn(50, 3) * 30, torch.randint(0, 7, (50,))
    alpha = segment_softmax(e, index, 7)
    sums = torch.zeros(7, 3).index_add_(0, index, alpha)
    present = torch.bincount(index, minlength=7) > 0
    torch.testing.assert_close(sums[present], torch.ones(int(present.sum()), 3))


def test_label_propagation_matches_pyg() -> None:
    from torch_geometric.nn.models import LabelPropagation

    edges, labels = random_graph(60, 300, seed=5), torch.randint(0, 4, (60,))
    mask = torch.zeros(60, dtype=torch.bool)
    mask[:12] = True
    torch.testing.assert_close(label_propagation(edges, labels, torch.arange(12), 4, steps=20, alpha=0.8),
                               LabelPropagation(20, 0.8)(labels, edges, mask=mask), atol=TOL, rtol=0)


def test_the_cached_adjacency_is_neither_copied_nor_pickled(cora) -> None:
    model = NodeClassifier("gcn", 1433, 7, edge_index=torch.as_tensor(cora["edge_index"])).eval()
    x = torch.as_tensor(cora["x"])
    out = model(x)
    assert model.layers[0].cache.value is not None
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone.layers[0].cache.value is None
        torch.testing.assert_close(clone(x), out)
