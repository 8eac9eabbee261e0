"""The character-level GPT as an MLflow pyfunc model: a prompt -> its continuation.

    model = mlflow.pyfunc.load_model("models:/<id>")   # or runs:/<run>/sequence_models_gpt_shakespeare
    model.predict(["ROMEO:\n"])                          # a list of prompts, or
    model.predict(pd.DataFrame({"prompt": ["ROMEO:\n"], "max_new_tokens": [300], "temperature": [0.8],
                                "top_k": [20], "seed": [1]}))
    -> DataFrame with columns prompt, continuation

Optional columns (per row): max_new_tokens (default 200), temperature (0.8; 0 = greedy),
top_k (200; 0 = no cut), seed (0). Characters the model never saw are read as unknown.
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import torch

from dl_roadmap.text.generation import generate
from dl_roadmap.text.transformer import GPT
from dl_roadmap.text.vocab import CharVocab

DEFAULTS = {"max_new_tokens": 200, "temperature": 0.8, "top_k": 200, "seed": 0}


def as_requests(model_input) -> pd.DataFrame:
    """A frame with a prompt column and every option column (defaults filled in)."""
    if isinstance(model_input, pd.DataFrame):
        frame = model_input.rename(columns={model_input.columns[0]: "prompt"}) \
            if "prompt" not in model_input.columns else model_input.copy()
    else:
        frame = pd.DataFrame({"prompt": [str(p) for p in list(model_input)]})
    if frame.empty:
        raise ValueError("expected at least one prompt")
    for key, value in DEFAULTS.items():
        frame[key] = frame[key].fillna(value) if key in frame else value
    return frame


class ShakespeareGPT(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper: prompt characters -> ids -> sampling with the KV cache -> text."""

    def __init__(self, model: GPT, chars: list[str]):
        self.model, self.vocab = model.cpu().eval(), CharVocab(chars)

    # No type hints: MLflow would read them as an input schema.
    def predict(self, context, model_input, params=None):
        frame = as_requests(model_input)
        outputs = []
        for row in frame.itertuples(index=False):
            prompt = torch.tensor([self.vocab.encode(str(row.prompt) or "\n")])
            ids = generate(self.model, prompt, int(row.max_new_tokens), temperature=float(row.temperature),
                           top_k=int(row.top_k) or None, seed=int(row.seed))
            outputs.append(self.vocab.decode(ids[0, prompt.size(1):], stop_at_pad=False))
        return pd.DataFrame({"prompt": frame["prompt"], "continuation": outputs})
