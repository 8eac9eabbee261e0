"""Out-of-distribution detection with a classifier's scores (Liu et al. 2020, "Energy-based
out-of-distribution detection").

Two scores of an input x from the logits f(x), both larger for "looks like training data"::

    max softmax probability (Hendrycks & Gimpel 2017):   S_msp(x) = max_y softmax(f(x))_y
    negative free energy (Liu et al. 2020, T = 1):        S_E(x)   = -E(x) = logsumexp_y f(x)_y

Softmax normalises away the overall scale of the logits; the energy keeps it, and for a JEM
model -E(x) is log p(x) + log Z. Each score is judged as a detector of in-distribution
images (positives) against out-of-distribution ones (negatives): AUROC, and the FPR at 95%
TPR (the share of OOD images let through when the threshold keeps 95% of in-distribution ones).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score, roc_curve


@torch.no_grad()
def scores(model: torch.nn.Module, images: torch.Tensor, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """Both scores of every image: {"energy": logsumexp f(x), "msp": max softmax}."""
    model.eval()
    logits = torch.cat([model(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
    return {"energy": torch.logsumexp(logits, 1).numpy(), "msp": torch.softmax(logits, 1).max(1).values.numpy()}


def detection_metrics(in_scores: np.ndarray, out_scores: np.ndarray) -> dict[str, float]:
    """AUROC (in-distribution = positive) and FPR at 95% TPR, with scikit-learn."""
    y = np.concatenate([np.ones(len(in_scores)), np.zeros(len(out_scores))])
    s = np.concatenate([in_scores, out_scores])
    fpr, tpr, _ = roc_curve(y, s)
    return {"auroc": float(roc_auc_score(y, s)), "fpr_at_95_tpr": float(fpr[np.searchsorted(tpr, 0.95, side="left")])}
