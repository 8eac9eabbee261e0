"""Tests for dl_roadmap.image.autoencoder: shapes, the reconstruction step, the classifiers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from dl_roadmap.image.autoencoder import (
    ConvAutoencoder, ConvEncoder, DigitClassifier, build_classifier, classifier_from_config, reconstruction_step,
)


@pytest.mark.parametrize("channels", [(8,), (8, 16), (8, 16, 16)])
def test_autoencoder_shapes_for_each_depth(channels):
    model = ConvAutoencoder(latent_dim=12, channels=channels)
    x = torch.rand(3, 1, 28, 28)
    assert model.encoder(x).shape == (3, 12)
    assert model(x).shape == x.shape
    assert DigitClassifier(model.encoder)(x).shape == (3, 10)
    assert model.encoder.sizes == [28, 14, 7, 4][: len(channels) + 1]


def test_reconstruction_step_reconstructs_the_clean_image():
    model = ConvAutoencoder(8, (4,))
    batch = (torch.rand(4, 1, 28, 28),)
    model.train()
    noisy = reconstruction_step(model, batch, denoising={"kind": "mask", "level": 0.5})
    model.eval()
    clean = reconstruction_step(model, batch, denoising={"kind": "mask", "level": 0.5})
    assert set(noisy) == {"loss", "mse"} and noisy["loss"].requires_grad
    # in eval mode no corruption is applied, so the result is deterministic
    torch.testing.assert_close(clean["loss"], reconstruction_step(model, batch)["loss"])
    with torch.no_grad():
        logits = model(batch[0])
    torch.testing.assert_close(clean["loss"], F.binary_cross_entropy_with_logits(logits, batch[0]))
    torch.testing.assert_close(clean["mse"], F.mse_loss(torch.sigmoid(logits), batch[0]))


def test_build_classifier_copies_pretrained_encoder_or_starts_fresh():
    autoencoder = ConvAutoencoder(8, (4, 8))
    pretrained = build_classifier(autoencoder, {"model": {"hidden": 16}}, pretrained=True)
    scratch = build_classifier(autoencoder, {"model": {"hidden": 16}}, pretrained=False)
    first = "features.0.0.weight"
    torch.testing.assert_close(pretrained.encoder.state_dict()[first], autoencoder.encoder.state_dict()[first])
    assert not torch.equal(scratch.encoder.state_dict()[first], autoencoder.encoder.state_dict()[first])
    assert scratch.encoder.channels == (4, 8) and scratch.encoder.latent_dim == 8
    pretrained.encoder.features[0][0].weight.data.zero_()
    assert autoencoder.encoder.features[0][0].weight.abs().sum() > 0, "fine-tuning must not alter the autoencoder"


def test_stage_builder_uses_the_pretrained_encoder_or_a_fresh_shaped_one():
    autoencoder = ConvAutoencoder(8, (4, 8))
    tuned = classifier_from_config({"model": {"hidden": 16, "dropout": 0.1}}, autoencoder)
    torch.testing.assert_close(tuned.encoder.to_code.weight, autoencoder.encoder.to_code.weight)
    assert tuned.head[2].out_features == 16
    student = classifier_from_config(
        {"pretrained": False, "encoder": {"channels": [2, 4], "latent_dim": 6}, "model": {"hidden": 8}}, autoencoder)
    assert isinstance(student.encoder, ConvEncoder)
    assert student.encoder.channels == (2, 4) and student.encoder.latent_dim == 6
    assert student(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    default_shape = classifier_from_config({"pretrained": False}, autoencoder)
    assert default_shape.encoder.channels == (4, 8) and default_shape.encoder.latent_dim == 8
