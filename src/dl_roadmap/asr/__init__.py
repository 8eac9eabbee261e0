"""Speech recognition with Parakeet-family models (NeMo), by concern:

- data: ``audio`` (decode, resample), ``text`` (normalise), ``manifest`` (read transcripts,
  write NeMo manifests), ``validation`` (check rows, reject report), ``splits``,
  ``corpus`` (the espeak-ng demo corpus), ``data`` (datasets and loaders);
- models: ``nemo_config`` (configs from parameters), ``tokenizer``, ``build``, ``model_io``
  (load, save, sizes), ``step`` (the training step), ``tdt_loss`` / ``tdt_reference`` /
  ``tdt_nemo`` (the TDT loss on CPU), ``finetune`` (what the shared stages need);
- results: ``transcribe``, ``measure`` (WER, CER, speed), ``errors`` (error analysis);
- compression: ``quantize`` (int8), ``onnx_export``, ``onnx_decode``, ``onnx_check``;
- explanation: ``attribution`` (gradient x input), ``explain`` (deletion check, figures).
"""
