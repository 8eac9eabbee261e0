"""The JEM energy, Langevin dynamics, the replay buffer, training and the OOD metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from dl_roadmap.pipelines.energy_based_langevin import ood
from dl_roadmap.pipelines.energy_based_langevin.ebm import EnergyNet, LangevinSampler, ReplayBuffer, langevin, train_ebm


def test_energy_is_minus_logsumexp_of_the_logits() -> None:
    model = EnergyNet([4, 8])
    x = torch.rand(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert torch.allclose(model.energy(x), -torch.logsumexp(model(x), 1))


def test_noiseless_langevin_descends_the_energy_and_stays_in_the_image_range() -> None:
    model = EnergyNet([4, 8], seed=1)
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    out, frames = langevin(model, x, steps=6, step_size=0.05, noise=0.0, keep_every=2)
    with torch.no_grad():
        assert float(model.energy(out).mean()) < float(model.energy(x).mean())
    assert len(frames) == 4 and 0 <= float(out.min()) and float(out.max()) <= 1
    assert all(p.requires_grad for p in model.parameters()), "the parameters train again afterwards"


def test_replay_buffer_restarts_the_asked_share_from_noise() -> None:
    g = torch.Generator().manual_seed(0)
    buffer = ReplayBuffer(100, reinit=0.0, generator=g)
    buffer.images.zero_()
    x, index = buffer.draw(50)
    assert float(x.abs().sum()) == 0.0
    buffer.put(torch.ones_like(x), index)
    assert float(buffer.images[index].min()) == 1.0
    always = ReplayBuffer(10, reinit=1.0, generator=g)
    always.images.zero_()
    assert float(always.draw(10)[0].min()) > 0 or float(always.draw(10)[0].max()) > 0


@pytest.mark.parametrize("generative", [True, False])
def test_training_runs_and_logs(generative: bool) -> None:
    g = torch.Generator().manual_seed(0)
    images, labels = torch.rand(64, 1, 28, 28, generator=g), torch.arange(64) % 10
    config = {"iterations": 4, "batch_size": 8, "lr": 1e-3, "alpha": 1.0, "energy_penalty": 0.1, "log_every": 2,
              "seed": 0, "generative": generative,
              "sgld": {"steps": 2, "step_size": 1.0, "noise": 0.01, "buffer_size": 20, "reinit": 0.05}}
    logged = []
    rows = train_ebm(EnergyNet([4, 8]), images, labels, config, log=lambda m, step: logged.append(step))
    assert [row["iteration"] for row in rows] == [2, 4] and logged == [2, 4]
    assert ("e_sample" in rows[0]) == generative
    assert all(np.isfinite(list(row.values())).all() for row in rows)


def test_sampler_is_reproducible_and_unconditional() -> None:
    sampler = LangevinSampler(EnergyNet([4, 8]), steps=2, step_size=1.0, noise=0.01)
    a = sampler.sample(3, torch.Generator().manual_seed(5))
    assert a.shape == (3, 1, 28, 28) and torch.equal(a, sampler.sample(3, torch.Generator().manual_seed(5)))
    with pytest.raises(ValueError, match="no labels"):
        sampler.sample(3, None, torch.zeros(3, dtype=torch.long))


def test_detection_metrics() -> None:
    rng = np.random.default_rng(0)
    s_in, s_out = rng.normal(1, 1, 2000), rng.normal(0, 1, 2000)
    metrics = ood.detection_metrics(s_in, s_out)
    y = np.r_[np.ones(2000), np.zeros(2000)]
    assert metrics["auroc"] == pytest.approx(roc_auc_score(y, np.r_[s_in, s_out]))
    threshold = np.quantile(s_in, 0.05)  # keeps 95% of in-distribution scores
    assert metrics["fpr_at_95_tpr"] == pytest.approx((s_out >= threshold).mean(), abs=0.01)
    perfect = ood.detection_metrics(np.array([2.0, 3.0]), np.array([0.0, 1.0]))
    assert perfect == {"auroc": 1.0, "fpr_at_95_tpr": 0.0}


def test_scores_are_logsumexp_and_max_softmax() -> None:
    model = EnergyNet([4, 8])
    x = torch.rand(6, 1, 28, 28)
    s = ood.scores(model, x, batch_size=4)
    with torch.no_grad():
        logits = model(x)
    assert np.allclose(s["energy"], torch.logsumexp(logits, 1).numpy(), atol=1e-6)
    assert np.allclose(s["msp"], torch.softmax(logits, 1).max(1).values.numpy(), atol=1e-6)
