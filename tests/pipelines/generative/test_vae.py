"""generative: the VAE's maths against torch.distributions and an exact likelihood."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from dl_roadmap.pipelines.generative.vae import VAE, gaussian_kl, iwae_bound, log_normal


def test_kl_term_equals_torch_distributions() -> None:
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(16, 5, generator=g), torch.randn(16, 5, generator=g)
    reference = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), reference, rtol=1e-5, atol=1e-5)


def test_log_normal_equals_torch_distributions() -> None:
    z, mu, logvar = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    reference = Normal(mu, (0.5 * logvar).exp()).log_prob(z).sum(-1)
    torch.testing.assert_close(log_normal(z, mu, logvar), reference, rtol=1e-5, atol=1e-5)


def _model(latent: int, seed: int = 0) -> tuple[VAE, torch.Tensor]:
    torch.manual_seed(seed)
    model = VAE([16], latent, pixels=784).double().eval()
    x = torch.bernoulli(torch.full((8, 784), 0.3, dtype=torch.float64), generator=torch.Generator().manual_seed(1))
    return model, x


def test_iwae_with_one_sample_is_the_elbo() -> None:
    """L_1 is a one-sample estimate of the ELBO: averaged over many draws it equals
    E_q[log p(x|z)] - KL with the KL in closed form (within 4 standard errors)."""
    model, x = _model(latent=3)
    with torch.no_grad():
        draws = model.log_weights(x, 2000, generator=torch.Generator().manual_seed(2))   # (k, N): 2000 L_1 values
        l1 = iwae_bound(model, x, 1, generator=torch.Generator().manual_seed(5))
        one = model.log_weights(x, 1, generator=torch.Generator().manual_seed(5))[0]
        log_px, kl = zip(*(model.elbo_terms(x) for _ in range(500)))
        elbo = torch.stack(log_px).mean(0) - kl[0]
    torch.testing.assert_close(l1, one)          # k = 1: no averaging, just the log weight
    error = 4 * draws.std(0) / math.sqrt(len(draws)) + 4 * torch.stack(log_px).std(0) / math.sqrt(500)
    assert ((draws.mean(0) - elbo).abs() < error).all()


def test_iwae_tightens_with_k_towards_the_exact_likelihood() -> None:
    """With a 1-d latent, log p(x) = log integral p(x|z) N(z; 0, 1) dz is computed by quadrature:
    L_1 <= L_10 <= L_100 <= L_1000 <= log p(x) (means over the images), and L_1000 is close."""
    model, x = _model(latent=1)
    with torch.no_grad():
        for layer in model.decoder:   # a decoder that depends strongly on z: a posterior q must work to match
            if isinstance(layer, torch.nn.Linear):
                layer.weight.mul_(4.0)
        z = torch.linspace(-8, 8, 4001, dtype=torch.float64)[:, None]
        log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
            model.decode(z)[:, None, :].expand(-1, len(x), -1), x.expand(len(z), -1, -1), reduction="none").sum(-1)
        log_joint = log_px_z + log_normal(z, torch.zeros_like(z), torch.zeros_like(z))[:, None]
        exact = torch.logsumexp(log_joint, 0) + math.log(16 / 4000)  # the rectangle rule, dz = 16 / 4000
        bounds = [iwae_bound(model, x, k, generator=torch.Generator().manual_seed(3)).mean() for k in (1, 10, 100, 1000)]
    assert bounds[0] < bounds[1] < bounds[2] < bounds[3] <= exact.mean() + 0.05   # Monte Carlo noise
    assert exact.mean() - bounds[3] < 0.25 * (exact.mean() - bounds[0])


def test_conditional_vae_needs_labels_and_samples_the_class_asked() -> None:
    model = VAE([8], 2, classes=10)
    with pytest.raises(ValueError, match="needs labels"):
        model.encode(torch.rand(2, 784))
    images = model.sample(4, torch.Generator().manual_seed(0), torch.tensor([1, 1, 2, 2]))
    assert images.shape == (4, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
