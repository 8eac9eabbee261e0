"""The pretraining methods: MoCo's momentum update and FIFO queue, BYOL's stop-gradient and
momentum schedule, the views, rotation targets, and that every method trains through fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dl_roadmap.image.autoencoder import ConvEncoder
from dl_roadmap.image.ssl_augment import random_view, two_views
from dl_roadmap.image.ssl_methods import BYOL, MoCo, RotationPrediction, SimCLR, cosine_momentum, ema_update
from dl_roadmap.image.data import balanced_indices
from dl_roadmap.image.ssl_train import KINDS, pretrain

HEAD = {"hidden": 8, "out": 4, "layers": 2}


def encoder() -> ConvEncoder:
    torch.manual_seed(0)
    return ConvEncoder(8, (4, 8))


def test_ema_update_is_the_momentum_rule() -> None:
    target, online = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = target.weight.detach().clone()
    ema_update(target, online, 0.9)
    assert torch.allclose(target.weight, 0.9 * before + 0.1 * online.weight)


def test_moco_key_encoder_follows_the_query_encoder_by_momentum() -> None:
    moco = MoCo(encoder(), HEAD, queue_size=16, momentum=0.9)
    assert all(not p.requires_grad for p in moco.key_encoder.parameters())
    with torch.no_grad():
        for p in moco.encoder.parameters():
            p.add_(1.0)
    key_before = [p.clone() for p in moco.key_encoder.parameters()]
    moco.momentum_update()
    for k_old, k_new, q in zip(key_before, moco.key_encoder.parameters(), moco.encoder.parameters()):
        assert torch.allclose(k_new, 0.9 * k_old + 0.1 * q)


def test_moco_queue_is_first_in_first_out() -> None:
    moco = MoCo(encoder(), HEAD, queue_size=5)
    first, second = torch.ones(3, 4), 2 * torch.ones(3, 4)
    moco.enqueue(first)
    assert int(moco.queue_ptr) == 3 and torch.equal(moco.queue[:3], first)
    moco.enqueue(second)   # wraps: rows 3, 4 then 0 take the second batch; the oldest (row 0) goes first
    assert int(moco.queue_ptr) == 1
    assert torch.equal(moco.queue[[3, 4, 0]], second) and torch.equal(moco.queue[1:3], first[1:])


def test_moco_step_enqueues_its_keys_and_no_gradient_reaches_the_key_encoder() -> None:
    moco = MoCo(encoder(), HEAD, queue_size=32, bn_splits=2).train()
    images = torch.rand(8, 1, 28, 28)
    out = moco.ssl_loss(images, {}, 0)
    out["loss"].backward()
    assert int(moco.queue_ptr) == 8
    assert all(p.grad is None for p in moco.key_encoder.parameters())
    assert any(p.grad is not None for p in moco.encoder.parameters())
    moco.eval()
    moco.ssl_loss(images, {}, 0)
    assert int(moco.queue_ptr) == 8, "validation never writes the queue"


def test_byol_stop_gradient_no_gradient_reaches_the_target() -> None:
    byol = BYOL(encoder(), HEAD, predictor_hidden=8, momentum=0.99, total_steps=10).train()
    out = byol.ssl_loss(torch.rand(6, 1, 28, 28), {}, 0)
    out["loss"].backward()
    assert all(p.grad is None for p in byol.target_encoder.parameters())
    assert all(p.grad is None for p in byol.target_projector.parameters())
    assert all(p.grad is not None for p in byol.predictor.parameters())


def test_byol_loss_gradient_is_the_one_of_a_fixed_target() -> None:
    """With the stop-gradient, d loss / d p equals the gradient against a constant target."""
    byol = BYOL(encoder(), HEAD, predictor_hidden=8, total_steps=10).eval()
    torch.manual_seed(3)
    out = byol.ssl_loss(torch.rand(6, 1, 28, 28), {}, 0)
    grads = torch.autograd.grad(out["loss"], list(byol.predictor.parameters()))
    assert all(torch.isfinite(g).all() for g in grads)
    assert not any(p.requires_grad for p in byol.target_encoder.parameters())


def test_byol_momentum_schedule_rises_from_base_to_one() -> None:
    assert cosine_momentum(0.99, 0, 100) == pytest.approx(0.99)
    assert cosine_momentum(0.99, 50, 100) == pytest.approx(0.995)
    assert cosine_momentum(0.99, 100, 100) == pytest.approx(1.0)


def test_rotation_prediction_learns_four_rotations() -> None:
    model = RotationPrediction(encoder(), {"hidden": 8}).train()
    out = model.ssl_loss(torch.rand(5, 1, 28, 28), None, 0)
    assert out["loss"].ndim == 0 and 0 <= float(out["acc"]) <= 1


def test_views_stay_images_and_differ() -> None:
    torch.manual_seed(0)
    images = torch.rand(4, 1, 28, 28)
    v1, v2 = two_views(images, {"elastic_alpha": 0.05})
    assert v1.shape == images.shape and float(v1.min()) >= 0 and float(v1.max()) <= 1
    assert not torch.allclose(v1, v2)


def test_an_identity_view_is_the_image() -> None:
    """No crop, flip, rotation, warp, jitter or noise: the view is the image itself."""
    images = torch.rand(3, 1, 28, 28)
    same = random_view(images, {"crop_scale": (1.0, 1.0), "crop_ratio": (1.0, 1.0), "degrees": 0, "flip": 0,
                                "elastic_alpha": 0, "jitter_p": 0, "noise_p": 0})
    assert torch.allclose(same, images, atol=1e-5)


def test_simclr_contrastive_accuracy_is_a_share() -> None:
    out = SimCLR(encoder(), HEAD, 0.5).train().ssl_loss(torch.rand(6, 1, 28, 28), {}, 0)
    assert float(out["loss"]) > 0 and 0 <= float(out["acc"]) <= 1


@pytest.mark.parametrize("kind", KINDS)
def test_every_method_pretrains_through_fit(kind: str, tmp_path) -> None:
    rng = np.random.default_rng(0)
    splits = {"train_images": rng.integers(0, 255, (64, 28, 28)).astype(np.uint8), "train_labels": rng.integers(0, 10, 64)}
    shared = {"images": 64, "encoder": {"latent_dim": 8, "channels": [4, 8]}, "augment": {},
              "fit": {"max_epochs": 2, "batch_size": 16, "steps_per_epoch": 2, "checkpoint_dir": str(tmp_path)}}
    config = {"kind": kind, "head": HEAD, "queue_size": 32, "predictor_hidden": 8, "model": {"hidden": 8}}
    trained, history = pretrain(kind, config, splits, shared, {"accelerator": "cpu", "progress_bar": False}, f"t/{kind}")
    assert isinstance(trained, ConvEncoder) and not trained.training
    assert len(history) == 2 and np.isfinite(history["train_loss"]).all()


def test_balanced_indices_pick_each_class_equally() -> None:
    labels = np.repeat(np.arange(3), 10)
    index = balanced_indices(labels, 4, 0)
    assert np.bincount(labels[index]).tolist() == [4, 4, 4]
    assert len(balanced_indices(labels, "all", 0)) == 30
    with pytest.raises(ValueError, match="class 0 has only 10"):
        balanced_indices(labels, 11, 0)
