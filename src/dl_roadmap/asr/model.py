"""Parakeet-family ASR models with NeMo: tokenizers, building, loading, training steps,
data loading, transcription and scoring.

NeMo is imported inside the functions (importing its ASR collection takes several
seconds), so importing this module is cheap.

Typical use::

    tokenizer = train_tokenizer(texts, "data/06_models/tokenizer", vocab_size=64)
    model = build_parakeet({"decoder": "tdt", "n_layers": 4}, tokenizer)
    train = make_dataloader(model, "train_manifest.json", batch_size=16, shuffle=True)
    val = make_dataloader(model, "val_manifest.json", batch_size=16)
    result = fit(model, train, val, step=asr_step, name="parakeet", fit_params=..., trainer_params=...)
    corpus_wer(result.history)            # exact corpus WER per epoch
    measure(result.model, rows)           # {"wer", "cer", "rtfx", ...}
    save_nemo(result.model, "data/06_models/parakeet.nemo")

Fine-tuning starts from ``load_base`` (a ``.nemo`` file or a pretrained name) and, when the
user's text needs other tokens, ``adapt_tokenizer``.
"""

from __future__ import annotations

import importlib
import inspect
import io
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from dl_roadmap.asr.data import tokenize_texts
from dl_roadmap.asr.manifest import MANIFEST_SUFFIXES, read_complete_manifest
from dl_roadmap.asr.nemo_config import MODEL_CLASSES, parakeet_config, parakeet_params
from dl_roadmap.asr.tdt_loss import use_cpu_tdt_loss
from dl_roadmap.core.files import atomic_write


TOKENIZER_KINDS = ("bpe", "unigram", "char")
# SentencePiece's own control pieces; NeMo's vocab.txt lists only the real tokens.
_SPECIAL_PIECES = {"<s>", "</s>", "<pad>", "<unk>"}
_WORD_START = "\u2581"  # SentencePiece's word-boundary marker


class BaseModelUnavailableError(RuntimeError):
    """A pretrained model could not be fetched; the message says how to use a local file."""


# ---------------------------------------------------------------------------- tokenizer


def train_tokenizer(texts: Iterable[str], out_dir: str | Path, vocab_size: int, kind: str = "bpe") -> Path:
    """Train a SentencePiece tokenizer laid out as NeMo's ``tokenizer: {dir, type: bpe}`` expects.

    The folder gets ``tokenizer.model``, ``tokenizer.vocab`` (SentencePiece's piece list)
    and ``vocab.txt`` (one token a line, word-initial pieces bare and inner pieces with a
    ``##`` prefix), as NeMo's tokenizer script writes them. Training is single-threaded
    on unshuffled input, so the same texts give byte-identical files. Texts are taken as
    they are (no case folding or Unicode normalisation): normalise them first.

    Args:
        texts: training transcripts (empty ones are skipped).
        out_dir: the tokenizer folder (created; files in it are replaced).
        vocab_size: the most tokens (a small corpus may give fewer); at least the number
            of distinct characters (space excluded) + 2 (word start, unknown token).
        kind: SentencePiece model type: ``"bpe"`` (default), ``"unigram"`` or ``"char"``.

    Returns:
        The tokenizer folder.

    Raises:
        ValueError: no text, an unknown kind, or a vocabulary too small for the characters.
    """
    import sentencepiece as spm

    if kind not in TOKENIZER_KINDS:
        raise ValueError(f"tokenizer kind must be one of {TOKENIZER_KINDS}, got {kind!r}")
    lines = [" ".join(str(text).split()) for text in texts]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError("train_tokenizer: no non-empty text to train on")
    n_chars = len(set("".join(lines)) - {" "}) + 1  # every character, plus the word-start piece
    if kind != "char" and vocab_size < n_chars + 1:
        raise ValueError(f"vocab_size {vocab_size} is too small: the texts use {n_chars - 1} characters, so "
                         f"at least {n_chars + 1} tokens are needed (characters, word start, unknown)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if hasattr(spm, "set_random_generator_seed"):
        spm.set_random_generator_seed(0)
    # Sentences from memory and the model into memory: a model file records its input and
    # output paths otherwise, and the same texts must give the same bytes wherever they go.
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=int(vocab_size),
        model_type=kind,
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        hard_vocab_limit=False,  # a small corpus may not support vocab_size pieces
        shuffle_input_sentence=False,
        num_threads=1,
        normalization_rule_name="identity",  # decode(encode(text)) == text, so WER sees what it should
        remove_extra_whitespaces=False,
        minloglevel=2,
    )
    (out_dir / "tokenizer.model").write_bytes(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    # tokenizer.vocab as SentencePiece writes it beside a model: piece, tab, score.
    (out_dir / "tokenizer.vocab").write_text(
        "".join(f"{processor.id_to_piece(i)}\t{processor.get_score(i):g}\n" for i in range(processor.get_piece_size())),
        encoding="utf-8",
    )
    _write_vocab_txt(out_dir)
    return out_dir


def _write_vocab_txt(folder: Path) -> None:
    """vocab.txt from tokenizer.vocab in NeMo's convention (used by its BPE tokenizer wrapper)."""
    tokens = []
    for line in (folder / "tokenizer.vocab").read_text(encoding="utf-8").splitlines():
        piece = line.split("\t")[0]
        if piece in _SPECIAL_PIECES:
            continue
        if piece.startswith(_WORD_START):
            tokens.append(piece[1:] or piece)  # the bare word-start piece stays as itself
        else:
            tokens.append(f"##{piece}")
    (folder / "vocab.txt").write_text("".join(f"{token}\n" for token in tokens), encoding="utf-8")


# ---------------------------------------------------------------------------- models


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
        tokenizer_dir: a folder from :func:`train_tokenizer`.

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


def load_base(source: str | Path, cpu_tdt_loss: bool = True) -> nn.Module:
    """A base model to fine-tune or evaluate: a local ``.nemo`` file or a pretrained name.

    Pretrained names (``nvidia/parakeet-tdt-0.6b-v2`` on Hugging Face, or an NGC name)
    go through NeMo's ``ASRModel.from_pretrained``, which downloads (or reuses NeMo's and
    Hugging Face's caches).

    Args:
        source: a path ending in ``.nemo`` (or any existing file), else a pretrained name.
        cpu_tdt_loss: give a TDT model the CPU loss (harmless on GPU: CUDA tensors still
            go to NeMo's kernel).

    Returns:
        The model on CPU, in evaluation mode.

    Raises:
        FileNotFoundError: a ``.nemo`` path that does not exist.
        BaseModelUnavailableError: the pretrained model could not be downloaded (offline,
            unknown name); the message says to download the ``.nemo`` and pass its path.
    """
    text = str(source)
    path = Path(text).expanduser()
    if text.endswith(".nemo") or path.is_file():
        return restore_nemo(path, cpu_tdt_loss=cpu_tdt_loss)
    from nemo.collections.asr.models import ASRModel

    try:
        model = ASRModel.from_pretrained(text, map_location="cpu")
    except Exception as error:  # NeMo and huggingface_hub raise many kinds; all mean "not available"
        raise BaseModelUnavailableError(_unavailable_message(text, error)) from error
    if cpu_tdt_loss:
        use_cpu_tdt_loss(model)
    return model.eval()


def _unavailable_message(name: str, error: BaseException) -> str:
    offline = _is_network_error(error)
    reason = "no network connection (or HF_HUB_OFFLINE is set)" if offline else "it could not be loaded"
    file_name = name.rsplit("/", 1)[-1] + ".nemo"
    return (
        f"pretrained model {name!r} is not available: {reason} ({type(error).__name__}: {error}). "
        f"Download the checkpoint on a machine with network access, e.g. "
        f"`hf download {name} {file_name} --local-dir data/06_models` for a Hugging Face name "
        f"(NGC models: the .nemo file from catalog.ngc.nvidia.com), and pass the path of the "
        f".nemo file instead of the name."
    )


def _is_network_error(error: BaseException | None) -> bool:
    """Whether an exception (or one it was raised from) means the network was unreachable."""
    network_names = {"OfflineModeIsEnabled", "LocalEntryNotFoundError", "ConnectError", "ConnectTimeout",
                     "ReadTimeout", "URLError", "MaxRetryError", "NameResolutionError", "ConnectionError"}
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (ConnectionError, TimeoutError)) or type(error).__name__ in network_names:
            return True
        error = error.__cause__ or error.__context__
    return False


def restore_nemo(path: str | Path, cpu_tdt_loss: bool = True) -> nn.Module:
    """Restore a ``.nemo`` file (any ASR model class; the file names its class).

    Args:
        path: the ``.nemo`` file.
        cpu_tdt_loss: give a TDT model the CPU loss (see :func:`load_base`).

    Returns:
        The model on CPU, in evaluation mode, with no data loaders set up.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no .nemo file at {path}")
    from nemo.collections.asr.models import ASRModel

    model = ASRModel.restore_from(str(path), map_location="cpu")
    if cpu_tdt_loss:
        use_cpu_tdt_loss(model)
    return model.eval()


def save_nemo(model: nn.Module, path: str | Path) -> Path:
    """Save a NeMo model as a ``.nemo`` file, atomically.

    The archive is written next to ``path`` under a temporary name and renamed over it,
    so a reader never sees a half-written file and an interrupted save leaves the old one.

    Args:
        model: a NeMo ``ModelPT``.
        path: destination (``.nemo``); parent folders are created.

    Returns:
        The path written.
    """
    path = Path(path).expanduser().resolve()
    with atomic_write(path) as partial:  # keeps the .nemo suffix NeMo packs by
        model.save_to(str(partial))
    return path


def adapt_tokenizer(model: nn.Module, texts: Iterable[str], out_dir: str | Path, vocab_size: int,
                    kind: str = "bpe") -> Path:
    """Give a BPE model a tokenizer trained on new text (fine-tuning to another vocabulary).

    Trains a tokenizer, then NeMo's ``change_vocabulary`` replaces the decoder and joint
    (prediction network, output layer, CTC head of a hybrid) with freshly initialised ones
    sized for it; the encoder keeps its weights. NeMo 3.0 rebuilds the transducer loss
    without its configured name and arguments (a TDT model would get a plain RNN-T loss
    whose blank index counts the duration outputs), so the loss is rebuilt here as the
    model's constructor builds it, then made CPU-capable again.

    Args:
        model: a NeMo BPE model (``EncDecRNNTBPEModel``, ``EncDecCTCModelBPE``,
            ``EncDecHybridRNNTCTCBPEModel``).
        texts: training transcripts for the new tokenizer.
        out_dir: tokenizer folder; keep it until the model is saved (NeMo packs it then).
        vocab_size: the new tokenizer's size (see :func:`train_tokenizer`).
        kind: SentencePiece model type.

    Returns:
        The new tokenizer folder.

    Raises:
        TypeError: a character-vocabulary model (no tokenizer).
    """
    if not hasattr(model, "tokenizer"):
        raise TypeError(f"{type(model).__name__} has a character vocabulary, not a tokenizer; "
                        "adapt_tokenizer works on BPE models")
    tokenizer_dir = train_tokenizer(texts, out_dir, vocab_size, kind).resolve()
    model.change_vocabulary(new_tokenizer_dir=str(tokenizer_dir), new_tokenizer_type="bpe")
    if hasattr(model, "joint"):
        rebuild_transducer_loss(model)
    use_cpu_tdt_loss(model)
    return tokenizer_dir


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

    Frozen parameters get no gradients; :func:`asr_step` also runs a frozen encoder in
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


def _encoder_frozen(model: nn.Module) -> bool:
    return not any(p.requires_grad for p in model.encoder.parameters())


# ---------------------------------------------------------------------------- training step


def asr_step(model: nn.Module, batch: Sequence[Tensor]) -> dict[str, Tensor]:
    """Loss (and, in evaluation mode, word errors) of one batch, as NeMo's training step computes it.

    For ``core.training.fit``: the NeMo model is a plain submodule there, not attached to
    a trainer, so NeMo's own ``training_step`` (which logs through it) cannot be used.
    Transducers (TDT, RNN-T): encoder, prediction network, joint, transducer loss (NeMo's
    fused joint path when the model has one). CTC: encoder, CTC head, CTC loss. Hybrids:
    ``(1 - w) * transducer + w * CTC`` with the model's ``ctc_loss_weight``. Not included:
    adapter auxiliary losses and InterCTC (both need NeMo's logging).

    In evaluation mode the batch is also decoded greedily (``model.wer``; a hybrid uses the
    decoder ``model.cur_decoder`` selects) and scored against its transcripts. ``fit``
    averages each scalar over an epoch weighted by batch size, so the returned values are:

    - ``wer``: this batch's WER. Its epoch mean is a batch-size-weighted mean of batch
      WERs: close to the corpus WER, exact only when batches hold equally many words per
      utterance. Fine for monitoring and early stopping.
    - ``word_errors`` and ``words``: word errors and reference words *per utterance* of
      this batch. Their epoch means are totals / utterances, so their ratio is exactly the
      corpus WER (:func:`corpus_wer` computes it from a history).

    Args:
        model: a NeMo ASR model (BPE or character vocabulary).
        batch: NeMo's audio-text batch: signal (B, samples), signal lengths, transcript
            token ids (B, U), transcript lengths (a fifth entry, sample ids, is ignored);
            or ``(signal, lengths, texts)`` from ``asr.data``, tokenized here by the model.

    Returns:
        ``loss`` (with gradient in training mode); hybrids add ``transducer_loss`` and
        ``ctc_loss``; evaluation mode adds ``wer``, ``word_errors`` and ``words``.
    """
    if len(batch) == 3 and isinstance(batch[2], (list, tuple)):  # (signal, lengths, texts): asr/data.py
        signal, signal_len = batch[0], batch[1]
        transcript, transcript_len = tokenize_texts(model, batch[2])
        transcript, transcript_len = transcript.to(signal.device), transcript_len.to(signal.device)
    else:
        signal, signal_len, transcript, transcript_len = batch[:4]
    encoded, encoded_len = _encode(model, signal, signal_len)
    out: dict[str, Tensor] = {}
    if not hasattr(model, "joint"):  # CTC model
        log_probs = model.decoder(encoder_output=encoded)
        loss = model.loss(log_probs=log_probs, targets=transcript, input_lengths=encoded_len,
                          target_lengths=transcript_len)
        metric, predictions = model.wer, log_probs
    else:
        loss = _transducer_loss(model, encoded, encoded_len, transcript, transcript_len)
        metric, predictions = model.wer, encoded
        weight = float(getattr(model, "ctc_loss_weight", 0.0))
        if hasattr(model, "ctc_decoder") and weight > 0:
            log_probs = model.ctc_decoder(encoder_output=encoded)
            ctc_loss = model.ctc_loss(log_probs=log_probs, targets=transcript, input_lengths=encoded_len,
                                      target_lengths=transcript_len)
            out["transducer_loss"] = loss.detach()
            out["ctc_loss"] = ctc_loss.detach()
            loss = (1 - weight) * loss + weight * ctc_loss
            if getattr(model, "cur_decoder", "rnnt") == "ctc":  # score what transcribe would output
                metric, predictions = model.ctc_wer, log_probs
    out["loss"] = loss
    if not model.training:
        errors, words = _word_errors(metric, predictions, encoded_len, transcript, transcript_len)
        batch_size = float(signal.shape[0])
        out["wer"] = errors / words.clamp(min=1.0)
        out["word_errors"] = errors / batch_size
        out["words"] = words / batch_size
    return out


def _encode(model: nn.Module, signal: Tensor, signal_len: Tensor) -> tuple[Tensor, Tensor]:
    """Features, SpecAugment (training only) and encoder: NeMo's ``forward`` for transducers,
    written out so that a frozen encoder runs without autograd and in evaluation mode."""
    frozen = _encoder_frozen(model)
    if frozen:
        model.encoder.eval()
    with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
        features, feature_len = model.preprocessor(input_signal=signal, length=signal_len)
        if getattr(model, "spec_augmentation", None) is not None and model.training:
            features = model.spec_augmentation(input_spec=features, length=feature_len)
        encoded = model.encoder(audio_signal=features, length=feature_len)
    return encoded[0], encoded[1]


def _transducer_loss(model: nn.Module, encoded: Tensor, encoded_len: Tensor, transcript: Tensor,
                     transcript_len: Tensor) -> Tensor:
    decoder_out, target_len, _ = model.decoder(targets=transcript, target_length=transcript_len)
    if model.joint.fuse_loss_wer:
        # The fused joint computes joint and loss in sub-batches (NeMo's memory saver).
        loss, _, _, _ = model.joint(encoder_outputs=encoded, decoder_outputs=decoder_out,
                                    encoder_lengths=encoded_len, transcripts=transcript,
                                    transcript_lengths=target_len, compute_wer=False)
        return loss
    joint = model.joint(encoder_outputs=encoded, decoder_outputs=decoder_out)
    return model.loss(log_probs=joint, targets=transcript, input_lengths=encoded_len, target_lengths=target_len)


def _word_errors(metric: Any, predictions: Tensor, lengths: Tensor, transcript: Tensor,
                 transcript_len: Tensor) -> tuple[Tensor, Tensor]:
    """(word errors, reference words) of a batch, greedy-decoded by a NeMo WER metric."""
    with torch.no_grad():
        metric.update(predictions=predictions, predictions_lengths=lengths, targets=transcript,
                      targets_lengths=transcript_len)
        _, errors, words = metric.compute()
        metric.reset()
    return errors.float().detach().cpu(), words.float().detach().cpu()


def corpus_wer(history: pd.DataFrame, stage: str = "val") -> pd.Series:
    """Exact corpus WER per epoch from a ``fit`` history of :func:`asr_step` metrics.

    Args:
        history: ``FitResult.history``.
        stage: ``"val"`` (or ``"train"`` if training ran in evaluation mode).

    Returns:
        ``<stage>_word_errors / <stage>_words`` for each epoch.
    """
    return history[f"{stage}_word_errors"] / history[f"{stage}_words"]


# ---------------------------------------------------------------------------- data


def make_dataloader(
    model: nn.Module,
    manifest_path: str | Path,
    batch_size: int,
    shuffle: bool = False,
    *,
    num_workers: int = 0,
    max_duration: float | None = None,
    min_duration: float | None = None,
    bucketing: bool = False,
    bucketing_randomization: float = 0.1,
    drop_last: bool = False,
) -> DataLoader:
    """NeMo's audio-to-text data loader for a manifest, tokenized by the model's tokenizer.

    Built by the model itself (the loader its ``setup_training_data`` would make), but
    without recording it as the model's training or validation set, so one model can have
    several loaders. Batches are ``(signal, signal_lengths, tokens, token_lengths)``.

    Args:
        model: the NeMo model the batches are for (its tokenizer or labels, sample rate).
        manifest_path: NeMo manifest (JSON lines; relative audio paths are resolved against
            its folder).
        batch_size: utterances per batch.
        shuffle: reshuffle every epoch (seeded by ``fit``'s seed).
        num_workers: loader processes (0 loads in the training process; right for CPU).
        max_duration, min_duration: drop utterances outside these seconds.
        bucketing: NeMo's semi-sorted batching: batches of similar durations (less padding),
            in shuffled order; replaces ``shuffle``.
        bucketing_randomization: noise on the durations before sorting, as a fraction of
            the duration range (0 sorts strictly).
        drop_last: drop a last, smaller batch.

    Returns:
        A torch DataLoader.
    """
    from omegaconf import OmegaConf

    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no manifest at {manifest_path}")
    config = {
        "manifest_filepath": str(manifest_path.resolve()),
        "sample_rate": int(model.cfg.get("sample_rate", 16_000)),
        "batch_size": int(batch_size),
        "shuffle": bool(shuffle),
        "num_workers": int(num_workers),
        "pin_memory": torch.cuda.is_available(),
        "max_duration": max_duration,
        "min_duration": min_duration,
        "trim_silence": False,
        "use_start_end_token": False,  # transducers and CTC predict no sentence markers
        "drop_last": bool(drop_last),
        "use_semi_sorted_batching": bool(bucketing),
        "randomization_factor": float(bucketing_randomization),
    }
    if not hasattr(model, "tokenizer"):  # character models read their labels from the config
        config["labels"] = list(model.cfg.labels)
    loader = model._setup_dataloader_from_config(config=OmegaConf.create(config))
    if loader is None:
        raise ValueError(f"NeMo made no data loader for {manifest_path}")
    return loader


# ---------------------------------------------------------------------------- inference


def transcribe(model: nn.Module, audio: str | Path | Sequence[str | Path], batch_size: int = 8) -> list[str]:
    """Transcribe audio files with the model's decoding (greedy unless changed).

    Args:
        model: a NeMo ASR model.
        audio: a manifest (``.json``/``.jsonl``), one audio file, or a list of audio files.
        batch_size: utterances per forward pass.

    Returns:
        One transcript per audio file, in order.
    """
    from omegaconf import open_dict

    paths = _audio_paths(audio)
    if not paths:
        return []
    if model.cfg.get("validation_ds") is None:
        # NeMo's transcribe reads use_start_end_token from the validation set's config, which a
        # model built from parameters (never given a validation manifest) does not have.
        with open_dict(model.cfg):
            model.cfg.validation_ds = {"use_start_end_token": False}
    # NeMo's non-Lhotse loader keeps the input order; no worker processes on CPU.
    options = {"batch_size": int(batch_size), "num_workers": 0, "verbose": False}
    if "use_lhotse" in inspect.signature(model.transcribe).parameters:  # transducer classes only, in NeMo 3.0
        options["use_lhotse"] = False
    outputs = model.transcribe(paths, **options)
    if isinstance(outputs, tuple):  # some model classes return (best, all) hypotheses
        outputs = outputs[0]
    return [" ".join(str(getattr(item, "text", item)).split()) for item in outputs]


def _audio_paths(audio: str | Path | Sequence[str | Path]) -> list[str]:
    if isinstance(audio, (str, Path)):
        if Path(audio).suffix in MANIFEST_SUFFIXES:
            return [row["audio_filepath"] for row in read_complete_manifest(audio)]
        return [str(audio)]
    return [str(path) for path in audio]


def measure(model: nn.Module, rows: Sequence[Mapping[str, Any]] | str | Path, batch_size: int = 8) -> dict[str, Any]:
    """Word and character error rates and inference speed on a test set.

    Args:
        model: a NeMo ASR model.
        rows: manifest rows (``audio_filepath``, ``text``, optionally ``duration``) or a
            manifest path.
        batch_size: utterances per forward pass.

    Returns:
        ``wer`` and ``cer`` (corpus level: total edits / total reference words or
        characters), ``rtfx`` (audio seconds / seconds of transcription, audio decoding
        included), ``audio_seconds``, ``inference_seconds``, ``utterances``, ``words`` and
        ``hypotheses`` (the transcripts, in row order).
    """
    import jiwer
    import soundfile as sf

    if isinstance(rows, (str, Path)):
        rows = read_complete_manifest(rows)
    if not rows:
        raise ValueError("measure: no rows to score")
    references = [" ".join(str(row["text"]).split()) for row in rows]
    paths = [str(row["audio_filepath"]) for row in rows]
    audio_seconds = sum(float(row["duration"]) if row.get("duration") else sf.info(path).duration
                        for row, path in zip(rows, paths))
    started = time.perf_counter()
    hypotheses = transcribe(model, paths, batch_size=batch_size)
    seconds = time.perf_counter() - started
    output = jiwer.process_words(references, hypotheses)
    chars = jiwer.process_characters(references, hypotheses)
    words = sum(len(reference.split()) for reference in references)
    return {
        "wer": float(output.wer),
        "cer": float(chars.cer),
        "rtfx": audio_seconds / seconds if seconds > 0 else float("inf"),
        "audio_seconds": audio_seconds,
        "inference_seconds": seconds,
        "utterances": len(rows),
        "words": words,
        "hypotheses": hypotheses,
    }
