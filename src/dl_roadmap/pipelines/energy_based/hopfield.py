"""The Hopfield network (Hopfield 1982): memories as minima of an energy.

N binary neurons s in {-1, +1}^N, symmetric weights with no self-connections. Hebb's rule
stores P patterns xi^1..xi^P::

    W = (1/N) sum_mu xi^mu xi^mu'      with W_ii = 0
    E(s) = -1/2 s'W s                  the energy

Asynchronous dynamics update one neuron at a time, s_i <- sign(sum_j W_ij s_j). Flipping s_i
changes the energy by dE = -(s_i,new - s_i,old) (W s)_i <= 0 (W symmetric, zero diagonal), so
the energy never increases and the state falls into a local minimum: a stored pattern when
the start is close enough to it (associative recall), a spurious mixture otherwise.

Capacity: with random patterns the crosstalk between memories grows with the load
alpha = P/N; retrieval breaks down at alpha_c ~= 0.138 (Amit, Gutfreund & Sompolinsky 1985;
Hertz, Krogh & Palmer 1991, section 2.5), where the retrieval minima stop existing.
"""

from __future__ import annotations

import numpy as np


def hebbian_weights(patterns: np.ndarray) -> np.ndarray:
    """W = (1/N) sum_mu xi^mu xi^mu', zero diagonal; ``patterns`` (P, N) in {-1, +1}."""
    n = patterns.shape[1]
    weights = patterns.T.astype(np.float64) @ patterns / n
    np.fill_diagonal(weights, 0.0)
    return weights


def energy(weights: np.ndarray, states: np.ndarray) -> np.ndarray:
    """E(s) = -1/2 s'W s, one value per row of ``states`` (B, N)."""
    return -0.5 * np.einsum("bi,ij,bj->b", states, weights, states)


def recall(weights: np.ndarray, states: np.ndarray, rng: np.random.Generator, max_sweeps: int = 30,
           record_energy: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Asynchronous updates in a random order per sweep, for a batch of states (B, N) at
    once (each row is its own network run; the rows share the order), until no neuron
    changes in a sweep or ``max_sweeps``.

    Returns:
        The final states and, with ``record_energy``, the energies after every single
        neuron update (one array (B,) per update; the first is the start).
    """
    s = states.astype(np.float64).copy()
    energies = [energy(weights, s)] if record_energy else []
    for _ in range(max_sweeps):
        changed = False
        for i in rng.permutation(s.shape[1]):
            new = np.where(s @ weights[:, i] >= 0, 1.0, -1.0)  # ties go to +1
            if np.any(new != s[:, i]):
                changed = True
                s[:, i] = new
            if record_energy:
                energies.append(energy(weights, s))
        if not changed:
            break
    return s, energies


def corrupt(patterns: np.ndarray, flip_fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Each pattern with ``flip_fraction`` of its bits flipped (exactly that many per row)."""
    out = patterns.copy()
    n_flip = int(round(flip_fraction * patterns.shape[1]))
    for row in out:
        idx = rng.choice(patterns.shape[1], n_flip, replace=False)
        row[idx] = -row[idx]
    return out


def overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """m = (1/N) a . b per row: 1 for the same pattern, -1 for its mirror image."""
    return (a * b).sum(1) / a.shape[1]


def capacity_curve(neurons: int, loads: list[float], trials: int, flip_fraction: float, threshold: float,
                   seed: int = 0, max_sweeps: int = 30) -> list[dict[str, float]]:
    """Recall of random patterns against the load P/N: for each load and trial, store
    P = round(load * N) random patterns, start from each with ``flip_fraction`` of its bits
    flipped, and count a recall when the final overlap is at least ``threshold``."""
    rng = np.random.default_rng(seed)
    rows = []
    for load in loads:
        p = max(1, int(round(load * neurons)))
        overlaps = []
        for _ in range(trials):
            patterns = rng.choice([-1.0, 1.0], size=(p, neurons))
            final, _ = recall(hebbian_weights(patterns), corrupt(patterns, flip_fraction, rng), rng, max_sweeps)
            overlaps.append(overlap(final, patterns))
        m = np.concatenate(overlaps)
        rows.append({"load": p / neurons, "patterns": p, "mean_overlap": float(m.mean()),
                     "recall_rate": float((m >= threshold).mean()), "bit_error": float(((1 - m) / 2).mean())})
    return rows


def critical_load(rows: list[dict[str, float]], level: float = 0.5) -> float:
    """The load where the recall rate first falls below ``level`` (linear interpolation
    between the two loads around the crossing); NaN if it never does."""
    for before, after in zip(rows[:-1], rows[1:]):
        if before["recall_rate"] >= level > after["recall_rate"]:
            span = before["recall_rate"] - after["recall_rate"]
            return before["load"] + (before["recall_rate"] - level) / span * (after["load"] - before["load"])
    return float("nan")
