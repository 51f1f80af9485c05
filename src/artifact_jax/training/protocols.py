r"""What the trainer asks of a model: typed ``Protocol``s over ``flax.nnx.Module``s.

A trainable model maps a batch (a pytree of arrays with a leading row axis) and a
row mask to a dict of outputs holding at least ``"loss"``:

.. math:: \mathcal{L}(\theta; B, m) = \frac{\sum_i m_i\, \ell_i(\theta)}{\sum_i m_i}

The mask ``m`` (bool ``[B]``) is how the trainer keeps shapes static: the last,
partial batch of an epoch is padded to the batch size and its padding rows have
``m_i = False``. A model must ignore them completely -- in the loss and in any batch
statistic (pass ``mask=mask[:, None]`` to ``nnx.BatchNorm``) -- so that training with
padding equals training on the ragged batch (``drop_last=False`` is exact).

Domain models add one method each, as in artifact-torch: a ``TableSynthesizer``
generates a DataFrame (and, for the fast path, device arrays), a ``BinaryClassifier``
classifies. Their keyword parameters are frozen dataclasses (``GenerationParams``,
``ClassificationParams``) passed as ``**dataclasses.asdict(params)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import jax
import pandas as pd
from flax import nnx

Batch = Any  # a pytree of arrays, every leaf with the same leading (row) axis


@runtime_checkable
class Model(Protocol):
    """An ``nnx.Module`` the trainer can fit: ``model(batch, mask=mask) -> {"loss": ...}``.

    ``outputs["loss"]`` is a scalar averaged over the rows where ``mask`` is True.
    Other scalar outputs (e.g. ``"kl"``) are available to device hooks as ``info.outputs``.
    Randomness (dropout, reparameterisation noise) comes from an ``nnx.Rngs`` held by the
    model, so it is part of the model state and is checkpointed with it.
    """

    def __call__(self, batch: Batch, *, mask: jax.Array) -> dict[str, jax.Array]: ...


@dataclass(frozen=True)
class GenerationParams:
    """Keyword parameters of ``TableSynthesizer.generate`` (the reference's ``GenerationParams``).

    Attributes:
      temperature: softmax temperature of categorical sampling, ``softmax(logits / T)``.
    """

    temperature: float = 1.0


@dataclass(frozen=True)
class ClassificationParams:
    """Keyword parameters of ``BinaryClassifier.classify``.

    Attributes:
      threshold: a row is predicted positive iff ``p(positive) >= threshold``.
    """

    threshold: float = 0.5


@runtime_checkable
class TableSynthesizer(Model, Protocol):
    """A model that synthesises table rows.

    ``generate`` returns a DataFrame in the training table's columns and dtypes (host).
    ``sample`` is its jittable core: device arrays in the layout of
    ``artifact_jax.encoding.EncodedTable`` (the spec's feature order and vocabulary), so
    that a plan can score them without a pandas round trip; ``to_frame`` turns such a
    table into the DataFrame ``generate`` would return. ``routines.TableComparison`` uses
    ``sample``/``to_frame`` when a model has them and ``generate`` otherwise; its own
    ``generate=`` option has this same signature with the model first,
    ``fn(model, n_records, *, rngs, **params)`` (so ``generate=MyModel.generate`` works).
    """

    def generate(self, n_records: int, *, rngs: nnx.Rngs, **params: Any) -> pd.DataFrame: ...

    def sample(self, n_records: int, *, key: jax.Array, **params: Any) -> Any: ...

    def to_frame(self, table: Any) -> pd.DataFrame: ...


class BinaryClassification(NamedTuple):
    """Output of ``BinaryClassifier.classify``.

    Attributes:
      prob_pos: ``[N]`` probability of the positive class.
      pred_pos: ``[N]`` bool, ``prob_pos >= threshold``.
    """

    prob_pos: jax.Array
    pred_pos: jax.Array


@runtime_checkable
class BinaryClassifier(Model, Protocol):
    """A model that scores rows for a binary label (the reference's ``BinaryClassifier``)."""

    def classify(self, batch: Batch, **params: Any) -> BinaryClassification: ...
