"""Text and sequence building blocks: character vocabularies (vocab), the generated
date-normalisation task (dates), Shakespeare's plays as plain text (shakespeare), attention
written from its equations (attention), recurrent encoder-decoders (recurrent), the
Transformer and a character-level GPT (transformer), and sampling with a KV cache
(generation)."""
