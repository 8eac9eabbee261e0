"""End to end: `kedro run --pipeline=parakeet_base --env test` after a parakeet_finetune test
run (which runs the base first): the cached offline base is reused, not trained again."""

from __future__ import annotations

import json

from tests.conftest import run_kedro

DATA = "data/test"  # the test environment's data root (conf/test/globals.yml)


def test_offline_base_is_reused(parakeet_finetune_run):
    """A second parakeet_base run with the same parameters trains nothing: same card, same file."""
    project, _ = parakeet_finetune_run
    card_path = project / DATA / "08_reporting/parakeet_base/card.json"
    before = card_path.read_text()
    nemo = project / json.loads(before)["nemo"]
    mtime = nemo.stat().st_mtime_ns
    run_kedro(project, pipeline="parakeet_base")
    assert card_path.read_text() == before
    assert nemo.stat().st_mtime_ns == mtime
