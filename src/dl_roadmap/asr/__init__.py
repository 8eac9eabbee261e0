"""Speech-recognition building blocks shared by the Parakeet pipelines: audio loading and
resampling, text normalisation, manifest ingest and validation, the synthesized demo corpus."""
