"""A latent ODE for irregularly sampled time series (Chen et al. 2018, Section 5), and the
RNN it is compared with.

Generative model: a latent start state, deterministic latent dynamics, independent noisy
observations at any times::

    z(t0) ~ N(0, I)
    z(t)  = ODESolve(f_theta, z(t0), t0, t)                 (torchdiffeq)
    x(t)  ~ N(decoder(z(t)), sigma^2 I)

Recognition: a GRU reads the observations backwards in time, each with the gap to its
neighbour, x_i and t_{i+1} - t_i, and gives q(z(t0) | x) = N(mu, diag exp(logvar)).
Training maximises the evidence lower bound with one reparametrised sample::

    ELBO = sum_i log N(x_i; decoder(z(t_i)), sigma^2)  -  KL( q(z(t0) | x) || N(0, I) )
    KL   = 1/2 sum_j ( mu_j^2 + exp(logvar_j) - logvar_j - 1 )

Extrapolation decodes z(t) at times after the last observation: the same ODE, solved on.

The RNN baseline (Chen et al. 2018, Table 2) is a GRU fed x_i and the gap to the next
time, trained to predict x_{i+1}; it extrapolates by feeding back its own predictions.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LatentDynamics(nn.Module):
    """f(z): an autonomous MLP, as in the paper's spiral experiment."""

    def __init__(self, latent: int = 4, hidden: int = 20):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU(),
                                 nn.Linear(hidden, latent))
        self.nfe = 0

    def forward(self, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        self.nfe += 1
        return self.net(z)


def gaps(obs_times: torch.Tensor) -> torch.Tensor:
    """t_{i+1} - t_i per observation (0 after the last one), shape (B, n, 1)."""
    following = torch.cat([obs_times[:, 1:] - obs_times[:, :-1], torch.zeros_like(obs_times[:, :1])], 1)
    return following.unsqueeze(-1)


class LatentODE(nn.Module):
    """Encoder (backwards GRU), latent ODE, decoder. ``forward(obs, obs_times, times)``
    returns the decoded means at ``times`` (B, len(times), 2) from the posterior mean."""

    def __init__(self, obs_dim: int = 2, latent: int = 4, hidden: int = 20, rnn_hidden: int = 25,
                 method: str = "dopri5", tol: float = 1e-3):
        super().__init__()
        self.encoder = nn.GRU(obs_dim + 1, rnn_hidden, batch_first=True)
        self.to_posterior = nn.Linear(rnn_hidden, 2 * latent)
        self.dynamics = LatentDynamics(latent, hidden)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, obs_dim))
        self.method, self.tol = method, tol

    def posterior(self, obs: torch.Tensor, obs_times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        reversed_inputs = torch.cat([obs, gaps(obs_times)], -1).flip(1)  # last observation first
        _, h = self.encoder(reversed_inputs)
        mean, logvar = self.to_posterior(h[-1]).chunk(2, -1)
        return mean, logvar

    def decode(self, z0: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        from torchdiffeq import odeint

        z = odeint(self.dynamics, z0, times, method=self.method, rtol=self.tol, atol=self.tol)  # (T, B, latent)
        return self.decoder(z).transpose(0, 1)

    def forward(self, obs: torch.Tensor, obs_times: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        mean, _ = self.posterior(obs, obs_times)
        return self.decode(mean, times)

    def negative_elbo(self, obs: torch.Tensor, obs_index: torch.Tensor, times: torch.Tensor,
                      noise_std: float) -> dict[str, torch.Tensor]:
        """-ELBO per series (mean over the batch) with one reparametrised sample of z(t0)."""
        obs_times = times[obs_index]
        mean, logvar = self.posterior(obs, obs_times)
        z0 = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        decoded = self.decode(z0, times[: int(obs_index.max()) + 1])
        predicted = torch.gather(decoded, 1, obs_index.unsqueeze(-1).expand(-1, -1, obs.shape[-1]))
        log_likelihood = (-0.5 * ((obs - predicted) / noise_std) ** 2
                          - math.log(noise_std) - 0.5 * math.log(2 * math.pi)).sum((1, 2))
        kl = 0.5 * (mean**2 + logvar.exp() - logvar - 1).sum(1)
        return {"loss": (kl - log_likelihood).mean(), "kl": kl.mean(), "log_likelihood": log_likelihood.mean()}


class GapRNN(nn.Module):
    """GRU over [x_i, t_{i+1} - t_i] predicting x_{i+1}; ``forward(obs, obs_times, times)``
    returns predictions at ``times`` after the last observation, fed back step by step."""

    def __init__(self, obs_dim: int = 2, hidden: int = 32):
        super().__init__()
        self.cell = nn.GRUCell(obs_dim + 1, hidden)
        self.out = nn.Linear(hidden, obs_dim)
        self.hidden = hidden

    def one_step_predictions(self, obs: torch.Tensor, obs_times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictions of x_{i+1} from x_1..x_i (B, n-1, 2) and the last hidden state."""
        h = obs.new_zeros(len(obs), self.hidden)
        inputs = torch.cat([obs, gaps(obs_times)], -1)
        predictions = []
        for i in range(obs.shape[1]):
            h = self.cell(inputs[:, i], h)
            if i < obs.shape[1] - 1:
                predictions.append(self.out(h))
        return torch.stack(predictions, 1), h

    def loss(self, obs: torch.Tensor, obs_index: torch.Tensor, times: torch.Tensor) -> dict[str, torch.Tensor]:
        predictions, _ = self.one_step_predictions(obs, times[obs_index])
        return {"loss": ((predictions - obs[:, 1:]) ** 2).mean()}

    def forward(self, obs: torch.Tensor, obs_times: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        h = obs.new_zeros(len(obs), self.hidden)
        gap = gaps(obs_times)
        for i in range(obs.shape[1] - 1):
            h = self.cell(torch.cat([obs[:, i], gap[:, i]], -1), h)
        # the last observation is read with the gap to the first query time, and so on
        x, t, outputs = obs[:, -1], obs_times[:, -1], []
        for query in times:
            h = self.cell(torch.cat([x, (query - t).unsqueeze(-1)], -1), h)
            x, t = self.out(h), torch.full_like(t, float(query))
            outputs.append(x)
        return torch.stack(outputs, 1)
