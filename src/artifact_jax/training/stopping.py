"""Early stopping and best-model tracking, decided on the host from the epoch history.

A stopper is a frozen dataclass called as ``stopper(epoch, history) -> reason | None``
after every epoch (and once before training, which makes resuming a finished run a
no-op). Stoppers keep no state of their own: everything they look at is in the
``History``, which checkpoints save, so a resumed run stops exactly where an
uninterrupted one would.

``BestModel`` keeps a *copy* of the best variables (the reference aliases the live
weights and compares against the initial value; both are fixed here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import jax

from artifact_jax.training.state import History, TrainState

Stopper = Callable[[int, History], "str | None"]


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")


@dataclass(frozen=True)
class EpochBound:
    """Stop once ``max_epochs`` epochs have run (the reference's ``EpochBoundStopper``).

    Example:
      >>> EpochBound(3)(3, History())
      'reached max_epochs=3'
    """

    max_epochs: int

    def __call__(self, epoch: int, history: History) -> str | None:
        return f"reached max_epochs={self.max_epochs}" if epoch >= self.max_epochs else None


@dataclass(frozen=True)
class Patience:
    r"""Stop when ``metric`` has not strictly improved for ``patience`` evaluations.

    The reference's ``ScoreMinimizationStopper``/``ScoreMaximizationStopper``: keep the
    window :math:`w` of the last ``patience + 1`` values of ``metric`` and stop when it is
    full and its oldest value is still the best,

    .. math:: |w| = p + 1 \;\wedge\; \min(w) = w_0 \quad(\text{mode} = \text{min}),

    or when ``max_epochs`` epochs have run. The window holds the values at the epochs
    where ``metric`` was computed, so with validation every 5 epochs ``patience`` counts
    validations, not epochs (the reference leaves this to the user's update data).

    Attributes:
      metric: a history score, e.g. ``"LOSS_VAL"``.
      patience: evaluations without improvement before stopping.
      mode: ``"min"`` or ``"max"``.
      max_epochs: a hard bound on epochs; None for none.

    Example:
      >>> h = History([{"epoch": 1, "L": 1.0}, {"epoch": 2, "L": 1.5}, {"epoch": 3, "L": 1.2}])
      >>> Patience("L", patience=2)(3, h)
      'L did not improve on 1 for 2 evaluations'
    """

    metric: str
    patience: int
    mode: Literal["min", "max"] = "min"
    max_epochs: int | None = None

    def __post_init__(self):
        _check_mode(self.mode)
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}.")

    def __call__(self, epoch: int, history: History) -> str | None:
        if self.max_epochs is not None and epoch >= self.max_epochs:
            return f"reached max_epochs={self.max_epochs}"
        window = history.values(self.metric)[-(self.patience + 1) :]
        if len(window) == self.patience + 1:
            best = min(window) if self.mode == "min" else max(window)
            if best == window[0]:
                return f"{self.metric} did not improve on {window[0]:.4g} for {self.patience} evaluations"
        return None


def any_of(*stoppers: Stopper) -> Stopper:
    """Stop as soon as one of ``stoppers`` says so (its reason is reported)."""

    def stop(epoch: int, history: History) -> str | None:
        return next((r for r in (s(epoch, history) for s in stoppers) if r is not None), None)

    stop.stoppers = stoppers  # type: ignore[attr-defined]  # for metric_names
    return stop


def metric_names(*keyed: Any) -> dict[str, str]:
    """``{metric: who}`` for the history scores that stoppers, ``BestModel``s or ``Checkpointing``s
    are keyed by (a ``metric`` or ``best_metric`` attribute; ``any_of`` is looked into)."""
    out: dict[str, str] = {}
    for obj in keyed:
        for inner in getattr(obj, "stoppers", ()):
            out.update(metric_names(inner))
        name = getattr(obj, "metric", None) or getattr(obj, "best_metric", None)
        if isinstance(name, str):
            out.setdefault(name, f"{type(obj).__name__}({name!r})")
    return out


def first_complete_epoch(start: int, periods: Any) -> int:
    r"""The first epoch after ``start`` by which every routine with a ``period > 0`` has run once.

    A routine runs at the epochs ``e`` with ``e % period == 0``, so this is
    :math:`\max_p \lceil (start + 1) / p \rceil p` (``start + 1`` without such routines).
    """
    due = [-(-(start + 1) // p) * p for p in periods if p is not None and p > 0]
    return max(due, default=start + 1)


def check_metrics(history: History, *keyed: Any) -> None:
    """Raise if a stopper, ``BestModel`` or ``Checkpointing`` is keyed by a score that no epoch has.

    Call it once every routine has run (``first_complete_epoch``): from then on a name that is in
    no history row never will be, and the stopper would never fire (or the best model stay None).

    Raises:
      ValueError: naming the metric, who uses it, the close matches and every score that exists.
    """
    import difflib

    known = sorted({k for row in history.rows for k in row if k != "epoch"})
    for metric, who in metric_names(*keyed).items():
        if metric not in known:
            close = difflib.get_close_matches(metric, known, n=3, cutoff=0.5)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise ValueError(
                f"{who}: no epoch has a score named {metric!r}, so it would never act.{hint} "
                f"The scores of this training are: {', '.join(known) or '(none)'}."
            )


def max_epochs(stopper: Any) -> int | None:
    """The epoch bound of a stopper, if it has one (used for the progress bar's total)."""
    return getattr(stopper, "max_epochs", None)


class Best(NamedTuple):
    """The best model so far.

    Attributes:
      epoch: the epoch it was reached.
      value: its metric value.
      variables: ``(params, model_state)``: device copies, not aliases of the live state.
    """

    epoch: int
    value: float
    variables: Any


@dataclass(frozen=True)
class BestModel:
    """Track the best model by a history score (the reference's ``ModelTracker``, fixed).

    ``update`` compares the epoch's value with the best so far (not with the initial
    value, reference bug 5) and stores a copy of the variables (not an alias).

    Attributes:
      metric: a history score, e.g. ``"LOSS_VAL"``.
      mode: ``"min"`` or ``"max"``.
    """

    metric: str
    mode: Literal["min", "max"] = "min"

    def __post_init__(self):
        _check_mode(self.mode)

    def update(
        self, best: Best | None, epoch: int, scores: dict[str, float], state: TrainState
    ) -> Best | None:
        """The new best after an epoch with ``scores`` (unchanged if the metric is absent)."""
        value = scores.get(self.metric)
        if value is None or value != value:  # not computed this epoch, or NaN
            return best
        if best is not None and not (value < best.value if self.mode == "min" else value > best.value):
            return best
        variables = jax.tree.map(lambda x: x.copy(), (state.params, state.model_state))
        return Best(epoch, float(value), variables)
