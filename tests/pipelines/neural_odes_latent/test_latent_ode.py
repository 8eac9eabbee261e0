"""The spirals, the latent ODE's ELBO terms (KL against torch.distributions) and both models' shapes."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from dl_roadmap.pipelines.neural_odes_latent import nodes
from dl_roadmap.pipelines.neural_odes_latent.data import make_spirals
from dl_roadmap.pipelines.neural_odes_latent.latent_ode import GapRNN, LatentODE, gaps

SPIRALS = {"seed": 0, "train": 6, "test": 4, "grid": 40, "window": 20, "observed": 8, "extrapolate": 10,
           "noise_std": 0.1, "a": 0.0, "b": 0.3}


def test_spirals_are_irregular_observations_of_the_truth() -> None:
    data = make_spirals(SPIRALS)
    train = data["train"]
    assert train["obs"].shape == (6, 8, 2) and train["truth"].shape == (6, 30, 2) and train["times"].shape == (30,)
    assert (train["obs_index"].diff(dim=1) > 0).all() and (train["obs_index"] < 20).all()
    observed_truth = torch.gather(train["truth"], 1, train["obs_index"][..., None].expand(-1, -1, 2))
    assert (train["obs"] - observed_truth).std().item() == pytest.approx(0.1, rel=0.35)


def test_spirals_refuse_a_window_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="window"):
        make_spirals({**SPIRALS, "window": 35})


def test_kl_term_matches_torch_distributions() -> None:
    torch.manual_seed(0)
    model = LatentODE(tol=1e-3)
    data = make_spirals(SPIRALS)["train"]
    values = model.negative_elbo(data["obs"], data["obs_index"], data["times"], 0.1)
    mean, logvar = model.posterior(data["obs"], data["times"][data["obs_index"]])
    expected = kl_divergence(Normal(mean, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1).mean()
    assert values["kl"].item() == pytest.approx(expected.item(), rel=1e-5)
    assert values["loss"].item() == pytest.approx((values["kl"] - values["log_likelihood"]).item(), rel=1e-5)


def test_gaps_are_the_time_to_the_next_observation() -> None:
    times = torch.tensor([[0.0, 0.5, 2.0]])
    assert gaps(times).flatten().tolist() == [0.5, 1.5, 0.0]


def test_both_models_predict_at_query_times() -> None:
    data = make_spirals(SPIRALS)["test"]
    obs_times = data["times"][data["obs_index"]]
    assert LatentODE()(data["obs"], obs_times, data["times"]).shape == (4, 30, 2)
    assert GapRNN()(data["obs"], obs_times, data["times"][20:]).shape == (4, 10, 2)


def test_evaluate_reports_both_models(tmp_path) -> None:
    data = make_spirals(SPIRALS)
    table = nodes.evaluate(LatentODE(), GapRNN(), data, SPIRALS, 1.0, 2.0)
    assert list(table["model"]) == ["latent_ode", "rnn"]
    assert table["extrapolation_rmse"].notna().all()
