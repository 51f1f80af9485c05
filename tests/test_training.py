"""Trainer: the jitted epoch, hooks, routines, stopping, best model, guards (tiny models, CPU)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest
from flax import nnx

from artifact_jax import training as tr
from artifact_jax.training import hooks, stopping
from artifact_jax.training.state import History


@pytest.fixture(autouse=True)
def strict_jax():
    # rank promotion only: optax.adam itself computes `decay ** count` (float ** int32),
    # which strict dtype promotion rejects; the models are checked strictly in test_tabular_vae.
    with jax.numpy_rank_promotion("raise"):
        yield


TRACES = {"train": 0}


class TinyReg(nnx.Module):
    """Linear -> BatchNorm -> ReLU -> Linear regression with a masked mean squared error."""

    def __init__(self, rngs: nnx.Rngs, *, nan_after: int | None = None):
        self.lin = nnx.Linear(3, 8, use_bias=False, rngs=rngs)  # BatchNorm follows: a bias would only drift
        self.bn = nnx.BatchNorm(8, rngs=rngs)
        self.out = nnx.Linear(8, 1, rngs=rngs)
        self.calls = nnx.BatchStat(jnp.zeros((), jnp.int32))
        self.nan_after = nan_after

    def __call__(self, batch, *, mask):
        if not self.bn.use_running_average:
            TRACES["train"] += 1  # Python side effect: runs once per trace, not per step
        h = jax.nn.relu(self.bn(self.lin(batch["x"]), mask=mask[:, None]))
        err = (self.out(h)[:, 0] - batch["y"]) ** 2
        loss = jnp.sum(jnp.where(mask, err, 0.0)) / jnp.sum(mask.astype(jnp.float32))
        self.calls[...] = self.calls[...] + 1
        if self.nan_after is not None:
            loss = jnp.where(self.calls[...] > self.nan_after, jnp.float32(jnp.nan), loss)
        return {"loss": loss, "mse": loss}


def table(n=37, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return {"x": x, "y": (x @ np.array([1.0, -2.0, 0.5], np.float32) + 0.1).astype(np.float32)}


class Tracker:
    def __init__(self):
        self.scores = []

    def log_score(self, name, value, *, step):
        self.scores.append((name, step, value))


ADAM = optax.adam(1e-2)  # one optimizer object: trainers of the same graph then share a compiled epoch


def trainer(model=None, **kw):
    kw.setdefault("batch_size", 16)
    kw.setdefault("stopper", stopping.EpochBound(3))
    kw.setdefault("progress", False)
    return tr.Trainer(model or TinyReg(nnx.Rngs(0)), kw.pop("tx", ADAM), **kw)


def test_fit_trains_and_returns_history_frame():
    result = trainer(stopper=stopping.EpochBound(8)).fit(table())
    h = result.history
    assert isinstance(h, pd.DataFrame) and h.index.name == "epoch" and list(h.index) == list(range(1, 9))
    assert h["LOSS_EPOCH"].iloc[-1] < h["LOSS_EPOCH"].iloc[0]
    assert result.stop_reason == "reached max_epochs=8"
    assert int(result.state.step) == 8 * 3 and int(result.state.epoch) == 8


def test_model_updated_in_place_and_not_invalidated_by_donation():
    model = TinyReg(nnx.Rngs(0))
    before = np.asarray(model.lin.kernel[...]).copy()
    result = trainer(model).fit(table())
    after = np.asarray(model.lin.kernel[...])  # would raise if a donated buffer were still referenced
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(after, np.asarray(result.state.params["lin"]["kernel"][...]))
    assert result.model is model
    model.eval()
    assert np.isfinite(float(model(table(), mask=jnp.ones(37, bool))["loss"]))


def test_last_partial_batch_is_exact():
    """37 rows in batches of 16: padding + masking equals steps on the ragged batches 16, 16, 5."""
    data = table(37)
    result = trainer(tx=optax.sgd(0.1), shuffle=False, stopper=stopping.EpochBound(1)).fit(data)

    model = TinyReg(nnx.Rngs(0))
    opt = nnx.Optimizer(model, optax.sgd(0.1), wrt=nnx.Param)
    for start in (0, 16, 32):
        batch = jax.tree.map(lambda x, s=start: x[s : s + 16], data)
        n = batch["x"].shape[0]
        grads = nnx.grad(lambda m, b=batch, k=n: m(b, mask=jnp.ones(k, bool))["loss"])(model)
        opt.update(model, grads)
    np.testing.assert_allclose(
        np.asarray(result.state.params["lin"]["kernel"][...]),
        np.asarray(model.lin.kernel[...]),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_allclose(
        np.asarray(result.state.model_state["bn"]["mean"][...]),
        np.asarray(model.bn.mean[...]),
        rtol=1e-5,
        atol=1e-6,
    )


def test_no_recompilation_between_epochs_or_fits():
    TRACES["train"] = 0
    t = trainer(  # an optimizer no other test builds (equal ones share programs): nothing cached from them
        tx=optax.chain(optax.adam(1e-2)),
        stopper=stopping.EpochBound(6),
        routines=[tr.LoaderLoss(table(20, seed=1), period=2)],
    )
    t.fit(table())
    assert TRACES["train"] == 1
    t.fit(table())  # a second run on the same trainer reuses the compiled epoch
    assert TRACES["train"] == 1
    graphs = tr.state.create(t.model, t.tx, key=jax.random.key(0))[0]
    assert t.epoch_fn(graphs, 37)._cache_size() == 1


def test_hooks_grad_norm_param_stats_and_learning_rate_per_step_schedule():
    schedule = optax.linear_schedule(0.1, 0.0, transition_steps=10)
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
    hook_list = (
        hooks.epoch_loss(),
        hooks.grad_norm(),
        hooks.param_stats(),
        hooks.learning_rate(),
        hooks.output_mean("mse"),
    )
    h = trainer(tx=tx, hooks=hook_list, stopper=stopping.EpochBound(3)).fit(table()).history
    # 3 steps per epoch; the logged rate is the one used by the epoch's last step (step 3e - 1)
    np.testing.assert_allclose(h["LEARNING_RATE"], [0.1 * (1 - k / 10) for k in (2, 5, 8)], rtol=1e-6)
    assert (h["GRAD_NORM_EPOCH"] > 0).all() and (h["PARAM_NORM"] > 0).all()
    np.testing.assert_allclose(h["MSE_EPOCH"], h["LOSS_EPOCH"])


def test_learning_rate_hook_without_inject_hyperparams_is_a_clear_error():
    with pytest.raises(ValueError, match="inject_hyperparams"):
        trainer(hooks=(hooks.learning_rate(),)).fit(table())


def test_custom_hook_composes():
    count = hooks.Hook(
        init=lambda s: jnp.zeros((), jnp.int32),
        update=lambda s, info: s + jnp.sum(info.mask.astype(jnp.int32)),
        finalize=lambda s: {"ROWS_SEEN": s},
    )
    h = trainer(hooks=(hooks.epoch_loss(), count)).fit(table(37)).history
    assert (h["ROWS_SEEN"] == 37).all()


def test_tracker_gets_hook_and_validation_scores_at_their_epochs():
    tracker = Tracker()
    result = trainer(
        stopper=stopping.EpochBound(4), tracker=tracker, routines=[tr.LoaderLoss(table(20, seed=1), period=2)]
    ).fit(table())
    assert [(n, s) for n, s, _ in tracker.scores if n == "LOSS_EPOCH"] == [
        ("LOSS_EPOCH", e) for e in (1, 2, 3, 4)
    ]
    assert [s for n, s, _ in tracker.scores if n == "LOSS_VAL"] == [2, 4]
    h = result.history
    assert h["LOSS_VAL"].isna().tolist() == [True, False, True, False]


def test_validation_loss_matches_eval_mode_model():
    val = table(20, seed=1)
    result = trainer(routines=[tr.LoaderLoss(val, period=1, batch_size=8)]).fit(table())
    model = result.model
    model.eval()
    losses = [
        float(
            model(jax.tree.map(lambda x, s=s: x[s : s + 8], val), mask=jnp.ones(min(8, 20 - s), bool))["loss"]
        )
        for s in (0, 8, 16)
    ]
    assert result.history["LOSS_VAL"].iloc[-1] == pytest.approx(np.mean(losses), rel=1e-5)


def test_patience_semantics_min_and_max():
    h = History([{"epoch": i + 1, "L": v} for i, v in enumerate([3.0, 2.0, 2.5, 2.1, 2.2])])
    assert stopping.Patience("L", 3)(5, h) == "L did not improve on 2 for 3 evaluations"
    assert stopping.Patience("L", 4)(5, h) is None  # window of 5: oldest 3.0 is not the min
    assert stopping.Patience("L", 2, mode="max")(5, h) == "L did not improve on 2.5 for 2 evaluations"
    assert stopping.Patience("L", 3, mode="max")(5, h) is None  # window 2.0, 2.5, ...: improved
    h2 = History([{"epoch": i + 1, "L": v} for i, v in enumerate([1.0, 0.5, 0.7])])
    assert stopping.Patience("L", 2, mode="max")(3, h2) == "L did not improve on 1 for 2 evaluations"
    assert stopping.Patience("L", 2, max_epochs=3)(3, History()) == "reached max_epochs=3"
    # equal values are no improvement (the reference's min(window) == window[0])
    h3 = History([{"epoch": 1, "L": 1.0}, {"epoch": 2, "L": 1.0}])
    assert stopping.Patience("L", 1)(2, h3) is not None
    # epochs without the metric do not count
    h4 = History([{"epoch": 1, "L": 1.0}, {"epoch": 2}, {"epoch": 3}])
    assert stopping.Patience("L", 1)(3, h4) is None
    with pytest.raises(ValueError, match="mode"):
        stopping.Patience("L", 1, mode="lowest")


def test_patience_stops_training_and_any_of():
    stop = stopping.any_of(stopping.Patience("LOSS_EPOCH", 1, mode="max"), stopping.EpochBound(50))
    result = trainer(stopper=stop).fit(table())
    assert "LOSS_EPOCH did not improve" in result.stop_reason and len(result.history) == 2


def test_best_model_is_a_copy_and_restore_best():
    best = stopping.BestModel("LOSS_EPOCH", mode="max")  # the worst loss: an early epoch
    result = trainer(stopper=stopping.EpochBound(5), best=best, restore_best=True).fit(table())
    h = result.history["LOSS_EPOCH"]
    assert result.best.epoch == int(h.idxmax()) and result.best.value == pytest.approx(h.max())
    kernel = np.asarray(result.model.lin.kernel[...])
    np.testing.assert_array_equal(kernel, np.asarray(result.best.variables[0]["lin"]["kernel"][...]))
    last = trainer(stopper=stopping.EpochBound(5)).fit(table()).model.lin.kernel[...]
    assert not np.allclose(kernel, np.asarray(last))  # the best copy did not follow the live weights


def test_best_model_update_compares_with_best_so_far():
    bm = stopping.BestModel("L")
    state = tr.TrainState({"w": jnp.ones(2)}, {}, {}, jax.random.key(0), jnp.zeros((), jnp.int32))
    b = bm.update(None, 1, {"L": 3.0}, state)
    b = bm.update(b, 2, {"L": 1.0}, state)
    b = bm.update(b, 3, {"L": 2.0}, state)  # the reference compared with the initial value: 2 < inf
    b = bm.update(b, 4, {}, state)
    assert (b.epoch, b.value) == (2, 1.0)
    assert b.variables[0]["w"] is not state.params["w"]


def test_nan_loss_raises_naming_the_epoch():
    with pytest.raises(tr.NonFiniteLossError, match="epoch 3"):
        trainer(TinyReg(nnx.Rngs(0), nan_after=7), stopper=stopping.EpochBound(6)).fit(table())


@dataclasses.dataclass
class Results:
    scores: dict


class FakePlan:
    def __init__(self):
        self.calls = []

    def run(self, real, synthetic, spec, *, tracker=None, split="TRAIN", step=0):
        self.calls.append((len(synthetic), split, step, tracker))
        return Results({"MEAN_JS_DISTANCE": 0.5 / step})


def test_table_comparison_generates_only_when_due():
    generated = []

    def generate(model, n, *, rngs, temperature):  # the model protocol's signature, model first
        generated.append((n, temperature))
        return pd.DataFrame({"a": np.zeros(n)})

    plan, tracker = FakePlan(), Tracker()
    routine = tr.TableComparison(
        plan, pd.DataFrame({"a": [0.0]}), None, n_records=7, period=3, split="TRAIN", generate=generate
    )
    h = trainer(stopper=stopping.EpochBound(7), routines=[routine], tracker=tracker).fit(table()).history
    assert generated == [(7, 1.0), (7, 1.0)]  # epochs 3 and 6 only (the reference generates every epoch)
    assert [(n, s, e) for n, s, e, _ in plan.calls] == [(7, "TRAIN", 3), (7, "TRAIN", 6)]
    assert plan.calls[0][3] is tracker
    assert h["MEAN_JS_DISTANCE_TRAIN"].dropna().to_dict() == {3: 0.5 / 3, 6: 0.5 / 6}


def test_every_routine_and_routine_context():
    seen = []

    def probe(ctx):
        seen.append((ctx.epoch, type(ctx.model()).__name__, ctx.model().bn.use_running_average))
        return {"PROBE": float(ctx.epoch)}

    h = trainer(stopper=stopping.EpochBound(4), routines=[tr.every(2, probe)]).fit(table()).history
    assert seen == [(2, "TinyReg", True), (4, "TinyReg", True)]
    assert h["PROBE"].dropna().tolist() == [2.0, 4.0]


def test_input_errors_are_value_errors():
    with pytest.raises(ValueError, match="batch_size"):
        trainer(batch_size=0)
    with pytest.raises(ValueError, match="restore_best"):
        trainer(restore_best=True)
    with pytest.raises(ValueError, match="leading"):
        trainer().fit({"x": np.zeros((5, 3), np.float32), "y": np.zeros(4, np.float32)})
    with pytest.raises(ValueError, match="encode_frame"):
        trainer().fit(pd.DataFrame(table()["x"]))
    with pytest.raises(ValueError, match="stopper"):
        trainer(stopper=10)
    with pytest.raises(ValueError, match="resume"):
        trainer().fit(table(), resume=True)
    with pytest.raises(ValueError, match="nnx.Module"):
        tr.Trainer(
            lambda b, mask: {"loss": 0.0}, optax.sgd(0.1), batch_size=4, stopper=stopping.EpochBound(1)
        )


def test_model_without_loss_is_a_clear_error():
    class NoLoss(TinyReg):
        def __call__(self, batch, *, mask):
            return {"mse": super().__call__(batch, mask=mask)["loss"]}

    with pytest.raises(ValueError, match="'loss'"):
        trainer(NoLoss(nnx.Rngs(0))).fit(table())


def test_public_names_have_docstrings():
    for name in tr.__all__:
        assert getattr(tr, name).__doc__, name


def test_progress_bar_shows_latest_scores_and_timings(capsys):
    routine = tr.LoaderLoss(table(20, seed=1), period=2)
    result = trainer(progress=True, routines=[routine], stopper=stopping.EpochBound(2)).fit(table())
    err = capsys.readouterr().err
    assert "LOSS_EPOCH=" in err and "LOSS_VAL=" in err and "2/2" in err
    assert {"epochs", "first_epoch", "LoaderLoss[VAL]"} <= set(result.timings)
