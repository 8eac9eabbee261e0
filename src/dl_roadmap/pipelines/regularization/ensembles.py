"""Combining models: averaged probabilities (bagging) and SAMME (multi-class AdaBoost).

Bagging (Breiman 1996):  p(y | x) = 1/N * sum_n p_n(y | x), each p_n trained on its own
bootstrap sample. Averaging keeps the members' bias and cuts the part of their variance
that is not shared: Var(mean) = rho * s^2 + (1 - rho) / N * s^2 for members of variance
s^2 and correlation rho.

SAMME (Zhu et al. 2009), K classes, example weights w_i (sum 1), round m:
    err_m   = sum_i w_i * [h_m(x_i) != y_i]
    alpha_m = log((1 - err_m) / err_m) + log(K - 1)      (> 0 iff err_m < 1 - 1/K)
    w_i    <- w_i * exp(alpha_m * [h_m(x_i) != y_i]), then renormalised
    H(x)    = argmax_k sum_m alpha_m * [h_m(x) == k]
"""

from __future__ import annotations

import numpy as np


def average_probabilities(probabilities: list[np.ndarray]) -> np.ndarray:
    """The mean of the members' (N, K) class probabilities."""
    if not probabilities:
        raise ValueError("average_probabilities: no members")
    return np.mean(np.stack(probabilities), axis=0)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum for stability."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def samme_round(weights: np.ndarray, wrong: np.ndarray, classes: int) -> tuple[float, float, np.ndarray]:
    """One SAMME round: (err_m, alpha_m, the new normalised weights).

    ``wrong`` marks the training examples the new learner misclassifies. An error of 0
    would give an infinite alpha; it is clipped to 1e-10 (the learner then dominates the
    vote, which is right: it is perfect on the weighted training set).
    """
    weights = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    wrong = np.asarray(wrong, dtype=bool)
    error = float(np.clip(weights[wrong].sum(), 1e-10, 1.0))
    alpha = float(np.log((1.0 - error) / error) + np.log(classes - 1))
    updated = weights * np.exp(alpha * wrong)
    return error, alpha, updated / updated.sum()


def samme_vote(predictions: list[np.ndarray], alphas: list[float], classes: int) -> np.ndarray:
    """argmax_k sum_m alpha_m * [h_m(x) == k] over the members' (N,) predicted classes."""
    scores = np.zeros((len(predictions[0]), classes))
    for predicted, alpha in zip(predictions, alphas):
        scores[np.arange(len(predicted)), predicted] += alpha
    return scores.argmax(axis=1)
