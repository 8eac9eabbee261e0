"""Speech-recognition building blocks for the Parakeet pipelines: audio loading and
resampling, text normalisation, manifest ingest and validation, the synthesized demo
corpus, and a CPU implementation of the TDT transducer loss."""
