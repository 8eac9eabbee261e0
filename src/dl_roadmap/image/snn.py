"""Spiking neural networks on images: LIF neurons from their membrane equation, the
surrogate gradient, input coding, a fully connected / convolutional SNN, and the count of
synaptic operations, each with its maths beside the code. The spiking areas
(pipelines/spiking*) share it.

## 1. Neurons

**Leaky integrate-and-fire (LIF)**, discretised with one step per time bin. The membrane
potential U leaks by a factor beta = exp(-dt / tau) per step, integrates the input current
I, and is lowered by the threshold theta each time the neuron fired on the step before
(reset by subtraction; reset to zero sets U to 0 instead):

    R[t] = H(U[t-1] - theta)                      did it fire last step? (no gradient: a reset, not a signal)
    U[t] = beta U[t-1] + I[t] - R[t] theta        leak, integrate, reset
    S[t] = H(U[t] - theta)                        spike when the membrane crosses the threshold

H is the Heaviside step (H(x) = 1 for x > 0). This is snntorch's ``Leaky`` with its
defaults (reset by subtraction, the reset delayed to the next step), so the two give the
same membrane and spike trains (tests/image/test_snn.py checks to 1e-6).

**Surrogate gradient.** dH/dx is zero almost everywhere, so backpropagation through time
would learn nothing. The forward pass keeps the step; the backward pass pretends the step
was the smooth arctan curve (Fang et al. 2021; snntorch's default ``atan``):

    S ~ (1/pi) arctan(pi alpha x / 2) + 1/2  ->  dS/dx = (alpha / 2) / (1 + (pi alpha x / 2)^2)

**Integrate-and-fire (IF)** is the LIF neuron with beta = 1 and no gradient: the neuron of
ANN-to-SNN conversion, whose firing rate approximates a ReLU (the spiking_conversion pipeline).

Layers run in *multi-step* mode: a tensor (T, N, ...) of input currents for all T steps
goes in, the spike trains (T, N, ...) come out. Only the membrane recursion loops over
time; the synapses (convolutions, linear layers) see all T steps as one batch of T x N.

## 2. Input coding: a static image x in [0, 1] as T time steps

- **rate coding**: each pixel fires at each step with probability equal to its intensity,
  independently (a Bernoulli, the discrete Poisson process); the count over T steps
  estimates x with variance x (1 - x) / T:

      S_i[t] ~ Bernoulli(x_i),   t = 0 .. T-1

- **latency coding**: each pixel fires once, brighter pixels earlier; a pixel at or below
  the threshold never fires. Linear in intensity (snntorch's ``latency(linear=True,
  normalize=True)`` spreads the times over the window the same way):

      t_i = round((1 - x_i) (T - 1))   if x_i > threshold

- **direct coding**: the analog image is the input current at every step,
  I[t] = x. The first layer then turns intensities into spikes itself; it is
  deterministic and lets a short window reach CNN accuracy, which is why the deep
  convolutional SNNs of the literature use it.

Every coder maps images (N, ...) to a tensor (T, N, ...).

## 3. The network: a fully connected and a convolutional SNN trained through time

One class builds both. An image x (N, C, H, W) is coded into T steps (part 2), then
each block is a synapse followed by a layer of LIF neurons (part 1):

    conv block l:   I_l[t] = maxpool2(BN(W_l * S_{l-1}[t])),   S_l[t] = LIF(I_l)[t]
    dense block l:  I_l[t] = W_l S_{l-1}[t],          S_l[t] = LIF(I_l)[t]
    readout:        U[t] = beta U[t-1] + W_out S_L[t],   logits = (1/T) sum_t U[t]

The loss is the cross-entropy of the logits, and backpropagation through time runs through
the unrolled recursion, with the surrogate gradient where a spike was emitted. With no conv
blocks it is the fully connected SNN. Event streams (N, T, C, H, W) from the neuromorphic
pipeline go in as they are (``coding: events``).

With direct coding the input current is the same at every step, so the first synapse is
computed once and repeated: the cost of the first layer does not grow with T. The
currents are pooled before the neurons (as snntorch's convolutional tutorial does), so the
membrane recursion runs on a quarter of the positions.

## 4. Synaptic operations, the basis of an energy estimate

A spike arriving at a synapse costs one accumulate (AC) per outgoing connection; a
non-zero analog input costs a multiply-accumulate (MAC). For a synapse layer f with
weights W, replacing W by the 0/1 mask of its connections counts them exactly, borders
included:

    SOPs(f) = sum_t sum_outputs ones(f)(S[t])      (spikes in x connections out)
    MACs(f) = sum_outputs ones(f)(1)                the same layer in an ANN, per image
    E_SNN = 0.9 pJ x ACs + 4.6 pJ x analog MACs,  E_ANN = 4.6 pJ x MACs
                                                    (Horowitz 2014, 45 nm, 32-bit float: add 0.9, mult 3.7)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class ATanSpike(torch.autograd.Function):
    """H(x) forward, the arctan surrogate (alpha / 2) / (1 + (pi alpha x / 2)^2) backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * (ctx.alpha / 2) / (1 + (math.pi / 2 * ctx.alpha * x) ** 2), None


def spike(x: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """S = H(x) with the arctan surrogate gradient of slope ``alpha``."""
    return ATanSpike.apply(x, alpha)


def lif_step(current: torch.Tensor, mem: torch.Tensor, beta: float, threshold: float = 1.0,
             reset: str = "subtract", alpha: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One time step of the LIF neuron: (spikes S[t], membrane U[t]) from I[t] and U[t-1]."""
    fired = (mem > threshold).to(mem.dtype)  # R[t]: a plain comparison, so no gradient flows through it
    if reset == "subtract":
        mem = beta * mem + current - fired * threshold
    elif reset == "zero":
        mem = beta * (1 - fired) * mem + current
    else:
        raise ValueError(f"reset: 'subtract' or 'zero', got {reset!r}")
    return spike(mem - threshold, alpha), mem


class LIF(nn.Module):
    """A layer of LIF neurons in multi-step mode: currents (T, N, ...) -> spikes (T, N, ...).

    ``record = True`` keeps the last call's membrane trace in ``self.mem`` (T, N, ...) and its
    spikes in ``self.spikes``, for plots and for counting synaptic operations.
    """

    def __init__(self, beta: float = 0.9, threshold: float = 1.0, reset: str = "subtract", alpha: float = 2.0):
        super().__init__()
        if not 0 <= beta <= 1:
            raise ValueError(f"beta: the leak factor must lie in [0, 1], got {beta}")
        self.beta, self.threshold, self.reset, self.alpha = beta, threshold, reset, alpha
        self.record = False
        self.mem: torch.Tensor | None = None
        self.spikes: torch.Tensor | None = None

    def forward(self, currents: torch.Tensor) -> torch.Tensor:
        mem = torch.zeros_like(currents[0])
        spikes, trace = [], []
        for current in currents:
            s, mem = lif_step(current, mem, self.beta, self.threshold, self.reset, self.alpha)
            spikes.append(s)
            trace.append(mem)
        out = torch.stack(spikes)
        if self.record:
            self.mem, self.spikes = torch.stack(trace).detach(), out.detach()
        return out

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}, reset={self.reset}"


class LeakyReadout(nn.Module):
    """Non-spiking output neurons: U[t] = beta U[t-1] + I[t], logits = mean_t U[t].

    The class scores are membrane potentials averaged over time rather than spike counts:
    the count of a few steps ties often, the potential does not, and the loss stays smooth.
    """

    def __init__(self, beta: float = 0.9):
        super().__init__()
        self.beta = beta

    def forward(self, currents: torch.Tensor) -> torch.Tensor:
        mem, total = torch.zeros_like(currents[0]), torch.zeros_like(currents[0])
        for current in currents:
            mem = self.beta * mem + current
            total = total + mem
        return total / len(currents)


def integrate_and_fire(currents: torch.Tensor, threshold: float = 1.0, reset: str = "subtract") -> torch.Tensor:
    """IF neurons (beta = 1) over currents (T, N, ...), no gradient: the spikes (T, N, ...)."""
    mem, out = torch.zeros_like(currents[0]), []
    for current in currents:
        mem = mem + current
        fired = (mem >= threshold).to(mem.dtype)
        mem = mem - fired * threshold if reset == "subtract" else mem * (1 - fired)
        out.append(fired)
    return torch.stack(out)


CODINGS = ("rate", "latency", "direct")


def rate_code(x: torch.Tensor, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Bernoulli spikes, (T, N, ...): P(S_i[t] = 1) = x_i."""
    probability = x.clamp(0, 1).expand(steps, *x.shape)
    return torch.bernoulli(probability, generator=generator)


def latency_code(x: torch.Tensor, steps: int, threshold: float = 0.01) -> torch.Tensor:
    """One spike per pixel above ``threshold`` at step round((1 - x)(T - 1)), (T, N, ...)."""
    times = torch.round((1 - x.clamp(0, 1)) * (steps - 1)).long()
    t = torch.arange(steps, device=x.device).view(steps, *([1] * x.dim()))
    return ((t == times) & (x > threshold)).to(x.dtype)


def direct_code(x: torch.Tensor, steps: int) -> torch.Tensor:
    """The image repeated as a constant current, (T, N, ...) (a view, no copy)."""
    return x.expand(steps, *x.shape)


def encode(x: torch.Tensor, coding: str, steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Images (N, ...) in [0, 1] -> input (T, N, ...) under ``coding``."""
    if coding == "rate":
        return rate_code(x, steps, generator)
    if coding == "latency":
        return latency_code(x, steps)
    if coding == "direct":
        return direct_code(x, steps)
    raise ValueError(f"coding: one of {CODINGS}, got {coding!r}")


def time_distributed(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply a stateless layer to (T, N, ...) as one batch of T x N samples."""
    out = layer(x.flatten(0, 1))
    return out.view(x.shape[0], x.shape[1], *out.shape[1:])


class SpikingNet(nn.Module):
    """Conv blocks (conv, batch norm, max-pool, LIF), dense LIF blocks, a leaky readout.

    Args:
        coding: ``rate``, ``latency``, ``direct`` (coding.py) or ``events`` (input already (N, T, C, H, W)).
        steps: T, the number of time steps (ignored for events: the stream has its own).
        beta, threshold, alpha: the LIF leak, threshold and surrogate slope of every layer.
        seed: the generator of rate coding in evaluation mode, so that prediction is deterministic.
    """

    def __init__(self, in_channels: int = 1, size: int = 28, conv: list[int] | None = None, kernel: int = 3,
                 hidden: list[int] | None = None, classes: int = 10, coding: str = "direct", steps: int = 8,
                 beta: float = 0.9, threshold: float = 1.0, alpha: float = 2.0, seed: int = 0):
        super().__init__()
        self.coding, self.steps, self.seed = coding, steps, seed
        self.convs, self.norms, self.neurons = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        channels = in_channels
        for width in conv or []:
            self.convs.append(nn.Conv2d(channels, width, kernel, padding=kernel // 2, bias=False))
            self.norms.append(nn.BatchNorm2d(width))
            self.neurons.append(LIF(beta, threshold, alpha=alpha))
            channels, size = width, size // 2
        features = channels * size * size
        self.dense = nn.ModuleList()
        for width in hidden or []:
            self.dense.append(nn.Linear(features, width))
            self.neurons.append(LIF(beta, threshold, alpha=alpha))
            features = width
        self.out = nn.Linear(features, classes)
        self.readout = LeakyReadout(beta)
        self.pool = nn.MaxPool2d(2)
        self.record = False
        self.synapse_inputs: list[tuple[nn.Module, torch.Tensor]] = []

    def set_record(self, on: bool) -> None:
        """Keep each synapse's input and each neuron layer's spikes of the next forward pass."""
        self.record = on
        for neurons in self.neurons:
            neurons.record = on

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.coding == "events":
            if x.dim() != 5:
                raise ValueError(f"coding events: expected (N, T, C, H, W), got shape {tuple(x.shape)}")
            return x.transpose(0, 1)
        generator = None
        if self.coding == "rate" and not self.training:
            generator = torch.Generator(device=x.device).manual_seed(self.seed)
        return encode(x, self.coding, self.steps, generator)

    def _keep(self, layer: nn.Module, x: torch.Tensor) -> None:
        if self.record:
            self.synapse_inputs.append((layer, x.detach()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.synapse_inputs = []
        h = self.encode(x)  # (T, N, ...)
        n_steps = h.shape[0]
        neurons = iter(self.neurons)
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            if i == 0 and self.coding == "direct":
                # The same current at every step: compute it once, repeat it T times.
                self._keep(conv, x.unsqueeze(0))  # one analog pass, not T
                current = self.pool(norm(conv(x)))
                current = current.unsqueeze(0).expand(n_steps, *current.shape)
            else:
                self._keep(conv, h)
                current = time_distributed(lambda z, c=conv, b=norm: self.pool(b(c(z))), h)
            h = next(neurons)(current)
        h = h.flatten(2)
        for layer in self.dense:
            self._keep(layer, h)
            h = next(neurons)(layer(h))
        self._keep(self.out, h)
        return self.readout(self.out(h))


def snn_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The training step (core.training.fit): cross-entropy of the time-averaged readout and
    accuracy. Inputs are cast to float, so event streams may be stored as uint8."""
    inputs, labels = batch
    logits = model(inputs.float())
    return {"loss": nn.functional.cross_entropy(logits, labels), "acc": (logits.argmax(1) == labels).float().mean()}


def model_from_config(config: dict[str, Any], base: Any = None) -> SpikingNet:
    """A fresh SNN from the config's ``model`` block, its weights drawn from the fit seed."""
    del base
    torch.manual_seed(int(config["fit"]["seed"]))
    return SpikingNet(**config["model"])


def connection_count(layer: nn.Module, inputs: torch.Tensor) -> float:
    """sum over outputs of the 0/1-weight copy of ``layer`` applied to ``inputs``: the number
    of (non-zero input, connection) pairs, i.e. operations (part 4)."""
    with torch.no_grad():
        if isinstance(layer, nn.Conv2d):
            ones = torch.ones_like(layer.weight)
            return float(torch.nn.functional.conv2d((inputs != 0).float(), ones, None, layer.stride,
                                                    layer.padding, layer.dilation, layer.groups).sum())
        if isinstance(layer, nn.Linear):
            return float(((inputs != 0).float().flatten(0, -2) @ torch.ones_like(layer.weight).T).sum())
    raise TypeError(f"connection_count: conv2d or linear layers only, got {type(layer).__name__}")


def operation_counts(model: SpikingNet, x: torch.Tensor) -> list[dict[str, Any]]:
    """Per synapse layer, per image: accumulates driven by spikes (SNN), multiply-accumulates
    of analog inputs (the first layer under direct coding) and the MACs of the same layer in
    the equivalent ANN (every input present, one pass). Also each neuron layer's spike rate
    (spikes per neuron per step)."""
    model.eval()
    model.set_record(True)
    try:
        with torch.no_grad():
            model(x)
        rows, n = [], len(x)
        for i, (layer, inputs) in enumerate(model.synapse_inputs):  # inputs (T, N, ...); T = 1 for direct coding
            analog = not bool(((inputs == 0) | (inputs == 1)).all())
            ann = connection_count(layer, torch.ones_like(inputs[0, :1]))
            # Analog input: a dense pass of MACs, as in the ANN (no credit taken for zero pixels).
            ops = ann if analog else connection_count(layer, inputs.flatten(0, 1)) / n
            rows.append({"layer": f"{i}:{type(layer).__name__.lower()}", "snn_acs": 0.0 if analog else ops,
                         "snn_macs": ops if analog else 0.0, "ann_macs": ann,
                         "input_spike_rate": float("nan") if analog else float(inputs.mean()),
                         "output_spike_rate": float("nan")})
        for row, neurons in zip(rows, model.neurons):  # synapse i drives neuron layer i; the readout does not spike
            row["output_spike_rate"] = float(neurons.spikes.mean())
        return rows
    finally:
        model.set_record(False)


def energy_table(counts: list[dict[str, Any]], add_pj: float, mult_pj: float) -> "pd.DataFrame":
    """Per layer and in total: SNN accumulates / MACs against the ANN's MACs, and energies in
    pJ per image from the per-operation energies (an estimate: arithmetic only, no memory
    access, no neuron updates): an accumulate costs an add, a MAC a multiply and an add."""
    import pandas as pd

    add, mac = float(add_pj), float(add_pj) + float(mult_pj)
    table = pd.DataFrame(counts)
    total = table[["snn_acs", "snn_macs", "ann_macs"]].sum()
    table = pd.concat([table, pd.DataFrame([{"layer": "total", **total.to_dict()}])], ignore_index=True)
    table["snn_pj"] = table["snn_acs"] * add + table["snn_macs"] * mac
    table["ann_pj"] = table["ann_macs"] * mac
    table["ann_over_snn"] = table["ann_pj"] / table["snn_pj"].where(table["snn_pj"] > 0)
    return table
