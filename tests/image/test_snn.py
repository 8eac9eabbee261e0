"""image/snn.py: the LIF neuron and surrogate gradient against snntorch (the reference),
the codings, the spiking network and the operation counts."""

from __future__ import annotations

import math

import pytest
import torch

from dl_roadmap.image.snn import (
    LIF,
    SpikingNet,
    connection_count,
    encode,
    energy_table,
    integrate_and_fire,
    latency_code,
    operation_counts,
    rate_code,
    snn_step,
    spike,
)

TOL = 1e-6


def snntorch_leaky(currents: torch.Tensor, beta: float, threshold: float, reset: str) -> tuple[torch.Tensor, torch.Tensor]:
    import snntorch

    neuron = snntorch.Leaky(beta=beta, threshold=threshold, reset_mechanism=reset)
    mem = neuron.init_leaky()
    spikes, trace = [], []
    for current in currents:
        spk, mem = neuron(current, mem)
        spikes.append(spk)
        trace.append(mem)
    return torch.stack(spikes), torch.stack(trace)


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("beta, threshold", [(0.9, 1.0), (0.5, 0.7), (1.0, 1.0)])
def test_lif_equals_snntorch_leaky(reset: str, beta: float, threshold: float) -> None:
    """Same membrane and spike traces as snntorch's Leaky to 1e-6, and the same gradient
    through the surrogate (to 1e-6 relative)."""
    currents = torch.rand(60, 8, 32, generator=torch.Generator().manual_seed(0)) * 0.7
    ours_in, ref_in = currents.clone().requires_grad_(True), currents.clone().requires_grad_(True)
    layer = LIF(beta, threshold, reset=reset)
    layer.record = True
    spikes = layer(ours_in)
    ref_spikes, ref_mem = snntorch_leaky(ref_in, beta, threshold, reset)
    assert spikes.sum() > 100, "the neurons fire, so resets are exercised"
    assert (layer.mem - ref_mem).abs().max() <= TOL
    assert (spikes - ref_spikes).abs().max() <= TOL
    weights = torch.linspace(-1, 1, 32)
    (spikes * weights).sum().backward()
    (ref_spikes * weights).sum().backward()
    # Gradients summed over 60 steps reach ~30: float rounding in another order, so relative.
    assert torch.allclose(ours_in.grad, ref_in.grad, rtol=TOL, atol=TOL)


def test_surrogate_gradient_is_the_arctan_derivative() -> None:
    x = torch.linspace(-2, 2, 41, requires_grad=True)
    out = spike(x, alpha=2.0)
    assert torch.equal(out, (x > 0).float())
    out.sum().backward()
    expected = 1.0 / (1 + (math.pi * x.detach()) ** 2)
    assert torch.allclose(x.grad, expected, atol=1e-7)


def test_lif_integrates_leaks_and_resets_by_hand() -> None:
    """Constant current 0.5, beta 0.5, threshold 1: U = 0.5, 0.75, 0.875, 0.9375, ...; never
    fires. Current 0.6: U = 0.6, 0.9, 1.05 (fires), then 0.525 + 0.6 - 1 = 0.125."""
    layer = LIF(beta=0.5, threshold=1.0)
    layer.record = True
    assert layer(torch.full((4, 1), 0.5)).sum() == 0
    assert torch.allclose(layer.mem[:, 0], torch.tensor([0.5, 0.75, 0.875, 0.9375]))
    spikes = layer(torch.full((4, 1), 0.6))
    assert spikes[:, 0].tolist() == [0, 0, 1, 0]
    assert torch.allclose(layer.mem[:, 0], torch.tensor([0.6, 0.9, 1.05, 0.125]))


def test_bad_beta_fails_naming_it() -> None:
    with pytest.raises(ValueError, match="beta"):
        LIF(beta=1.5)


def test_integrate_and_fire_rate_follows_a_clipped_relu() -> None:
    currents = torch.tensor([0.0, 0.25, 0.5, 1.0, 2.0]).expand(400, 5)
    rate = integrate_and_fire(currents, reset="subtract").mean(0)
    assert torch.allclose(rate, torch.tensor([0.0, 0.25, 0.5, 1.0, 1.0]), atol=0.01)


def test_rate_code_fires_with_the_pixel_probability() -> None:
    x = torch.tensor([0.0, 0.2, 0.7, 1.0])
    spikes = rate_code(x, 5000, torch.Generator().manual_seed(0))
    assert spikes.shape == (5000, 4)
    assert torch.allclose(spikes.mean(0), x, atol=0.02)


def test_latency_code_equals_snntorch_linear_latency() -> None:
    from snntorch import spikegen

    x = torch.rand(4, 100, generator=torch.Generator().manual_seed(1))
    x[0, :10] = 0.0
    ours = latency_code(x, 12)
    reference = spikegen.latency(x, num_steps=12, threshold=0.01, linear=True, normalize=True, clip=True)
    assert torch.equal(ours, reference)
    assert (ours.sum(0) <= 1).all(), "at most one spike per pixel"
    assert ours[:, 0, :10].sum() == 0, "dark pixels never fire"


def test_encode_rejects_an_unknown_coding() -> None:
    with pytest.raises(ValueError, match="coding"):
        encode(torch.rand(2, 3), "phase", 4)


@pytest.mark.parametrize("coding", ["rate", "latency", "direct"])
def test_snn_maps_images_to_logits_and_predicts_deterministically(coding: str) -> None:
    torch.manual_seed(0)
    model = SpikingNet(conv=[4, 8], hidden=[16], steps=3, coding=coding).eval()
    x = torch.rand(5, 1, 28, 28)
    first, second = model(x), model(x)
    assert first.shape == (5, 10)
    assert torch.equal(first, second)


def test_snn_trains_through_time() -> None:
    """Backpropagation through time lowers the loss on a separable task."""
    torch.manual_seed(0)
    model = SpikingNet(conv=[], hidden=[32], steps=6, coding="rate")
    x = torch.rand(64, 1, 28, 28) * 0.3
    y = torch.randint(0, 2, (64,))
    x[y == 1, :, :14] += 0.6
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    losses = []
    for _ in range(30):
        loss = snn_step(model, (x, y))["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_event_input_must_be_five_dimensional() -> None:
    model = SpikingNet(in_channels=2, size=34, conv=[4], coding="events")
    assert model(torch.zeros(3, 5, 2, 34, 34)).shape == (3, 10)
    with pytest.raises(ValueError, match="events"):
        model(torch.zeros(3, 2, 34, 34))


def test_connection_count_is_spikes_times_fan_out() -> None:
    layer = torch.nn.Linear(6, 4)
    spikes = torch.tensor([[1.0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1]])
    assert connection_count(layer, spikes) == 3 * 4
    conv = torch.nn.Conv2d(1, 2, 3, padding=1)
    one_spike = torch.zeros(1, 1, 5, 5)
    one_spike[0, 0, 2, 2] = 1
    assert connection_count(conv, one_spike) == 2 * 9, "an inner spike reaches 3 x 3 positions of 2 maps"


def test_operation_counts_and_energy() -> None:
    torch.manual_seed(0)
    model = SpikingNet(conv=[4], hidden=[8], steps=3, coding="direct")
    counts = operation_counts(model, torch.rand(4, 1, 28, 28))
    assert [c["layer"] for c in counts] == ["0:conv2d", "1:linear", "2:linear"]
    # a 3 x 3 kernel with padding 1 on 28 x 28 sees 9 pixels inside, fewer on the border:
    # 26 x 26 x 9 + 4 x 26 x 6 + 4 x 4 = 6,724 pixel-weight pairs per map, a dense analog pass
    assert counts[0]["snn_macs"] == counts[0]["ann_macs"] == 4 * 6724
    assert counts[1]["ann_macs"] == 4 * 14 * 14 * 8
    table = energy_table(counts, add_pj=0.9, mult_pj=3.7)
    total = table.iloc[-1]
    assert total["layer"] == "total"
    assert total["ann_pj"] == pytest.approx(4.6 * sum(c["ann_macs"] for c in counts))
    assert total["snn_pj"] == pytest.approx(0.9 * sum(c["snn_acs"] for c in counts) + 4.6 * counts[0]["snn_macs"])
    assert not model.record, "recording is switched off again"
