"""Memory of the two gradients of an ODE block as the number of solver steps grows.

Backpropagating through the solver keeps every intermediate tensor of every step for the
backward pass: with N steps of s stages, memory grows like O(N s). The adjoint method
(Chen et al. 2018, Section 2) keeps only h(1); backwards it solves, from t = 1 to 0,

    a(t) = dL/dh(t),   da/dt = -a(t)^T df/dh,   dL/dtheta = -integral_1^0 a(t)^T df/dtheta dt

together with h(t) itself (re-solved backwards), so memory stays O(1) in N, at the price of
a second solve (and of h(t) being recomputed, not remembered).

What is measured is the peak, over the forward and the backward pass, of the bytes autograd
holds for backward (``torch.autograd.graph.saved_tensors_hooks`` sees every tensor saved
and when it is released). This is the memory that differs between the two methods;
parameters, inputs and the solver's transient tensors are the same for both. The
gradients of the two are compared too: they should agree up to the solver's error.
"""

from __future__ import annotations

import time
import weakref
from contextlib import contextmanager
from typing import Iterator

import pandas as pd
import torch
from torch import nn

from dl_roadmap.pipelines.neural_odes.models import ConvDynamics, ODEBlock


class SavedTensorMeter:
    """Live and peak bytes of the tensors autograd saves, counted once per storage."""

    def __init__(self) -> None:
        self.live = self.peak = 0
        self._holders: dict[int, int] = {}  # storage address -> references still held

    def _release(self, key: int, nbytes: int) -> None:
        self._holders[key] -= 1
        if self._holders[key] == 0:
            del self._holders[key]
            self.live -= nbytes

    def pack(self, tensor: torch.Tensor) -> "_Packed":
        storage = tensor.untyped_storage()
        key, nbytes = storage.data_ptr(), storage.nbytes()
        if key not in self._holders:
            self._holders[key] = 0
            self.live += nbytes
            self.peak = max(self.peak, self.live)
        self._holders[key] += 1
        packed = _Packed(tensor.detach())  # detached: holding the output itself would make a
        # reference cycle (output -> its node -> saved output) that keeps a retained graph alive
        weakref.finalize(packed, self._release, key, nbytes)
        return packed

    @staticmethod
    def unpack(packed: "_Packed") -> torch.Tensor:
        return packed.tensor

    @contextmanager
    def measuring(self) -> Iterator["SavedTensorMeter"]:
        with torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack):
            yield self


class _Packed:
    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor


def gradient_memory(dynamics: nn.Module, h0: torch.Tensor, steps: int, adjoint: bool,
                    method: str = "rk4") -> dict[str, float]:
    """Peak saved-for-backward MiB, seconds and the gradients of L = sum h(1)^2 for one
    forward and backward pass through an ODE block of ``steps`` fixed steps."""
    block = ODEBlock(dynamics, method=method, steps=steps, adjoint=adjoint)
    h = h0.clone().requires_grad_(True)
    dynamics.zero_grad(set_to_none=True)
    dynamics.nfe = 0
    meter = SavedTensorMeter()
    start = time.perf_counter()
    with meter.measuring():
        loss = block(h).pow(2).sum()
        forward_nfe = dynamics.nfe
        loss.backward()
    seconds = time.perf_counter() - start
    grads = torch.cat([h.grad.flatten()] + [p.grad.flatten() for p in dynamics.parameters()])
    return {"peak_mib": meter.peak / 2**20, "seconds": seconds, "nfe_forward": forward_nfe,
            "nfe_backward": dynamics.nfe - forward_nfe, "grads": grads}


def memory_study(settings: dict) -> pd.DataFrame:
    """Backprop against adjoint for each number of steps in ``settings["steps"]``, on a
    random batch of ``batch`` feature maps (``channels`` x 7 x 7) and ConvDynamics."""
    torch.manual_seed(int(settings["seed"]))
    channels = int(settings["channels"])
    dynamics = ConvDynamics(channels)
    h0 = torch.randn(int(settings["batch"]), channels, 7, 7)
    rows = []
    for steps in settings["steps"]:
        runs = {name: gradient_memory(dynamics, h0, int(steps), adjoint=name == "adjoint")
                for name in ("backprop", "adjoint")}
        difference = (runs["adjoint"]["grads"] - runs["backprop"]["grads"]).abs().max().item()
        scale = runs["backprop"]["grads"].abs().max().item()
        for name, run in runs.items():
            rows.append({"method": name, "steps": int(steps), "peak_mib": run["peak_mib"],
                         "seconds": run["seconds"], "nfe_forward": run["nfe_forward"],
                         "nfe_backward": run["nfe_backward"],
                         "grad_max_rel_difference": difference / scale})
    return pd.DataFrame(rows)
