"""Distributed tuning: two worker processes on one study in a real PostgreSQL server.

The server is Debian's postgresql package (`make test` installs it), started here on
127.0.0.1 in a temporary data folder and stopped afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import optuna
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("initdb"):
        found = [shutil.which("initdb")]
    if not found:
        pytest.fail("PostgreSQL server binaries not found: install Debian's `postgresql` package (make test does)")
    return Path(found[-1]).parent


def _as_postgres_user(command: list[str]) -> list[str]:
    # The server refuses to run as root; as root, run it as the package's postgres user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    done = subprocess.run(_as_postgres_user(command), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr or done.stdout}")


@pytest.fixture(scope="module")
def postgres_url():
    binaries = _postgres_bin()
    # Not under pytest's tmp folder: that one is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="dl-roadmap-postgres-"))
    os.chmod(root, 0o755)
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _run([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "optuna"])
    _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "start",
          "-o", f"-h 127.0.0.1 -p {port} -k {data}"])
    try:
        _run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "optuna", "studies"])
        yield f"postgresql://optuna@127.0.0.1:{port}/studies"
    finally:
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_one_study_without_duplicates_or_losses(postgres_url, tmp_path):
    target = 6
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.core.stages.tune_worker", postgres_url, "shared", str(target), "3"],
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    for worker, output in zip(workers, outputs):
        assert worker.returncode == 0, output[-3000:]

    trials = optuna.load_study(study_name="shared", storage=postgres_url).trials
    numbers = [trial.number for trial in trials]
    per_worker = Counter(trial.user_attrs.get("worker") for trial in trials)
    assert len(per_worker) == 2 and all(count >= 1 for count in per_worker.values()), per_worker
    assert sum(per_worker.values()) == len(trials), "every trial was run by one of the two workers"
    assert sorted(numbers) == list(range(len(trials))), "trial numbers are unique and none is missing"
    assert {trial.state for trial in trials} == {optuna.trial.TrialState.COMPLETE}, "no trial lost or left running"
    # Each worker stops once the study holds the target; one may finish a trial it had started.
    assert target <= len(trials) <= target + 1
    # Both workers were given seed 0; on a shared server each mixes in its process id.
    first_params = [min((t for t in trials if t.user_attrs["worker"] == w), key=lambda t: t.number).params for w in per_worker]
    assert first_params[0] != first_params[1], "the two workers did not propose the same parameters"
