r"""Utility: detection (can a classifier tell synthetic rows from real ones?) and
train-on-synthetic, test-on-real (TSTR), on the shared plan engine.

* ``DETECTION_AUC``: the mean ROC AUC, over stratified k folds, of a classifier telling real
  rows (label 1) from synthetic rows (0): 0.5 means indistinguishable, 1 means every synthetic
  row is spotted. Logistic regression (scikit-learn's ``LogisticRegression()`` objective: L2,
  ``C = 1``, solved to the optimum by Newton's method) on standardised continuous columns and
  one-hot categories, or the project's ``MLPClassifier`` (``classifier="MLP"``); the design
  matrix and the folds are built once and the k folds train in ONE vmapped program.
* ``LOGISTIC_DETECTION``: SDMetrics' score :math:`1 - \frac1k \sum_f (\max(\mathrm{AUC}_f, 0.5)
  \cdot 2 - 1)` (1 is best), and ``DETECTION_FOLD_AUCS`` the k AUCs.
* ``TSTR`` (and ``TSTR_ROC_AUC``, ``TSTR_F1``, ... one per binary-classification score): a
  classifier trained on the synthetic rows and one trained on the real rows predict ``target``
  on a real ``holdout``; ``{"synthetic": score, "real": score, "difference": synthetic - real}``
  with the scores of ``binary_classification`` (``TSTR`` reads its ``metric`` hyperparameter,
  ``ROC_AUC`` by default). The default classifier is the logistic regression (deterministic,
  exact); ``classifier="MLP"`` trains ``MLPClassifier`` (Adam, seeded by ``key``).

Differences from SDMetrics' ``LogisticDetection``: the folds are drawn from an explicit PRNG key
(SDMetrics' ``StratifiedKFold(shuffle=True)`` is unseeded, so its score varies from call to
call), the default is 5 folds (SDMetrics: 3), continuous columns are standardised by mean and
standard deviation over both tables (SDMetrics: ``RobustScaler`` per training fold, which also
shifts the one-hot columns) and missing values are imputed by the mean over both tables
(SDMetrics: the real table's mean). The scores agree within 0.02 (``tests/test_utility.py``).

Example:
  >>> import pandas as pd
  >>> from artifact_jax import TabularDataSpec, utility
  >>> real = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 5, "k": ["a", "b"] * 10})
  >>> spec = TabularDataSpec.from_df(real)
  >>> shifted = real.assign(x=real["x"] + 10.0)
  >>> utility.compute("DETECTION_AUC", real, shifted, spec)  # every synthetic row is spotted
  1.0
  >>> utility.compute("LOGISTIC_DETECTION", real, shifted, spec)
  0.0

A verbatim copy of the real table scores a ``DETECTION_AUC`` *below* 0.5 (each held-out row's
twin, with the other label, is among the training rows and pulls its score the wrong way);
``LOGISTIC_DETECTION`` clips each fold's AUC at 0.5, as SDMetrics does.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import jax
import numpy as np
import pandas as pd

from artifact_jax import plans
from artifact_jax.artifacts.registry import Registry, merged, register
from artifact_jax.artifacts.utility import (
    NUMERIC,
    TSTR_METRICS,
    UtilityContext,
    UtilityStatic,
    detection,
    train_on_synthetic,
)
from artifact_jax.encoding import Layout, encode_tables
from artifact_jax.plans import Encoded, Results
from artifact_jax.spec import TabularDataSpec, as_pandas, category_name, category_strings
from artifact_jax.table_comparison import export_synthetic

#: The built-in artifacts, ``kind -> NAME -> Artifact`` (read-only).
REGISTRY: Registry = merged(NUMERIC)


class UtilityScoreType(Enum):
    """Utility scores of a synthetic table."""

    DETECTION_AUC = "detection_auc"
    LOGISTIC_DETECTION = "logistic_detection"


class UtilityArrayType(Enum):
    """Utility arrays of a synthetic table."""

    DETECTION_FOLD_AUCS = "detection_fold_aucs"


#: Train on synthetic, test on real: ``TSTR`` (its ``metric``) and one collection per score.
UtilityScoreCollectionType = Enum(
    "UtilityScoreCollectionType", {"TSTR": "tstr", **{f"TSTR_{m}": f"tstr_{m.lower()}" for m in TSTR_METRICS}}
)
UtilityScoreCollectionType.__doc__ = "Train-on-synthetic scores: {synthetic, real, difference} per metric."


class UtilityArrayCollectionType(Enum):
    """Utility array collections (none yet)."""


UTILITY_ENUMS = {
    "scores": UtilityScoreType,
    "arrays": UtilityArrayType,
    "score_collections": UtilityScoreCollectionType,
    "array_collections": UtilityArrayCollectionType,
}


def _diagnose(encoded: Encoded) -> dict[str | None, str]:
    """What can make a result NaN: a holdout target of one class (no AUC), a table of one class."""
    labels = encoded.inputs[3] if len(encoded.inputs) > 3 else None
    if labels is None:
        return {}
    few = [f"the {name} target holds one class only" for name, y in labels.items() if len(np.unique(np.asarray(y))) < 2]
    return {None: "; ".join(few) + " (AUCs need both classes)"} if few else {}


TOOLKIT = plans.Toolkit(
    name="utility",
    registry=REGISTRY,
    enums=UTILITY_ENUMS,
    device_args=lambda static, real, synthetic, holdout, labels, key: (real, synthetic, holdout, labels, key, static),
    context=UtilityContext,
    static=lambda spec: UtilityStatic(Layout.from_spec(spec)),
    export=export_synthetic,
    diagnose=_diagnose,
)


#: The most design-matrix columns (continuous features + category slots) a plan accepts: each
#: Newton step of the logistic regression builds and factors a ``width x width`` matrix per fold
#: (2048: 33 MB each in float64), and the MLP writes the design out (``rows x width``).
MAX_WIDTH = 2048


def layout_width(layout: Layout) -> int:
    """Columns of the classifiers' design: one per continuous feature and per category slot."""
    return len(layout.cts_features) + sum(layout.n_categories)


def key_data(key: Any) -> np.ndarray:
    """``uint32[2]`` raw data of a PRNG key: a typed key (``jax.random.key``), a raw
    ``PRNGKey`` or an int seed; ``None`` is ``jax.random.key(0)`` (results are reproducible)."""
    key = plans.as_key(key)
    return np.asarray(jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else key)


def _classes(series: pd.Series) -> np.ndarray:
    """The target's values as class strings (``1.0`` and ``1`` are ``"1"``, as spec categories)."""
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return np.asarray(category_strings(series.to_numpy(dtype=np.float64)), dtype=object)
    return np.asarray([category_name(str(v)) for v in series.to_numpy(dtype=object)], dtype=object)


def target_labels(tables: dict[str, pd.DataFrame], target: str, positive_class: Any = None) -> tuple[dict[str, np.ndarray], str]:
    """``({table name: bool[N]}, positive class)``: the binary ``target`` of each table.

    Raises:
      ValueError: ``target`` has missing values, or not exactly two classes over the tables,
        or ``positive_class`` is not one of them.
    """
    strings = {}
    for name, df in tables.items():
        if df[target].isna().any():
            raise ValueError(f"target {target!r} has {int(df[target].isna().sum())} missing values in {name}; drop those rows first.")
        strings[name] = _classes(df[target])
    classes = sorted(set().union(*(set(s) for s in strings.values())))
    if len(classes) != 2:
        raise ValueError(
            f"target {target!r} must be binary: it holds {len(classes)} classes over "
            f"{', '.join(tables)} ({classes[:10]}); TSTR needs exactly 2."
        )
    positive = classes[-1] if positive_class is None else category_name(str(positive_class))
    if positive not in classes:
        raise ValueError(f"positive_class {positive_class!r} is not one of the classes {classes} of target {target!r}.")
    return {name: s == positive for name, s in strings.items()}, positive


class UtilityPlan(plans.Plan):
    """A declarative set of utility artifacts (``plans.Plan`` has the arguments).

    Example:
      >>> plan = UtilityPlan(scores=["DETECTION_AUC", "LOGISTIC_DETECTION"], score_collections=["TSTR_F1"])
      >>> res = plan.run(real, synthetic, spec, holdout=holdout, target="HeartDisease")  # doctest: +SKIP
      >>> res.score_collections["TSTR_F1"]  # doctest: +SKIP
      {'synthetic': 0.81, 'real': 0.86, 'difference': -0.05}
    """

    toolkit = TOOLKIT

    def run(
        self,
        real: pd.DataFrame,
        synthetic: pd.DataFrame,
        spec: TabularDataSpec,
        holdout: pd.DataFrame | None = None,
        target: str | None = None,
        key: Any = None,
        positive_class: Any = None,
        *,
        tracker: Any = None,
        split: str | None = None,
        step: int | None = None,
    ) -> Results:
        """Compute every artifact of the plan (and log them if ``tracker``).

        Args:
          real, synthetic: tables holding the spec's features.
          spec: the data spec (detection uses every feature; TSTR every feature but ``target``).
          holdout: real rows kept out of training (TSTR's test set), with the spec's features.
          target: TSTR's binary label, a feature of ``spec``.
          key: PRNG key (``jax.random.key``, raw ``PRNGKey`` or int seed; ``None``: seed 0) of
            the folds and the MLP's initialisation and shuffling.
          positive_class: TSTR's positive class (default: the last of the two, sorted as
            strings: ``1`` of ``0``/``1``).
          tracker, split, step: as ``TableComparisonPlan.run`` (the synthetic table is exported).

        Returns:
          ``Results``.
        """
        return self._run((real, synthetic, spec, holdout, target, key, positive_class), {}, tracker, split, step)

    def _uses(self, device: Any) -> list[plans.Entry]:
        return [e for e in self.entries if e.artifact.device is device]

    def encode(self, real: Any, synthetic: Any, spec: TabularDataSpec, holdout: Any = None, target: str | None = None,
               key: Any = None, positive_class: Any = None) -> Encoded:
        """The three tables encoded against one vocabulary, TSTR's labels and the key's data."""
        if not isinstance(spec, TabularDataSpec):
            raise ValueError(f"spec must be a TabularDataSpec, got {type(spec).__name__}.")
        real, synthetic = as_pandas(real, "real"), as_pandas(synthetic, "synthetic")
        tables = {"real": real, "synthetic": synthetic}
        tstr = [e.key for e in self._uses(train_on_synthetic)]
        if tstr:
            if holdout is None:
                raise ValueError(f"{tstr[0]} tests on real rows kept out of training: pass holdout= (a DataFrame).")
            if target is None:
                raise ValueError(f"{tstr[0]} predicts a binary column: pass target= (a feature of the spec).")
            holdout = as_pandas(holdout, "holdout")
            tables["holdout"] = holdout
        context = UtilityContext(spec, real, synthetic, holdout, target)
        if not any(e.artifact.device is not None for e in self.entries):
            return Encoded(None, (), context, synthetic)
        dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
        layout, encoded = encode_tables(list(tables.values()), spec, names=list(tables), dtype=dtype)
        for name, table in zip(tables, encoded, strict=True):
            empty = [f for f, none in zip(spec.cts_features, np.asarray(table.cts_missing).all(axis=0), strict=True) if none]
            if empty:
                raise ValueError(
                    f"{name} column {empty[0]!r} has no values (all {len(tables[name])} are missing): a classifier "
                    "cannot standardise it; drop it from the spec (or fill it) first."
                )
        width = layout_width(layout)
        if width > MAX_WIDTH:
            widest = max(zip(layout.n_categories, layout.cat_features, strict=True))
            raise ValueError(
                f"The classifiers' design has {width} columns (one per continuous feature and per category slot), "
                f"more than MAX_WIDTH={MAX_WIDTH} (the Newton step solves a width x width system per fold); "
                f"categorical column {widest[1]!r} alone has {widest[0]} slots: drop it (an id-like column) from the spec."
            )
        folds = max((int(e.hp.n_folds) for e in self._uses(detection)), default=0)
        for name in ("real", "synthetic"):
            if folds and len(tables[name]) < folds:
                raise ValueError(f"{name} has {len(tables[name])} rows: n_folds={folds} stratified folds need at least {folds}.")
        labels, where = None, None
        if tstr:
            if target not in spec.features:
                raise ValueError(f"target {target!r} is not a feature of the spec; its features are {list(spec.features)}.")
            if spec.n_features < 2:
                raise ValueError(f"target {target!r} is the spec's only feature: TSTR needs features to predict it from.")
            labels, _ = target_labels(tables, target, positive_class)
            where = ("cts", spec.cts_features.index(target)) if target in spec.cts_dtypes else ("cat", spec.cat_features.index(target))
        holdout_table = encoded[2] if tstr else None
        inputs = (encoded[0], encoded[1], holdout_table, labels, key_data(key))
        return Encoded(UtilityStatic(layout, where), inputs, context, synthetic)


def default_plan(*, tstr: bool = False, config: Any = None, registry: Registry | None = None) -> UtilityPlan:
    """Detection (``DETECTION_AUC``, ``LOGISTIC_DETECTION``, ``DETECTION_FOLD_AUCS``) and, with
    ``tstr``, every ``TSTR_<METRIC>`` collection (runs need ``holdout=`` and ``target=``)."""
    collections = [m.name for m in UtilityScoreCollectionType if m.name != "TSTR"] if tstr else []
    return UtilityPlan(scores=[m.name for m in UtilityScoreType], arrays=[m.name for m in UtilityArrayType],
                       score_collections=collections, config=config, registry=registry)


def compute(
    name: str | Enum,
    real: Any,
    synthetic: Any,
    spec: TabularDataSpec,
    *,
    holdout: Any = None,
    target: str | None = None,
    key: Any = None,
    positive_class: Any = None,
    kind: str | None = None,
    config: Any = None,
    registry: Registry | None = None,
    **overrides: Any,
) -> Any:
    """One utility artifact by name, enum member or custom key (``plans.Plan.compute``).

    Keyword ``overrides`` set hyperparameters (``n_folds=3``, ``classifier="MLP"``, ``c=0.5``).

    Example:
      >>> compute("DETECTION_AUC", real, synthetic, spec, n_folds=5)  # doctest: +SKIP
      >>> compute("TSTR", real, synthetic, spec, holdout=holdout, target="HeartDisease")  # doctest: +SKIP
      {'synthetic': 0.89, 'real': 0.93, 'difference': -0.04}
    """
    return UtilityPlan.compute(name, real, synthetic, spec, holdout, target, key, positive_class,
                               kind=kind, config=config, registry=registry, **overrides)


__all__ = [
    "REGISTRY",
    "TSTR_METRICS",
    "UTILITY_ENUMS",
    "UtilityArrayCollectionType",
    "UtilityArrayType",
    "MAX_WIDTH",
    "UtilityPlan",
    "UtilityScoreCollectionType",
    "UtilityScoreType",
    "compute",
    "default_plan",
    "key_data",
    "layout_width",
    "register",
    "target_labels",
]
