"""The self-supervised objectives against independent computations: NT-Xent as an explicit
double loop over the paper's Eq. 1 and a hand-computed case, MoCo's InfoNCE as a loop,
BYOL's loss as the squared distance of unit vectors, alignment / uniformity as pair loops
and as Wang & Isola's published code (torch.pdist)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dl_roadmap.image.ssl_losses import alignment, info_nce_queue, normalized_regression, nt_xent, uniformity


def nt_xent_loop(z1: torch.Tensor, z2: torch.Tensor, tau: float) -> float:
    """Chen et al. 2020, Algorithm 1 written literally: l(i, j) over both orders of each pair."""
    z = [F.normalize(v, dim=0) for v in torch.cat([z1, z2])]
    n2 = len(z)

    def l(i: int, j: int) -> float:
        numerator = math.exp(float(z[i] @ z[j]) / tau)
        denominator = sum(math.exp(float(z[i] @ z[k]) / tau) for k in range(n2) if k != i)
        return -math.log(numerator / denominator)

    n = n2 // 2
    return sum(l(k, k + n) + l(k + n, k) for k in range(n)) / n2


@pytest.mark.parametrize("tau", [0.1, 0.5, 1.0])
def test_nt_xent_equals_the_papers_double_loop(tau: float) -> None:
    torch.manual_seed(0)
    z1, z2 = torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    loss, _ = nt_xent(z1, z2, tau)
    assert float(loss) == pytest.approx(nt_xent_loop(z1, z2, tau), rel=1e-10)


def test_nt_xent_by_hand() -> None:
    """Two images, views at angles 0, 90 (image 1) and 0, 180 (image 2) degrees, tau = 1.
    View 1 = (1, 0), its positive view 3 = (0, 1) (cos 0), negatives view 2 = (1, 0) (cos 1)
    and view 4 = (-1, 0) (cos -1): l = -log(e^0 / (e^1 + e^0 + e^-1))."""
    z1 = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    z2 = torch.tensor([[0.0, 1.0], [-1.0, 0.0]])
    e = math.e
    l1 = -math.log(1 / (e + 1 + 1 / e))            # view 1: sims to 2, 3, 4 = 1, 0, -1; positive 3
    l2 = -math.log(math.exp(-1) / (math.exp(1) + 1 + math.exp(-1)))
    l3 = -math.log(1 / (1 + 1 + 1))                # view 3 = (0, 1): sims 0, 0, 0; positive 1
    l4 = -math.log(math.exp(-1) / (math.exp(-1) + math.exp(-1) + 1))  # view 4: sims -1, -1, 0; positive 2
    loss, accuracy = nt_xent(z1, z2, 1.0)
    assert float(loss) == pytest.approx((l1 + l2 + l3 + l4) / 4, rel=1e-6)
    assert 0 <= float(accuracy) <= 1


def test_nt_xent_is_small_when_views_agree_and_differ_from_the_rest() -> None:
    z = torch.eye(8)
    agreeing, _ = nt_xent(z, z, 0.1)
    shuffled, _ = nt_xent(z, z[torch.randperm(8, generator=torch.Generator().manual_seed(1))], 0.1)
    assert float(agreeing) < 1e-3 < float(shuffled)


def test_info_nce_equals_a_loop() -> None:
    torch.manual_seed(0)
    q, k = F.normalize(torch.randn(4, 3, dtype=torch.float64), dim=1), F.normalize(torch.randn(4, 3, dtype=torch.float64), dim=1)
    queue = F.normalize(torch.randn(7, 3, dtype=torch.float64), dim=1)
    tau = 0.2
    expected = 0.0
    for i in range(4):
        positive = math.exp(float(q[i] @ k[i]) / tau)
        negatives = sum(math.exp(float(q[i] @ queue[j]) / tau) for j in range(7))
        expected += -math.log(positive / (positive + negatives)) / 4
    loss, _ = info_nce_queue(q, k, queue, tau)
    assert float(loss) == pytest.approx(expected, rel=1e-10)


def test_byol_loss_is_the_squared_distance_of_unit_vectors() -> None:
    torch.manual_seed(0)
    p, z = torch.randn(5, 4), torch.randn(5, 4)
    expected = (F.normalize(p, dim=1) - F.normalize(z, dim=1)).pow(2).sum(1).mean()
    assert float(normalized_regression(p, z)) == pytest.approx(float(expected), rel=1e-5)


def test_alignment_and_uniformity_against_loops_and_the_published_code() -> None:
    torch.manual_seed(0)
    x, y = F.normalize(torch.randn(20, 3, dtype=torch.float64), dim=1), F.normalize(torch.randn(20, 3, dtype=torch.float64), dim=1)
    assert alignment(x, y) == pytest.approx(float(sum((x[i] - y[i]).norm() ** 2 for i in range(20)) / 20), rel=1e-10)
    pairs = [(i, j) for i in range(20) for j in range(i + 1, 20)]
    loop = math.log(sum(math.exp(-2 * float((x[i] - x[j]).norm() ** 2)) for i, j in pairs) / len(pairs))
    assert uniformity(x) == pytest.approx(loop, rel=1e-8)
    published = torch.pdist(x, p=2).pow(2).mul(-2).exp().mean().log()   # Wang & Isola's lunif
    assert uniformity(x) == pytest.approx(float(published), rel=1e-8)
    collapsed = x[:1].repeat(20, 1)
    assert uniformity(collapsed) == pytest.approx(0.0, abs=1e-6) and alignment(collapsed, collapsed) == 0
