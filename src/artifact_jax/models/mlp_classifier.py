r"""The reference demo's MLP binary classifier, in Flax NNX, with its table preprocessing.

``ClassifierPreprocessor`` turns a table into the model's batch format, fitted on the
training split only:

* a continuous feature is standardised with the training mean and (population) standard
  deviation, :math:`x' = (x - \mu) / \sigma` (:math:`\sigma = 1` for a constant column);
* a categorical feature is one-hot encoded over its training categories (compared as
  ``str``); a category never seen in training encodes as all zeros;
* the label becomes ``y = 1`` for the positive class and ``0`` for the other one.

``MLPClassifier`` is artifact-torch's ``demos/binary_classification`` model: blocks
``Linear -> BatchNorm(momentum 0.1, eps 1e-5) -> LeakyReLU(0.1) -> Dropout(0)`` of widths
512 and 256, then a 2-way linear head; the loss is the cross-entropy of the softmax,
averaged over the real rows of the batch (padding rows are masked out of the loss and of
BatchNorm's statistics):

.. math:: \mathcal{L} = -\frac{1}{\sum_i m_i} \sum_i m_i \log \mathrm{softmax}(\ell_i)_{y_i}

``classify`` gives :math:`p_i = \mathrm{softmax}(\ell_i)_1` and predicts positive iff
:math:`p_i \ge` ``threshold`` (``training.protocols.BinaryClassifier``).

References:
  artifact-torch ``demos/binary_classification`` (``MLPClassifier``, ``MLPEncoder``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from artifact_jax.training.protocols import BinaryClassification


@dataclass(frozen=True)
class ClassifierPreprocessor:
    """Fitted feature and label encodings of a table (hashable: a static model attribute).

    Attributes:
      cts_features: continuous features (standardised), in input order.
      means, stds: per continuous feature, the training mean and standard deviation.
      cat_features: categorical features (one-hot), after the continuous ones.
      vocabularies: per categorical feature, its training categories as strings.
      label: the label column.
      class_names: the two class names (strings, sorted).
      positive_class: the class with ``y = 1``.

    Example:
      >>> df = pd.DataFrame({"age": [20.0, 40.0], "sex": ["M", "F"], "sick": [0, 1]})
      >>> pre = ClassifierPreprocessor.fit(df, "sick")
      >>> pre.encode(df).tolist(), pre.labels(df["sick"]).tolist(), pre.positive_class
      ([[-1.0, 1.0, 0.0], [1.0, 0.0, 1.0]], [0, 1], '1')
    """

    cts_features: tuple[str, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]
    cat_features: tuple[str, ...]
    vocabularies: tuple[tuple[str, ...], ...]
    label: str
    class_names: tuple[str, str]
    positive_class: str

    @classmethod
    def fit(
        cls,
        df: pd.DataFrame,
        label: str,
        *,
        cat: Sequence[str] | None = None,
        cts: Sequence[str] | None = None,
        positive_class: Any = None,
    ) -> ClassifierPreprocessor:
        """Fit the encodings on ``df`` (the training split).

        Args:
          df: the training table, holding ``label`` and the features.
          label: the binary label column.
          cat, cts: categorical / continuous features; by default every other column,
            numeric ones (bool included) continuous and the rest categorical. Giving only
            one of them makes the other the remaining columns.
          positive_class: the positive class (default: the last of the two class names in
            sorted order, so ``1`` of ``0``/``1`` and ``True`` of ``False``/``True``).

        Raises:
          ValueError: ``label`` is not a column or does not hold exactly two classes; a
            feature is missing.
        """
        if not isinstance(df, pd.DataFrame) or len(df) == 0:
            raise ValueError("ClassifierPreprocessor.fit needs a non-empty pandas DataFrame.")
        if label not in df.columns:
            raise ValueError(f"label {label!r} is not a column of the table; columns are {list(df.columns)}.")
        rest = [str(c) for c in df.columns if c != label]
        if cat is None and cts is None:
            cts = [c for c in rest if pd.api.types.is_numeric_dtype(df[c])]
        if cat is None:
            cat = [c for c in rest if c not in set(cts)]
        if cts is None:
            cts = [c for c in rest if c not in set(cat)]
        cat, cts = [str(c) for c in cat], [str(c) for c in cts]
        missing = [f for f in (*cts, *cat) if f not in df.columns]
        if missing:
            raise ValueError(
                f"Features {missing} are not columns of the table; columns are {list(df.columns)}."
            )
        if label in cat or label in cts:
            raise ValueError(f"The label {label!r} cannot also be a feature.")
        if not cat and not cts:
            raise ValueError(f"The table has no feature columns besides the label {label!r}.")
        if df[label].isna().any():
            raise ValueError(f"The label column {label!r} has missing values; drop those rows first.")
        classes = tuple(sorted({str(v) for v in pd.unique(df[label])}))
        if len(classes) != 2:
            raise ValueError(
                f"The label column {label!r} must hold exactly 2 classes for binary classification; "
                f"it holds {len(classes)}: {list(classes)[:10]}."
            )
        positive = classes[-1] if positive_class is None else str(positive_class)
        if positive not in classes:
            raise ValueError(
                f"positive_class {positive!r} is not one of the classes {list(classes)} of {label!r}."
            )
        x = np.stack([_numeric(df[c], c) for c in cts], axis=1) if cts else np.zeros((len(df), 0))
        mean, std = x.mean(axis=0), x.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        vocab = []
        for c in cat:
            _check_complete(df[c], c)
            vocab.append(tuple(dict.fromkeys(str(v) for v in df[c])))
        return cls(
            tuple(cts), tuple(float(m) for m in mean), tuple(float(s) for s in std), tuple(cat),
            tuple(vocab), str(label), (classes[0], classes[1]), positive,
        )  # fmt: skip

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature, in input order (continuous, then categorical)."""
        return self.cts_features + self.cat_features

    @property
    def width(self) -> int:
        """Columns of the encoded matrix: one per continuous feature plus one per category."""
        return len(self.cts_features) + sum(len(v) for v in self.vocabularies)

    @property
    def spec(self) -> Any:
        """The label's ``BinaryClassSpec``."""
        from artifact_jax.spec import BinaryClassSpec

        return BinaryClassSpec(list(self.class_names), self.positive_class, label_name=self.label)

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """The features of ``df`` as ``float32[N, width]``.

        Raises:
          ValueError: a feature is missing, or has NaN / non-numeric / infinite values.
        """
        missing = [f for f in self.features if f not in df.columns]
        if missing:
            raise ValueError(
                f"Features {missing} are not columns of the table; columns are {list(df.columns)}."
            )
        parts = []
        if self.cts_features:
            x = np.stack([_numeric(df[c], c) for c in self.cts_features], axis=1)
            parts.append((x - np.asarray(self.means)) / np.asarray(self.stds))
        for c, vocab in zip(self.cat_features, self.vocabularies, strict=True):
            _check_complete(df[c], c)
            index = {v: i for i, v in enumerate(vocab)}
            codes = np.array([index.get(str(v), -1) for v in df[c]], np.int64)
            parts.append(
                (codes[:, None] == np.arange(len(vocab))[None, :]).astype(np.float64)
            )  # unseen: zeros
        return np.concatenate(parts, axis=1).astype(np.float32)

    def labels(self, values: Any) -> np.ndarray:
        """``int32[N]``: 1 where the label is the positive class, 0 for the other class.

        Raises:
          ValueError: a label is neither class (naming it).
        """
        strings = np.asarray([str(v) for v in np.asarray(values, dtype=object)], dtype=object)
        unknown = sorted(set(strings) - set(self.class_names))
        if unknown:
            raise ValueError(
                f"Label {self.label!r} has values {unknown[:10]} that are not its classes "
                f"{list(self.class_names)}."
            )
        return (strings == self.positive_class).astype(np.int32)

    def class_of(self, pred_pos: Any) -> np.ndarray:
        """Class names (``object[N]``) of boolean positive-class predictions."""
        negative = self.class_names[0] if self.class_names[1] == self.positive_class else self.class_names[1]
        return np.where(np.asarray(pred_pos, bool), self.positive_class, negative).astype(object)


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"Continuous column {name!r} has {int(bad.sum())} missing, non-numeric or infinite values "
            f"(e.g. {series[bad].iloc[:3].tolist()}); fill or drop them first."
        )
    return values


def _check_complete(series: pd.Series, name: str) -> None:
    if series.isna().any():
        raise ValueError(f"Categorical column {name!r} has missing values; fill or drop them first.")


class Block(nnx.Module):
    """``Linear -> BatchNorm -> LeakyReLU -> Dropout`` (the reference's ``MLPEncoder`` layer)."""

    def __init__(self, d_in: int, d_out: int, *, negative_slope: float, dropout: float, rngs: nnx.Rngs):
        self.linear = nnx.Linear(d_in, d_out, rngs=rngs)
        self.norm = nnx.BatchNorm(d_out, momentum=0.9, epsilon=1e-5, rngs=rngs)  # torch momentum 0.1
        self.dropout = nnx.Dropout(dropout, rngs=rngs) if dropout > 0 else None
        self.negative_slope = negative_slope

    def __call__(self, x: jax.Array, mask: jax.Array | None) -> jax.Array:
        x = self.norm(self.linear(x), mask=None if mask is None else mask[:, None])
        x = jax.nn.leaky_relu(x, self.negative_slope)
        return x if self.dropout is None else self.dropout(x)


class MLPClassifier(nnx.Module):
    """MLP binary classifier (``training.protocols.BinaryClassifier``).

    The batch format is ``{"x": float32[N, width], "y": int32[N]}`` (``encode_frame``);
    ``classify`` needs only ``"x"``.

    Args:
      preprocessor: a fitted ``ClassifierPreprocessor`` (kept as a static attribute).
      hidden: widths of the hidden blocks.
      negative_slope: of the LeakyReLU.
      dropout: dropout rate of the blocks (the ``dropout`` RNG stream of ``rngs``).
      rngs: initialisation (and dropout).

    Example:
      >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": ["a", "b", "a", "b"]})
      >>> clf = MLPClassifier.from_frame(df, "y", hidden=(4,), rngs=nnx.Rngs(0))
      >>> batch = clf.encode_frame(df)
      >>> float(clf(batch)["loss"]) > 0, clf.classify(batch).prob_pos.shape
      (True, (4,))
    """

    def __init__(
        self,
        preprocessor: ClassifierPreprocessor,
        *,
        hidden: Sequence[int] = (512, 256),
        negative_slope: float = 0.1,
        dropout: float = 0.0,
        rngs: nnx.Rngs,
    ):
        if not hidden:
            raise ValueError("hidden must name at least one layer width, e.g. (512, 256).")
        self.preprocessor = preprocessor
        block = functools.partial(Block, negative_slope=negative_slope, dropout=dropout, rngs=rngs)
        widths = (preprocessor.width, *hidden)
        self.blocks = nnx.List([block(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)])
        self.head = nnx.Linear(hidden[-1], 2, rngs=rngs)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        label: str,
        *,
        cat: Sequence[str] | None = None,
        cts: Sequence[str] | None = None,
        positive_class: Any = None,
        **kwargs: Any,
    ) -> MLPClassifier:
        """Fit a ``ClassifierPreprocessor`` on ``df`` (the training split) and build the model on it."""
        pre = ClassifierPreprocessor.fit(df, label, cat=cat, cts=cts, positive_class=positive_class)
        return cls(pre, **kwargs)

    @property
    def spec(self) -> Any:
        """The label's ``BinaryClassSpec``."""
        return self.preprocessor.spec

    def encode_frame(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """A table as the model's batch format: ``{"x": float32[N, D], "y": int32[N]}``
        (``"y"`` only when the label column is present)."""
        batch = {"x": self.preprocessor.encode(df)}
        if self.preprocessor.label in df.columns:
            batch["y"] = self.preprocessor.labels(df[self.preprocessor.label])
        return batch

    def logits(self, x: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        """Class logits ``[N, 2]`` (column 1: the positive class)."""
        h = jnp.asarray(x, jnp.float32)
        for block in self.blocks:
            h = block(h, mask)
        return self.head(h)

    def __call__(self, batch: dict[str, jax.Array], *, mask: jax.Array | None = None) -> dict[str, jax.Array]:
        """The masked mean cross-entropy of ``batch["y"]``, and the batch accuracy."""
        y = jnp.asarray(batch["y"], jnp.int32)
        mask = jnp.ones(y.shape, bool) if mask is None else mask
        logits = self.logits(batch["x"], mask)
        ce = -jnp.take_along_axis(jax.nn.log_softmax(logits, axis=-1), y[:, None], axis=-1)[:, 0]
        w = mask.astype(ce.dtype)
        count = jnp.maximum(w.sum(), 1.0)
        correct = (jnp.argmax(logits, axis=-1) == y).astype(ce.dtype)
        return {"loss": (w * ce).sum() / count, "accuracy": (w * correct).sum() / count}

    def classify(self, batch: dict[str, jax.Array], *, threshold: float = 0.5) -> BinaryClassification:
        """``p(positive)`` and ``p >= threshold`` per row (jittable; call in eval mode)."""
        prob = jax.nn.softmax(self.logits(batch["x"]), axis=-1)[:, 1]
        return BinaryClassification(prob, prob >= threshold)
