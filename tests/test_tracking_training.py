"""Training and tracking (issue 12, items 9 and 11): metric names are checked, hyperparameters are
run params, and a resumed training continues its MLflow run without logging an epoch twice."""

from __future__ import annotations

import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.models import TabularVAE
from artifact_jax.tracking import InMemoryTracker, MlflowTracker
from artifact_jax.training import checkpoints as ckpt
from artifact_jax.training import run_params, stopping
from artifact_jax.training.state import History

ADAM = optax.adam(3e-3)  # one optimizer (and model config) for the module: one compiled epoch


def frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(20, 80, n), "sex": rng.choice(["M", "F"], n)})


def trainer(epochs, *, best=None, stopper=None, tracker=None, checkpoints=None):
    df = frame()
    model = TabularVAE.from_frame(df, hidden=(8,), latent_dim=2, embed_dim=2, rngs=nnx.Rngs(0, noise=1))
    routines = [tr.LoaderLoss(model.encode_frame(frame(16, seed=1)), period=2)]  # LOSS_VAL at even epochs
    t = tr.Trainer(model, ADAM, batch_size=16, stopper=stopper or stopping.EpochBound(epochs), routines=routines,
                   best=best, tracker=tracker, checkpoints=checkpoints, progress=False, seed=3)  # fmt: skip
    return t, model.encode_frame(df)


# -- item 9: unknown metric names ---------------------------------------------------------------

def test_check_metrics_names_the_metric_and_lists_the_scores():
    history = History([{"epoch": 1, "LOSS_EPOCH": 1.0}, {"epoch": 2, "LOSS_EPOCH": 0.9, "MEAN_JS_DISTANCE_VAL": 0.2}])
    stopping.check_metrics(history, stopping.BestModel("MEAN_JS_DISTANCE_VAL"), stopping.EpochBound(3))
    with pytest.raises(ValueError, match=r"BestModel\('MEAN_JS_VAL'\).*Did you mean 'MEAN_JS_DISTANCE_VAL'.*"
                                         r"scores of this training are: LOSS_EPOCH, MEAN_JS_DISTANCE_VAL"):
        stopping.check_metrics(history, stopping.BestModel("MEAN_JS_VAL"))
    nested = stopping.any_of(stopping.EpochBound(9), stopping.Patience("LOSS_VALL", patience=2))
    with pytest.raises(ValueError, match=r"Patience\('LOSS_VALL'\)"):
        stopping.check_metrics(history, nested)
    with pytest.raises(ValueError, match=r"Checkpointing\('LOS'\)"):
        stopping.check_metrics(history, tr.Checkpointing("/tmp/unused", best_metric="LOS"))
    # every routine has run once by: the first multiple of each period after the start
    assert stopping.first_complete_epoch(0, [2, 5]) == 5 and stopping.first_complete_epoch(5, [2, 5, 0]) == 10
    assert stopping.first_complete_epoch(3, []) == 4


def test_misspelled_best_model_metric_raises_once_every_routine_has_run():
    """Was: never fired; fit returned best=None silently. LOSS_VAL exists from epoch 2 on."""
    t, data = trainer(6, best=stopping.BestModel("LOSS_VALL"))
    with pytest.raises(ValueError, match=r"BestModel\('LOSS_VALL'\).*Did you mean 'LOSS_VAL'") as info:
        t.fit(data)
    assert "LOSS_EPOCH, LOSS_VAL" in str(info.value)
    ok, data = trainer(2, best=stopping.BestModel("LOSS_VAL"))
    assert ok.fit(data).best.epoch == 2


def test_unknown_patience_metric_raises():
    stopper = stopping.Patience("LOSS_TRAINING", patience=2, max_epochs=4)
    t, data = trainer(4, stopper=stopper)
    with pytest.raises(ValueError, match=r"Patience\('LOSS_TRAINING'\)"):
        t.fit(data)


# -- item 11: hyperparameters as params; resume continues the run ------------------------------

def test_trainer_logs_its_hyperparameters_as_params():
    tracker = InMemoryTracker()
    t, data = trainer(2, tracker=tracker, best=stopping.BestModel("LOSS_VAL"))
    t.fit(data)
    p = tracker.params
    assert p["training/batch_size"] == "16" and p["training/epochs"] == "2" and p["training/seed"] == "3"
    assert p["training/optimizer/name"] == "scale_by_adam > scale"
    assert p["training/optimizer/learning_rate"] == "0.003" and p["training/optimizer/b1"] == "0.9"
    assert p["training/model/class"] == "TabularVAE" and p["training/model/latent_dim"] == "2"
    assert int(p["training/model/n_params"]) > 0 and p["training/rows"] == "40"
    assert p["training/best"] == "BestModel(metric='LOSS_VAL', mode='min')"
    assert "LoaderLoss" in p["training/routines"]


def test_a_resumed_training_continues_its_mlflow_run_without_logging_an_epoch_twice(tmp_path, sqlite_store):
    from mlflow import MlflowClient

    uri = sqlite_store
    directory = tmp_path / "ckpt"
    # The first training "crashes" after epoch 3; its last checkpoint is epoch 2.
    with MlflowTracker(uri, experiment="resume") as first:
        t, data = trainer(3, tracker=first, checkpoints=tr.Checkpointing(directory, period=2))
        t.fit(data)
    run = ckpt.tracking_run(directory, uri)
    assert run == {"run_id": first.run_id, "tracking_uri": uri, "experiment_id": first.experiment_id, "epoch": 2}
    assert ckpt.tracking_run(directory, "sqlite:///elsewhere.db") is None and ckpt.tracking_run(None) is None
    # Resume (with more epochs): the checkpoint's run is reopened; epoch 3 is re-run, not re-logged.
    with MlflowTracker(uri, run_id=run["run_id"]) as resumed:
        t, data = trainer(5, tracker=resumed, checkpoints=tr.Checkpointing(directory, period=2))
        result = t.fit(data, resume=True)
    assert list(result.history.index) == [1, 2, 3, 4, 5]
    client = MlflowClient(uri)
    runs = client.search_runs([first.experiment_id])
    assert [r.info.run_id for r in runs] == [first.run_id]
    for key in ("LOSS_EPOCH", "LOSS_VAL"):
        steps = sorted(m.step for m in client.get_metric_history(first.run_id, key))
        assert steps == ([1, 2, 3, 4, 5] if key == "LOSS_EPOCH" else [2, 4])
    params = runs[0].data.params
    assert params["training/epochs"] == "3" and params["resumed_at_2/training/epochs"] == "5"
    assert params["training/optimizer/learning_rate"] == "0.003"


def test_log_params_on_resume_keeps_changed_values_apart():
    tracker = InMemoryTracker()
    run_params.log_params(tracker, {"training": {"epochs": 3, "lr": 0.1}})
    run_params.log_params(tracker, {"training": {"epochs": 5, "lr": 0.1}}, resumed_at=2)
    assert tracker.params == {"training/epochs": "3", "training/lr": "0.1", "resumed_at_2/training/epochs": "5"}
    with pytest.raises(ValueError, match="cannot change"):
        run_params.log_params(tracker, {"training": {"epochs": 7}})

