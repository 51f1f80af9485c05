"""Binary classification: validate a classifier's predictions, by name or by a declarative plan.

``true``, ``predicted`` (class names) and the optional ``probs_pos`` (probabilities of the
positive class) may be pandas Series aligned by index, ``{id: value}`` mappings or 1-D arrays
(``artifacts.binary_inputs`` has the rules). A plan aligns them once, runs ONE jitted program
for all its numeric artifacts (float64, for parity with artifact-core 0.2.1) and builds the
figures on the host. Hyperparameters default to the reference's; ``.artifact-ml/
binary_classification.json`` and ``config=`` override them.

Deliberate difference from the reference: the ``ROC_AUC`` and ``PR_AUC`` *scores* are computed
on ``probs_pos`` (the reference passes hard labels, spec section 7 bug 1), so they equal the
reference's ``THRESHOLD_VARIATION_SCORES``.

Example:
  >>> from artifact_jax import binary_classification as bc
  >>> spec = bc.BinaryClassSpec(["0", "1"], positive_class="1")
  >>> round(bc.compute("ROC_AUC", [1, 0, 1, 0], [1, 0, 0, 0], [0.9, 0.2, 0.25, 0.3], spec), 3)
  0.75
  >>> plan = bc.BinaryClassificationPlan(scores=["ACCURACY", "ROC_AUC"],
  ...                                    score_collections=["THRESHOLD_VARIATION_SCORES"])
  >>> res = plan.run([1, 0, 1, 0], [1, 0, 0, 0], [0.9, 0.2, 0.25, 0.3], spec)
  >>> res.scores
  {'ACCURACY': 0.75, 'ROC_AUC': 0.75}
"""

from __future__ import annotations

import json
from typing import Any

import jax
import numpy as np

from artifact_jax import plans
from artifact_jax.artifacts import binary_inputs
from artifact_jax.artifacts.binary_classification import NUMERIC, BinaryContext, summarize
from artifact_jax.artifacts.binary_inputs import BinaryInputs
from artifact_jax.artifacts.binary_plots import PLOTS
from artifact_jax.artifacts.binary_types import (
    BINARY_CLASSIFICATION_ENUMS,
    BinaryClassificationArrayCollectionType,
    BinaryClassificationArrayType,
    BinaryClassificationPlotCollectionType,
    BinaryClassificationPlotType,
    BinaryClassificationScoreCollectionType,
    BinaryClassificationScoreType,
    BinaryPredictionMetric,
    BinarySampleSplit,
    ConfusionMatrixNormalizationStrategy,
    DescriptiveStatistic,
    ThresholdVariationCurveType,
    ThresholdVariationMetric,
)
from artifact_jax.artifacts.registry import Registry, merged, register
from artifact_jax.plans import Encoded, Results
from artifact_jax.spec import BinaryClassSpec
from artifact_jax.tracking.results import qualify

#: Smallest padded length; inputs are padded up to a power of two so sizes share programs.
MIN_BUCKET = 128


#: The built-in artifacts, ``kind -> NAME -> Artifact`` (read-only).
REGISTRY: Registry = merged(NUMERIC, PLOTS)


def _export(exported: tuple[Any, BinaryInputs, BinaryClassSpec], split: str | None) -> tuple[str, bytes, str]:
    # the reference's export: {id: {"true", "predicted", "prob_pos"}} as JSON
    data = json.dumps(binary_inputs.serialize(*exported), indent=4).encode()
    return qualify("CLASSIFICATION_RESULTS", split), data, "classification_results.json"


def _diagnose(encoded: Encoded) -> dict[str | None, str]:
    """What can make a result NaN: a class with fewer than two rows in ``true`` (no AUC without
    both classes, no spread of one score)."""
    ctx = encoded.context
    if ctx.inputs is None:
        return {}
    y_true = np.asarray(ctx.inputs.y_true, bool)
    counts = {ctx.spec.positive_class: int(y_true.sum()), ctx.spec.negative_class: int((~y_true).sum())}
    few = [f"true has {n} row(s) of class {name!r}" for name, n in counts.items() if n < 2]
    return {None: "; ".join(few) + " (AUCs need both classes, spreads two scores)"} if few else {}


TOOLKIT = plans.Toolkit(
    name="binary_classification",
    registry=REGISTRY,
    enums=BINARY_CLASSIFICATION_ENUMS,
    device_args=lambda static, x: (summarize(x),),  # every device part reads the one summary
    context=BinaryContext,
    static=lambda spec: None,
    export=_export,
    diagnose=_diagnose,
)


def bucket(n: int) -> int:
    """The padded length of ``n`` rows: the next power of two, at least ``MIN_BUCKET``."""
    return max(MIN_BUCKET, 1 << (max(n, 1) - 1).bit_length())


class BinaryClassificationPlan(plans.Plan):
    """A declarative set of binary-classification artifacts (``plans.Plan`` has the arguments).

    Each kind reads its own section of ``config`` (the reference's score registry reads the
    ``score_collections`` section, spec section 7 bug 3; its scores have no hyperparameters,
    so only custom scores could notice). With a tracker and ``export``, the aligned inputs are
    also logged as ``CLASSIFICATION_RESULTS[_SPLIT]`` JSON (``{id: {"true", "predicted",
    "prob_pos"}}``, the reference's export). ``compile()`` gives the jitted program over
    ``BinaryInputs``.

    Example:
      >>> plan = BinaryClassificationPlan(scores=["F1"], arrays=["CONFUSION_MATRIX"])
      >>> res = plan.run(["1", "0", "1"], ["1", "1", "1"], None, BinaryClassSpec(["0", "1"], "1"))
      >>> res.scores["F1"], res.arrays["CONFUSION_MATRIX"].tolist()
      (0.8, [[2.0, 0.0], [1.0, 0.0]])
    """

    toolkit = TOOLKIT

    def run(
        self,
        true: Any,
        predicted: Any,
        probs_pos: Any = None,
        spec: BinaryClassSpec | None = None,
        *,
        tracker: Any = None,
        split: str | None = None,
        step: int | None = None,
        pad_to: int | str | None = "bucket",
        bootstrap: int | None = None,
        key: Any = None,
        level: float = 0.95,
    ) -> Results:
        """Compute every artifact of the plan (and log them if ``tracker``).

        Args:
          true, predicted: class names per id (Series, mapping or 1-D array).
          probs_pos: probabilities of the positive class per id, or ``None`` (one-hot on the
            predicted class, the reference's rule).
          spec: the class names and the positive class.
          tracker: optional tracker; results are logged as ``NAME`` or ``NAME_SPLIT``, the
            plan's hyperparameters once per tracker, and (``export``) the inputs as JSON.
          split: e.g. ``"VALIDATION"``; suffixes the logged names.
          step: the step (epoch) the logged records belong to.
          pad_to: ``"bucket"`` (default) pads to the next power of two so that other sizes
            reuse the compiled program; an int pads to that length; ``None`` does not pad.
          bootstrap: a number of replicates: ``res.intervals`` gets a percentile interval of
            every numeric result, the rows of ``(true, predicted, probs_pos)`` resampled
            together, from ONE program over the replicates (``Plan.replicate``).
          key: the resamples' seed (``jax.random.key``, or an int; default 0).
          level: the intervals' coverage, in (0, 1).

        Returns:
          ``Results``.
        """
        boot = plans.bootstrap_options(bootstrap, key, level)
        return self._run((true, predicted, probs_pos, spec), {"pad_to": pad_to}, tracker, split, step, boot)

    def encode(
        self, true: Any, predicted: Any, probs_pos: Any, spec: BinaryClassSpec, *, pad_to: int | str | None = "bucket"
    ) -> Encoded:
        """Align and validate the inputs; the program's input is padded per ``pad_to``."""
        if not isinstance(spec, BinaryClassSpec):
            raise ValueError(f"spec must be a BinaryClassSpec, got {type(spec).__name__}.")
        ids, y_true, y_pred, prob = binary_inputs.align(true, predicted, probs_pos, spec)
        dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
        x = BinaryInputs(y_true, y_pred, prob.astype(dtype), np.ones(len(y_true), bool))
        size = bucket(len(y_true)) if pad_to == "bucket" else pad_to
        return Encoded(None, (binary_inputs.pad(x, size),), BinaryContext(spec, x, ids), (ids, x, spec))


def default_plan(*, plots: bool = True, config: Any = None, registry: Registry | None = None) -> BinaryClassificationPlan:
    """Every numeric artifact, and with ``plots`` the ROC, PR, confusion and score-PDF figures."""
    plot_names = ["CONFUSION_MATRIX_PLOT", "ROC_CURVE", "PR_CURVE", "SCORE_PDF"] if plots else []
    return BinaryClassificationPlan.numeric(plots=plot_names, config=config, registry=registry)


#: ``compute(name, true, predicted, probs_pos, spec, *, kind=None, config=None, registry=None, **overrides)``:
#: one artifact by name, enum member or custom key (``plans.Plan.compute``).
compute = BinaryClassificationPlan.compute


__all__ = [
    "REGISTRY",
    "BinaryClassSpec",
    "BinaryClassificationArrayCollectionType",
    "BinaryClassificationArrayType",
    "BinaryClassificationPlan",
    "BinaryClassificationPlotCollectionType",
    "BinaryClassificationPlotType",
    "BinaryClassificationScoreCollectionType",
    "BinaryClassificationScoreType",
    "BinaryInputs",
    "BinaryPredictionMetric",
    "BinarySampleSplit",
    "ConfusionMatrixNormalizationStrategy",
    "DescriptiveStatistic",
    "ThresholdVariationCurveType",
    "ThresholdVariationMetric",
    "bucket",
    "compute",
    "default_plan",
    "register",
]
