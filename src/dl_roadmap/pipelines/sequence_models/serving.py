"""The date normaliser as an MLflow pyfunc model.

    model = mlflow.pyfunc.load_model("models:/<id>")   # or runs:/<run>/sequence_models_date_normaliser
    model.predict(["3rd of March 2014", "03/03/14", "lundi 3 mars 2014"])
    -> DataFrame with columns input, date ("2014-03-03", ...)

Input: a list of strings (or a DataFrame/Series whose first column holds them), dates
written day-first when numeric, years 1950-2049. Output: one ISO date string per input, as
decoded greedily; characters the model never saw are read as unknown.
"""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd
import torch
from torch import nn

from dl_roadmap.text.vocab import CharVocab

TARGET_LENGTH = 10


def as_texts(model_input) -> list[str]:
    """A list of strings from a list, a Series or a DataFrame's first column."""
    if isinstance(model_input, pd.DataFrame):
        model_input = model_input.iloc[:, 0]
    texts = [str(t) for t in list(model_input)]
    if not texts:
        raise ValueError("expected at least one written date")
    return texts


class DateNormaliser(mlflow.pyfunc.PythonModel):
    """Pyfunc wrapper: characters -> ids -> greedy decoding -> yyyy-mm-dd."""

    def __init__(self, model: nn.Module, source_chars: list[str], target_chars: list[str]):
        self.model = model.cpu().eval()
        self.source, self.target = CharVocab(source_chars), CharVocab(target_chars)

    # No type hints: MLflow would read them as an input schema.
    def predict(self, context, model_input, params=None):
        texts = as_texts(model_input)
        with torch.no_grad():
            ids, _ = self.model.greedy(self.source.batch([" ".join(t.split()) for t in texts]), TARGET_LENGTH)
        return pd.DataFrame({"input": texts, "date": [self.target.decode(row) for row in ids]})
