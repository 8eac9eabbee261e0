"""MAML's meta-gradient: second order against finite differences and an explicit double
backward; first order equals second order with the Hessian term dropped."""

from __future__ import annotations

import torch
from torch import nn

from dl_roadmap.image.fewshot_episodes import Conv4
from dl_roadmap.image.fewshot_maml import adapt, initial_params, meta_loss, task_loss, transductive_batch_norm


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(3, 4)
        self.out_features = 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.layer(x))


def tiny_task(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    body = Tiny().double()
    data = (torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randint(0, 2, (6,), generator=g),
            torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randint(0, 2, (6,), generator=g))
    return body, data


def query_loss(body, data, second_order: bool, steps: int = 2, lr: float = 0.5) -> torch.Tensor:
    xs, ys, xq, yq = data
    params = {k: v.double() for k, v in initial_params(body, 2).items()}
    return task_loss(body, adapt(body, params, xs, ys, steps, lr, second_order), xq, yq)


def test_second_order_meta_gradient_matches_finite_differences() -> None:
    body, data = tiny_task()
    analytic = torch.autograd.grad(query_loss(body, data, True), body.layer.weight)[0]
    weight, numeric, eps = body.layer.weight, torch.zeros_like(body.layer.weight), 1e-6
    with torch.no_grad():
        for i in range(weight.numel()):
            weight.view(-1)[i] += eps
            plus = query_loss(body, data, True).item()
            weight.view(-1)[i] -= 2 * eps
            minus = query_loss(body, data, True).item()
            weight.view(-1)[i] += eps
            numeric.view(-1)[i] = (plus - minus) / (2 * eps)
    assert torch.allclose(analytic, numeric, atol=1e-8)


def explicit_inner_step(body, data, lr, keep_graph: bool):
    """One inner step with torch.autograd.grad (the reference for torch.func)."""
    xs, ys, xq, yq = data
    params = {k: v.double() for k, v in initial_params(body, 2).items()}
    names = list(params)
    grads = torch.autograd.grad(task_loss(body, params, xs, ys), [params[n] for n in names], create_graph=keep_graph)
    adapted = {n: params[n] - lr * g for n, g in zip(names, grads)}
    return task_loss(body, adapted, xq, yq), adapted


def test_second_order_equals_an_explicit_double_backward() -> None:
    body, data = tiny_task(1)
    ours = torch.autograd.grad(query_loss(body, data, True, steps=1), list(body.parameters()))
    loss, _ = explicit_inner_step(body, data, 0.5, keep_graph=True)
    reference = torch.autograd.grad(loss, list(body.parameters()))
    for a, b in zip(ours, reference):
        assert torch.allclose(a, b, atol=1e-12)


def test_first_order_is_the_query_gradient_at_the_adapted_parameters() -> None:
    body, data = tiny_task(2)
    first = torch.autograd.grad(query_loss(body, data, False, steps=1), list(body.parameters()))
    # with the inner gradient detached, d theta_1 / d theta = I: the meta-gradient is grad L_Q(theta_1)
    loss, adapted = explicit_inner_step(body, data, 0.5, keep_graph=False)
    names = [n for n, _ in body.named_parameters()]
    at_adapted = torch.autograd.grad(loss, [adapted[n] for n in names])
    for a, b in zip(first, at_adapted):
        assert torch.allclose(a, b, atol=1e-12)
    second = torch.autograd.grad(query_loss(body, data, True, steps=1), list(body.parameters()))
    assert not all(torch.allclose(a, b) for a, b in zip(first, second)), "the Hessian term is not zero here"


def test_inner_steps_lower_the_support_loss_and_meta_loss_backpropagates() -> None:
    torch.manual_seed(0)
    body = transductive_batch_norm(Conv4(8))
    xs, ys = torch.rand(10, 1, 28, 28), torch.arange(5).repeat_interleave(2)
    losses = []
    adapt(body, initial_params(body, 5), xs, ys, 3, 0.4, False,
          on_step=lambda j, p: losses.append(float(task_loss(body, p, xs, ys).detach())))
    assert len(losses) == 4 and losses[-1] < losses[0]
    loss, accuracy = meta_loss(body, [(xs, ys, xs, ys)], 5, 1, 0.4, second_order=True)
    loss.backward()
    assert all(p.grad is not None for p in body.parameters()) and 0 <= accuracy <= 1
