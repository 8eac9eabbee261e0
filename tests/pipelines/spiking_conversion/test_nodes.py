"""spiking_conversion: data-based normalisation and the IF simulation."""

from __future__ import annotations

import torch

from dl_roadmap.pipelines.spiking_conversion.conversion import (
    BiasFreeMLP,
    layer_scales,
    normalised_weights,
    simulate,
)


def test_normalisation_makes_every_layers_max_activation_one() -> None:
    torch.manual_seed(0)
    model = BiasFreeMLP([20, 20], inputs=30)
    x = torch.rand(200, 30)
    scales = layer_scales(model, x, 100.0)
    normalised = BiasFreeMLP([20, 20], inputs=30)
    for layer, w in zip(normalised.layers, normalised_weights(model, scales)):
        layer.weight.data = w
    assert all(torch.isclose(a.max(), torch.tensor(1.0)) for a in normalised.activations(x))
    # A positive rescaling per layer leaves the classes unchanged (ReLU, no biases).
    assert torch.equal(model.eval()(x).argmax(1), normalised.eval()(x).argmax(1))


def test_percentile_scales_are_below_the_max() -> None:
    torch.manual_seed(0)
    model = BiasFreeMLP([16], inputs=10)
    x = torch.rand(500, 10)
    assert all(p <= m for p, m in zip(layer_scales(model, x, 99.0), layer_scales(model, x, 100.0)))


def test_if_network_approaches_the_ann_as_t_grows() -> None:
    """A normalised net converted to IF neurons: the rate read over many steps agrees with
    the ANN's class on most inputs, more than after one step."""
    torch.manual_seed(0)
    model = BiasFreeMLP([32], inputs=20, classes=4)
    x = torch.rand(300, 20)
    ann = model.eval()(x).argmax(1).numpy()
    weights = normalised_weights(model, layer_scales(model, x, 100.0))
    predictions = simulate(weights, x, 200, reset="subtract", seed=0)
    agreement = (predictions == ann[None]).mean(1)
    assert predictions.shape == (200, 300)
    assert agreement[-1] > 0.85 and agreement[-1] > agreement[0]
