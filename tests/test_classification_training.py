"""Classification training: MLPClassifier, its preprocessing, the classification routine, the demo and CLI."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.cli import main
from artifact_jax.models import ClassifierPreprocessor, MLPClassifier
from artifact_jax.plans import Results
from artifact_jax.spec import BinaryClassSpec
from artifact_jax.tracking import InMemoryTracker
from artifact_jax.training.demo import load_classification_table, run_classification_demo

EVAL = {"deterministic": True, "use_running_average": True}


@pytest.fixture(autouse=True)
def strict_jax():
    # rank promotion only around training: optax.adam computes `decay ** count` (float ** int32),
    # which strict dtype promotion rejects; the model alone is checked strictly below.
    with jax.numpy_rank_promotion("raise"):
        yield


def toy(n=120, seed=0):
    """Two continuous features, one categorical; the label depends on both kinds."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(5.0, 2.0, size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    score = a + (color == "red") * 1.5 + rng.normal(0, 0.3, size=n)
    return pd.DataFrame({"a": a, "b": b, "color": color, "sick": np.where(score > 0.5, "yes", "no")})


def tiny(df, **kw):
    return MLPClassifier.from_frame(df, "sick", hidden=(16, 8), rngs=nnx.Rngs(0), **kw)


# -- the model and its preprocessing ----------------------------------------------------------


def test_preprocessor_is_fitted_on_the_train_split_only():
    df = toy()
    train, val = df.iloc[:80], df.iloc[80:]
    pre = ClassifierPreprocessor.fit(train, "sick")
    assert pre.cts_features == ("a", "b") and pre.cat_features == ("color",)
    assert pre.class_names == ("no", "yes") and pre.positive_class == "yes" and pre.width == 5
    x = pre.encode(val)
    assert x.dtype == np.float32 and x.shape == (40, 5)
    np.testing.assert_allclose(x[:, 0], (val["a"] - train["a"].mean()) / train["a"].std(ddof=0), rtol=1e-5)
    np.testing.assert_allclose(pre.encode(train)[:, :2].mean(0), 0.0, atol=1e-6)
    assert (x[:, 2:].sum(1) == 1).all()
    unseen = pre.encode(val.assign(color="purple"))  # a documented rule: all-zero one-hot
    assert (unseen[:, 2:] == 0).all()
    assert pre.labels(val["sick"]).tolist() == (val["sick"] == "yes").astype(int).tolist()
    assert pre.spec == BinaryClassSpec(["no", "yes"], "yes", label_name="sick")
    assert ClassifierPreprocessor.fit(train, "sick", positive_class="no").labels(["no"]).tolist() == [1]


def test_preprocessor_errors_name_the_problem():
    df = toy()
    with pytest.raises(ValueError, match="exactly 2 classes"):
        ClassifierPreprocessor.fit(df.assign(sick=["x", "y", "z"] * 40), "sick")
    with pytest.raises(ValueError, match="'nope' is not a column"):
        ClassifierPreprocessor.fit(df, "nope")
    with pytest.raises(ValueError, match="positive_class 'maybe'"):
        ClassifierPreprocessor.fit(df, "sick", positive_class="maybe")
    pre = ClassifierPreprocessor.fit(df, "sick")
    with pytest.raises(ValueError, match="'a' has 1 missing"):
        pre.encode(df.assign(a=[np.nan] + [0.0] * 119))
    with pytest.raises(ValueError, match=r"values \['maybe'\]"):
        pre.labels(["yes", "maybe"])
    with pytest.raises(ValueError, match=r"Features \['b'\]"):
        pre.encode(df.drop(columns="b"))


def test_architecture_is_the_reference_demo_and_satisfies_the_protocol():
    df = toy()
    pre = ClassifierPreprocessor.fit(df, "sick")
    model = nnx.eval_shape(lambda: MLPClassifier(pre, rngs=nnx.Rngs(0)))
    shapes = jax.tree.map(jnp.shape, nnx.to_pure_dict(nnx.state(model, nnx.Param)))
    kernels = [shapes["blocks"][i]["linear"]["kernel"] for i in (0, 1)]
    assert kernels == [(5, 512), (512, 256)] and shapes["head"]["kernel"] == (256, 2)
    block = model.blocks[0]
    assert block.negative_slope == 0.1 and block.dropout is None
    assert block.norm.momentum == 0.9 and block.norm.epsilon == 1e-5  # torch's momentum 0.1
    assert isinstance(tiny(df), tr.BinaryClassifier)


def test_loss_and_batch_statistics_ignore_masked_rows_and_classify_thresholds():
    df = toy(40)
    model = tiny(df)
    batch = model.encode_frame(df)
    mask = jnp.asarray(np.arange(40) < 25)
    garbage = {"x": batch["x"].copy(), "y": batch["y"].copy()}
    garbage["x"][25:], garbage["y"][25:] = 1e3, 1 - garbage["y"][25:]
    graph, state = nnx.split(model)

    @jax.jit
    def loss(state, batch):
        m = nnx.merge(graph, state, copy=True)
        out = m(batch, mask=mask)
        return out, nnx.state(m, nnx.BatchStat)

    with jax.numpy_dtype_promotion("strict"):
        (out_a, stats_a), (out_b, stats_b) = loss(state, batch), loss(state, garbage)
        for k in ("loss", "accuracy"):
            np.testing.assert_allclose(float(out_a[k]), float(out_b[k]), rtol=1e-6)
        jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-6), stats_a, stats_b)
        logits = nnx.merge(graph, state, copy=True).logits(batch["x"][:25])
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, batch["y"][:25]).mean()
        np.testing.assert_allclose(float(out_a["loss"]), float(ce), rtol=1e-5)
        evaluated = nnx.with_attributes(model, raise_if_not_found=False, **EVAL)
        out = evaluated.classify(batch)
        strict = evaluated.classify(batch, threshold=0.9)
    prob = np.asarray(out.prob_pos)
    assert prob.shape == (40,) and ((prob >= 0) & (prob <= 1)).all()
    assert (np.asarray(out.pred_pos) == (prob >= 0.5)).all()
    assert (np.asarray(strict.pred_pos) == (prob >= 0.9)).all()


# -- the routine ---------------------------------------------------------------------------------


class FakePlan:
    def __init__(self):
        self.calls = []

    def run(self, true, predicted, probs_pos, spec, *, tracker, split, step):
        self.calls.append((true, predicted, probs_pos, split, step, tracker))
        return Results({"ROC_AUC": float(step)})


def test_routine_classifies_only_when_due_in_eval_mode_and_keeps_the_ids():
    df = toy()
    train, val = df.iloc[:90], df.iloc[90:].set_index(pd.Index([f"id{i}" for i in range(30)]))
    model = tiny(train)
    plan, tracker = FakePlan(), InMemoryTracker()
    routine = tr.BinaryClassificationRoutine(
        plan, model.encode_frame(val), val["sick"], model.spec, period=3, split="VALIDATION",
        params=tr.ClassificationParams(threshold=0.4),
    )  # fmt: skip
    trainer = tr.Trainer(
        model, optax.adam(1e-2), batch_size=32, stopper=tr.EpochBound(6), routines=[routine],
        tracker=tracker, progress=False,
    )  # fmt: skip
    h = trainer.fit(model.encode_frame(train)).history
    assert [(split, step) for *_, split, step, _ in plan.calls] == [("VALIDATION", 3), ("VALIDATION", 6)]
    assert plan.calls[0][-1] is tracker
    assert h["ROC_AUC_VAL"].dropna().to_dict() == {3: 3.0, 6: 6.0}  # the reference's VALIDATION -> _VAL
    true, predicted, prob, *_ = plan.calls[-1]
    assert list(predicted.index) == list(prob.index) == list(true.index) == list(val.index)
    evaluated = nnx.with_attributes(model, raise_if_not_found=False, **EVAL)  # the trained model, epoch 6
    expected = np.asarray(evaluated.classify(model.encode_frame(val)).prob_pos)
    np.testing.assert_allclose(prob.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    assert (predicted == np.where(expected >= 0.4, "yes", "no")).all()
    assert (routine.latest_classification.pred_pos == (expected >= 0.4)).all()


def test_routine_input_errors():
    df = toy(40)
    model = tiny(df)
    bad = tr.BinaryClassificationRoutine(FakePlan(), model.encode_frame(df), df["sick"][:10], model.spec, period=1)
    trainer = tr.Trainer(model, optax.adam(1e-2), batch_size=16, stopper=tr.EpochBound(1), routines=[bad],
                         progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="true has 10 labels but data has 40 rows"):
        trainer.fit(model.encode_frame(df))


# -- the demo and the CLI --------------------------------------------------------------------------


def test_breast_cancer_demo_reaches_a_good_auc_and_logs_with_split_suffixes():
    tracker = InMemoryTracker()
    result = run_classification_demo(epochs=4, validate_every=2, tracker=tracker, plots=False, progress=False)
    h = result.train.history
    assert list(h.index) == [1, 2, 3, 4]
    assert h.loc[4, "ROC_AUC_VAL"] > 0.9 and h.loc[4, "ROC_AUC_TRAIN"] > 0.9
    for name in ("LOSS_TRAIN", "LOSS_VAL", "PRECISION_VAL", "RECALL_VAL", "ROC_AUC_VAL", "PR_AUC_TRAIN"):
        assert h[name].dropna().index.tolist() == [2, 4], name
        assert [s for s, _ in tracker.scores[name]] == [2, 4], name
    assert {"SCORE_STATS_VAL", "SCORE_MEANS_TRAIN"} <= set(tracker.score_collections)
    assert tracker.params["model"] == "MLPClassifier" and tracker.params["rows_val"] == "114"
    assert tracker.params["positive_class"] == "malignant"
    _, logged = tracker.files["CLASSIFICATION_RESULTS_VAL"][-1]
    exported = json.loads(logged.data)
    assert len(exported) == 114 and all(0 <= int(i) < 569 for i in exported)  # the table's own row ids
    assert result.spec == BinaryClassSpec(["benign", "malignant"], "malignant", label_name="diagnosis")
    assert "Trained 4 epochs on 455 rows" in result.summary()


def test_cli_classification_demo_tracks_in_mlflow(tmp_path, monkeypatch, capsys):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)
    argv = ["demo", "--task", "classification", "--validate-every", "2", "--no-progress", "--checkpoint-dir", "ckpt"]
    assert main([*argv, "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "Trained 2 epochs on 455 rows" in out
    assert out.rstrip().endswith("mlflow ui --backend-store-uri sqlite:///mlflow.db")
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("artifact-jax-demo").experiment_id])
    assert {"ROC_AUC_VAL", "ROC_AUC_TRAIN", "LOSS_VAL", "LOSS_EPOCH"} <= set(run.data.metrics)
    assert run.data.metrics["ROC_AUC_VAL"] > 0.8
    assert [m.step for m in client.get_metric_history(run.info.run_id, "ROC_AUC_VAL")] == [2]
    assert run.data.params["model"] == "MLPClassifier" and run.data.params["batch_size"] == "64"
    # issue 12, item 11: --resume continues this MLflow run (one run, no epoch logged twice) and
    # keeps a changed hyperparameter apart; the trainer's own hyperparameters are params too
    assert main([*argv, "--epochs", "3", "--resume"]) == 0
    (again,) = client.search_runs([client.get_experiment_by_name("artifact-jax-demo").experiment_id])
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run.info.run_id, "LOSS_EPOCH")] == [1, 2, 3]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "ROC_AUC_VAL")] == [2]
    p = again.data.params
    assert (p["lr"], p["epochs"], p["resumed_at_2/epochs"]) == ("0.001", "2", "3")
    assert p["training/optimizer/learning_rate"] == "0.001" and p["training/batch_size"] == "64"


def test_cli_classification_demo_on_any_table_and_errors(tmp_path, capsys):
    path = tmp_path / "toy.csv"
    toy().to_csv(path, index=False)
    common = ["demo", "--task", "classification", "--data", str(path), "--no-progress", "--no-plots",
              "--tracking-uri", "memory:", "--epochs", "1", "--validate-every", "1"]  # fmt: skip
    assert main([*common, "--label", "sick"]) == 0
    assert "ROC_AUC_VAL=" in capsys.readouterr().out
    assert main(common) == 2
    assert "--label COL names the binary label column" in capsys.readouterr().err
    assert main([*common, "--label", "color"]) == 2
    assert "exactly 2 classes" in capsys.readouterr().err
    assert main(["demo", "--label", "sick", "--epochs", "1"]) == 2
    assert "--task classification" in capsys.readouterr().err
    df, label = load_classification_table(None)
    assert df.shape == (569, 31) and label == "diagnosis"
    assert set(df[label]) == {"malignant", "benign"}
