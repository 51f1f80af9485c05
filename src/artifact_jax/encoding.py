"""DataFrame -> ``EncodedTable``: the only pandas <-> JAX boundary.

One pass per table turns the spec's features into three dense arrays:

* ``cts`` ``[N, Dc]`` float: continuous features, ``pd.to_numeric`` semantics, with missing
  values stored as ``0.0`` (dython's ``nan_replace_value``) and flagged in ``cts_missing``;
* ``cat`` ``[N, Dk]`` int32: category codes in the spec's vocabulary (first-appearance order).
  Column ``j`` with ``K_j`` categories uses codes ``0..K_j-1`` for them, ``K_j`` for a missing
  value (the reference's string ``"nan"``) and ``K_j + 1`` for any value outside the vocabulary
  (distinct unseen values share that code);
* ``valid`` ``[N]`` bool: ``False`` marks padding rows (static shapes for ``jit``/sharding).

Validation happens here, before ``jit``: every error names the table and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from artifact_jax.spec import TabularDataSpec

MISSING, UNSEEN = 0, 1  # offsets past the vocabulary: code K_j is missing, K_j + 1 unseen


class EncodedTable(NamedTuple):
    """A table as device arrays (a pytree, so it passes through ``jit``/``vmap``/``scan``).

    Attributes:
      cts: ``[N, Dc]`` continuous values, ``0.0`` where missing.
      cts_missing: ``[N, Dc]`` bool, ``True`` where the value was missing (NaN or null).
      cat: ``[N, Dk]`` int32 codes; see the module docstring for the reserved codes.
      valid: ``[N]`` bool, ``False`` for padding rows.
    """

    cts: object
    cts_missing: object
    cat: object
    valid: object


@dataclass(frozen=True)
class Layout:
    """Static (hashable) shape information of a spec, used as a ``jit`` static argument.

    Attributes:
      features: every feature in spec order.
      cts_features: continuous features in spec order (columns of ``cts``).
      cat_features: categorical features in spec order (columns of ``cat``).
      n_categories: ``K_j + 2`` code slots per categorical column (vocabulary, missing, unseen).
      order: ``("cts", i)`` / ``("cat", j)`` for each feature in spec order.
    """

    features: tuple[str, ...]
    cts_features: tuple[str, ...]
    cat_features: tuple[str, ...]
    n_categories: tuple[int, ...]
    order: tuple[tuple[str, int], ...]

    @classmethod
    def from_spec(cls, spec: TabularDataSpec) -> Layout:
        """The layout of ``spec``'s encoded tables."""
        cts, cat = tuple(spec.cts_features), tuple(spec.cat_features)
        order = tuple(("cts", cts.index(f)) if f in cts else ("cat", cat.index(f)) for f in spec.features)
        n_cat = tuple(len(spec.cat_unique_map[f]) + 2 for f in cat)
        return cls(tuple(spec.features), cts, cat, n_cat, order)

    @property
    def vocab_sizes(self) -> tuple[int, ...]:
        """``K_j``: the number of real categories per categorical column."""
        return tuple(n - 2 for n in self.n_categories)


def _check_table(df: object, spec: TabularDataSpec, name: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(df).__name__}.")
    if len(df) == 0:
        raise ValueError(f"{name} is empty: it has no rows.")
    columns = {str(c) for c in df.columns}
    missing = [f for f in spec.features if f not in columns]
    if missing:
        raise ValueError(f"{name} lacks the spec's features {missing}; its columns are {list(df.columns)}.")
    if len(columns) != len(df.columns):
        raise ValueError(f"{name} has duplicate column names.")
    return df.set_axis([str(c) for c in df.columns], axis=1)


def _continuous(series: pd.Series, table: str, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Values and missing mask of one continuous column (``pd.to_numeric`` semantics)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    values = pd.to_numeric(series, errors="coerce")
    values = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        bad = missing & series.notna().to_numpy()
        if bad.any():
            example = series[bad].iloc[0]
            raise ValueError(
                f"{table}: continuous column {series.name!r} holds non-numeric values "
                f"(e.g. {example!r}); declare it categorical or clean it."
            )
    if np.isinf(values).any():
        raise ValueError(f"{table}: continuous column {series.name!r} holds infinite values.")
    return np.where(missing, 0.0, values).astype(dtype, copy=False), missing


def _codes(series: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Codes of one categorical column against ``vocabulary`` (strings of the values)."""
    index = {c: i for i, c in enumerate(vocabulary)}
    k = len(vocabulary)
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        uniques = series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    lookup = np.array([index.get(str(u), k + UNSEEN) for u in np.asarray(uniques, dtype=object)] + [k + MISSING])
    return lookup[codes].astype(np.int32)  # code -1 (missing) picks the last entry


def encode(
    df: pd.DataFrame,
    spec: TabularDataSpec,
    *,
    name: str = "table",
    dtype: np.dtype | type = np.float64,
    pad_to: int | None = None,
) -> EncodedTable:
    """Encode the spec's features of ``df`` as numpy arrays (one vectorised pass per column).

    Args:
      df: the table; extra columns are ignored, missing spec features raise.
      spec: the data spec; categories are matched as strings (``astype(str)``).
      name: how errors refer to the table (e.g. ``"real"``).
      dtype: float dtype of ``cts`` (float64 for reference parity, float32 for training).
      pad_to: pad the rows to this count with ``valid=False`` rows.

    Returns:
      An ``EncodedTable`` of numpy arrays.

    Raises:
      ValueError: empty table, missing feature, non-numeric or infinite continuous values.
    """
    df = _check_table(df, spec, name)
    n = len(df)
    rows = n if pad_to is None else int(pad_to)
    if rows < n:
        raise ValueError(f"pad_to={pad_to} is smaller than the {n} rows of {name}.")
    cts = np.zeros((rows, spec.n_cts_features), dtype)
    missing = np.zeros((rows, spec.n_cts_features), bool)
    for i, f in enumerate(spec.cts_features):
        cts[:n, i], missing[:n, i] = _continuous(df[f], name, np.dtype(dtype))
    cat = np.zeros((rows, spec.n_cat_features), np.int32)
    for j, f in enumerate(spec.cat_features):
        cat[:n, j] = _codes(df[f], tuple(spec.cat_unique_map[f]))
    valid = np.zeros(rows, bool)
    valid[:n] = True
    return EncodedTable(cts, missing, cat, valid)


def decode_categories(codes: np.ndarray, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Inverse of the categorical coding: strings, ``None`` for missing/unseen codes."""
    table = np.array(list(vocabulary) + [None, None], dtype=object)
    return table[np.asarray(codes)]
