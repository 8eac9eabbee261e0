"""The embedded Planetoid copy: sizes, split, SHA-256 check, the converter, bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dl_roadmap.pipelines.graph_networks import data
from dl_roadmap.pipelines.graph_networks.planetoid import convert


@pytest.mark.parametrize("name,nodes,features,classes,train", [("cora", 2708, 1433, 7, 140),
                                                               ("citeseer", 3327, 3703, 6, 120)])
def test_embedded_graphs_have_the_planetoid_sizes_and_split(name, nodes, features, classes, train) -> None:
    graph = data.read_embedded(name)
    assert graph["x"].shape == (nodes, features) and graph["num_classes"] == classes
    assert [len(graph[f"{s}_index"]) for s in ("train", "val", "test")] == [train, 500, 1000]
    assert np.array_equal(graph["train_index"], np.arange(train)), "the Planetoid split: the first 20 per class"
    assert np.bincount(graph["y"][graph["train_index"]]).tolist() == [20] * classes
    edges = set(map(tuple, graph["edge_index"].T.tolist()))
    assert all((b, a) in edges for a, b in list(edges)[:500]), "undirected: both directions listed"


def test_cora_has_its_published_edge_count() -> None:
    assert data.read_embedded("cora")["edge_index"].shape[1] == 10556  # 5,278 undirected edges (PyG's count)


def test_a_changed_file_is_refused_with_its_name(tmp_path) -> None:
    for item in data.EMBEDDED.iterdir():
        if item.is_file():
            shutil.copy(item, tmp_path / item.name)
    raw = bytearray((tmp_path / "cora.npz").read_bytes())
    raw[-10] ^= 0xFF
    (tmp_path / "cora.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"cora\.npz: SHA-256"):
        data.read_embedded("cora", tmp_path)
    with pytest.raises(FileNotFoundError, match="pubmed"):
        data.read_embedded("pubmed", tmp_path)


def test_checks_name_the_source_and_the_problem() -> None:
    graph = data.read_embedded("cora")
    graph["edge_index"] = graph["edge_index"].copy()
    graph["edge_index"][0, 0] = 5000
    graph["val_index"] = graph["train_index"][:3]
    with pytest.raises(ValueError, match=r"here: edge_index .*; train, val and test nodes overlap"):
        data.checked(graph, "here")


def test_the_converter_keeps_features_edges_and_split_exactly() -> None:
    from torch_geometric.datasets import KarateClub

    karate = KarateClub()[0]
    karate.x = karate.x * 0.5
    for split in ("val", "test"):
        setattr(karate, f"{split}_mask", ~karate.train_mask)
    arrays = convert.graph_arrays(karate)
    rebuilt = np.zeros(tuple(arrays["shape"]), np.float32)
    rebuilt[arrays["feature_rows"], arrays["feature_cols"]] = arrays["feature_values"]
    np.testing.assert_array_equal(rebuilt, karate.x.numpy())
    np.testing.assert_array_equal(arrays["edge_index"], karate.edge_index.numpy())
    np.testing.assert_array_equal(arrays["train_index"], np.flatnonzero(karate.train_mask.numpy()))


def test_the_shipped_files_match_their_sums_and_the_licence_is_beside_them() -> None:
    assert set(data.expected_sums()) == {"cora.npz", "citeseer.npz"}
    assert (data.EMBEDDED / "LICENSE").read_text().startswith("The MIT License")


def test_row_normalisation_keeps_empty_rows_empty() -> None:
    x = np.array([[1, 1, 0], [0, 0, 0]], np.float32)
    np.testing.assert_array_equal(data.row_normalized(x), [[0.5, 0.5, 0], [0, 0, 0]])
