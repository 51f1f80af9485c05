"""The training hyperparameters a ``Trainer`` logs as tracker params, and logging them on resume.

``Trainer.fit`` logs, under ``training/`` (so a caller's own keys never clash)::

    training/model/class            the model's class name
    training/model/<attr>           its scalar and tuple attributes (a ``config`` mapping or dataclass
                                    if it has one), and training/model/n_params
    training/optimizer/name         the optax transformations, e.g. "scale_by_adam > scale"
    training/optimizer/<hyperparam> their numeric hyperparameters (b1, b2, eps, ...)
    training/optimizer/learning_rate the rate (or the schedule's name)
    training/batch_size, training/epochs, training/stopper, training/seed, training/shuffle,
    training/rows, training/best, training/checkpoints, training/routines

The optimizer is described best-effort, from the closures of the optax transformation (and from
``optax.inject_hyperparams`` state, whose numbers live in the optimizer state); what cannot be
read is left out, never guessed.

A param cannot change within an MLflow run. A resumed training may change one on purpose (more
epochs, a lower rate): ``log_params(..., resumed_at=e)`` logs such a value as
``resumed_at_<e>/<key>`` instead, so the run keeps both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from artifact_jax.tracking.layout import flatten_params

_SIMPLE = (bool, int, float, str, np.integer, np.floating)


def _simple(value: Any) -> bool:
    if isinstance(value, _SIMPLE):
        return True
    return isinstance(value, tuple) and len(value) <= 64 and all(isinstance(v, _SIMPLE) for v in value)


def model_params(model: Any) -> dict[str, Any]:
    """The model's class, its configuration and its parameter count.

    The configuration is ``model.config`` (a mapping or a dataclass) when the model has one, else
    its public attributes that are numbers, strings or tuples of them (``TabularVAE``: ``beta``,
    ``latent_dim``, ``cardinalities``, ...).
    """
    out: dict[str, Any] = {"class": type(model).__name__}
    config = getattr(model, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if isinstance(config, Mapping):
        out.update({str(k): v for k, v in config.items()})
    else:
        out.update({k: v for k, v in sorted(vars(model).items()) if not k.startswith("_") and _simple(v)})
    try:
        from flax import nnx

        out["n_params"] = sum(int(np.prod(x.shape)) for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
    except Exception:  # noqa: BLE001 - not an nnx module: no count
        pass
    return out


def _closure(fn: Any) -> list[tuple[str, Any]]:
    names = getattr(getattr(fn, "__code__", None), "co_freevars", ())
    out = []
    for name, cell in zip(names, getattr(fn, "__closure__", None) or (), strict=False):
        try:
            out.append((name, cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    return out


def optimizer_params(tx: Any) -> dict[str, Any]:
    """What can be read of an optax ``GradientTransformation``: names, hyperparameters, rate.

    The transformations are found by walking the closures of ``tx.update`` (``chain`` and the
    wrappers are looked through); the scalar values closed over are their hyperparameters.

    Example:
      >>> import optax
      >>> optimizer_params(optax.adam(3e-3))
      {'name': 'scale_by_adam > scale', 'b1': 0.9, 'b2': 0.999, 'eps': 1e-08, 'eps_root': 0.0, \
'nesterov': False, 'learning_rate': 0.003}
    """
    names: list[str] = []
    hyper: dict[str, Any] = {}
    seen: set[int] = set()
    plumbing = ("chain", "named_chain", "with_extra_args_support", "scale_by_learning_rate")

    def walk(fn: Any, depth: int) -> None:
        if id(fn) in seen or depth > 8:
            return
        seen.add(id(fn))
        qualname = getattr(fn, "__qualname__", "")
        owner = qualname.split(".<locals>")[0] if ".<locals>" in qualname else ""
        if owner and owner not in plumbing and owner not in names:
            names.append(owner)
        for name, value in _closure(fn):
            if isinstance(value, tuple | list):
                for item in value:
                    if callable(item):
                        walk(item, depth + 1)
            elif callable(value) and not isinstance(value, type):
                if owner == "inject_hyperparams":
                    names.append(getattr(value, "__name__", "?"))
                walk(value, depth + 1)
            elif owner == "scale" and name == "step_size" and isinstance(value, int | float):
                hyper["learning_rate"] = -float(value)
            elif _simple(value) and owner not in plumbing:
                hyper.setdefault(name, value)

    try:
        walk(getattr(tx, "update", tx), 0)
        if "inject_hyperparams" in names:  # its numbers live in the optimizer state
            state = tx.init({"w": np.zeros((1,), np.float32)})
            for k, v in getattr(state, "hyperparams", {}).items():
                hyper[k] = float(f"{float(np.asarray(v)):.7g}") if np.ndim(v) == 0 else str(v)
    except Exception:  # noqa: BLE001 - a description only: never fail a training over it
        pass
    if "learning_rate" not in hyper and "scale_by_schedule" in names and names[-1] != "scale_by_schedule":
        hyper["learning_rate"] = names[-1]  # the schedule, e.g. "exponential_decay"
    return {"name": " > ".join(names) or type(tx).__name__, **hyper}


def trainer_params(trainer: Any, *, n_rows: int | None = None) -> dict[str, Any]:
    """The hyperparameters of a ``Trainer`` (logged by ``fit`` under ``training/``)."""
    from artifact_jax.training import stopping

    out: dict[str, Any] = {
        "model": model_params(trainer.model),
        "optimizer": optimizer_params(trainer.tx),
        "batch_size": trainer.batch_size,
        "epochs": stopping.max_epochs(trainer.stopper),
        "stopper": _describe(trainer.stopper),
        "seed": trainer.seed,
        "shuffle": trainer.shuffle,
        "routines": ", ".join(_describe(r) for r in trainer.routines) or "none",
    }
    if n_rows is not None:
        out["rows"] = n_rows
    if trainer.best is not None:
        out["best"] = _describe(trainer.best)
    if trainer.checkpoints is not None:
        c = trainer.checkpoints
        out["checkpoints"] = f"period={c.period}, keep_latest={c.keep_latest}, best_metric={c.best_metric}"
    return out


def _describe(obj: Any) -> str:
    """``Name(field=value, ...)`` for a dataclass, ``any_of(...)``, else the class or function name
    with its ``split`` and ``period`` if it has them (routines)."""
    if hasattr(obj, "stoppers"):
        return f"any_of({', '.join(_describe(s) for s in obj.stoppers)})"
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    else:
        values = {k: getattr(obj, k, None) for k in ("split", "period")}
    fields = ", ".join(f"{k}={v!r}" for k, v in values.items() if v is None or _simple(v))
    name = getattr(obj, "__qualname__", None) if callable(obj) and hasattr(obj, "__code__") else type(obj).__name__
    return f"{name}({fields})"


def log_params(tracker: Any, params: Mapping[str, Any], *, resumed_at: int | None = None) -> None:
    """``tracker.log_params(params)``; on a resumed run, a changed value goes to ``resumed_at_<e>/<key>``.

    Args:
      tracker: any ``Tracker``; one without ``log_params`` (a duck-typed score sink) logs nothing.
      params: nested mapping (flattened with ``/``).
      resumed_at: the epoch training resumed from, or None for a fresh run (then a changed
        value raises ``ValueError``, as ``log_params`` does).
    """
    if not callable(getattr(tracker, "log_params", None)):
        return
    if resumed_at is None:
        tracker.log_params(params)
        return
    for key, value in flatten_params(params).items():
        try:
            tracker.log_params({key: value})
        except ValueError:  # the run already holds another value: keep both
            tracker.log_params({f"resumed_at_{resumed_at}/{key}": value})
