"""Device hooks: ``(init, update, finalize)`` triples carried through the epoch's ``lax.scan``.

They are the scan-compatible form of artifact-torch's batch, forward-hook and
backward-hook callbacks: ``init`` builds a pytree state at the start of an epoch,
``update`` folds in one optimizer step, ``finalize`` turns the state into named
scalars at the end of the epoch. Everything runs inside the jitted epoch; nothing
touches the host until the epoch's metrics are read.

Compose with ``chain``; derive new hooks with ``mean_of`` and ``functools.partial``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

PyTree = Any


class StepInfo(NamedTuple):
    """What a hook sees after one optimizer step.

    Attributes:
      outputs: the model's output dict for the batch (``"loss"`` and any other scalars).
      grads: gradients of the loss w.r.t. the params (an ``nnx.State``).
      params: the params after the update.
      opt_state: the raw optax state after the update (``optax.tree_utils`` friendly).
      mask: ``[B]`` bool, the real (non-padding) rows of the batch.
    """

    outputs: dict[str, jax.Array]
    grads: PyTree
    params: PyTree
    opt_state: PyTree
    mask: jax.Array


class Hook(NamedTuple):
    """A device hook: pure functions, so their state can ride in a ``lax.scan`` carry.

    Attributes:
      init: ``train_state -> hook_state``, at the start of each epoch.
      update: ``(hook_state, StepInfo) -> hook_state``, after each step.
      finalize: ``hook_state -> {name: scalar}``, at the end of the epoch.
    """

    init: Callable[[PyTree], PyTree]
    update: Callable[[PyTree, StepInfo], PyTree]
    finalize: Callable[[PyTree], dict[str, jax.Array]]


class MeanState(NamedTuple):
    total: jax.Array  # shape=(), float32
    count: jax.Array  # shape=(), float32


def mean_of(value: Callable[[StepInfo], jax.Array], *, out: str) -> Hook:
    r"""Average of ``value(info)`` over the steps of an epoch.

    .. math:: \bar v = \frac{1}{S} \sum_{s=1}^{S} v_s

    Args:
      value: a scalar function of the ``StepInfo``.
      out: the name of the result.

    Returns:
      A ``Hook`` producing ``{out: mean}`` (NaN for an epoch without steps).

    Example:
      >>> hook = mean_of(lambda info: info.outputs["kl"], out="KL_EPOCH")
    """

    def init_fn(train_state):
        del train_state
        return MeanState(jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32))

    def update_fn(state, info):
        return MeanState(state.total + jnp.asarray(value(info), jnp.float32), state.count + 1.0)

    def finalize_fn(state):
        return {out: state.total / state.count}

    return Hook(init_fn, update_fn, finalize_fn)


def output_mean(name: str, *, out: str | None = None) -> Hook:
    """Mean over the epoch's steps of the model output ``name`` (default result ``NAME_EPOCH``)."""
    return mean_of(lambda info: info.outputs[name], out=out or f"{name.upper()}_EPOCH")


def epoch_loss(out: str = "LOSS_EPOCH") -> Hook:
    r"""``LOSS_EPOCH``: the mean over batches of the training loss, as the reference's ``LossCallback``.

    .. math:: \mathrm{LOSS\_EPOCH} = \frac{1}{S} \sum_{s=1}^{S} \mathcal{L}_s

    (an unweighted mean over batches: a short last batch counts as much as a full one).
    """
    return output_mean("loss", out=out)


def grad_norm(out: str = "GRAD_NORM_EPOCH") -> Hook:
    r"""Mean over the epoch's steps of the gradient's global norm :math:`\|g_s\|_2`."""
    return mean_of(lambda info: optax.global_norm(info.grads), out=out)


class LastState(NamedTuple):
    value: PyTree


def last_of(value: Callable[[StepInfo], dict[str, jax.Array]], init: dict[str, jax.Array]) -> Hook:
    """The value of ``value(info)`` (a dict of scalars) at the last step of the epoch."""
    return Hook(lambda s: LastState(init), lambda s, info: LastState(value(info)), lambda s: dict(s.value))


def param_stats(prefix: str = "PARAM") -> Hook:
    r"""Parameter statistics at the end of the epoch: global norm, mean and std of all entries.

    .. math:: \|\theta\|_2,\quad \bar\theta = \tfrac1P \textstyle\sum_j \theta_j,\quad
              \sigma_\theta = \sqrt{\tfrac1P \textstyle\sum_j (\theta_j - \bar\theta)^2}
    """

    def stats(info):
        leaves = [jnp.ravel(x) for x in jax.tree.leaves(info.params)]
        flat = jnp.concatenate(leaves).astype(jnp.float32)
        return {
            f"{prefix}_NORM": jnp.linalg.norm(flat),
            f"{prefix}_MEAN": flat.mean(),
            f"{prefix}_STD": flat.std(),
        }

    zero = jnp.zeros((), jnp.float32)
    return last_of(stats, {f"{prefix}_NORM": zero, f"{prefix}_MEAN": zero, f"{prefix}_STD": zero})


def learning_rate(out: str = "LEARNING_RATE") -> Hook:
    """The learning rate of the epoch's last step, read from ``optax.inject_hyperparams``.

    Build the optimizer as ``optax.inject_hyperparams(optax.adam)(learning_rate=schedule)``
    so the rate is part of the optimizer state; otherwise tracing raises a ``ValueError``.
    """

    def value(info):
        is_array = lambda path, value: isinstance(value, jax.Array)  # not a schedule's own state
        lr = optax.tree_utils.tree_get(info.opt_state, "learning_rate", filtering=is_array)
        if lr is None:
            raise ValueError(
                "The learning_rate hook needs the rate in the optimizer state: build the optimizer "
                "with optax.inject_hyperparams, e.g. optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)."
            )
        return {out: jnp.asarray(lr, jnp.float32)}

    return last_of(value, {out: jnp.zeros((), jnp.float32)})


def chain(*hooks: Hook) -> Hook:
    """Run several hooks side by side; their results are merged into one dict.

    Example:
      >>> hook = chain(epoch_loss(), grad_norm())
    """

    def init_fn(train_state):
        return tuple(h.init(train_state) for h in hooks)

    def update_fn(state, info):
        return tuple(h.update(s, info) for h, s in zip(hooks, state, strict=True))

    def finalize_fn(state):
        return functools.reduce(
            lambda a, b: {**a, **b}, (h.finalize(s) for h, s in zip(hooks, state, strict=True)), {}
        )

    return Hook(init_fn, update_fn, finalize_fn)
