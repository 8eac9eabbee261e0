"""Exported Parakeet graphs checked against PyTorch: the same features through both, their
outputs compared frame by frame and their greedy transcripts side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from dl_roadmap.asr.onnx_decode import (
    ctc_parts,
    feed,
    hypothesis_texts,
    ids_to_text,
    inference,
    ort_session,
    require_cpu,
    transducer_greedy,
)
from dl_roadmap.asr.onnx_export import decoding_head, onnx_parts
from dl_roadmap.asr.quantize import dynamic_int8_linears


def check_onnx(model: nn.Module, onnx_dir: str | Path, signal: Any, lengths: Any = None, *, name: str = "model",
               threads: int = 1) -> dict[str, Any]:
    """Run the graphs from :func:`export_onnx` in ONNX Runtime and compare them with PyTorch.

    The model's preprocessor (PyTorch) turns ``signal`` into log-mel features; both the
    PyTorch modules and the ONNX graphs get those same features, and their outputs are
    compared over each utterance's valid frames (padding excluded):

    - ``max_abs_diff``: the encoder output (transducers) or the CTC log-probabilities
      (CTC: the graph is encoder + head), largest absolute difference; ``reference_scale``
      is the largest absolute PyTorch value, for scale; ``lengths_equal``: the encoder
      frame counts agree (transducers; a CTC graph has no lengths output).
    - ``decoder_joint_max_abs_diff`` (transducers): one decoding step (blank as previous
      token, zero LSTM state) on the PyTorch encoder output at every frame, compared
      after log-softmax (PyTorch's joint applies it on CPU, the exported one does not).
    - Greedy transcripts: ``transcripts_torch`` (the model's own decoding of the PyTorch
      outputs), ``transcripts_onnx`` (decoded from the ONNX graphs alone: encoder graph,
      then decoder-joint graph) and ``transcripts_match``. CTC: NeMo's CTC decoding of the
      ONNX log-probabilities. RNN-T: NeMo's greedy decoding of exported graphs
      (``ONNXGreedyBatchedRNNTInfer``'s loop). TDT: :func:`greedy_tdt` on the
      decoder-joint graph, one utterance at a time (NeMo's exported-graph decoder takes
      the last joint output as the blank and ignores durations, so it cannot decode TDT).
      A float32 difference between the graphs and PyTorch can flip a near-tie between two
      tokens or durations, so a trained model may now and then differ in a word.

    Args:
        model: the float model the graphs were exported from, on CPU.
        onnx_dir: the folder given to :func:`export_onnx`.
        signal: audio at the model's sample rate: samples (N,), a padded batch (B, N), or
            a list of clips of any lengths.
        lengths: samples per row of a padded batch (default: all of N).
        name: the ``name`` given to :func:`export_onnx`.
        threads: ONNX Runtime threads.

    Returns:
        ``head`` and the comparisons above.

    Raises:
        FileNotFoundError: graphs missing for the model's head.
        TypeError: an int8 model (its numbers differ from the float graphs by design).
        ValueError: a model not on CPU, a signal of the wrong shape, or a TDT model whose
            durations are missing or do not fit its joint's outputs.
        ImportError: onnxruntime is not installed.
    """
    head = decoding_head(model)
    if dynamic_int8_linears(model):
        raise TypeError("check_onnx compares float graphs with the float model they were exported from; "
                        "got an int8 model")
    require_cpu(model, "check_onnx")
    parts = onnx_parts(onnx_dir, name, head)
    samples, sample_lengths = _signal_batch(signal, lengths)
    result: dict[str, Any] = {"head": head}
    with inference(model):
        features, feature_lengths = model.preprocessor(input_signal=samples, length=sample_lengths)
        encoded, encoded_lengths = model.encoder(audio_signal=features, length=feature_lengths)
        inputs = {"audio_signal": features.numpy(), "length": feature_lengths.numpy()}
        if head == "ctc":
            ctc_head, decoding = ctc_parts(model)
            log_probs = ctc_head(encoder_output=encoded)
            session = ort_session(parts["model"], threads)
            onnx_log_probs = torch.from_numpy(session.run(None, feed(session, inputs))[0])
            result["output"] = "logprobs"
            result["max_abs_diff"] = _max_abs_diff(onnx_log_probs, log_probs, encoded_lengths, time_dim=1)
            result["reference_scale"] = float(log_probs.abs().max())
            result["lengths_equal"] = None
            result["decoder_joint_max_abs_diff"] = None
            torch_texts = hypothesis_texts(decoding.ctc_decoder_predictions_tensor(
                log_probs, decoder_lengths=encoded_lengths))
            onnx_texts = hypothesis_texts(decoding.ctc_decoder_predictions_tensor(
                onnx_log_probs, decoder_lengths=encoded_lengths))
        else:
            session = ort_session(parts["encoder"], threads)
            onnx_encoded, onnx_lengths = session.run(None, feed(session, inputs))
            result["output"] = "encoder"
            result["max_abs_diff"] = _max_abs_diff(torch.from_numpy(onnx_encoded), encoded, encoded_lengths,
                                                   time_dim=2)
            result["reference_scale"] = float(encoded.abs().max())
            result["lengths_equal"] = bool(np.array_equal(onnx_lengths, encoded_lengths.numpy()))
            result["decoder_joint_max_abs_diff"] = _decoder_joint_diff(model, parts["decoder_joint"], encoded,
                                                                       encoded_lengths, threads)
            torch_texts = hypothesis_texts(model.decoding.rnnt_decoder_predictions_tensor(
                encoder_output=encoded, encoded_lengths=encoded_lengths))
            onnx_texts = [ids_to_text(model.decoding, ids)
                          for ids in transducer_greedy(model, head, parts, threads)(features, feature_lengths)]
    result["transcripts_torch"] = torch_texts
    result["transcripts_onnx"] = onnx_texts
    result["transcripts_match"] = onnx_texts == torch_texts
    return result


def _decoder_joint_diff(model: nn.Module, path: Path, encoded: Tensor, encoded_lengths: Tensor, threads: int
                        ) -> float:
    """Largest |difference| of one prediction + joint step, ONNX vs PyTorch (log-softmaxed)."""
    batch = encoded.shape[0]
    blank = model.decoder.blank_idx
    targets = torch.full((batch, 1), blank, dtype=torch.long)
    prediction, _ = model.decoder.predict(targets, state=None, add_sos=False, batch_size=batch)
    reference = model.joint.joint(encoded.transpose(1, 2), prediction).log_softmax(dim=-1)  # (B, T, 1, V)
    session = ort_session(path, threads)
    states = [np.zeros([dim if isinstance(dim, int) else batch for dim in node.shape], dtype=np.float32)
              for node in session.get_inputs()[3:]]
    values = [encoded.numpy(), targets.int().numpy(), np.ones(batch, dtype=np.int32), *states]
    outputs = session.run(None, {node.name: value for node, value in zip(session.get_inputs(), values)})
    ours = torch.from_numpy(outputs[0]).log_softmax(dim=-1)
    return _max_abs_diff(ours, reference, encoded_lengths, time_dim=1)


def _signal_batch(signal: Any, lengths: Any = None) -> tuple[Tensor, Tensor]:
    """(B, N) float32 samples and (B,) lengths from one clip, a list of clips or a padded batch."""
    if isinstance(signal, (list, tuple)):
        clips = [torch.as_tensor(np.asarray(clip), dtype=torch.float32).reshape(-1) for clip in signal]
        if not clips or any(len(clip) == 0 for clip in clips):
            raise ValueError("signal: no clips, or an empty clip")
        batch = torch.zeros(len(clips), max(len(clip) for clip in clips))
        for row, clip in enumerate(clips):
            batch[row, : len(clip)] = clip
        return batch, torch.tensor([len(clip) for clip in clips])
    batch = torch.as_tensor(np.asarray(signal), dtype=torch.float32)
    if batch.ndim == 1:
        batch = batch[None]
    if batch.ndim != 2 or batch.shape[1] == 0:
        raise ValueError(f"signal must be samples (N,), a padded batch (B, N) or a list of clips; "
                         f"got shape {tuple(batch.shape)}")
    if lengths is None:
        return batch, torch.full((batch.shape[0],), batch.shape[1])
    lengths = torch.as_tensor(np.asarray(lengths), dtype=torch.long).reshape(-1)
    if len(lengths) != batch.shape[0] or int(lengths.min()) <= 0 or int(lengths.max()) > batch.shape[1]:
        raise ValueError(f"lengths {lengths.tolist()} do not fit a batch of shape {tuple(batch.shape)}")
    return batch, lengths


def _max_abs_diff(ours: Tensor, theirs: Tensor, lengths: Tensor, time_dim: int) -> float:
    """Largest |difference| over the valid frames of each utterance (padding excluded)."""
    worst = 0.0
    for row, length in enumerate(lengths.tolist()):
        a = ours[row].narrow(time_dim - 1, 0, length)
        b = theirs[row].narrow(time_dim - 1, 0, length)
        worst = max(worst, float((a - b).abs().max()))
    return worst
