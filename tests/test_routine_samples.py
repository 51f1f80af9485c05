"""TableComparison(samples=k): k generated tables per validation, scored in one program; mean and spread."""

from __future__ import annotations

import collections
import threading

import jax
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.models import TabularVAE
from artifact_jax.spec import TabularDataSpec
from artifact_jax.table_comparison import TableComparisonPlan
from artifact_jax.tracking import InMemoryTracker
from artifact_jax.training.routines import RoutineContext, summarize_samples
from artifact_jax.training.state import History, create, merge

N = 40  # rows per generated table


def frame(n=45, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(20, 80, n).astype(float), "bp": rng.normal(130, 15, n).round(1),
        "sex": rng.choice(["M", "F"], n), "pain": rng.choice(["A", "B", "C"], n),
    })  # fmt: skip


@pytest.fixture(scope="module")
def setup():
    df = frame()
    spec = TabularDataSpec.from_df(df, cts_features=["age", "bp"], cat_features=["sex", "pain"])
    plan = TableComparisonPlan(scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"], score_collections=["JS_DISTANCE"],
                               array_collections=["MEAN_JUXTAPOSITION"])  # fmt: skip
    model = TabularVAE.from_frame(df, spec, hidden=(9,), latent_dim=2, embed_dim=2, rngs=nnx.Rngs(0, noise=1))
    graphs, state = create(model, optax.adam(1e-3), key=jax.random.key(0))
    return df, spec, plan, graphs, state


def context(graphs, state, tracker, key=7):
    return RoutineContext(1, graphs, state, jax.random.key(key), tracker, History())


def check_mean_and_spread(out, tracker, routine, by_hand):
    """The routine's history, tracker and ``latest`` against ``by_hand``, one ``Results`` per key."""
    js = np.array([r.scores["MEAN_JS_DISTANCE"] for r in by_hand])
    # each table's scores, as run_many scores it (the device path samples float32 in another
    # program than by hand: correlations agree to float32 rounding, histogram counts exactly)
    for i, r in enumerate(routine.latest_samples):
        assert r.scores["MEAN_JS_DISTANCE"] == pytest.approx(js[i], abs=1e-12), i
        assert r.scores["CORRELATION_DISTANCE"] == pytest.approx(by_hand[i].scores["CORRELATION_DISTANCE"], rel=1e-6)
    assert out["MEAN_JS_DISTANCE_TRAIN"] == pytest.approx(js.mean(), abs=1e-12)
    assert out["MEAN_JS_DISTANCE_TRAIN/std"] == pytest.approx(js.std(ddof=1), abs=1e-12) and js.std() > 0
    corr = [r.scores["CORRELATION_DISTANCE"] for r in routine.latest_samples]
    assert out["CORRELATION_DISTANCE_TRAIN"] == pytest.approx(np.mean(corr), abs=1e-12)
    assert tracker.scores["MEAN_JS_DISTANCE_TRAIN"] == [(1, out["MEAN_JS_DISTANCE_TRAIN"])]
    assert tracker.scores["MEAN_JS_DISTANCE_TRAIN/min"][0][1] == pytest.approx(js.min(), abs=1e-9)
    assert tracker.scores["MEAN_JS_DISTANCE_TRAIN/max"][0][1] == pytest.approx(js.max(), abs=1e-9)
    ages = [r.score_collections["JS_DISTANCE"]["age"] for r in by_hand]
    assert tracker.score_collections["JS_DISTANCE_TRAIN"][0][1]["age"] == pytest.approx(np.mean(ages), abs=1e-9)
    assert tracker.score_collections["JS_DISTANCE_TRAIN/std"][0][1]["age"] == pytest.approx(np.std(ages, ddof=1), abs=1e-9)
    # arrays and the CSV export: the first table's only
    [(_, logged)] = tracker.array_collections["MEAN_JUXTAPOSITION_TRAIN"]
    for feature, array in by_hand[0].array_collections["MEAN_JUXTAPOSITION"].items():
        np.testing.assert_allclose(logged[feature], array, atol=1e-9)
    assert list(tracker.array_collections) == ["MEAN_JUXTAPOSITION_TRAIN"]
    assert len(tracker.files["TABULAR_DATA_SYNTHETIC"]) == 1
    assert routine.latest.scores["MEAN_JS_DISTANCE"] == out["MEAN_JS_DISTANCE_TRAIN"]


def test_device_path_scores_k_samples_in_one_call_and_logs_mean_and_spread(setup):
    df, spec, plan, graphs, state = setup
    tracker = InMemoryTracker()
    routine = tr.TableComparison(plan, df, spec, n_records=N, split="TRAIN", samples=3)
    ctx = context(graphs, state, tracker)
    out = routine(ctx)
    # by hand: the same keys, each table drawn with the model in eval mode, then run_many
    model = merge(graphs, state)
    keys = jax.random.split(ctx.key, 3)
    frames = [model.to_frame(model.sample(N, key=k)) for k in keys]
    by_hand = plan.run_many(df, frames, spec)
    check_mean_and_spread(out, tracker, routine, by_hand)
    exported = pd.read_csv(pd.io.common.BytesIO(tracker.files["TABULAR_DATA_SYNTHETIC"][0][1].data))
    assert exported.shape == (N, 4)
    assert plan.run(df, exported, spec).scores["MEAN_JS_DISTANCE"] == pytest.approx(by_hand[0].scores["MEAN_JS_DISTANCE"], abs=1e-9)


def test_dataframe_path_generates_once_per_key_and_uses_run_many(setup):
    df, spec, plan, graphs, state = setup
    tracker = InMemoryTracker()
    routine = tr.TableComparison(plan, df, spec, n_records=N, split="TRAIN", samples=3, generate=TabularVAE.generate)
    ctx = context(graphs, state, tracker, key=3)
    out = routine(ctx)
    model = merge(graphs, state)
    frames = [TabularVAE.generate(model, N, rngs=nnx.Rngs(k), temperature=1.0) for k in jax.random.split(ctx.key, 3)]
    check_mean_and_spread(out, tracker, routine, plan.run_many(df, frames, spec))


def test_one_sample_is_as_before_and_samples_is_validated(setup):
    df, spec, plan, graphs, state = setup
    tracker = InMemoryTracker()
    routine = tr.TableComparison(plan, df, spec, n_records=N, split="TRAIN")
    ctx = context(graphs, state, tracker)
    out = routine(ctx)
    assert set(out) == {"MEAN_JS_DISTANCE_TRAIN", "CORRELATION_DISTANCE_TRAIN"}
    assert not [n for n in (*tracker.scores, *tracker.score_collections) if "/" in n]
    model = merge(graphs, state)
    expected = plan.run(df, model.to_frame(model.sample(N, key=ctx.key)), spec)  # the key itself, not split
    assert out["MEAN_JS_DISTANCE_TRAIN"] == pytest.approx(expected.scores["MEAN_JS_DISTANCE"], abs=1e-9)
    assert routine.latest_samples == [routine.latest]
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"samples=.* must be an int >= 1"):
            tr.TableComparison(plan, df, spec, samples=bad)


def test_summarize_samples_keeps_nan_and_none():
    rows = [{"A": 1.0, "B": None, "C": 1.0}, {"A": 3.0, "B": 1.0, "C": float("nan")}]
    results = [type("R", (), {"scores": r, "score_collections": {"J": {"x": r["A"]}}})() for r in rows]
    mean, spread = summarize_samples(results)
    assert mean.scores["A"] == 2.0 and mean.scores["B"] is None and np.isnan(mean.scores["C"])
    assert spread["std"].score_collections["J"]["x"] == pytest.approx(np.sqrt(2.0))
    assert (spread["min"].scores["A"], spread["max"].scores["A"]) == (1.0, 3.0)
    assert results[0].scores["A"] == 1.0  # the samples are left as they were


def test_k_samples_compile_once_ahead_in_a_training_run():
    """The vmapped validation program compiles once, on the compile-ahead thread, not per epoch."""
    df = frame(40, seed=1)
    spec = TabularDataSpec.from_df(df, cts_features=["age", "bp"], cat_features=["sex", "pain"])
    model = TabularVAE.from_frame(df, spec, hidden=(7, 5), latent_dim=2, embed_dim=2, rngs=nnx.Rngs(1))
    routine = tr.TableComparison(TableComparisonPlan(scores=["MEAN_JS_DISTANCE"]), df, spec, n_records=30,
                                 period=1, samples=4)  # fmt: skip
    threads: collections.Counter = collections.Counter()

    def listen(event, seconds, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration" and kwargs.get("fun_name") == "jit(_sample_and_score_many)":
            threads[threading.current_thread().name] += 1

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        result = tr.Trainer(model, optax.adam(1e-3), batch_size=16, stopper=tr.stopping.EpochBound(3),
                            routines=[routine], progress=False).fit(model.encode_frame(df))  # fmt: skip
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)
    assert sum(threads.values()) == 1 and threading.main_thread().name not in threads, threads
    h = result.history
    assert h["MEAN_JS_DISTANCE_TRAIN"].notna().all() and (h["MEAN_JS_DISTANCE_TRAIN/std"] > 0).all()


def test_the_validation_call_compiles_quickly_only_for_a_few_small_validations():
    """``QUICK_COMPILE`` (faster compile, slower run) only pays for a bounded fit with few
    validations of small tables and no t-SNE."""
    from artifact_jax.training.routines import QUICK_VALIDATIONS, TableComparison

    def few(until, rows=918, plan=None):
        plan = plan or TableComparisonPlan(scores=["MEAN_JS_DISTANCE"])
        routine = TableComparison(plan=plan, real=None, spec=None, period=5)
        return routine._few_validations(RoutineContext(0, None, None, None, None, None, until=until), np.zeros((rows, 3)))

    assert few(5 * QUICK_VALIDATIONS) == (jax.default_backend() == "cpu")
    assert not few(5 * QUICK_VALIDATIONS + 5) and not few(None)  # many validations, or no bound
    assert not few(20, rows=40_000)
    assert not few(20, plan=TableComparisonPlan(plots=["TSNE_JUXTAPOSITION"]))
