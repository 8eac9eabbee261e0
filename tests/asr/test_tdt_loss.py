"""The CPU TDT loss (dl_roadmap.asr.tdt_loss, tdt_reference, tdt_nemo): the vectorised loss
against the plain reference and against NeMo's own losses, and the hook that puts it into a
NeMo TDT model."""

from __future__ import annotations

import random

import pytest
import torch

from dl_roadmap.asr.tdt_loss import tdt_loss
from dl_roadmap.asr.tdt_nemo import CpuTDTLoss, use_cpu_tdt_loss
from dl_roadmap.asr.tdt_reference import tdt_loss_reference

VOCAB = 5  # tokens 0..4, blank = 5 (NeMo's layout: blank is the last token logit)
BLANK = VOCAB
# (frames, target tokens) per utterance: different lengths, an empty transcript, and
# T = U + 1 (the fewest frames that fit when 0 is not a duration).
LENGTHS = ((7, 3), (5, 2), (4, 0), (4, 3))


def make_batch(
    durations: list[int],
    lengths: tuple[tuple[int, int], ...] = LENGTHS,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    scale: float = 2.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random joint output (B, T, U+1, V+1+D), targets padded with blank, and lengths."""
    gen = torch.Generator().manual_seed(seed)
    frames = torch.tensor([t for t, _ in lengths])
    tokens = torch.tensor([u for _, u in lengths])
    shape = (len(lengths), int(frames.max()), int(tokens.max()) + 1, VOCAB + 1 + len(durations))
    joint = (scale * torch.randn(shape, generator=gen, dtype=torch.float64)).to(dtype).requires_grad_()
    targets = torch.randint(0, VOCAB, (len(lengths), int(tokens.max())), generator=gen)
    targets[torch.arange(targets.shape[1])[None, :] >= tokens[:, None]] = BLANK  # padding is ignored
    return joint, targets, frames, tokens


def losses_and_grad(loss_fn, joint, targets, frames, tokens, durations, **kwargs):
    """Per-utterance losses and the gradient of a weighted sum of them (so every
    utterance's gradient counts with a different weight)."""
    losses = loss_fn(joint, targets, frames, tokens, durations, BLANK, reduction="none", **kwargs)
    weights = torch.linspace(0.5, 1.5, losses.shape[0], dtype=losses.dtype)
    (grad,) = torch.autograd.grad((losses * weights).sum(), joint)
    return losses.detach(), grad


@pytest.mark.parametrize("durations", [[0, 1, 2], [0, 1, 2, 3, 4], [1, 2], [0, 2, 3], [0, 1]])
@pytest.mark.parametrize("sigma", [0.0, 0.02])
def test_vectorised_matches_reference(durations, sigma):
    """Loss values and gradients agree with the node-by-node reference to 1e-9 (float64)."""
    batch = make_batch(durations, seed=len(durations))
    fast, fast_grad = losses_and_grad(tdt_loss, *batch, durations, sigma=sigma)
    ref, ref_grad = losses_and_grad(tdt_loss_reference, *batch, durations, sigma=sigma)
    assert torch.isfinite(fast).all() and (fast > 0).all()
    torch.testing.assert_close(fast, ref, rtol=0, atol=1e-9)
    torch.testing.assert_close(fast_grad, ref_grad, rtol=0, atol=1e-9)
    # Cells outside each utterance's lattice (padding) get no gradient at all.
    joint, _, frames, tokens = batch
    for b, (t, u) in enumerate(zip(frames.tolist(), tokens.tolist())):
        assert fast_grad[b, t:].abs().sum() == 0 and fast_grad[b, :, u + 1 :].abs().sum() == 0


def test_sigma_is_charged_once_per_emission():
    """With durations [1], T = 2 and U = 1 there is one path, token then blank: sigma
    adds exactly 2 * sigma to its loss."""
    joint, targets, frames, tokens = make_batch([1], lengths=((2, 1),))
    plain = tdt_loss(joint, targets, frames, tokens, [1], BLANK, reduction="sum")
    shifted = tdt_loss(joint, targets, frames, tokens, [1], BLANK, sigma=0.3, reduction="sum")
    torch.testing.assert_close(shifted - plain, torch.tensor(0.6, dtype=torch.float64))


def test_gradcheck_float64():
    """Autograd's gradients match finite differences on a tiny case (with sigma)."""
    joint, targets, frames, tokens = make_batch([0, 1, 2], lengths=((3, 2), (4, 1)), scale=1.0)
    joint = joint.detach().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x: tdt_loss(x, targets, frames, tokens, [0, 1, 2], BLANK, sigma=0.05, reduction="none"),
        (joint,),
        eps=1e-6,
        atol=1e-6,
    )


def test_reductions():
    """Each reduction is the documented function of the per-utterance losses."""
    batch = make_batch([0, 1, 2])
    per = tdt_loss(*batch, [0, 1, 2], BLANK, reduction="none")
    lengths = batch[3].double().clamp(min=1)
    expected = {
        "sum": per.sum(),
        "mean_batch": per.mean(),
        "mean": (per / lengths).mean(),
        "mean_volume": per.sum() / lengths.sum(),
    }
    assert per.shape == (len(LENGTHS),)
    torch.testing.assert_close(tdt_loss(*batch, [0, 1, 2], BLANK, reduction=None), per)
    for name, value in expected.items():
        torch.testing.assert_close(tdt_loss(*batch, [0, 1, 2], BLANK, reduction=name), value)
        torch.testing.assert_close(tdt_loss_reference(*batch, [0, 1, 2], BLANK, reduction=name), value)


def test_float32_and_half_inputs():
    """float32 agrees with float64 to float32 precision; a bfloat16 joint is computed in float32."""
    joint, targets, frames, tokens = make_batch([0, 1, 2, 3, 4])
    exact = tdt_loss(joint, targets, frames, tokens, [0, 1, 2, 3, 4], BLANK, reduction="none")
    single = tdt_loss(joint.float(), targets, frames, tokens, [0, 1, 2, 3, 4], BLANK, reduction="none")
    assert single.dtype == torch.float32
    torch.testing.assert_close(single.double(), exact, rtol=1e-5, atol=1e-5)
    half = tdt_loss(joint.bfloat16(), targets, frames, tokens, [0, 1, 2, 3, 4], BLANK, reduction="none")
    assert half.dtype == torch.float32 and torch.isfinite(half).all()


def test_utterance_without_a_path_is_infinite_and_has_no_gradient():
    """Without duration 0 every token takes a frame: 3 tokens cannot fit in 3 frames
    (the final blank needs one more). That utterance is +inf; its neighbour is unaffected."""
    joint, targets, frames, tokens = make_batch([1, 2], lengths=((3, 3), (5, 2)))
    losses, grad = losses_and_grad(tdt_loss, joint, targets, frames, tokens, [1, 2])
    ref, _ = losses_and_grad(tdt_loss_reference, joint, targets, frames, tokens, [1, 2])
    assert losses[0] == float("inf") and ref[0] == float("inf")
    torch.testing.assert_close(losses[1], ref[1], rtol=0, atol=1e-9)
    assert grad[0].abs().sum() == 0 and torch.isfinite(grad).all() and grad[1].abs().sum() > 0


def test_omega_draws_the_rnnt_loss_like_nemo():
    """With probability omega a call computes the RNN-T loss (ignoring durations and
    sigma); the draw is one random() per call from the given generator."""
    durations = [0, 1, 2]
    batch = make_batch(durations)
    tdt = tdt_loss(*batch, durations, BLANK, sigma=0.02, reduction="none")
    rnnt = tdt_loss(*batch, durations, BLANK, sigma=0.02, omega=1.0, reduction="none")
    rnnt_ref = tdt_loss_reference(*batch, durations, BLANK, sigma=0.02, omega=1.0, reduction="none")
    torch.testing.assert_close(rnnt, rnnt_ref, rtol=0, atol=1e-9)
    assert not torch.allclose(tdt, rnnt)
    # RNN-T ignores the duration logits entirely.
    (grad,) = torch.autograd.grad(rnnt.sum(), batch[0])
    assert grad[..., VOCAB + 1 :].abs().sum() == 0
    tdt_plain = tdt_loss(*batch, durations, BLANK, reduction="none").detach()
    picked = []
    for seed in range(8):
        picks_rnnt = random.Random(seed).random() < 0.5
        got = tdt_loss(*batch, durations, BLANK, omega=0.5, reduction="none", rng=random.Random(seed))
        ref = tdt_loss_reference(*batch, durations, BLANK, omega=0.5, reduction="none", rng=random.Random(seed))
        torch.testing.assert_close(got, ref, rtol=0, atol=1e-9)
        torch.testing.assert_close(got.detach(), rnnt.detach() if picks_rnnt else tdt_plain)
        picked.append(picks_rnnt)
    assert any(picked) and not all(picked), "both branches were exercised"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: {**a, "joint": a["joint"][0]}, "joint must be 4-D"),
        (lambda a: {**a, "joint": a["joint"].long()}, "floating-point"),
        (lambda a: {**a, "durations": []}, "non-empty list"),
        (lambda a: {**a, "durations": [0]}, "value >= 1"),
        (lambda a: {**a, "durations": [0, 1, 1]}, "must not repeat"),
        (lambda a: {**a, "durations": [-1, 1, 2]}, "ints >= 0"),
        (lambda a: {**a, "blank": VOCAB + 1}, "blank must be a token index"),
        (lambda a: {**a, "logit_lengths": a["logit_lengths"] + 1}, "logit_lengths must lie in"),
        (lambda a: {**a, "logit_lengths": a["logit_lengths"] * 0}, "logit_lengths must lie in"),
        (lambda a: {**a, "logit_lengths": a["logit_lengths"][:2]}, "logit_lengths must have shape"),
        (lambda a: {**a, "target_lengths": a["target_lengths"] + 1}, "target_lengths must lie in"),
        (lambda a: {**a, "target_lengths": a["target_lengths"].double()}, "integer tensor"),
        (lambda a: {**a, "targets": a["targets"][:1]}, "targets must have shape"),
        (lambda a: {**a, "targets": torch.full_like(a["targets"], VOCAB + 3)}, "token ids in"),
        (lambda a: {**a, "targets": torch.full_like(a["targets"], BLANK)}, "other than blank"),
        (lambda a: {**a, "omega": 1.5}, "omega is a probability"),
        (lambda a: {**a, "sigma": -0.1}, "sigma must be >= 0"),
        (lambda a: {**a, "reduction": "avg"}, "reduction must be one of"),
    ],
)
def test_bad_inputs_name_the_problem(change, message):
    """Wrong shapes, lengths, labels and options raise a ValueError that says what is wrong."""
    joint, targets, frames, tokens = make_batch([0, 1, 2])
    args = {
        "joint": joint,
        "targets": targets,
        "logit_lengths": frames,
        "target_lengths": tokens,
        "durations": [0, 1, 2],
        "blank": BLANK,
    }
    for loss_fn in (tdt_loss, tdt_loss_reference):
        with pytest.raises(ValueError, match=message):
            loss_fn(**change(args))


def test_cpu_tdt_loss_module_reads_nemo_reductions():
    """The module takes NeMo's inner-loss call and reductions (None / sum / mean = batch mean)."""
    joint, targets, frames, tokens = make_batch([0, 1, 2, 3, 4])
    module = CpuTDTLoss(blank=BLANK, durations=[0, 1, 2, 3, 4], sigma=0.02)
    per = tdt_loss(joint, targets, frames, tokens, [0, 1, 2, 3, 4], BLANK, sigma=0.02, reduction="none")
    call = {"acts": joint, "labels": targets, "act_lens": frames, "label_lens": tokens}
    torch.testing.assert_close(module(**call), per)
    module.reduction = "sum"
    torch.testing.assert_close(module(**call), per.sum())
    module.reduction = "mean"
    torch.testing.assert_close(module(**call), per.mean())
    with pytest.raises(NotImplementedError, match="fastemit_lambda"):
        CpuTDTLoss(blank=BLANK, durations=[0, 1, 2, 3, 4], fastemit_lambda=0.001)(**call)


# ------------------------------------------------------------------------------ NeMo


def test_agrees_with_nemo_losses_on_cpu(nemo_asr, monkeypatch):
    """The RNN-T branch matches NeMo's numba RNN-T loss, and the TDT loss matches NeMo's
    pure-PyTorch TDT loss (run on CPU with its hard-coded ``.cuda()`` calls made no-ops)."""
    from nemo.collections.asr.losses.rnnt import RNNTLoss
    from nemo.collections.asr.losses.rnnt_pytorch import TDTLossPytorch

    durations = [0, 1, 2, 3, 4]
    joint, targets, frames, tokens = make_batch(durations, seed=3)
    joint = joint.detach().float().requires_grad_()

    numba_rnnt = RNNTLoss(num_classes=VOCAB, loss_name="warprnnt_numba", reduction=None)
    theirs = numba_rnnt(
        log_probs=joint[..., : VOCAB + 1].contiguous(), targets=targets, input_lengths=frames, target_lengths=tokens
    )
    (their_grad,) = torch.autograd.grad(theirs.sum(), joint)
    ours = tdt_loss(joint, targets, frames, tokens, durations, BLANK, omega=1.0, reduction="none")
    (our_grad,) = torch.autograd.grad(ours.sum(), joint)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(our_grad, their_grad, rtol=1e-4, atol=1e-5)

    monkeypatch.setattr(torch.Tensor, "cuda", lambda self, *args, **kwargs: self)
    for sigma in (0.0, 0.05):
        nemo_tdt = TDTLossPytorch(blank=BLANK, durations=durations, reduction="none", sigma=sigma)
        theirs = nemo_tdt(acts=joint, labels=targets, act_lens=frames, label_lens=tokens)
        ours = tdt_loss(joint, targets, frames, tokens, durations, BLANK, sigma=sigma, reduction="none")
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-4)


def tiny_tdt_model(nemo_asr, durations=(0, 1, 2, 3, 4), fused: bool = False):
    """A 2-layer FastConformer TDT model (d_model 64, 80 mel features, 5 characters)."""
    from omegaconf import OmegaConf

    labels = [" ", "a", "b", "c", "d"]
    cfg = OmegaConf.create(
        {
            "sample_rate": 16000,
            "labels": labels,
            "model_defaults": {"enc_hidden": 64, "pred_hidden": 32, "joint_hidden": 32},
            "preprocessor": {
                "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
                "sample_rate": 16000,
                "features": 80,
                "n_fft": 512,
                "window_size": 0.025,
                "window_stride": 0.01,
                "dither": 0.0,
            },
            "encoder": {
                "_target_": "nemo.collections.asr.modules.ConformerEncoder",
                "feat_in": 80,
                "n_layers": 2,
                "d_model": 64,
                "n_heads": 4,
                "subsampling": "dw_striding",
                "subsampling_factor": 8,
                "subsampling_conv_channels": 32,
                "conv_kernel_size": 9,
                "dropout": 0.0,
                "dropout_pre_encoder": 0.0,
                "dropout_att": 0.0,
            },
            "decoder": {
                "_target_": "nemo.collections.asr.modules.RNNTDecoder",
                "blank_as_pad": True,
                "prednet": {"pred_hidden": 32, "pred_rnn_layers": 1},
            },
            "joint": {
                "_target_": "nemo.collections.asr.modules.RNNTJoint",
                "num_extra_outputs": len(durations),
                "fuse_loss_wer": fused,
                "fused_batch_size": 2,
                "jointnet": {"joint_hidden": 32, "activation": "relu", "dropout": 0.0},
            },
            "decoding": {
                "strategy": "greedy_batch",
                "model_type": "tdt",
                "durations": list(durations),
                "greedy": {"max_symbols": 10},
            },
            "loss": {
                "loss_name": "tdt",
                "tdt_kwargs": {"durations": list(durations), "sigma": 0.02, "omega": 0.0},
            },
        }
    )
    return nemo_asr.models.EncDecRNNTModel(cfg=cfg)


def test_nemo_tdt_model_trains_on_cpu(nemo_asr):
    """After use_cpu_tdt_loss, a tiny NeMo TDT model computes a finite loss and gradients
    on CPU, through the loss object NeMo's training step calls (NeMo itself refuses)."""
    torch.manual_seed(0)
    model = tiny_tdt_model(nemo_asr)
    audio = torch.randn(2, 16000)
    audio_lengths = torch.tensor([16000, 12000])
    transcripts = torch.tensor([[1, 2, 3, 0], [4, 1, 0, 0]])
    transcript_lengths = torch.tensor([4, 2])

    def step():
        encoded, encoded_lengths = model(input_signal=audio, input_signal_length=audio_lengths)
        decoded, target_lengths, _ = model.decoder(targets=transcripts, target_length=transcript_lengths)
        joint = model.joint(encoder_outputs=encoded, decoder_outputs=decoded)
        return model.loss(
            log_probs=joint, targets=transcripts, input_lengths=encoded_lengths, target_lengths=target_lengths
        )

    with pytest.raises(ValueError, match="TDT is not yet implemented for non CUDA"):
        step()
    nemo_loss = model.loss._loss
    assert use_cpu_tdt_loss(model) is True
    assert isinstance(model.loss._loss, CpuTDTLoss) and model.loss._loss.cuda_loss is nemo_loss
    assert (model.loss._loss.blank, model.loss._loss.durations, model.loss._loss.sigma) == (5, [0, 1, 2, 3, 4], 0.02)
    assert use_cpu_tdt_loss(model) is True and model.loss._loss.cuda_loss is nemo_loss  # idempotent
    loss = step()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert loss.ndim == 0 and torch.isfinite(loss) and loss > 0
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(g.abs().sum() for g in grads) > 0


def test_use_cpu_tdt_loss_leaves_other_models_alone_and_catches_a_wrong_blank(nemo_asr):
    """A model without a TDT loss is left as is; a TDT loss whose blank disagrees with the
    joint's layout (what NeMo 3.0's change_vocabulary leaves behind) is refused."""
    from nemo.collections.asr.losses.rnnt import RNNTLoss

    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.loss = RNNTLoss(num_classes=VOCAB, loss_name="warprnnt_numba")

    plain = Plain()
    assert use_cpu_tdt_loss(plain) is False
    assert type(plain.loss._loss).__name__ == "RNNTLossNumba"

    model = tiny_tdt_model(nemo_asr)
    model.change_vocabulary([" ", "a", "b", "c", "d", "e"])
    # NeMo rebuilds the TDT loss with blank = V + D = 11; the joint's blank is V = 6.
    assert type(model.loss._loss).__name__ == "TDTLossNumba" and model.loss._loss.blank == 11
    with pytest.raises(ValueError, match=r"blank=11 .* \(blank=6\)"):
        use_cpu_tdt_loss(model)
