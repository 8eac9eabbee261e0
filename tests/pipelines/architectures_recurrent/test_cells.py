"""The cells written from their gate equations against torch.nn.RNN/LSTM/GRU with copied
weights: outputs, final states and every gradient agree to 1e-5."""

from __future__ import annotations

import pytest
import torch

from dl_roadmap.pipelines.architectures_recurrent.cells import Recurrent, copy_from_torch, torch_layer

TOLERANCE = 1e-5


def _pair(kind: str, inputs: int = 5, hidden: int = 7) -> tuple[Recurrent, torch.nn.Module]:
    torch.manual_seed(0)
    reference = torch_layer(kind, inputs, hidden)
    return copy_from_torch(Recurrent(kind, inputs, hidden), reference), reference


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_outputs_and_final_state_match_torch(kind: str) -> None:
    ours, reference = _pair(kind)
    x = torch.randn(4, 9, 5)
    out, state = ours(x)
    ref_out, ref_state = reference(x)
    torch.testing.assert_close(out, ref_out, atol=TOLERANCE, rtol=0)
    for a, b in zip(state if kind == "lstm" else (state,), ref_state if kind == "lstm" else (ref_state,)):
        torch.testing.assert_close(a, b, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_a_given_initial_state_is_used(kind: str) -> None:
    ours, reference = _pair(kind)
    x = torch.randn(3, 6, 5)
    h0 = torch.randn(1, 3, 7)
    state = (h0, torch.randn(1, 3, 7)) if kind == "lstm" else h0
    torch.testing.assert_close(ours(x, state)[0], reference(x, state)[0], atol=TOLERANCE, rtol=0)
    assert not torch.allclose(ours(x, state)[0], ours(x)[0]), "the initial state changes the outputs"


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_gradients_match_torch(kind: str) -> None:
    ours, reference = _pair(kind)
    x = torch.randn(4, 12, 5)
    weights = torch.randn(4, 12, 7)  # a loss that reads every output step
    grads = []
    for model in (ours, reference):
        inputs = x.clone().requires_grad_(True)
        out, state = model(inputs)
        final = state[1] if kind == "lstm" else state  # the cell state too, for the LSTM
        ((out * weights).sum() + final.pow(2).sum()).backward()
        grads.append([inputs.grad] + [p.grad for p in model.parameters()])
    for ours_grad, ref_grad in zip(*grads):
        torch.testing.assert_close(ours_grad, ref_grad, atol=TOLERANCE, rtol=0)


def test_copy_refuses_other_sizes() -> None:
    with pytest.raises(ValueError, match="weight_ih"):
        copy_from_torch(Recurrent("gru", 5, 7), torch_layer("gru", 4, 7))


def test_unknown_cell_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        Recurrent("transformer", 3, 3)
