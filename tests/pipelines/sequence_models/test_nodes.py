"""Nodes of sequence_models: ingest, the training step, the measurements and the served model."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from dl_roadmap.pipelines.sequence_models import nodes
from dl_roadmap.pipelines.sequence_models.serving import DateNormaliser
from dl_roadmap.text.vocab import CharVocab

DATA = {"n_train": 40, "n_val": 10, "n_test": 30, "seed": 0, "max_input_length": 96}


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    return nodes.generate_dates(DATA)[0]


def test_generate_dates_splits_and_summarises(pairs):
    _, summary = nodes.generate_dates(DATA)
    assert pairs["split"].value_counts().to_dict() == {"train": 40, "test": 30, "val": 10}
    assert summary["train_size"] == 40 and summary["input_length_max"] <= 96 and summary["examples"]


def test_read_pairs_names_the_bad_row(pairs):
    broken = pairs.copy()
    broken.loc[7, "target"] = "2014-13-01"
    with pytest.raises(ValueError, match="sequence_models_pairs, row 7: target '2014-13-01' is not a calendar date"):
        nodes.read_pairs(broken, 96)
    with pytest.raises(ValueError, match=r"no rows in split\(s\) \['val'\]"):
        nodes.read_pairs(pairs[pairs["split"] != "val"], 96)


class Oracle(nn.Module):
    """Answers with the true target of each known input (to test the measuring code)."""

    def __init__(self, frame: pd.DataFrame, source: CharVocab, target: CharVocab, wrong: set[str]):
        super().__init__()
        self.answers = {tuple(source.encode(t)): target.encode(y if t not in wrong else "1999-01-01")
                        for t, y in zip(frame["input"], frame["target"])}
        self.weight = nn.Parameter(torch.zeros(1))

    def greedy(self, src, steps):
        rows = [tuple(int(i) for i in row if i) for row in src]
        return torch.tensor([self.answers[r] for r in rows]), torch.full((len(src), steps, src.size(1)), 1 / src.size(1))


def test_evaluation_counts_exact_matches_by_length_and_form(pairs):
    test = pairs[pairs["split"] == "test"]
    source, target = CharVocab.from_texts(pairs["input"]), CharVocab(nodes.TARGET_CHARS)
    longest = test.loc[test["input"].str.len().idxmax(), "input"]
    bundle = {"models": {"oracle": Oracle(test, source, target, {longest})}, "source_chars": source.state(),
              "target_chars": target.state(), "train_seconds": {"oracle": 1.0},
              "configs": {"oracle": {"kind": "gru", "attention": "luong"}}}
    results, by_length, predictions = nodes.evaluate_models(bundle, pairs, DATA, [0, 15, 30, 96])
    assert results.loc[0, "test_exact_match"] == pytest.approx(29 / 30)
    assert by_length["count"].sum() == 30
    assert by_length.sort_values("length_upper")["exact_match"].iloc[-1] < 1.0, "the wrong answer is the longest input"
    assert (predictions["oracle"] == predictions["target"]).sum() == 29
    metrics = nodes.summarize(results, by_length)
    assert metrics["oracle.test_exact_match"]["value"] == pytest.approx(29 / 30)


@pytest.mark.parametrize("config", [{"kind": "gru", "attention": "none", "hidden": 8, "embed": 8},
                                    {"kind": "gru", "attention": "additive", "hidden": 8, "embed": 8},
                                    {"kind": "transformer", "dim": 8, "heads": 2, "encoder_layers": 1,
                                     "decoder_layers": 1}])
def test_step_learns_a_batch(pairs, config):
    torch.manual_seed(0)
    source, target = CharVocab.from_texts(pairs["input"]), CharVocab(nodes.TARGET_CHARS)
    batch = nodes.encode_split(pairs.head(16), source, target).tensors
    model = nodes.build_model(config, len(source), len(target), 96)
    optimizer = torch.optim.Adam(model.parameters(), 1e-2)
    first = float(nodes.seq2seq_step(model, batch)["loss"])
    for _ in range(30):
        loss = nodes.seq2seq_step(model, batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.7 * first


def test_the_served_model_maps_strings_to_dates(pairs):
    source, target = CharVocab.from_texts(pairs["input"]), CharVocab(nodes.TARGET_CHARS)
    model = nodes.build_model({"kind": "gru", "attention": "luong", "hidden": 8, "embed": 8}, len(source), len(target), 96)
    served = DateNormaliser(model, source.state(), target.state())
    out = served.predict(None, ["3rd of March 2014", "03/03/14"])
    assert list(out.columns) == ["input", "date"] and len(out) == 2
    assert all(len(d) <= 10 and set(d) <= set(nodes.TARGET_CHARS) for d in out["date"])
    with pytest.raises(KeyError, match="serving.model: 'gru_x'"):
        nodes.build_serving_model({"models": {"gru": model}}, {"model": "gru_x"})


def test_training_is_reproducible(pairs, tmp_path):
    """Same parameters, same weights: the initial weights are seeded, not left to the process."""
    models = {"gru_luong": {"kind": "gru", "attention": "luong", "hidden": 8, "embed": 8}}
    fit_params = {"max_epochs": 1, "batch_size": 16, "monitor": "val_exact_match", "mode": "max",
                  "checkpoint_dir": str(tmp_path)}
    trainer = {"accelerator": "cpu", "progress_bar": False}
    torch.manual_seed(123)  # whatever the process did before
    first, _ = nodes.train_models(pairs, DATA, models, fit_params, trainer, num_threads=1)
    torch.rand(5)
    second, _ = nodes.train_models(pairs, DATA, models, fit_params, trainer, num_threads=1)
    for a, b in zip(first["models"]["gru_luong"].state_dict().values(),
                    second["models"]["gru_luong"].state_dict().values()):
        assert torch.equal(a, b)
