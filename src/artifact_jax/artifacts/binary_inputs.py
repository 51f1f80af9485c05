"""Binary-classification inputs: the pandas/numpy -> JAX boundary, with all validation.

``align`` (then ``pad``) turns the user's true labels, predicted labels and optional positive-class
probabilities into ``BinaryInputs`` (``BinaryClassificationPlan.encode``), four flat arrays that every kernel reads. It follows
artifact-core 0.2.1 (spec section 1.2, "Input model"):

* Labels are compared as ``str(value)`` with the spec's class names (so ``0``/``1`` labels
  need ``class_names=["0", "1"]``); a label that is neither class raises ``ValueError``.
* A probability is clipped to ``[1e-15, 1 - 1e-15]`` (the reference's ``logit`` clip: a
  probability of 1 reads back as ``1 - 1e-15``, within 2e-16 of the reference's
  ``0.9999999999999989``).
* Where no probability is given for an id (``probs_pos=None``, an id missing from a mapping
  or Series, or a ``None`` value), the distribution is one-hot on the *predicted* class, so
  ``prob_pos`` is exactly 1.0 or 0.0 (not clipped), as the reference's CONCENTRATED rule.

Alignment. ``true``, ``predicted`` and ``probs_pos`` may each be a pandas Series (ids are its
index), a mapping ``{id: value}``, or a 1-D array/list (positional). When ``true`` and another
input both carry ids they are aligned by id, in ``true``'s order; ``predicted`` must hold
exactly ``true``'s ids and ``probs_pos`` a subset of them. When either side is positional the
two are aligned by position and must have the same length.

Differs from the reference: a probability outside ``[0, 1]`` or NaN raises ``ValueError``
(the reference clips the first silently and fails on the second with an unrelated message);
mismatched ids raise ``ValueError`` rather than ``KeyError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from artifact_jax.spec import BinaryClassSpec

#: The reference clips probabilities to ``[EPS, 1 - EPS]`` before its logit round trip.
EPS = 1e-15
_SHOW = 5


class BinaryInputs(NamedTuple):
    """Aligned classification results, one entry per id (a pytree of arrays).

    Attributes:
      y_true: ``[N]`` bool, the true class is the positive one.
      y_pred: ``[N]`` bool, the predicted class is the positive one.
      prob_pos: ``[N]`` float, the probability of the positive class (clipped, or one-hot
        on the prediction where none was given).
      valid: ``[N]`` bool, False on padding rows (``pad_to``), which count nowhere.
    """

    y_true: Any
    y_pred: Any
    prob_pos: Any
    valid: Any


class _Column(NamedTuple):
    ids: pd.Index | None  # None: positional
    values: Any  # 1-D numpy array or pandas Series


def _column(x: Any, name: str) -> _Column:
    if isinstance(x, pd.Series):
        if not x.index.is_unique:
            dup = x.index[x.index.duplicated()].unique().tolist()[:_SHOW]
            raise ValueError(f"{name} has duplicated ids {dup}; each id must appear once.")
        return _Column(x.index, x)
    if isinstance(x, pd.DataFrame):
        raise ValueError(f"{name} must be one column (a Series), got a DataFrame with columns {list(x.columns)}.")
    if isinstance(x, Mapping):
        values = np.empty(len(x), dtype=object)
        values[:] = list(x.values())
        return _Column(pd.Index(list(x.keys()), tupleize_cols=False), values)
    if isinstance(x, str) or not isinstance(x, Sequence | np.ndarray | pd.Index | pd.Categorical) and not hasattr(
        x, "__array__"
    ):
        raise ValueError(
            f"{name} must be a pandas Series, a mapping {{id: value}} or a 1-D array, got {type(x).__name__}."
        )
    values = x if isinstance(x, pd.Categorical) else np.asarray(x)
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {values.shape}.")
    return _Column(None, values)


def _ids_text(ids: Sequence[Any]) -> str:
    shown = list(ids[:_SHOW])
    more = f" and {len(ids) - _SHOW} more" if len(ids) > _SHOW else ""
    return f"{shown}{more}"


def _align(ref: _Column, other: _Column, n: int, name: str, *, partial: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """``other``'s values in ``ref``'s order, and (for keyed inputs) the positions that had an id."""
    values = np.asarray(other.values) if not isinstance(other.values, pd.Series) else other.values
    if ref.ids is None or other.ids is None:
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries but true has {n}; they are aligned by position.")
        return values, None
    if other.ids.equals(ref.ids):
        return values, None
    extra = other.ids.difference(ref.ids, sort=False)
    if len(extra):
        raise ValueError(f"{name} has {len(extra)} id(s) that true lacks: {_ids_text(extra)}.")
    pos = other.ids.get_indexer(ref.ids)
    found = pos >= 0
    if not partial and not found.all():
        missing = ref.ids[~found]
        raise ValueError(f"{name} lacks {len(missing)} id(s) of true: {_ids_text(missing)}.")
    taken = values.iloc[pos] if isinstance(values, pd.Series) else values[pos]
    return taken, (found if not found.all() else None)


def _is_positive(values: Any, spec: BinaryClassSpec, name: str, ids: pd.Index) -> np.ndarray:
    """``str(value) == spec.positive_class`` for each value, after checking every class is known."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names = np.array([str(u) for u in np.asarray(uniques, dtype=object)], dtype=object)
    known = np.isin(names, np.asarray(spec.class_names, dtype=object))
    if not known.all():
        bad = np.flatnonzero(~known)
        where = ids[np.isin(codes, bad)]
        raise ValueError(
            f"{name} holds class names that are not in the spec's class_names {list(spec.class_names)}: "
            f"{names[bad][:_SHOW].tolist()} (at ids {_ids_text(where)}). Labels are compared as str(value)."
        )
    lut = names == spec.positive_class
    return lut[np.asarray(codes)].astype(bool)


def _probabilities(values: Any, name: str, ids: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities as float64 and the mask of entries that hold one (``None`` holds none)."""
    arr = np.asarray(values)
    given = np.ones(arr.shape, bool)
    if arr.dtype == object:
        given = np.fromiter((v is not None for v in arr), dtype=bool, count=len(arr))
        arr = np.where(given, arr, 0.0)
    try:
        p = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must hold numbers (probabilities of the positive class): {e}.") from e
    nan = np.isnan(p) & given
    if nan.any():
        raise ValueError(f"{name} is NaN at {nan.sum()} id(s): {_ids_text(ids[nan])}; give a probability in [0, 1].")
    bad = ((p < 0) | (p > 1)) & given
    if bad.any():
        raise ValueError(
            f"{name} must lie in [0, 1]; {bad.sum()} value(s) do not, e.g. {p[bad][:_SHOW].tolist()} "
            f"at ids {_ids_text(ids[bad])}."
        )
    return p, given


def align(
    true: Any, predicted: Any, probs_pos: Any, spec: BinaryClassSpec
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """Validate and align the three inputs (see the module docstring).

    Returns:
      ``(ids, y_true, y_pred, prob_pos)``: the ids (``true``'s, or ``0..N-1`` when it is
      positional) and three ``[N]`` numpy arrays (bool, bool, float64 in ``[0, 1]``).
    """
    if not isinstance(spec, BinaryClassSpec):
        raise ValueError(f"spec must be a BinaryClassSpec, got {type(spec).__name__}.")
    t = _column(true, "true")
    n = len(t.values)
    if n == 0:
        raise ValueError("true is empty; there is nothing to evaluate.")
    ids = t.ids if t.ids is not None else pd.RangeIndex(n)
    p_col = _column(predicted, "predicted")
    pred_values, _ = _align(t, p_col, n, "predicted", partial=False)
    y_true = _is_positive(t.values, spec, "true", ids)
    y_pred = _is_positive(pred_values, spec, "predicted", ids)
    prob = y_pred.astype(np.float64)  # the one-hot rule, exactly 0.0 or 1.0
    if probs_pos is not None:
        q_col = _column(probs_pos, "probs_pos")
        q_values, found = _align(t, q_col, n, "probs_pos", partial=True)
        if found is not None:
            q_values = np.where(found, np.asarray(q_values, dtype=object), None)
        p, given = _probabilities(q_values, "probs_pos", ids)
        prob = np.where(given, np.clip(p, EPS, 1.0 - EPS), prob)
    return ids, y_true, y_pred, prob


def pad(x: BinaryInputs, pad_to: int | None) -> BinaryInputs:
    """``x`` padded with invalid rows to ``pad_to`` rows (unchanged when ``None``)."""
    n = len(x.y_true)
    if pad_to is None or pad_to == n:
        return x
    if pad_to < n:
        raise ValueError(f"pad_to={pad_to} is smaller than the number of rows ({n}).")
    extra = pad_to - n
    return BinaryInputs(*(np.concatenate([a, np.zeros(extra, a.dtype)]) for a in x))


def serialize(ids: pd.Index, x: BinaryInputs, spec: BinaryClassSpec) -> dict[str, dict[str, Any]]:
    """The reference's export layout ``{str(id): {"true", "predicted", "prob_pos"}}``."""
    names = np.array([spec.negative_class, spec.positive_class], dtype=object)
    n = len(ids)
    true = names[np.asarray(x.y_true[:n], int)]
    pred = names[np.asarray(x.y_pred[:n], int)]
    prob = np.asarray(x.prob_pos[:n], np.float64).tolist()
    return {
        str(i): {"true": t, "predicted": p, "prob_pos": q}
        for i, t, p, q in zip(ids, true.tolist(), pred.tolist(), prob, strict=True)
    }
