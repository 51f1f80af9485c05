"""examples/: each example runs end to end (few epochs) in a temporary working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_train_synthesizer_example_logs_a_validated_run_to_mlflow(tmp_path, new_store):
    from mlflow import MlflowClient

    new_store(tmp_path)  # its sqlite:///mlflow.db, tables made (once per session): seconds saved
    script = EXAMPLES / "train_synthesizer.py"
    assert len(script.read_text().splitlines()) < 60
    out = subprocess.run(
        [sys.executable, str(script), "5"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "MLflow run" in out.stdout and "MEAN_JS_DISTANCE_TRAIN" in out.stdout
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("penguins-synthesizer").experiment_id])
    assert run.info.status == "FINISHED"
    for name in ("LOSS_TRAIN", "MEAN_JS_DISTANCE_TRAIN", "CORRELATION_DISTANCE_TRAIN"):
        assert [m.step for m in client.get_metric_history(run.info.run_id, name)] == [5], name
    assert [m.step for m in client.get_metric_history(run.info.run_id, "LOSS_EPOCH")] == [1, 2, 3, 4, 5]
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert plots == {"plots/PDF_TRAIN", "plots/CORRELATION_HEATMAP_JUXTAPOSITION_TRAIN"}
