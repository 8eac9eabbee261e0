"""Convert the Planetoid ``ind.*`` files (Cora, CiteSeer) once into pickle-free ``.npz``.

The source files (github.com/kimiyoung/planetoid, folder ``data/``, MIT licence, the same
files PyTorch Geometric's ``Planetoid`` downloads) are Python-2 pickles of scipy matrices;
loading a pickle runs code, so the project ships their content as plain arrays instead and
never unpickles at run time. Each source file's SHA-256 is checked before it is read; the
graph is assembled by PyG's own ``read_planetoid_data`` (so CiteSeer's 15 test nodes
without features get zero rows exactly as in PyG), and the written files' SHA-256 go to
``SHA256SUMS`` beside them, which ``data.py`` checks on every load.

    python -m dl_roadmap.pipelines.graph_networks.planetoid.convert /path/to/planetoid/files
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NAMES = ("cora", "citeseer")
PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
SOURCE_SHA256 = {  # the upstream files, as published (github.com/kimiyoung/planetoid, data/)
    "ind.citeseer.allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    "ind.citeseer.ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    "ind.citeseer.graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    "ind.citeseer.test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    "ind.citeseer.tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    "ind.citeseer.ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    "ind.citeseer.x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    "ind.citeseer.y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def graph_arrays(data) -> dict[str, np.ndarray]:
    """A PyG ``Data`` as plain arrays: the (binary) features as their non-zero coordinates."""
    rows, cols = np.nonzero(data.x.numpy())
    values = data.x.numpy()[rows, cols]
    arrays = {"shape": np.array(data.x.shape, dtype=np.int64),
              "feature_rows": rows.astype(np.int32), "feature_cols": cols.astype(np.int32),
              "edge_index": data.edge_index.numpy().astype(np.int32), "y": data.y.numpy().astype(np.int64)}
    if not np.all(values == 1.0):
        arrays["feature_values"] = values.astype(np.float32)
    for split in ("train", "val", "test"):
        arrays[f"{split}_index"] = np.flatnonzero(getattr(data, f"{split}_mask").numpy()).astype(np.int64)
    return arrays


def convert(source: Path, target: Path = HERE) -> dict[str, str]:
    """Check, read and convert every data set; returns {file name: SHA-256} of what it wrote."""
    from torch_geometric.io.planetoid import read_planetoid_data

    for name in NAMES:
        for part in PARTS:
            path = source / f"ind.{name}.{part}"
            if sha256(path) != SOURCE_SHA256[path.name]:
                raise ValueError(f"{path}: SHA-256 differs from the published file's")
    sums = {}
    for name in NAMES:
        out = target / f"{name}.npz"
        np.savez_compressed(out, **graph_arrays(read_planetoid_data(str(source), name)))
        sums[out.name] = sha256(out)
    (target / "SHA256SUMS").write_text("".join(f"{digest}  {file}\n" for file, digest in sorted(sums.items())))
    return sums


if __name__ == "__main__":
    print(convert(Path(sys.argv[1])))
