"""End to end: `kedro run --pipeline=parakeet_finetune --env test`, its catalog outputs (under
the test data root) and its MLflow run; then a run stopped by
bad data. First, how the registry puts parakeet_base in front of parakeet_finetune."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from tests.conftest import PROJECT_ROOT, mlflow_runs, run_kedro

DATA = "data/test"  # the test environment's data root (conf/test/globals.yml)
REPORTS = f"{DATA}/08_reporting/parakeet_finetune"
PLOTS = ["wer", "top_errors", "training_curves", "attributions", "compression"]


def test_parakeet_finetune_runs_parakeet_base_first():
    """The registry puts parakeet_base's nodes in front of parakeet_finetune's, also when a
    run asks for parakeet_finetune alone (find_pipelines then loads that folder only);
    parakeet_base still runs alone."""
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT_ROOT)
    try:
        pipelines.set_requested(["parakeet_finetune"])
        finetune = pipelines["parakeet_finetune"]
        assert {"synthesize_demo_corpus", "train_offline_base"} <= {node.name for node in finetune.nodes}
        assert not {"parakeet_demo_corpus", "parakeet_base_card"} & finetune.inputs()
        pipelines.set_requested(["parakeet_base"])
        base = pipelines["parakeet_base"]
        assert sorted(node.name for node in base.nodes) == ["synthesize_demo_corpus", "train_offline_base"]
    finally:
        pipelines.set_requested(None)


def test_demo_corpus_and_offline_base(parakeet_finetune_run):
    project, _ = parakeet_finetune_run
    manifests = json.loads((project / DATA / "01_raw/parakeet_demo/manifests.json").read_text())
    assert set(manifests) == {"domain_a", "domain_a_test", "domain_b", "domain_b_test"}
    lines = (project / manifests["domain_b"]).read_text().splitlines()
    assert len(lines) == 24, "conf/test asks for 24 domain-B training utterances"
    card = json.loads((project / DATA / "08_reporting/parakeet_base/card.json").read_text())
    assert (project / card["nemo"]).is_file() and card["nemo"].endswith("base.nemo")
    assert card["train_utterances"] + card["validation_utterances"] == 40
    assert 0 <= card["base_domain_a_test_wer"] and 0 <= card["base_domain_b_test_wer"]


def test_ingest_outputs(parakeet_finetune_run):
    project, _ = parakeet_finetune_run
    summary = json.loads((project / REPORTS / "ingest_summary.json").read_text())
    assert summary["rows_read"] == 24 + 8 and summary["rows_clean"] == 32 and summary["rows_rejected"] == 0
    rejects = pd.read_csv(project / REPORTS / "rejects.csv")
    assert list(rejects.columns) == ["source", "line", "audio_filepath", "field", "problem"] and rejects.empty
    splits = json.loads((project / DATA / "05_model_input/parakeet_finetune/splits.json").read_text())
    assert len(splits["test"]) == 8, "the source marked `split: test` is the test set"
    assert len(splits["train"]) + len(splits["validation"]) == 24 and splits["validation"]
    for split in ("train", "validation", "test"):
        rows = [json.loads(line) for line in
                (project / DATA / f"05_model_input/parakeet_finetune/{split}_manifest.json").read_text().splitlines()]
        assert [row["text"] for row in rows] == [row["text"] for row in splits[split]]
        assert all(row["duration"] > 0.5 for row in rows), "durations measured from the audio"


def test_evaluation_outputs(parakeet_finetune_run):
    project, _ = parakeet_finetune_run
    results = pd.read_csv(project / REPORTS / "results.csv")
    assert list(results["model"]) == ["base", "fine-tuned"]
    assert (results["wer"] >= 0).all() and (results["rtfx"] > 0).all()
    utterances = pd.read_csv(project / REPORTS / "finetuned_utterances.csv", keep_default_na=False)
    assert len(utterances) == 8
    assert {"reference", "hypothesis", "substitutions", "deletions", "insertions", "wer"} <= set(utterances.columns)
    errors = utterances[["substitutions", "deletions", "insertions"]].sum().sum()
    assert errors / utterances["words"].sum() == pytest.approx(results.loc[1, "wer"])
    for plot in PLOTS:
        assert (project / REPORTS / f"{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (project / DATA / "06_models/parakeet_finetune/finetuned.nemo").stat().st_size > 10_000


def test_compressed_variants_are_saved_and_measured(parakeet_finetune_run):
    project, run = parakeet_finetune_run
    table = pd.read_csv(project / REPORTS / "compression.csv", keep_default_na=False)
    assert list(table["variant"]) == ["fp32", "int8", "onnx"]
    assert table.loc[1, "bytes"] < table.loc[0, "bytes"], "int8 weights are smaller"
    assert (project / DATA / "06_models/parakeet_finetune/compressed/finetuned.int8.nemo").is_file()
    assert list((project / DATA / "06_models/parakeet_finetune/compressed/onnx").glob("*.onnx"))
    assert {"compress_fp32_wer", "compress_int8_wer", "compress_int8_bytes"} <= set(run.data.metrics)


def test_attributions_are_checked_against_random_frames(parakeet_finetune_run):
    project, run = parakeet_finetune_run
    table = pd.read_csv(project / REPORTS / "attributions.csv", keep_default_na=False)
    assert len(table) == 3
    assert {"reference", "hypothesis", "log_likelihood", "ll_top_removed", "ll_random_removed"} <= set(table.columns)
    assert {"explain_ll_drop_top_frames", "explain_ll_drop_random_frames"} <= set(run.data.metrics)


def test_finetuned_model_restores_and_transcribes(parakeet_finetune_run):
    from dl_roadmap.asr.model_io import restore_nemo
    from dl_roadmap.asr.transcribe import transcribe

    project, _ = parakeet_finetune_run
    model = restore_nemo(project / DATA / "06_models/parakeet_finetune/finetuned.nemo")
    rows = json.loads((project / DATA / "05_model_input/parakeet_finetune/splits.json").read_text())["test"]
    saved = pd.read_csv(project / REPORTS / "finetuned_utterances.csv", keep_default_na=False)
    assert transcribe(model, [rows[0]["audio_filepath"]]) == [saved.loc[0, "hypothesis"]]


def test_mlflow_run_has_training_curves_trials_and_model(parakeet_finetune_run):
    project, run = parakeet_finetune_run
    assert run.info.status == "FINISHED"
    assert run.data.params["parakeet_finetune.base.source"] == "offline"
    for key in ("base_test_wer", "finetuned_test_wer", "finetuned_test_cer", "finetuned_test_rtfx"):
        assert key in run.data.metrics
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    for metric in ("tuned/train_loss", "tuned/lr", "tuned/val_wer"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, metric)] == [0, 1], metric
    trials = client.search_runs([run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert sorted(t.info.run_name for t in trials) == ["trial-0", "trial-1"]
    artifacts = {a.path for folder in ("plots", "tables", "model", "data") for a in client.list_artifacts(run.info.run_id, folder)}
    assert {f"plots/{p}.png" for p in PLOTS} <= artifacts
    assert {"model/finetuned.nemo", "tables/results.csv", "data/rejects.csv"} <= artifacts


def test_bad_data_stops_the_run_and_keeps_the_report(parakeet_finetune_run, tmp_path):
    """More rejected rows than max_reject_fraction: the run stops with the reasons, its
    rejects table is kept in its MLflow run, and the good run's files (model, report) are
    put back as they were."""
    from dl_roadmap.asr.validation import DataQualityError

    project, _ = parakeet_finetune_run
    manifest = tmp_path / "broken.json"
    manifest.write_text("\n".join([
        json.dumps({"audio_filepath": "missing.wav", "duration": 1.0, "text": "hello"}),
        "{not json",
        json.dumps({"audio_filepath": "also_missing.wav", "text": ""}),
    ]) + "\n")
    model = project / DATA / "06_models/parakeet_finetune/finetuned.nemo"
    before = model.read_bytes()
    params = {"parakeet_finetune": {"data": {"sources": [{"path": str(manifest)}]}}}  # what --params makes of a.b.c
    with pytest.raises(DataQualityError, match=r"3 of 3 rows \(100.0%\) were rejected"):
        run_kedro(project, pipeline="parakeet_finetune", params=params)
    assert pd.read_csv(project / REPORTS / "rejects.csv").empty, "the good run's report is back on disk"
    assert model.read_bytes() == before
    runs = mlflow_runs(project, "parakeet_finetune")
    assert len(runs) == 2  # the failed run is recorded, not hidden
    failed = next(run for run in runs if run.info.status == "FAILED")
    client = MlflowClient(f"sqlite:///{project / 'mlflow.db'}")
    rejects = pd.read_csv(client.download_artifacts(failed.info.run_id, "data/rejects.csv", str(tmp_path)))
    assert set(rejects["line"]) == {1, 2, 3}
    assert {"audio_filepath", "text"} <= set(rejects["field"])
