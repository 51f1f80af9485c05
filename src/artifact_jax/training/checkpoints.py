"""Checkpoints with orbax: the latest ``k`` plus the best ``k`` by a metric, and exact resume.

A checkpoint at epoch ``e`` (orbax step ``e``) holds three items:

* ``state``: the whole ``TrainState`` (params, BatchNorm statistics, model RNG state,
  optimizer state and step, shuffle key, epoch), as a flat ``{name: array}`` dict whose
  names are the pytree paths (``params.encoder.linear.kernel``);
* ``best``: the best-model copy (params and model state), when a ``BestModel`` is set;
* ``meta``: JSON with the history rows, the best epoch/value and the tracker's run
  (``{"run_id", "tracking_uri", "experiment_id"}`` of an MLflow tracker, else null), so that a
  resumed training continues the same run (``tracking_run``).

Restoring all three and continuing gives the same numbers, bit for bit on CPU, as a run
that never stopped. Arrays are copied to host before saving, so orbax may write them
asynchronously while the next epoch runs on donated buffers.

Under ``jax.distributed`` every process calls ``save`` and ``restore`` with the same directory
(a shared filesystem): the state is replicated, so orbax writes the arrays and the JSON once,
from process 0, and synchronises the processes; each restores the same values onto the
template's global sharding.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import numpy as np
import orbax.checkpoint as ocp
from orbax.checkpoint.checkpoint_managers import preservation_policy as policies

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Checkpointing:
    """Where and when to checkpoint, and which checkpoints to keep.

    Attributes:
      directory: the checkpoint root (created if missing); one sub-folder per saved epoch.
      period: save when ``epoch % period == 0`` (epochs, as the reference); ``<= 0`` never.
      keep_latest: how many of the most recent checkpoints to keep.
      best_metric: a history score (e.g. ``"LOSS_VAL"``) ranking checkpoints; ``None``: none.
      keep_best: how many of the best checkpoints by ``best_metric`` to keep as well.
      mode: ``"min"`` or ``"max"``: which direction of ``best_metric`` is better.

    Example:
      >>> ckpt = Checkpointing("/tmp/run/ckpt", period=5, best_metric="LOSS_VAL", keep_best=2)
    """

    directory: str | os.PathLike
    period: int = 1
    keep_latest: int = 1
    best_metric: str | None = None
    keep_best: int = 1
    mode: Literal["min", "max"] = "min"

    def __post_init__(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"Checkpointing mode must be 'min' or 'max', got {self.mode!r}.")
        if self.keep_latest < 1:
            raise ValueError(f"keep_latest must be >= 1 to allow resuming, got {self.keep_latest}.")

    def manager(self) -> ocp.CheckpointManager:
        """An orbax ``CheckpointManager`` with this retention policy."""
        keep: list[Any] = [policies.LatestN(self.keep_latest)]
        if self.best_metric is not None and self.keep_best > 0:
            name = self.best_metric
            keep.append(
                policies.BestN(
                    get_metric_fn=lambda m: m[name],
                    reverse=self.mode == "min",  # BestN keeps the tail of the sorted list
                    n=self.keep_best,
                    keep_checkpoints_without_metrics=False,
                )
            )
        options = ocp.CheckpointManagerOptions(
            preservation_policy=policies.AnyPreservationPolicy(keep),
            create=True,
            cleanup_tmp_directories=True,
        )
        return ocp.CheckpointManager(Path(self.directory).absolute(), options=options)


def due(period: int | None, epoch: int) -> bool:
    """The reference's periodic trigger: ``epoch % period == 0``, never for ``period <= 0``."""
    return period is not None and period > 0 and epoch % period == 0


def _name(path: tuple[Any, ...]) -> str:
    parts = []
    for entry in path:
        if isinstance(entry, jax.tree_util.GetAttrKey):
            if entry.name != "value":  # nnx.Variable payload
                parts.append(entry.name)
        elif isinstance(entry, jax.tree_util.SequenceKey):
            parts.append(str(entry.idx))
        elif isinstance(entry, jax.tree_util.DictKey):
            parts.append(str(entry.key))
        else:
            parts.append(str(getattr(entry, "key", entry)))
    return re.sub(r"[^0-9A-Za-z_.\-]", "_", ".".join(parts))


def _is_key(x: Any) -> bool:
    return jax.dtypes.issubdtype(getattr(x, "dtype", np.float32), jax.dtypes.prng_key)


def flatten(tree: Any) -> dict[str, np.ndarray]:
    """``tree`` as ``{path name: host array}`` (PRNG keys as their raw key data)."""
    out: dict[str, np.ndarray] = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        name = _name(path)
        if name in out:
            raise ValueError(f"Two leaves of the training state map to the checkpoint name {name!r}.")
        out[name] = np.asarray(jax.device_get(jax.random.key_data(leaf) if _is_key(leaf) else leaf))
    return out


def unflatten(template: Any, flat: dict[str, Any]) -> Any:
    """Inverse of ``flatten``: ``template``'s structure, dtypes, key types and placement."""
    leaves_with_paths, treedef = jax.tree_util.tree_flatten_with_path(template)
    leaves = []
    for path, ref in leaves_with_paths:
        name = _name(path)
        if name not in flat:
            raise ValueError(f"The checkpoint has no entry {name!r}: was it written by a different model?")
        value = np.asarray(flat[name])
        # the template's placement, committed or not: jit compiles one program per kind
        put = lambda x, ref=ref: jax.device_put(x, ref.sharding) if ref.committed else jax.device_put(x)
        if _is_key(ref):
            value = jax.random.wrap_key_data(put(value), impl=jax.random.key_impl(ref))
        else:
            if value.shape != ref.shape:
                raise ValueError(
                    f"Checkpoint entry {name!r} has shape {value.shape}, the model expects {ref.shape}."
                )
            value = put(value.astype(ref.dtype))
        leaves.append(value)
    return jax.tree_util.tree_unflatten(treedef, leaves)


def save(
    manager: ocp.CheckpointManager,
    epoch: int,
    state: Any,
    *,
    history: list[dict[str, float]],
    best: Any = None,
    metrics: dict[str, float] | None = None,
    tracker: Any = None,
) -> None:
    """Save epoch ``epoch``: the state, the best copy (a ``stopping.Best`` or None), the history
    and the run of ``tracker`` (when it has a ``run_id``: MLflow)."""
    meta = {
        "version": FORMAT_VERSION,
        "epoch": epoch,
        "history": [dict(row) for row in history],  # a copy: orbax writes it later, the caller appends
        "best": None if best is None else {"epoch": best.epoch, "value": best.value},
        "tracking": _run_of(tracker),
    }
    items = {"state": ocp.args.StandardSave(flatten(state)), "meta": ocp.args.JsonSave(meta)}
    if best is not None:
        items["best"] = ocp.args.StandardSave(flatten(best.variables))
    manager.save(epoch, args=ocp.args.Composite(**items), metrics=metrics or None)


class Restored(NamedTuple):
    """A restored checkpoint.

    Attributes:
      epoch: the epoch it was saved at.
      state: the ``TrainState``.
      history: the history rows up to ``epoch``.
      best: ``(epoch, value, variables)`` of the best model, or None.
    """

    epoch: int
    state: Any
    history: list[dict[str, float]]
    best: tuple[int, float, Any] | None


def restore(manager: ocp.CheckpointManager, template: Any, *, epoch: int | None = None) -> Restored | None:
    """Restore epoch ``epoch`` (default: the latest), or None when there is no checkpoint.

    Args:
      manager: from ``Checkpointing.manager()``.
      template: a ``TrainState`` of the same model (structure, dtypes, shardings).
      epoch: which checkpoint; None for the latest.
    """
    epoch = manager.latest_step() if epoch is None else epoch
    if epoch is None:
        return None
    meta = manager.restore(epoch, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]

    def restore_tree(item: str, tmpl: Any) -> Any:
        abstract = {k: np.zeros(v.shape, v.dtype) for k, v in flatten(tmpl).items()}
        flat = manager.restore(epoch, args=ocp.args.Composite(**{item: ocp.args.StandardRestore(abstract)}))[
            item
        ]
        return unflatten(tmpl, flat)

    state = restore_tree("state", template)
    best = None
    if meta.get("best") is not None:
        variables = restore_tree("best", (template.params, template.model_state))
        best = (int(meta["best"]["epoch"]), float(meta["best"]["value"]), variables)
    return Restored(int(meta["epoch"]), state, [dict(r) for r in meta["history"]], best)


def _normal_uri(uri: Any) -> str:
    """A tracking URI with a relative SQLite path made absolute (the same file from any folder)."""
    uri = str(uri)
    path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else None
    if path and not path.startswith(("/", ":memory:")):
        return "sqlite:///" + os.path.abspath(path)
    return uri


def _run_of(tracker: Any) -> dict[str, str] | None:
    run_id = getattr(tracker, "run_id", None) if tracker is not None else None
    if not isinstance(run_id, str):
        return None
    return {
        "run_id": run_id,
        "tracking_uri": _normal_uri(getattr(tracker, "tracking_uri", "")),
        "experiment_id": str(getattr(tracker, "experiment_id", "")),
    }


def tracking_run(directory: str | os.PathLike | None, tracking_uri: str | None = None) -> dict[str, Any] | None:
    """The tracker run of the latest checkpoint in ``directory``, to continue it on resume.

    Args:
      directory: a checkpoint root (``Checkpointing.directory``); None: no run.
      tracking_uri: only a run logged to this URI (relative SQLite paths compare as absolute
        ones); None: any.

    Returns:
      ``{"run_id", "tracking_uri", "experiment_id", "epoch"}``, or None when there is no
      checkpoint, it was saved without an MLflow tracker, or to another URI.

    Example:
      >>> run = tracking_run("/tmp/run/ckpt")  # doctest: +SKIP
      >>> tracker = MlflowTracker(run["tracking_uri"], run_id=run["run_id"])  # doctest: +SKIP
    """
    if directory is None or not Path(directory).is_dir():
        return None
    root = Path(directory).absolute()
    with ocp.CheckpointManager(root) as manager:
        epoch = manager.latest_step()
        if epoch is None:
            return None
        meta = manager.restore(epoch, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
    run = meta.get("tracking")
    if not run or (tracking_uri is not None and run.get("tracking_uri") != _normal_uri(tracking_uri)):
        return None
    return {**run, "epoch": int(meta["epoch"])}
