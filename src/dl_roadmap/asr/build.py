"""New Parakeet-architecture models with NeMo, their transducer loss, and encoder freezing.

NeMo is imported inside the functions (importing its ASR collection takes several
seconds), so importing this module is cheap.

Typical use::

    model = build_parakeet({"decoder": "tdt", "n_layers": 4}, tokenizer_dir)
    freeze_encoder(model)                 # fine-tune only the decoder side
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from dl_roadmap.asr.nemo_config import MODEL_CLASSES, parakeet_config, parakeet_params
from dl_roadmap.asr.tdt_nemo import use_cpu_tdt_loss


def build_parakeet(params: Mapping[str, Any] | None, tokenizer_dir: str | Path) -> nn.Module:
    """A new (untrained) Parakeet-architecture model.

    Parameters, with defaults (``dl_roadmap.asr.nemo_config.PARAKEET_DEFAULTS``)::

        decoder: tdt              # tdt | rnnt | ctc | hybrid_tdt_ctc | hybrid_rnnt_ctc
        sample_rate: 16000
        n_mels: 80
        dither: 1.0e-5
        n_layers: 2               # FastConformer blocks
        d_model: 64
        n_heads: 4
        ff_expansion_factor: 4
        conv_kernel_size: 9
        subsampling_factor: 8     # dw_striding; 4 for very short clips or CTC on fast speech
        subsampling_conv_channels: 64   # -1 = d_model
        dropout: 0.1
        pred_hidden: 64           # transducer prediction network
        pred_rnn_layers: 1
        joint_hidden: 64
        max_symbols: 10           # greedy decoding: most tokens per encoder frame
        fuse_loss_wer: false      # NeMo's fused joint + loss (saves memory on long batches)
        durations: [0, 1, 2, 3, 4]      # TDT
        tdt_sigma: 0.02
        tdt_omega: 0.1
        ctc_loss_weight: 0.3      # hybrids
        spec_augment: {freq_masks: 2, freq_width: 27, time_masks: 2, time_width: 0.05}

    NeMo classes: ``EncDecRNNTBPEModel`` (tdt, rnnt), ``EncDecCTCModelBPE`` (ctc),
    ``EncDecHybridRNNTCTCBPEModel`` (hybrids). TDT losses get the CPU implementation
    (``use_cpu_tdt_loss``; CUDA tensors still use NeMo's kernel).

    Args:
        params: overrides of the defaults above.
        tokenizer_dir: a folder from ``tokenizer.train_tokenizer``.

    Returns:
        The NeMo model, on CPU, in training mode.

    Raises:
        ValueError: bad parameters (the message names them).
        FileNotFoundError: no ``tokenizer.model`` in ``tokenizer_dir``.
    """
    from omegaconf import OmegaConf

    tokenizer_dir = Path(tokenizer_dir).resolve()
    if not (tokenizer_dir / "tokenizer.model").is_file():
        raise FileNotFoundError(f"no tokenizer.model in {tokenizer_dir}; make one with train_tokenizer")
    kind = parakeet_params(params)["decoder"]
    module_name, class_name = MODEL_CLASSES[kind].rsplit(".", 1)
    model_class = getattr(importlib.import_module(module_name), class_name)
    model = model_class(cfg=OmegaConf.create(parakeet_config(params, str(tokenizer_dir))))
    use_cpu_tdt_loss(model)
    return model


def rebuild_transducer_loss(model: nn.Module) -> None:
    """Rebuild ``model.loss`` of a transducer from its config, as NeMo's constructor does.

    For TDT the blank index is the vocabulary size, not counting the joint's duration
    outputs. A fused joint gets the new loss too.

    Args:
        model: an ``EncDecRNNTModel`` subclass (hybrids included).
    """
    from nemo.collections.asr.losses.rnnt import RNNTLoss

    loss_name, loss_kwargs = model.extract_rnnt_loss_cfg(model.cfg.get("loss", None))
    num_classes = model.joint.num_classes_with_blank - 1
    if loss_name == "tdt":
        num_classes -= model.joint.num_extra_outputs
    model.loss = RNNTLoss(num_classes=num_classes, loss_name=loss_name, loss_kwargs=loss_kwargs,
                          reduction=model.cfg.get("rnnt_reduction", "mean_batch"))
    if model.joint.fuse_loss_wer:
        model.joint.set_loss(model.loss)


def freeze_encoder(model: nn.Module, frozen: bool = True) -> None:
    """Freeze (or unfreeze) a model's encoder for fine-tuning only the decoder side.

    Frozen parameters get no gradients; ``step.asr_step`` also runs a frozen encoder in
    evaluation mode without autograd, so its dropout is off and its batch-norm statistics
    stay as trained (the trainer switches the whole model to training mode every epoch).

    Args:
        model: a NeMo ASR model.
        frozen: True to freeze, False to make the encoder trainable again.
    """
    for parameter in model.encoder.parameters():
        parameter.requires_grad_(not frozen)
    if frozen:
        model.encoder.eval()
    elif model.training:
        model.encoder.train()


def encoder_frozen(model: nn.Module) -> bool:
    """Whether no encoder parameter is trainable (:func:`freeze_encoder`)."""
    return not any(p.requires_grad for p in model.encoder.parameters())
