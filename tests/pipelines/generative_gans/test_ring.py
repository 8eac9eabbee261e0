"""The ring of Gaussians and its mode scores (pipelines/generative_gans/ring.py)."""

from __future__ import annotations

import math

import pytest
import torch

from dl_roadmap.pipelines.generative_gans.ring import RingGan, mode_scores, ring_centres, ring_samples, train_ring_gan

RING = {"modes": 8, "radius": 2.0, "std": 0.02}


def test_samples_sit_on_the_ring_in_equal_shares() -> None:
    points = ring_samples(8000, 8, 2.0, 0.02, torch.Generator().manual_seed(0))
    assert points.shape == (8000, 2)
    assert torch.allclose(points.norm(dim=1), torch.full((8000,), 2.0), atol=0.1)
    scores = mode_scores(points, **RING)
    assert scores["modes_covered"] == 8
    assert scores["high_quality"] > 0.98, "3 standard deviations hold 98.9% of a 2-d Gaussian"
    assert all(abs(count / 8000 - 1 / 8) < 0.02 for count in scores["per_mode"])
    assert abs(scores["largest_share"] - 1 / 8) < 0.02


def test_centres_are_evenly_spaced() -> None:
    centres = ring_centres(8, 2.0)
    gaps = (centres - centres.roll(1, 0)).norm(dim=1)
    assert torch.allclose(gaps, torch.full((8,), 2 * 2.0 * math.sin(math.pi / 8)))


def test_a_collapsed_generator_covers_one_mode() -> None:
    on_one_mode = ring_centres(8, 2.0)[3].repeat(500, 1)
    scores = mode_scores(on_one_mode, **RING)
    assert scores["modes_covered"] == 1 and scores["high_quality"] == 1.0 and scores["per_mode"][3] == 500
    assert scores["largest_share"] == 1.0


def test_points_between_modes_are_not_high_quality_and_a_thin_mode_is_not_covered() -> None:
    centres = ring_centres(8, 2.0)
    between = (centres + centres.roll(1, 0)) / 2
    assert mode_scores(between.repeat(10, 1), **RING)["high_quality"] == 0.0
    angle = torch.tensor(math.radians(10.0))      # each centre turned by 10 degrees: 0.35 from its own mode
    turn = torch.stack([torch.stack([angle.cos(), -angle.sin()]), torch.stack([angle.sin(), angle.cos()])])
    spread = mode_scores((centres @ turn.T).repeat(10, 1), **RING)
    assert spread["high_quality"] == 0.0 and spread["largest_share"] == 1 / 8, "spread, though off the modes"
    mostly_one = torch.cat([centres[0].repeat(995, 1), centres[1].repeat(5, 1)])
    assert mode_scores(mostly_one, **RING, min_share=0.01)["modes_covered"] == 1, "5 of 1,000 is under 1%"


def test_mode_scores_reject_points_that_are_not_2d() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        mode_scores(torch.zeros(10, 3), **RING)


def test_the_packed_discriminator_judges_groups_of_points() -> None:
    gan = RingGan(z_dim=4, hidden=8, pack=4, lr=1e-3, betas=(0.5, 0.999))
    points = torch.randn(12, 2)
    logits = gan.judge(points)
    assert logits.shape == (3,)
    assert torch.allclose(logits[1], gan.discriminator(points[4:8].reshape(1, 8)).squeeze())


def test_a_pack_that_does_not_divide_the_batch_is_refused() -> None:
    ring = {**RING, "z_dim": 4, "hidden": 8, "batch_size": 10, "lr": 1e-3, "betas": [0.5, 0.999], "steps": 2,
            "snapshot_every": 1, "samples": 10, "min_share": 0.01, "seed": 0}
    with pytest.raises(ValueError, match="batch_size 10 is not a multiple of packed's pack 4"):
        train_ring_gan(ring, {"pack": 4}, "packed", {"progress_bar": False})
