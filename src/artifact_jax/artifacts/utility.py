r"""The utility artifacts: can a classifier tell real from synthetic rows, and does a model
trained on synthetic rows predict real ones as well as one trained on real rows?

Device parts (one jitted program per plan, float64):

* ``detection``: real rows labelled 1 and synthetic rows 0, one design matrix (continuous
  columns standardised over both tables, missing values at the mean, every category one-hot),
  stratified folds drawn from the plan's PRNG key, and the k folds' classifiers (logistic
  regression by Newton's method, or the project's ``MLPClassifier``) trained in ONE ``vmap``;
  out: each fold's ROC AUC on its held-out rows.
* ``train_on_synthetic``: the target's labels, the other features' design matrices (each
  standardised on its training table), one classifier trained on the synthetic rows and one on
  the real rows (in ONE ``vmap``), both scored on the holdout by the binary-classification
  kernels (``kernels.classification``, as ``binary_classification``'s artifacts): every
  prediction metric, ROC AUC and PR AUC, for each.

Host parts read those numbers: ``DETECTION_AUC`` (mean fold AUC), ``LOGISTIC_DETECTION``
(SDMetrics' :math:`1 - \overline{(\max(\mathrm{AUC}_f, 1/2) \cdot 2 - 1)}`), the per-fold
``DETECTION_FOLD_AUCS``, and ``TSTR`` / ``TSTR_<METRIC>``: ``{"synthetic", "real",
"difference"}`` with ``difference = synthetic - real`` (negative: the synthetic data lost
utility).

References:
  SDMetrics 0.32 ``single_table.detection`` (``LogisticDetection``, ``DetectionMetric``);
  Esteban, Hyland & Rätsch (2017), *Real-valued (medical) time series generation with
  recurrent conditional GANs* (train on synthetic, test on real).
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from artifact_jax.artifacts.config import check_choice
from artifact_jax.artifacts.registry import Artifact, reads_hyperparams
from artifact_jax.kernels import classification
from artifact_jax.kernels import logistic as lg

CLASSIFIERS = ("LOGISTIC", "MLP")
#: The binary-classification scores reported for both training sources.
TSTR_METRICS = ("ROC_AUC", "PR_AUC", *classification.PREDICTION_METRICS)


class UtilityStatic(NamedTuple):
    """The static layout of a utility plan's inputs (hashable; a ``jit`` static argument).

    Attributes:
      layout: the ``encoding.Layout`` of the three tables.
      target: ``("cts" | "cat", column index)`` of the target in the encoded tables, or ``None``.
    """

    layout: Any
    target: tuple[str, int] | None = None


class UtilityContext(NamedTuple):
    """What a utility host part may read besides the device numbers."""

    spec: Any
    real: Any = None
    synthetic: Any = None
    holdout: Any = None
    target: str | None = None

    @property
    def args(self) -> tuple | None:
        """A custom artifact's inputs, ``(real, synthetic)`` (``None`` without DataFrames)."""
        return None if self.real is None else (self.real, self.synthetic)


@dataclasses.dataclass(frozen=True)
class ClassifierHyperparams:
    """The classifier of a detection or train-on-synthetic artifact.

    Attributes:
      classifier: ``"LOGISTIC"`` (L2-regularised logistic regression, scikit-learn's
        ``LogisticRegression()`` objective, solved exactly by Newton's method) or ``"MLP"``
        (the project's ``MLPClassifier``, Adam).
      c: the logistic regression's inverse regularisation strength (``C``).
      max_iter: the logistic regression's most Newton steps.
      hidden: the MLP's hidden widths.
      epochs, batch_size, learning_rate: the MLP's training (Adam, shuffled mini-batches).
    """

    classifier: str = "LOGISTIC"
    c: float = 1.0
    max_iter: int = 100
    hidden: tuple[int, ...] = (512, 256)
    epochs: int = 20
    batch_size: int = 512
    learning_rate: float = 1e-3

    def __post_init__(self):
        object.__setattr__(self, "classifier", check_choice("classifier", str(self.classifier).upper(), CLASSIFIERS))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        for name in ("max_iter", "epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r} must be a positive integer.")
        for name in ("c", "learning_rate"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r} must be positive.")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden={self.hidden!r} must list positive layer widths, e.g. (512, 256).")


@dataclasses.dataclass(frozen=True)
class DetectionHyperparams(ClassifierHyperparams):
    """``ClassifierHyperparams`` plus ``n_folds``, the number of stratified folds (>= 2)."""

    n_folds: int = 5

    def __post_init__(self):
        super().__post_init__()
        if int(self.n_folds) < 2:
            raise ValueError(f"n_folds={self.n_folds!r} must be at least 2.")


@dataclasses.dataclass(frozen=True)
class TstrHyperparams(ClassifierHyperparams):
    """``ClassifierHyperparams`` plus ``metric``, the binary-classification score of ``TSTR``."""

    metric: str = "ROC_AUC"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "metric", check_choice("metric", str(self.metric).upper(), TSTR_METRICS))


# ---- classifiers (device) ---------------------------------------------------------------------
def mlp_probabilities(
    key: jax.Array, x: jax.Array, y: jax.Array, w: jax.Array, x_test: jax.Array, hp: ClassifierHyperparams
) -> jax.Array:
    r"""Train the project's ``MLPClassifier`` on the rows of ``x`` with ``w > 0``; ``p(1)`` of ``x_test``.

    Adam (``hp.learning_rate``) on the masked mean cross-entropy, ``hp.epochs`` passes over a
    fresh permutation of the rows in batches of ``hp.batch_size`` (rows with ``w = 0`` are masked
    out of the loss and of BatchNorm's statistics). Pure and jit/vmap-safe: the model is built
    from ``key`` inside the trace and carried as ``nnx.split`` state through ``lax.scan``.

    Args:
      key: PRNG key (initialisation and shuffling).
      x: ``[N, D]`` training design matrix; y: ``[N]`` labels in ``{0, 1}``; w: ``[N]`` weights.
      x_test: ``[M, D]`` rows to score.
      hp: the MLP's hyperparameters.

    Returns:
      ``[M]`` probabilities of class 1, in the dtype of ``x``.
    """
    import optax
    from flax import nnx

    from artifact_jax.models.mlp_classifier import ClassifierPreprocessor, MLPClassifier

    n, d = x.shape
    names = tuple(f"x{i}" for i in range(d))  # the design matrix is already standardised
    pre = ClassifierPreprocessor(names, (0.0,) * d, (1.0,) * d, (), (), "y", ("0", "1"), "1")
    init_key, shuffle_key = jax.random.split(key)
    model = MLPClassifier(pre, hidden=hp.hidden, rngs=nnx.Rngs(init_key))
    graph, params, rest = nnx.split(model, nnx.Param, ...)
    tx = optax.adam(hp.learning_rate)
    batch = min(hp.batch_size, n)
    n_batches = -(-n // batch)
    xs, ys, keep = x.astype(jnp.float32), y.astype(jnp.int32), w > 0

    def loss_fn(p, r, idx, ok):
        m = nnx.merge(graph, p, r, copy=True)
        out = m({"x": xs[idx], "y": ys[idx]}, mask=ok)
        return out["loss"], nnx.state(m, nnx.BatchStat)

    def step(carry, idx):
        p, r, opt = carry
        ok = keep[jnp.clip(idx, 0, n - 1)] & (idx < n)
        (_, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, r, jnp.clip(idx, 0, n - 1), ok)
        updates, opt = tx.update(grads, opt, p)
        # a batch without training rows leaves the statistics as they were
        r = jax.tree.map(lambda new, old: jnp.where(ok.any(), new, old), stats, r) if jax.tree.leaves(stats) else r
        return (optax.apply_updates(p, updates), r, opt), None

    def epoch(carry, k):
        order = jnp.pad(jax.random.permutation(k, n), (0, n_batches * batch - n), constant_values=n)  # n: padding
        return jax.lax.scan(step, carry, order.reshape(n_batches, batch))

    (params, rest, _), _ = jax.lax.scan(epoch, (params, rest, tx.init(params)), jax.random.split(shuffle_key, hp.epochs))
    trained = nnx.merge(graph, params, rest, copy=True)
    trained.eval()
    return jax.nn.softmax(trained.logits(x_test), axis=-1)[:, 1].astype(x.dtype)


def probabilities(
    key: jax.Array, x: lg.Design, y: jax.Array, w: jax.Array, x_test: lg.Design, n_hot: int, hp: ClassifierHyperparams
) -> jax.Array:
    """``[M]`` ``p(1)`` of ``x_test`` by ``hp.classifier`` trained on ``(x, y)`` weighted by ``w``
    (factored designs with ``n_hot`` one-hot columns; the MLP gets them written out)."""
    if hp.classifier == "MLP":
        return mlp_probabilities(key, lg.dense(x, n_hot), y, w, lg.dense(x_test, n_hot), hp)
    dtype = x.dense.dtype
    fit = lg.fit_logistic(x, y.astype(dtype), w.astype(dtype), n_hot=n_hot, c=hp.c, max_iter=hp.max_iter)
    return lg.predict_proba(fit, x_test)


# ---- device parts -----------------------------------------------------------------------------
def _cat(a: Any, b: Any) -> Any:
    return jax.tree.map(lambda u, v: jnp.concatenate([u, v], axis=0), a, b)


def detection_design(real: Any, synthetic: Any, key: jax.Array, layout: Any, n_folds: int) -> tuple[Any, ...]:
    r"""The detection problem, built once: ``(x, y [N+M] bool, folds [N+M], fit_key)``.

    ``x`` is the factored ``kernels.logistic.design`` of both tables' rows (standardised over the
    valid rows of both; ``sum(layout.n_categories)`` one-hot columns), ``y`` is True on the real
    rows, ``folds`` are ``stratified_folds`` (``-1`` on padding) from the first half of ``key``
    (raw ``uint32[2]``); ``fit_key`` seeds the classifiers.
    """
    both = _cat(real, synthetic)
    y = jnp.concatenate([jnp.ones(real.valid.shape, bool), jnp.zeros(synthetic.valid.shape, bool)])
    mean, scale = lg.standardizer(both.cts, both.cts_missing, both.valid)
    x = lg.design(both.cts, both.cts_missing, both.cat, mean, scale, layout.n_categories)
    fold_key, fit_key = jax.random.split(jax.random.wrap_key_data(key))
    return x, y, lg.stratified_folds(fold_key, y, both.valid, n_folds), fit_key


@reads_hyperparams(DetectionHyperparams)
def detection(real: Any, synthetic: Any, holdout: Any, labels: Any, key: jax.Array, static: UtilityStatic,
              hp: DetectionHyperparams) -> dict[str, jax.Array]:
    r"""``{"AUC": [k]}``: each fold's ROC AUC at telling real rows (1) from synthetic rows (0).

    The design matrix and the stratified folds (``detection_design``) are built once; the k
    classifiers train in one ``vmap`` over the folds, each on every other fold.
    """
    del holdout, labels
    k = int(hp.n_folds)
    x, y, folds, fit_key = detection_design(real, synthetic, key, static.layout, k)
    n_hot = sum(static.layout.n_categories)

    def one(f, key):
        train = ((folds != f) & (folds >= 0)).astype(x.dense.dtype)
        return lg.masked_roc_auc(probabilities(key, x, y, train, x, n_hot, hp), y, folds == f)

    return {"AUC": jax.vmap(one)(jnp.arange(k, dtype=folds.dtype), jax.random.split(fit_key, k))}


def _features(table: Any, static: UtilityStatic) -> tuple[jax.Array, jax.Array, jax.Array, tuple[int, ...]]:
    """``table``'s continuous columns, their mask, its codes and code slots, without the target."""
    kind, index = static.target
    cts, missing, cat, slots = table.cts, table.cts_missing, table.cat, static.layout.n_categories
    if kind == "cts":
        keep = np.delete(np.arange(cts.shape[1]), index)
        cts, missing = cts[:, keep], missing[:, keep]
    else:
        keep = np.delete(np.arange(cat.shape[1]), index)
        cat, slots = cat[:, keep], tuple(s for j, s in enumerate(slots) if j != index)
    return cts, missing, cat, slots


@reads_hyperparams(ClassifierHyperparams)
def train_on_synthetic(real: Any, synthetic: Any, holdout: Any, labels: Any, key: jax.Array, static: UtilityStatic,
                       hp: ClassifierHyperparams) -> dict[str, dict[str, jax.Array]]:
    r"""``{"synthetic": {metric: value}, "real": {...}}``: a classifier trained on each table,
    scored on the holdout (``TSTR_METRICS``; hard predictions at :math:`p \ge 1/2`).

    Each training table's design matrix is standardised on that table's valid rows; the holdout
    is encoded with the same statistics. The two tables are padded to one length (weight 0) and
    both classifiers train in one ``vmap``.
    """
    n = max(real.valid.shape[0], synthetic.valid.shape[0])
    h_cts, h_missing, h_cat, slots = _features(holdout, static)
    n_hot = sum(slots)

    def source(table, y):
        cts, missing, cat, _ = _features(table, static)
        mean, scale = lg.standardizer(cts, missing, table.valid)
        x = lg.design(cts, missing, cat, mean, scale, slots)
        x_test = lg.design(h_cts, h_missing, h_cat, mean, scale, slots)
        pad = lambda a: jnp.pad(a, ((0, n - a.shape[0]),) + ((0, 0),) * (a.ndim - 1))  # weight-0 rows
        return jax.tree.map(pad, x), pad(y), pad(table.valid), x_test

    parts = [source(synthetic, labels["synthetic"]), source(real, labels["real"])]
    x, y, w, x_test = jax.tree.map(lambda *a: jnp.stack(a), *parts)
    keys = jax.random.split(jax.random.wrap_key_data(key), 2)
    fit = lambda k, x, y, w, xt: probabilities(k, x, y, w.astype(x.dense.dtype), xt, n_hot, hp)
    prob = jax.vmap(fit)(keys, x, y, w, x_test)
    y_true = labels["holdout"]

    def scores(p):  # the pieces of binary_classification.summarize that TSTR reports
        cm = classification.confusion_matrix(y_true, p >= 0.5, holdout.valid, p.dtype)
        sweep = classification.threshold_sweep(classification.rank(p, y_true, holdout.valid))
        aucs = {"ROC_AUC": classification.roc_auc(sweep), "PR_AUC": classification.average_precision(sweep)}
        return {**classification.prediction_metrics(cm), **aucs}

    out = jax.vmap(scores)(prob)
    return {"synthetic": jax.tree.map(lambda a: a[0], out), "real": jax.tree.map(lambda a: a[1], out)}


# ---- host parts -------------------------------------------------------------------------------
def _aucs(numbers: Any) -> np.ndarray:
    return np.asarray(numbers["AUC"], np.float64)


def _detection_auc(numbers: Any, hp: DetectionHyperparams, ctx: UtilityContext) -> float:
    return float(np.mean(_aucs(numbers)))


def _logistic_detection(numbers: Any, hp: DetectionHyperparams, ctx: UtilityContext) -> float:
    return float(1.0 - np.mean(np.maximum(_aucs(numbers), 0.5) * 2.0 - 1.0))


def _fold_aucs(numbers: Any, hp: DetectionHyperparams, ctx: UtilityContext) -> np.ndarray:
    return _aucs(numbers).copy()


def _tstr(metric: str | None) -> Artifact:
    """``{"synthetic", "real", "difference"}`` of one metric (``None``: ``hp.metric``)."""

    def host(numbers: Any, hp: TstrHyperparams, ctx: UtilityContext) -> dict[str, float]:
        name = metric or hp.metric
        syn, real = float(np.asarray(numbers["synthetic"][name], np.float64)), float(np.asarray(numbers["real"][name], np.float64))
        return {"synthetic": syn, "real": real, "difference": syn - real}

    return Artifact(host, TstrHyperparams if metric is None else ClassifierHyperparams, train_on_synthetic)


NUMERIC = MappingProxyType({
    "scores": MappingProxyType({
        "DETECTION_AUC": Artifact(_detection_auc, DetectionHyperparams, detection),
        "LOGISTIC_DETECTION": Artifact(_logistic_detection, DetectionHyperparams, detection),
    }),
    "arrays": MappingProxyType({"DETECTION_FOLD_AUCS": Artifact(_fold_aucs, DetectionHyperparams, detection)}),
    "score_collections": MappingProxyType({
        "TSTR": _tstr(None),
        **{f"TSTR_{m}": _tstr(m) for m in TSTR_METRICS},
    }),
})  # fmt: skip
