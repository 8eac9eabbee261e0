"""Training an RBM by contrastive divergence: CD-k and persistent CD (rbm.py has the maths).

Each update needs samples from the model for the negative phase:

    CD-k: k Gibbs steps started at the data batch (Hinton 2002)
    PCD:  one Gibbs step from where the previous update's chains stopped (Tieleman 2008).
          Exactly scikit-learn's ``BernoulliRBM``: the chains are hidden states, one per
          batch row, starting at zero; v ~ p(v | h_chain), update, h_chain ~ p(h | v).

Batches are taken in order (the splits are already shuffled), as scikit-learn does, so the
two PCD implementations see the same batches.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from dl_roadmap.core.tracking import log_metrics
from dl_roadmap.pipelines.energy_based.rbm import RBM

logger = logging.getLogger(__name__)


def train_rbm(data: torch.Tensor, config: dict[str, Any], name: str, monitor: torch.Tensor | None = None,
              seed: int = 0) -> tuple[RBM, pd.DataFrame]:
    """Train an RBM on binary rows ``data`` (N, D) with ``config``: ``method`` (cd | pcd),
    ``k`` (Gibbs steps of CD), ``hidden``, ``lr``, ``batch_size``, ``epochs``.

    Per epoch it logs (MLflow, ``<name>/...``) the pseudo-log-likelihood and the
    reconstruction error of ``monitor`` (held-out rows), and the seconds taken.
    """
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(data.shape[1], int(config["hidden"]), seed=seed)
    lr, batch, k = float(config["lr"]), int(config["batch_size"]), int(config.get("k", 1))
    chains = torch.zeros(batch, rbm.hidden)  # PCD's persistent hidden states
    rows, start = [], time.perf_counter()
    n_batches = -(-data.shape[0] // batch)
    for epoch in range(1, int(config["epochs"]) + 1):
        for i in tqdm(range(n_batches), desc=f"{name} epoch {epoch}", leave=False, mininterval=5):
            v = data[i * batch:(i + 1) * batch]
            if config["method"] == "pcd":
                v_model = torch.bernoulli(rbm.p_v(chains[: len(v)]), generator=g)
                rbm.contrastive_update(v, v_model, lr)
                chains[: len(v)] = torch.bernoulli(rbm.p_h(v_model), generator=g)
            else:
                v_model, _ = rbm.gibbs(v, k, generator=g)
                rbm.contrastive_update(v, v_model, lr)
        row = {"epoch": epoch, "seconds": time.perf_counter() - start}
        if monitor is not None:
            row.update(monitor_scores(rbm, monitor, seed))
        rows.append(row)
        log_metrics({f"{name}/{key}": value for key, value in row.items() if key != "epoch"}, step=epoch)
        logger.info("%s epoch %d: %s", name, epoch, {k_: round(v_, 3) for k_, v_ in row.items()})
    return rbm, pd.DataFrame(rows)


@torch.no_grad()
def monitor_scores(rbm: RBM, v: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Pseudo-log-likelihood (one random pixel per row, as scikit-learn scores) and the
    squared reconstruction error of one mean-field pass v -> p(h|v) -> p(v|h)."""
    flip = torch.randint(0, v.shape[1], (v.shape[0],), generator=torch.Generator().manual_seed(seed))
    return {
        "pseudo_log_likelihood": float(rbm.pseudo_log_likelihood(v, flip).mean()),
        "reconstruction_error": float(((v - rbm.p_v(rbm.p_h(v))) ** 2).sum(1).mean()),
    }


def rbm_from_sklearn(model: Any) -> RBM:
    """Our RBM holding a fitted ``sklearn.neural_network.BernoulliRBM``'s weights
    (components_ is W transposed; intercept_visible_ = b, intercept_hidden_ = c)."""
    hidden, visible = model.components_.shape
    rbm = RBM(visible, hidden)
    rbm.W.data = torch.as_tensor(model.components_.T, dtype=torch.float32).contiguous()
    rbm.b.data = torch.as_tensor(model.intercept_visible_, dtype=torch.float32)
    rbm.c.data = torch.as_tensor(model.intercept_hidden_, dtype=torch.float32)
    return rbm


def sklearn_from_rbm(rbm: RBM, random_state: int = 0) -> Any:
    """A ``BernoulliRBM`` holding our weights, so that scikit-learn's own ``score_samples``
    (its pseudo-likelihood) can score any of our RBMs."""
    from sklearn.neural_network import BernoulliRBM

    model = BernoulliRBM(n_components=rbm.hidden, random_state=random_state)
    model.components_ = rbm.W.T.double().numpy().copy()
    model.intercept_hidden_ = rbm.c.double().numpy().copy()
    model.intercept_visible_ = rbm.b.double().numpy().copy()
    model.n_features_in_ = rbm.visible
    return model
