"""The RBM's maths: free energies against the energy summed by hand, the conditionals,
scikit-learn's BernoulliRBM on copied weights, PCD update for update, AIS against an
exact partition function."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.neural_network import BernoulliRBM

from dl_roadmap.pipelines.energy_based import ais
from dl_roadmap.pipelines.energy_based.rbm import RBM, GibbsSampler
from dl_roadmap.pipelines.energy_based.train import rbm_from_sklearn, train_rbm


def random_rbm(visible: int, hidden: int, scale: float = 1.0, seed: int = 0) -> RBM:
    g = torch.Generator().manual_seed(seed)
    rbm = RBM(visible, hidden).double()
    rbm.W.data = torch.randn(visible, hidden, generator=g, dtype=torch.float64) * scale
    rbm.b.data = torch.randn(visible, generator=g, dtype=torch.float64) * 0.5
    rbm.c.data = torch.randn(hidden, generator=g, dtype=torch.float64) * 0.5
    return rbm


def all_states(n: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=torch.float64)


def test_free_energies_sum_the_energy_over_the_other_layer() -> None:
    rbm = random_rbm(5, 4)
    v, h = all_states(5), all_states(4)
    energies = torch.stack([rbm.energy(v, hh.expand(len(v), -1)) for hh in h], 1)  # (V, H)
    assert torch.allclose(rbm.free_energy(v), -torch.logsumexp(-energies, 1))
    assert torch.allclose(rbm.hidden_free_energy(h), -torch.logsumexp(-energies, 0))


def test_conditionals_are_the_joint_normalised() -> None:
    rbm = random_rbm(4, 3)
    v, h = all_states(4), all_states(3)
    joint = torch.exp(-torch.stack([rbm.energy(v, hh.expand(len(v), -1)) for hh in h], 1))
    p_h_given_v = joint / joint.sum(1, keepdim=True)
    marginal_h1 = (p_h_given_v * h[:, 0]).sum(1)  # p(h_0 = 1 | v)
    assert torch.allclose(rbm.p_h(v)[:, 0], marginal_h1)
    p_v_given_h = joint / joint.sum(0, keepdim=True)
    assert torch.allclose(rbm.p_v(h)[:, 0], (p_v_given_h * v[:, :1]).sum(0))


def test_exact_log_partition_enumerates_either_layer() -> None:
    rbm = random_rbm(6, 5)
    v, h = all_states(6), all_states(5)
    brute = torch.logsumexp(-torch.stack([rbm.energy(v, hh.expand(len(v), -1)) for hh in h], 1).flatten(), 0)
    assert rbm.exact_log_partition() == pytest.approx(float(brute), abs=1e-9)
    wide = random_rbm(5, 6)  # now the visible layer is the smaller one
    v, h = all_states(5), all_states(6)
    brute = torch.logsumexp(-torch.stack([wide.energy(v, hh.expand(len(v), -1)) for hh in h], 1).flatten(), 0)
    assert wide.exact_log_partition() == pytest.approx(float(brute), abs=1e-9)


def test_free_energy_and_pseudo_likelihood_equal_sklearns_on_copied_weights() -> None:
    rng = np.random.RandomState(0)
    x = (rng.rand(200, 30) < 0.3).astype(np.float64)
    reference = BernoulliRBM(n_components=12, learning_rate=0.05, batch_size=20, n_iter=3, random_state=7).fit(x)
    ours = rbm_from_sklearn(reference).double()
    assert np.allclose(ours.free_energy(torch.from_numpy(x)).numpy(), reference._free_energy(x), atol=1e-10)
    flip = np.random.RandomState(7).randint(0, x.shape[1], x.shape[0])  # score_samples' draw
    ours_pl = ours.pseudo_log_likelihood(torch.from_numpy(x), torch.from_numpy(flip)).numpy()
    assert np.allclose(ours_pl, reference.score_samples(x), atol=1e-8)
    assert np.allclose(ours.p_h(torch.from_numpy(x)).numpy(), reference.transform(x), atol=1e-10)


def test_pcd_makes_the_same_kind_of_model_as_sklearn() -> None:
    """Same algorithm and settings (PCD, lr, batch, hidden units, epochs) on the same data:
    the two pseudo-likelihoods agree to within a few nats (different random streams)."""
    rng = np.random.RandomState(0)
    prototypes = rng.rand(3, 40) < 0.5
    x = np.concatenate([(rng.rand(300, 40) < np.where(p, 0.9, 0.1)) for p in prototypes]).astype(np.float32)
    x = x[rng.permutation(len(x))]
    settings = {"hidden": 16, "lr": 0.1, "batch_size": 20, "epochs": 10, "method": "pcd"}
    ours, _ = train_rbm(torch.from_numpy(x), settings, "pcd_test")
    reference = BernoulliRBM(n_components=16, learning_rate=0.1, batch_size=20, n_iter=10, random_state=0).fit(x)
    flip = torch.from_numpy(np.random.RandomState(1).randint(0, 40, len(x)))
    data = torch.from_numpy(x)
    ours_pl = float(ours.pseudo_log_likelihood(data, flip).mean())
    sk_pl = float(rbm_from_sklearn(reference).pseudo_log_likelihood(data, flip).mean())
    untrained = float(RBM(40, 16).pseudo_log_likelihood(data, flip).mean())
    assert ours_pl > untrained + 5 and sk_pl > untrained + 5
    assert abs(ours_pl - sk_pl) < 3.0


def test_ais_matches_the_exact_log_partition_of_a_20_hidden_unit_rbm() -> None:
    """log Z of a 40 x 20 RBM summed over its 2^20 hidden states, against AIS."""
    rbm = random_rbm(40, 20, scale=0.3, seed=1).float()
    exact = rbm.exact_log_partition()
    data = torch.bernoulli(torch.full((500, 40), 0.3), generator=torch.Generator().manual_seed(0))
    z = ais.ais_log_partition(rbm, ais.base_rate_biases(data), ais.beta_schedule([100, 300, 600]), runs=100, seed=0)
    assert z["log_z"] == pytest.approx(exact, abs=0.1)
    assert z["log_z_low"] <= exact + 0.1 and exact - 0.1 <= z["log_z_high"]


def test_ais_base_model_is_exact_at_zero_coupling() -> None:
    """With W = 0 the RBM is the product of its biases' Bernoullis: log Z in closed form."""
    rbm = RBM(10, 4, init_std=0.0)
    rbm.b.data = torch.linspace(-1, 1, 10)
    rbm.c.data = torch.linspace(-0.5, 0.5, 4)
    closed = float(torch.nn.functional.softplus(rbm.b).sum() + torch.nn.functional.softplus(rbm.c).sum())
    assert rbm.exact_log_partition() == pytest.approx(closed, abs=1e-5)
    z = ais.ais_log_partition(rbm, rbm.b.clone(), ais.beta_schedule([5, 5, 5]), runs=10)
    assert z["log_z"] == pytest.approx(closed, abs=1e-4)


def test_mean_log_likelihood_is_minus_free_energy_minus_log_z() -> None:
    rbm = random_rbm(6, 3)
    v = all_states(6)
    log_z = rbm.exact_log_partition()
    assert math.exp(torch.logsumexp(-rbm.free_energy(v) - log_z, 0)) == pytest.approx(1.0)
    assert ais.mean_log_likelihood(rbm, v[:5], log_z) == pytest.approx(float((-rbm.free_energy(v[:5]) - log_z).mean()))


def test_gibbs_sampler_gives_images_and_refuses_labels() -> None:
    sampler = GibbsSampler(RBM(784, 8), steps=2)
    images = sampler.sample(3, torch.Generator().manual_seed(0))
    assert images.shape == (3, 1, 28, 28) and 0 <= float(images.min()) and float(images.max()) <= 1
    assert torch.equal(images, sampler.sample(3, torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="unconditional"):
        sampler.sample(3, None, torch.zeros(3, dtype=torch.long))


def test_sklearn_scores_our_weights_as_we_do() -> None:
    from dl_roadmap.pipelines.energy_based.train import sklearn_from_rbm

    rbm = random_rbm(30, 8, scale=0.3).float()
    x = torch.bernoulli(torch.full((50, 30), 0.4), generator=torch.Generator().manual_seed(0)).double()
    reference = sklearn_from_rbm(rbm, random_state=3)
    flip = torch.from_numpy(np.random.RandomState(3).randint(0, 30, 50))
    assert np.allclose(reference.score_samples(x.numpy()), rbm.double().pseudo_log_likelihood(x, flip).numpy(), atol=1e-8)
