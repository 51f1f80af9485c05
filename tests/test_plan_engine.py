"""The plan engine: a new toolkit is a description and its artifacts, no engine code.

A toy regression toolkit of two artifacts (a device-computed error summary read by two scores,
and a host-only row count) runs through everything every toolkit gets: names and enums,
config, one shared device part, compile/vmap, finalize, tracking with an export.
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from types import MappingProxyType

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifact_jax import plans
from artifact_jax.artifacts.registry import Artifact, NoHyperparams, hyperparams_free
from artifact_jax.tracking import InMemoryTracker


class RegressionScoreType(Enum):
    MSE = "mse"
    MAE = "mae"


@dataclasses.dataclass(frozen=True)
class Ctx:
    spec: str
    y: np.ndarray | None = None

    @property
    def args(self):
        return None if self.y is None else (self.y,)


@hyperparams_free
def errors(y: jax.Array, yhat: jax.Array, hp) -> dict[str, jax.Array]:
    r"""``{"MSE": mean (y - yhat)^2, "MAE": mean |y - yhat|}``."""
    return {"MSE": jnp.mean((y - yhat) ** 2), "MAE": jnp.mean(jnp.abs(y - yhat))}


@dataclasses.dataclass(frozen=True)
class ScaleHyperparams:
    scale: float = 1.0


def _pick(name):
    return lambda numbers, hp, ctx: float(numbers[name]) * getattr(hp, "scale", 1.0)


REGISTRY = MappingProxyType({
    "scores": MappingProxyType({
        "MSE": Artifact(_pick("MSE"), ScaleHyperparams, errors),
        "MAE": Artifact(_pick("MAE"), NoHyperparams, errors),
        "N_ROWS": Artifact(lambda numbers, hp, ctx: len(ctx.y), NoHyperparams),
    }),
})

TOOLKIT = plans.Toolkit(
    name="regression",
    registry=REGISTRY,
    enums={"scores": RegressionScoreType},
    device_args=lambda static, y, yhat: (y, yhat),
    context=Ctx,
    static=lambda spec: None,
    export=lambda y, split: (f"Y_{split}", json.dumps(np.asarray(y).tolist()).encode(), "y.json"),
)


class RegressionPlan(plans.Plan):
    toolkit = TOOLKIT

    def run(self, y, yhat, spec="r", *, tracker=None, split=None, step=None):
        return self._run((y, yhat, spec), {}, tracker, split, step)

    def encode(self, y, yhat, spec):
        y, yhat = (np.asarray(a, np.float64) for a in (y, yhat))
        return plans.Encoded(None, (y, yhat), Ctx(spec, y), y)


Y, YHAT = [1.0, 2.0, 3.0, 4.0], [1.0, 2.5, 2.0, 4.0]


def test_a_new_toolkit_runs_through_the_engine():
    plan = RegressionPlan(scores=["MSE", RegressionScoreType.MAE, "N_ROWS"], config={"scores": {"MSE": {"scale": 2.0}}})
    res = plan.run(Y, YHAT)
    assert res.scores == {"MSE": pytest.approx(2 * 1.25 / 4), "MAE": pytest.approx(1.5 / 4), "N_ROWS": 4}
    program = plan.compile()
    assert len({i for _, i in program.names}) == 1  # MSE and MAE share the one device part
    with jax.enable_x64(True):
        stacked = np.stack([YHAT, Y])
        batched = jax.vmap(program, in_axes=(None, 0))(np.asarray(Y), stacked)
    assert plan.finalize(jax.tree.map(lambda a: a[1], batched), "r", np.asarray(Y)).scores["MSE"] == 0.0


def test_a_new_toolkit_gets_compute_config_errors_and_tracking():
    assert RegressionPlan.compute(RegressionScoreType.MAE, Y, YHAT) == pytest.approx(0.375)
    assert RegressionPlan.compute("MSE", Y, YHAT, scale=4.0) == pytest.approx(1.25)
    with pytest.raises(ValueError, match="Unknown artifact 'R2'"):
        RegressionPlan(scores=["R2"])
    with pytest.raises(ValueError, match="MSE: unknown hyperparameter 'factor'"):
        RegressionPlan(scores=["MSE"], config={"scores": {"MSE": {"factor": 1}}})
    tracker = InMemoryTracker()
    plan = RegressionPlan(scores=["MSE", "N_ROWS"])
    for step in (0, 1):
        plan.run(Y, YHAT, tracker=tracker, split="TEST", step=step)
    tracker.close()
    assert tracker.scores["MSE_TEST"] == [(0, 0.3125), (1, 0.3125)]
    assert tracker.params == {"scores/MSE": "scale=1.0", "scores/N_ROWS": "-"}
    assert len(tracker.files["Y_TEST"]) == 2


def test_parts_reading_fewer_hyperparameters_are_shared(heart_real, heart_synthetic, heart_spec):
    # CORRELATION_DISTANCE (any metric) and the heatmaps read the same association matrices
    import artifact_jax as aj
    from artifact_jax import table_comparison as tc

    names = dict(aj.default_plan().compile(heart_spec).names)
    assert names["scores/CORRELATION_DISTANCE"] == names["plots/CORRELATION_HEATMAP_JUXTAPOSITION"]
    plans._program.cache_clear()
    values = {m: tc.correlation_distance(heart_real, heart_synthetic, heart_spec, vector_distance_metric=m)
              for m in ("L2", "MAE", "RMSE")}
    assert plans._program.cache_info().currsize == 1  # one program for the three metrics
    assert values["RMSE"] == pytest.approx(0.04174251797616783, abs=1e-12)  # artifact-core 0.2.1 (heart)
