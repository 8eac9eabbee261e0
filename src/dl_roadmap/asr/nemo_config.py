"""NeMo model configs for small Parakeet-architecture ASR models, from a flat parameters dict.

Parakeet models are a FastConformer encoder (Conformer blocks after an 8x depthwise-striding
subsampler) on an 80/128-band log-mel front end, with one of four heads: TDT (token and
duration transducer), plain RNN-T, CTC, or a hybrid transducer with an auxiliary CTC head.
This module turns a handful of sizes into the config NeMo's model classes are built from;
nothing here imports NeMo.

Parameters (``PARAKEET_DEFAULTS``; every key optional, an unknown key is an error):

- ``decoder``: ``"tdt"`` | ``"rnnt"`` | ``"ctc"`` | ``"hybrid_tdt_ctc"`` | ``"hybrid_rnnt_ctc"``
  (default ``"tdt"``).
- ``sample_rate``: 16000. ``n_mels``: 80 (the 0.6B Parakeet-TDT v2 uses 128).
- ``dither``: 1e-5 (noise added to the features in training only).
- Encoder: ``n_layers`` 2, ``d_model`` 64, ``n_heads`` 4, ``ff_expansion_factor`` 4,
  ``conv_kernel_size`` 9, ``subsampling_factor`` 8 (use 4 for very short clips or for CTC on
  fast speech: CTC needs at least one encoder frame per token), ``subsampling_conv_channels``
  64 (-1 = ``d_model``), ``dropout`` 0.1 (also attention and pre-encoder dropout).
- Transducer heads: ``pred_hidden`` 64, ``pred_rnn_layers`` 1, ``joint_hidden`` 64,
  ``max_symbols`` 10 (greedy decoding's symbols per frame), ``fuse_loss_wer`` false.
- TDT: ``durations`` [0, 1, 2, 3, 4], ``tdt_sigma`` 0.02, ``tdt_omega`` 0.1.
- Hybrids: ``ctc_loss_weight`` 0.3 (loss = (1 - w) * transducer + w * CTC).
- ``spec_augment``: ``freq_masks`` 2, ``freq_width`` 27, ``time_masks`` 2, ``time_width``
  0.05 (a fraction of the clip); null or all masks 0 disables it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dl_roadmap.core.params import over_defaults

DECODERS = ("tdt", "rnnt", "ctc", "hybrid_tdt_ctc", "hybrid_rnnt_ctc")

# NeMo class per decoder kind (import path, so that this module stays NeMo-free).
MODEL_CLASSES = {
    "tdt": "nemo.collections.asr.models.EncDecRNNTBPEModel",
    "rnnt": "nemo.collections.asr.models.EncDecRNNTBPEModel",
    "ctc": "nemo.collections.asr.models.EncDecCTCModelBPE",
    "hybrid_tdt_ctc": "nemo.collections.asr.models.EncDecHybridRNNTCTCBPEModel",
    "hybrid_rnnt_ctc": "nemo.collections.asr.models.EncDecHybridRNNTCTCBPEModel",
}

DEFAULT_SPEC_AUGMENT: dict[str, Any] = {"freq_masks": 2, "freq_width": 27, "time_masks": 2, "time_width": 0.05}

PARAKEET_DEFAULTS: dict[str, Any] = {
    "decoder": "tdt",
    "sample_rate": 16_000,
    "n_mels": 80,
    "dither": 1e-5,
    "n_layers": 2,
    "d_model": 64,
    "n_heads": 4,
    "ff_expansion_factor": 4,
    "conv_kernel_size": 9,
    "subsampling_factor": 8,
    "subsampling_conv_channels": 64,
    "dropout": 0.1,
    "pred_hidden": 64,
    "pred_rnn_layers": 1,
    "joint_hidden": 64,
    "max_symbols": 10,
    "fuse_loss_wer": False,
    "durations": [0, 1, 2, 3, 4],
    "tdt_sigma": 0.02,
    "tdt_omega": 0.1,
    "ctc_loss_weight": 0.3,
    "spec_augment": DEFAULT_SPEC_AUGMENT,
}


def parakeet_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The defaults with ``params`` merged in (``spec_augment`` key by key), checked.

    Args:
        params: any subset of ``PARAKEET_DEFAULTS``.

    Returns:
        The complete parameters.

    Raises:
        ValueError: an unknown key or decoder, or sizes NeMo cannot build.
    """
    params = dict(params or {})
    merged = over_defaults(params, PARAKEET_DEFAULTS, "parakeet parameters")
    spec = params.get("spec_augment", DEFAULT_SPEC_AUGMENT)
    merged["spec_augment"] = None if spec is None else {**DEFAULT_SPEC_AUGMENT, **spec}
    if merged["decoder"] not in DECODERS:
        raise ValueError(f"parakeet parameters: decoder must be one of {DECODERS}, got {merged['decoder']!r}")
    if merged["d_model"] % merged["n_heads"]:
        raise ValueError(f"parakeet parameters: d_model ({merged['d_model']}) must be a multiple of "
                         f"n_heads ({merged['n_heads']})")
    factor = merged["subsampling_factor"]
    if factor < 2 or factor & (factor - 1):
        raise ValueError(f"parakeet parameters: subsampling_factor must be a power of 2 >= 2, got {factor}")
    if merged["conv_kernel_size"] % 2 == 0:
        raise ValueError(f"parakeet parameters: conv_kernel_size must be odd, got {merged['conv_kernel_size']}")
    durations = list(merged["durations"])
    if "tdt" in merged["decoder"] and (any(int(d) != d or d < 0 for d in durations) or max(durations) < 1):
        raise ValueError(f"parakeet parameters: durations must be whole numbers >= 0 with at least one "
                         f">= 1 (a blank must move time forward), got {durations}")
    return merged


def parakeet_config(params: Mapping[str, Any] | None, tokenizer_dir: str) -> dict[str, Any]:
    """The NeMo model config (as a plain dict) for a small Parakeet-architecture model.

    Args:
        params: parameters, see the module docstring.
        tokenizer_dir: a SentencePiece tokenizer folder (``tokenizer.model``, ``vocab.txt``).

    Returns:
        A dict to pass through ``OmegaConf.create`` to the class ``MODEL_CLASSES[decoder]``.
    """
    p = parakeet_params(params)
    kind = p["decoder"]
    cfg: dict[str, Any] = {
        "sample_rate": p["sample_rate"],
        "log_prediction": False,  # NeMo would log a sample transcript at every WER update
        "compute_eval_loss": True,
        "tokenizer": {"dir": str(tokenizer_dir), "type": "bpe"},
        "preprocessor": _preprocessor(p),
        "spec_augment": _spec_augment(p["spec_augment"]),
        "encoder": _encoder(p),
    }
    if kind == "ctc":
        cfg["decoder"] = _ctc_decoder(p)
        cfg["decoding"] = {"strategy": "greedy_batch"}
        return cfg
    tdt = kind in ("tdt", "hybrid_tdt_ctc")
    cfg["model_defaults"] = {"enc_hidden": p["d_model"], "pred_hidden": p["pred_hidden"],
                             "joint_hidden": p["joint_hidden"]}
    cfg["decoder"] = {
        "_target_": "nemo.collections.asr.modules.RNNTDecoder",
        "normalization_mode": None,
        "random_state_sampling": False,
        "blank_as_pad": True,
        "prednet": {"pred_hidden": p["pred_hidden"], "pred_rnn_layers": p["pred_rnn_layers"], "t_max": None,
                    "dropout": p["dropout"]},
    }
    cfg["joint"] = {
        "_target_": "nemo.collections.asr.modules.RNNTJoint",
        "log_softmax": None,  # NeMo picks per device
        "preserve_memory": False,
        "fuse_loss_wer": bool(p["fuse_loss_wer"]),
        "fused_batch_size": 4,
        "jointnet": {"joint_hidden": p["joint_hidden"], "activation": "relu", "dropout": p["dropout"]},
        # TDT: the joint emits one logit per duration after the token logits.
        "num_extra_outputs": len(p["durations"]) if tdt else 0,
    }
    cfg["decoding"] = {"strategy": "greedy_batch", "greedy": {"max_symbols": p["max_symbols"]}}
    if tdt:
        durations = [int(d) for d in p["durations"]]
        cfg["decoding"].update({"model_type": "tdt", "durations": durations})
        cfg["loss"] = {"loss_name": "tdt", "tdt_kwargs": {"durations": durations, "sigma": p["tdt_sigma"],
                                                          "omega": p["tdt_omega"], "fastemit_lambda": 0.0,
                                                          "clamp": -1.0}}
    else:
        cfg["loss"] = {"loss_name": "default"}
    if kind.startswith("hybrid"):
        cfg["aux_ctc"] = {
            "ctc_loss_weight": p["ctc_loss_weight"],
            "use_cer": False,
            "ctc_reduction": "mean_batch",
            "decoder": _ctc_decoder(p),
            "decoding": {"strategy": "greedy_batch"},
        }
    return cfg


def _preprocessor(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
        "sample_rate": p["sample_rate"],
        "normalize": "per_feature",
        "window_size": 0.025,
        "window_stride": 0.01,
        "window": "hann",
        "features": p["n_mels"],
        "n_fft": 512,
        "frame_splicing": 1,
        "dither": p["dither"],
        "pad_to": 0,
    }


def _spec_augment(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if spec is None or (int(spec["freq_masks"]) == 0 and int(spec["time_masks"]) == 0):
        return None
    return {"_target_": "nemo.collections.asr.modules.SpectrogramAugmentation", **dict(spec)}


def _encoder(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_target_": "nemo.collections.asr.modules.ConformerEncoder",
        "feat_in": p["n_mels"],
        "feat_out": -1,
        "n_layers": p["n_layers"],
        "d_model": p["d_model"],
        "subsampling": "dw_striding",
        "subsampling_factor": p["subsampling_factor"],
        "subsampling_conv_channels": p["subsampling_conv_channels"],
        "causal_downsampling": False,
        "ff_expansion_factor": p["ff_expansion_factor"],
        "self_attention_model": "rel_pos",
        "n_heads": p["n_heads"],
        "att_context_size": [-1, -1],
        "xscaling": True,
        "untie_biases": True,
        "pos_emb_max_len": 5000,
        "conv_kernel_size": p["conv_kernel_size"],
        "conv_norm_type": "batch_norm",
        "dropout": p["dropout"],
        "dropout_pre_encoder": p["dropout"],
        "dropout_emb": 0.0,
        "dropout_att": p["dropout"],
    }


def _ctc_decoder(p: Mapping[str, Any]) -> dict[str, Any]:
    # num_classes and vocabulary are filled in by NeMo from the tokenizer.
    return {"_target_": "nemo.collections.asr.modules.ConvASRDecoder", "feat_in": p["d_model"],
            "num_classes": -1, "vocabulary": []}
