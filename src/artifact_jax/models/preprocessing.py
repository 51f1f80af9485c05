r"""Table <-> integer codes for the tabular VAE: equal-width bins and category vocabularies.

Every feature becomes one integer code, as in the reference demo:

* a continuous feature is cut into ``n_bins`` equal-width, right-closed bins with
  ``pd.cut``'s edges (the lowest edge moved down by 0.1% of the range),

  .. math:: e_k = \min x + k\,\frac{\max x - \min x}{n},\quad
            \mathrm{code}(x) = k \iff e_k < x \le e_{k+1};

  decoding draws :math:`x \sim U(e_k, e_{k+1})` (the reference's discretizer inverse),
  rounded for integer columns;
* a categorical feature is coded by its position in the spec's category list
  (``spec.cat_unique_map``: strings, first-appearance order), so the codes are those
  of ``artifact_jax.encoding``; decoding restores the original values and dtype.

``decode_arrays`` is jittable (device sampling); ``to_frame`` is the host step back to
a DataFrame in the original columns and dtypes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from artifact_jax.spec import category_name


def bin_edges(values: np.ndarray, n_bins: int) -> tuple[float, ...]:
    """``pd.cut(values, n_bins)``'s edges: equal width, lowest edge lowered by 0.1% of the range."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo == hi:  # pandas widens a constant column by 0.1% on each side
        lo, hi = (lo - 0.001 * abs(lo), hi + 0.001 * abs(hi)) if lo != 0 else (-0.001, 0.001)
        return tuple(float(e) for e in np.linspace(lo, hi, n_bins + 1))
    edges = np.linspace(lo, hi, n_bins + 1)
    edges[0] -= (hi - lo) * 0.001
    return tuple(float(e) for e in edges)


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class TablePreprocessor:
    """Fitted codes of a table (hashable: it is a static attribute of the model).

    Attributes:
      features: every feature, in spec order (the columns of the code matrix).
      cts_features: continuous features, in spec order.
      cat_features: categorical features, in spec order.
      bin_edges: per continuous feature, its ``n_bins + 1`` edges.
      vocabularies: per categorical feature, its category strings.
      values: per categorical feature, the original value of each category.
      dtypes: per feature, the original pandas dtype name.

    Example:
      >>> df = pd.DataFrame({"age": [20, 30, 40, 50], "sex": ["M", "F", "F", "M"]})
      >>> pre = TablePreprocessor.fit(df, n_bins=2)
      >>> pre.encode(df).tolist()
      [[0, 0], [0, 1], [1, 1], [1, 0]]
    """

    features: tuple[str, ...]
    cts_features: tuple[str, ...]
    cat_features: tuple[str, ...]
    bin_edges: tuple[tuple[float, ...], ...]
    vocabularies: tuple[tuple[str, ...], ...]
    values: tuple[tuple[Any, ...], ...]
    dtypes: tuple[str, ...]

    @classmethod
    def fit(cls, df: pd.DataFrame, spec: Any = None, *, n_bins: int = 10) -> TablePreprocessor:
        """Fit bins and vocabularies on ``df``.

        Args:
          df: the training table.
          spec: an object with ``features``, ``cts_features``, ``cat_features`` and
            ``cat_unique_map`` (e.g. ``artifact_jax.TabularDataSpec``); None infers one
            (numeric columns continuous, the rest categorical).
          n_bins: bins per continuous feature (the reference demo uses 10).
        """
        if not isinstance(df, pd.DataFrame) or len(df) == 0:
            raise ValueError("TablePreprocessor.fit needs a non-empty pandas DataFrame.")
        if n_bins < 1:
            raise ValueError(f"n_bins must be >= 1, got {n_bins}.")
        if spec is None:
            cts = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
            cat = [c for c in df.columns if c not in cts]
            vocab = {c: tuple(dict.fromkeys(category_name(str(v)) for v in df[c].dropna())) for c in cat}
            features = tuple(str(c) for c in df.columns)
        else:
            cts, cat = list(spec.cts_features), list(spec.cat_features)
            vocab = {c: tuple(spec.cat_unique_map[c]) for c in cat}
            features = tuple(spec.features)
        missing = [f for f in features if f not in df.columns]
        if missing:
            raise ValueError(
                f"Features {missing} are not columns of the table; columns are {list(df.columns)}."
            )
        edges = tuple(bin_edges(_numeric(df[c], c), n_bins) for c in cts)
        values = []
        for c in cat:
            originals = {category_name(str(v)): _scalar(v) for v in pd.unique(df[c].dropna())}
            values.append(tuple(originals.get(s, s) for s in vocab[c]))
        return cls(
            features, tuple(cts), tuple(cat), edges, tuple(vocab[c] for c in cat), tuple(values),
            tuple(str(df[f].dtype) for f in features),
        )  # fmt: skip

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """Number of codes of each feature, in ``features`` order."""
        sizes = {**{c: len(e) - 1 for c, e in zip(self.cts_features, self.bin_edges, strict=False)},
                 **{c: len(v) for c, v in zip(self.cat_features, self.vocabularies, strict=False)}}  # fmt: skip
        return tuple(sizes[f] for f in self.features)

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """Codes ``int32[N, F]`` of ``df`` (values outside the fitted range go to the end bins).

        Raises:
          ValueError: a feature is missing, a continuous value is NaN/non-numeric, or a
            category is missing or outside the vocabulary (naming the column and values).
        """
        missing = [f for f in self.features if f not in df.columns]
        if missing:
            raise ValueError(
                f"Features {missing} are not columns of the table; columns are {list(df.columns)}."
            )
        codes = np.zeros((len(df), len(self.features)), np.int32)
        for f, edges in zip(self.cts_features, self.bin_edges, strict=False):
            x = _numeric(df[f], f)
            k = np.searchsorted(np.asarray(edges), x, side="left") - 1
            codes[:, self.features.index(f)] = np.clip(k, 0, len(edges) - 2)
        for f, vocab in zip(self.cat_features, self.vocabularies, strict=False):
            column = df[f]
            if column.isna().any():
                raise ValueError(f"Categorical column {f!r} has missing values; fill or drop them first.")
            strings = np.asarray([category_name(s) for s in column.astype(str)], dtype=object)  # 1.0 -> "1", as the spec
            index = {c: i for i, c in enumerate(vocab)}
            unseen = sorted({s for s in set(strings) if s not in index})
            if unseen:
                raise ValueError(
                    f"Column {f!r} has categories {unseen[:10]} outside its vocabulary {list(vocab)}."
                )
            codes[:, self.features.index(f)] = [index[s] for s in strings]
        return codes

    def decode_arrays(
        self, codes: jax.Array, key: jax.Array | None = None, *, positions: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Codes ``[N, F]`` -> (continuous values ``float32[N, Dc]``, category codes ``int32[N, Dk]``).

        Jittable. Continuous values are uniform within their bin (at ``positions``, uniform
        ``[0, 1)`` draws ``[N, Dc]``, or drawn with ``key``), rounded for integer and
        thresholded at 0.5 for boolean columns.
        """
        n = codes.shape[0]
        cts_cols = [self.features.index(f) for f in self.cts_features]
        cat_cols = [self.features.index(f) for f in self.cat_features]
        cat = codes[:, jnp.asarray(cat_cols, jnp.int32)] if cat_cols else jnp.zeros((n, 0), jnp.int32)
        if not cts_cols:
            return jnp.zeros((n, 0), jnp.float32), cat.astype(jnp.int32)
        edges = jnp.asarray(np.array(self.bin_edges, np.float32))  # [Dc, n_bins + 1]
        k = codes[:, jnp.asarray(cts_cols, jnp.int32)]  # [N, Dc]
        lo = jnp.take_along_axis(edges.T, k, axis=0)
        hi = jnp.take_along_axis(edges.T, k + 1, axis=0)
        if positions is None:
            if key is None:
                raise ValueError("decode_arrays needs a PRNG key or the positions within the bins.")
            positions = jax.random.uniform(key, lo.shape, jnp.float32)
        x = lo + positions * (hi - lo)
        kinds = [np.dtype(self.dtypes[c]).kind if _is_numpy(self.dtypes[c]) else "f" for c in cts_cols]
        rounded = jnp.asarray([kd in "iu" for kd in kinds])
        boolean = jnp.asarray([kd == "b" for kd in kinds])
        x = jnp.where(rounded, jnp.round(x), x)
        x = jnp.where(boolean, (x >= 0.5).astype(jnp.float32), x)
        return x, cat.astype(jnp.int32)

    def to_frame(self, cts: np.ndarray, cat: np.ndarray) -> pd.DataFrame:
        """The host step: arrays from ``decode_arrays`` -> a DataFrame in the original columns and dtypes."""
        cts, cat = np.asarray(cts), np.asarray(cat)
        columns: dict[str, Any] = {}
        for j, f in enumerate(self.cts_features):
            columns[f] = _as_dtype(
                pd.Series(cts[:, j].astype(np.float64)), self.dtypes[self.features.index(f)]
            )
        for j, f in enumerate(self.cat_features):
            table = np.empty(len(self.values[j]), dtype=object)
            table[:] = self.values[j]
            columns[f] = _as_dtype(
                pd.Series(table[cat[:, j]], dtype=object), self.dtypes[self.features.index(f)]
            )
        return pd.DataFrame({f: columns[f] for f in self.features})

    def decode(self, codes: np.ndarray, key: jax.Array) -> pd.DataFrame:
        """``to_frame(*decode_arrays(codes, key))``."""
        cts, cat = self.decode_arrays(jnp.asarray(codes, jnp.int32), key)
        return self.to_frame(np.asarray(cts), np.asarray(cat))


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) | np.isinf(values)
    if bad.any():
        raise ValueError(
            f"Continuous column {name!r} has {int(bad.sum())} missing, non-numeric or infinite values "
            f"(e.g. {series[bad].iloc[:3].tolist()}); fill or drop them first."
        )
    return values


def _is_numpy(dtype: str) -> bool:
    try:
        np.dtype(dtype)
    except TypeError:
        return False
    return True


def _as_dtype(series: pd.Series, dtype: str) -> pd.Series:
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series
