"""MLflow stores under concurrency and on resume (issue 12, items 5 and 11).

Two processes creating one new SQLite store at once both get their run (a file lock around
MLflow's table creation); a store that cannot be opened is a ``TrackingError`` naming the URI; a
resumed run does not log a metric twice at a step it already holds.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from artifact_jax.tracking import MlflowTracker, TrackingError

CHILD = r"""
import os, sys, time
from pathlib import Path
from artifact_jax.tracking.mlflow import MlflowTracker
import mlflow.store.db.utils  # imported before the start line, so both start migrating together
uri, folder, name = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
(folder / f"ready-{name}").touch()
while not (folder / "go").exists():
    time.sleep(0.002)
with MlflowTracker(uri, experiment="race", run_name=name) as t:
    t.log_score("A", 1.0, step=0)
print(t.run_id)
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def test_two_processes_create_one_new_sqlite_store_at_once(tmp_path):
    """Was: one of them died with sqlalchemy's "table ... already exists" (or an alembic error)."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}"
    (tmp_path / "new").mkdir()
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, uri, str(tmp_path), name],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("first", "second")
    ]  # fmt: skip
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{n}").exists() for n in ("first", "second")):
        assert time.monotonic() < deadline and all(c.poll() is None for c in children), "a child died early"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    outputs = [c.communicate(timeout=120) for c in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-3000:]
    runs = MlflowClient(uri).search_runs([MlflowClient(uri).get_experiment_by_name("race").experiment_id])
    assert sorted(r.info.run_name for r in runs) == ["first", "second"]
    assert {r.info.run_id for r in runs} == {out.strip() for out, _ in outputs}


def test_a_store_that_cannot_be_opened_is_a_tracking_error_naming_the_uri(tmp_path):
    """Was: sqlalchemy's raw ``DatabaseError`` from building the client, outside any context."""
    (tmp_path / "notes.db").write_text("not a database\n" * 200)
    with pytest.raises(TrackingError, match=r"could not start a run .* at sqlite:///.*notes\.db: .*not a database"):
        MlflowTracker(f"sqlite:///{tmp_path / 'notes.db'}")


def test_a_resumed_run_logs_no_step_twice(tmp_path):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with MlflowTracker(uri, experiment="resume") as first:
        for step in range(4):  # epochs 0..3 were logged; the last checkpoint was at epoch 1
            first.log_score("LOSS", float(step), step=step)
            first.log_score_collection("JS", {"Age": float(step)}, step=step)
    with MlflowTracker(uri, run_id=first.run_id) as resumed:
        for step in range(2, 6):  # the resumed training re-runs epochs 2 and 3
            resumed.log_score("LOSS", 10.0 + step, step=step)
            resumed.log_score_collection("JS", {"Age": 10.0 + step}, step=step)
    client = MlflowClient(uri)
    for key in ("LOSS", "JS/Age"):
        history = sorted((m.step, m.value) for m in client.get_metric_history(first.run_id, key))
        assert history == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0), (4, 14.0), (5, 15.0)]
    with MlflowTracker(uri, run_id=first.run_id, relog=True) as again:
        again.log_score("LOSS", 99.0, step=5)
    assert sorted(m.value for m in client.get_metric_history(first.run_id, "LOSS") if m.step == 5) == [15.0, 99.0]
    assert Path(f"{tmp_path / 'mlflow.db'}.lock").exists()  # the store lock sits next to the database


def test_a_new_sqlite_store_is_built_without_a_sync_per_migration(tmp_path, monkeypatch):
    """``create_sqlite_store`` builds the tables on a scratch file renamed into place: MLflow opens
    it at its latest schema (no migration of its own) and the run works; where ours cannot,
    MLflow's own path builds the store."""
    import sqlite3

    import mlflow.store.db.utils as db_utils

    from artifact_jax.tracking import mlflow as tracking_mlflow

    with monkeypatch.context() as m:  # MLflow's own path where ours cannot build the store
        m.setattr(tracking_mlflow, "create_sqlite_store", lambda p: False)
        with MlflowTracker(f"sqlite:///{tmp_path / 'plain.db'}") as t:
            t.log_score("x", 2.0, step=0)
    assert (tmp_path / "plain.db").exists()

    path = tmp_path / "new.db"
    assert tracking_mlflow.create_sqlite_store(path) and path.exists()
    assert not tracking_mlflow.create_sqlite_store(path)  # never over an existing store
    assert not list(tmp_path.glob(".*creating"))
    (head,) = sqlite3.connect(path).execute("select version_num from alembic_version").fetchone()
    migrations = []
    monkeypatch.setattr(db_utils, "_upgrade_db", lambda *a, **k: migrations.append(a))
    with MlflowTracker(f"sqlite:///{path}") as t:
        t.log_score("x", 1.0, step=0)
    assert migrations == [] and head
    client = __import__("mlflow").MlflowClient(f"sqlite:///{path}")
    assert client.get_run(t.run_id).data.metrics == {"x": 1.0}
