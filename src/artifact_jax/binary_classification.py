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

import dataclasses
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jax
import numpy as np

from artifact_jax.artifacts import binary_inputs
from artifact_jax.artifacts.binary_classification import NUMERIC, BinaryContext, summarize
from artifact_jax.artifacts.binary_inputs import BinaryInputs
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
from artifact_jax.artifacts.config import load_config
from artifact_jax.artifacts.registry import (
    KINDS,
    Artifact,
    Entry,
    NoHyperparams,
    Registry,
    entries_params,
    plan_entries,
    resolve,
    with_artifact,
)
from artifact_jax.plans import Results
from artifact_jax.spec import BinaryClassSpec

TOOLKIT = "binary_classification"
#: Smallest padded length; inputs are padded up to a power of two so sizes share programs.
MIN_BUCKET = 128


def _build_registry() -> Registry:
    from artifact_jax.plots.binary_classification import PLOTS

    sections: dict[str, dict[str, Any]] = {k: dict(NUMERIC.get(k, {})) for k in KINDS}
    for kind, entries in PLOTS.items():
        sections[kind].update(entries)
    return MappingProxyType({k: MappingProxyType(v) for k, v in sections.items()})


#: The built-in artifacts, ``kind -> NAME -> Artifact`` (read-only).
REGISTRY: Registry = _build_registry()

#: The built-in device parts: functions of the summary that ignore the hyperparameters.
HYPERPARAMS_FREE = frozenset(a.device for kind in REGISTRY.values() for a in kind.values() if a.device)


@functools.partial(jax.jit, static_argnums=0)
def _run(parts: tuple[tuple[Callable[..., Any], Any], ...], x: BinaryInputs) -> tuple[Any, ...]:
    """One compiled program per set of device parts and input shape (jit's own cache)."""
    s = summarize(x)
    return tuple(device(s, hp) for device, hp in parts)


_ENUM_KINDS = {enum: kind for kind, enum in BINARY_CLASSIFICATION_ENUMS.items()}


def register(
    registry: Registry,
    name: str,
    fn: Callable[..., Any],
    *,
    kind: str = "scores",
    hyperparams: type | None = None,
) -> Registry:
    """A copy of ``registry`` with a host-only artifact ``fn(y_true, y_pred, prob_pos, spec, **hp)``.

    Args:
      registry: the registry to extend (not modified), e.g. ``REGISTRY``.
      name: the artifact's key, e.g. ``"CUSTOM_SCORE"``.
      fn: computes the result from the aligned numpy arrays (``y_true`` and ``y_pred`` bool,
        ``prob_pos`` float, as ``artifacts.binary_inputs.align`` returns them), the spec and
        the hyperparameters.
      kind: one of ``KINDS``.
      hyperparams: optional frozen dataclass; its fields become ``fn``'s keyword arguments.

    Returns:
      The extended registry.

    Example:
      >>> reg = register(REGISTRY, "N_ROWS", lambda t, p, q, spec: float(len(t)))
      >>> compute("N_ROWS", [1, 0], [1, 1], None, BinaryClassSpec(["0", "1"], "1"), registry=reg)
      2.0
    """
    def host(numbers: Any, hp: Any, ctx: BinaryContext) -> Any:
        del numbers
        if ctx.inputs is None:
            raise ValueError(f"Custom artifact {name!r} needs the inputs; run the plan with run(), not on device.")
        x = ctx.inputs
        return fn(x.y_true, x.y_pred, x.prob_pos, ctx.spec, **dataclasses.asdict(hp))

    return with_artifact(registry, kind, name, Artifact(host, hyperparams or NoHyperparams))


def bucket(n: int) -> int:
    """The padded length of ``n`` rows: the next power of two, at least ``MIN_BUCKET``."""
    return max(MIN_BUCKET, 1 << (max(n, 1) - 1).bit_length())


class BinaryClassificationPlan:
    """A declarative set of binary-classification artifacts.

    Args:
      scores, arrays, plots, score_collections, array_collections, plot_collections:
        artifact names (the reference's enum member names, the enum members, or custom keys
        of ``registry``).
      config: hyperparameter overrides ``{"scores": {NAME: {...}}, ...}`` or a JSON path;
        merged over ``.artifact-ml/binary_classification.json`` and the reference defaults.
        Each kind reads its own section (the reference's score registry reads the
        ``score_collections`` section, spec section 7 bug 3; its scores have no
        hyperparameters, so only custom scores could notice).
      registry: artifacts to draw from (default: ``REGISTRY``).
      export: with a tracker, also log the aligned inputs as ``CLASSIFICATION_RESULTS[_SPLIT]``
        JSON (``{id: {"true", "predicted", "prob_pos"}}``, the reference's export).

    Example:
      >>> plan = BinaryClassificationPlan(scores=["F1"], arrays=["CONFUSION_MATRIX"])
      >>> res = plan.run(["1", "0", "1"], ["1", "1", "1"], None, BinaryClassSpec(["0", "1"], "1"))
      >>> res.scores["F1"], res.arrays["CONFUSION_MATRIX"].tolist()
      (0.8, [[2.0, 0.0], [1.0, 0.0]])
    """

    toolkit = TOOLKIT

    def __init__(
        self,
        scores: Sequence[str | Enum] = (),
        arrays: Sequence[str | Enum] = (),
        plots: Sequence[str | Enum] = (),
        score_collections: Sequence[str | Enum] = (),
        array_collections: Sequence[str | Enum] = (),
        plot_collections: Sequence[str | Enum] = (),
        *,
        config: str | Path | Mapping[str, Any] | None = None,
        registry: Registry | None = None,
        overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
        export: bool = True,
    ):
        registry = registry if registry is not None else REGISTRY
        cfg = load_config(self.toolkit, config)
        requested = dict(zip(KINDS, (scores, arrays, plots, score_collections, array_collections, plot_collections), strict=True))
        self.entries: list[Entry] = plan_entries(registry, requested, cfg, overrides)
        self.export = export

    def params(self) -> dict[str, Any]:
        """The plan's artifacts and hyperparameters, flat, for ``tracker.log_params``."""
        return entries_params(self.entries)

    def compile(self) -> Callable[[BinaryInputs], dict[str, Any]]:
        """The jitted device program: ``BinaryInputs -> {"kind/NAME": arrays}``.

        Artifacts that share a device part share its output, and plans with the same set of
        parts share one compiled program per input shape. It can run on device inside training
        (on the model's outputs), ``jax.vmap``-ed over stacked inputs, or on padded inputs;
        ``finalize`` turns its output into ``Results``.
        """
        slots: dict[tuple[Any, Any], int] = {}
        names: dict[str, int] = {}
        for kind, key, art, hp in self.entries:
            if art.device is None:
                continue
            part = (art.device, None if art.device in HYPERPARAMS_FREE else hp)
            try:
                hash(part)
            except TypeError as e:
                raise ValueError(f"{key}: hyperparameters of an artifact with a device part must be hashable "
                                 f"(a frozen dataclass holding tuples, not lists): {hp!r}.") from e
            names[f"{kind}/{key}"] = slots.setdefault(part, len(slots))
        parts = tuple(slots)

        def program(x: BinaryInputs) -> dict[str, Any]:
            out = _run(parts, x)
            return {name: out[i] for name, i in names.items()}

        return program

    def encode(
        self, true: Any, predicted: Any, probs_pos: Any, spec: BinaryClassSpec, *, pad_to: int | str | None = "bucket"
    ) -> tuple[Any, BinaryInputs]:
        """Align and validate the inputs: ``(ids, BinaryInputs)`` (numpy, padded per ``pad_to``)."""
        ids, y_true, y_pred, prob = binary_inputs.align(true, predicted, probs_pos, spec)
        dtype = np.float64 if jax.config.jax_enable_x64 else np.float32
        x = BinaryInputs(y_true, y_pred, prob.astype(dtype), np.ones(len(y_true), bool))
        size = bucket(len(y_true)) if pad_to == "bucket" else pad_to
        return ids, binary_inputs.pad(x, size)

    def evaluate(self, x: BinaryInputs) -> dict[str, Any]:
        """Run the compiled program on (padded) inputs; returns numpy numbers."""
        if not any(a.device is not None for _, _, a, _ in self.entries):
            return {}
        return jax.device_get(self.compile()(x))

    def finalize(
        self, numbers: Mapping[str, Any], spec: BinaryClassSpec, inputs: BinaryInputs | None = None, ids: Any = None
    ) -> Results:
        """Results from the program's output (numpy or device arrays) and, for host-only
        artifacts, the unpadded numpy inputs."""
        numbers = jax.device_get(dict(numbers))
        ctx = BinaryContext(spec, inputs, ids)
        res = Results()
        for kind, key, art, hp in self.entries:
            getattr(res, kind)[key] = art.host(numbers.get(f"{kind}/{key}"), hp, ctx)
        return res

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

        Returns:
          ``Results``.
        """
        if not isinstance(spec, BinaryClassSpec):
            raise ValueError(f"spec must be a BinaryClassSpec, got {type(spec).__name__}.")
        with jax.enable_x64(True):
            ids, x = self.encode(true, predicted, probs_pos, spec, pad_to=pad_to)
            numbers = self.evaluate(x)
        n = len(ids)
        plain = BinaryInputs(*(np.asarray(a)[:n] for a in x))
        res = self.finalize(numbers, spec, plain, ids)
        if tracker is not None:
            self.log(tracker, res, (ids, plain, spec), split=split, step=step)
        return res

    def log(self, tracker: Any, res: Results, exported: Any = None, *, split=None, step=None) -> None:
        """Log ``res`` (and, with ``export``, ``exported = (ids, inputs, spec)`` as JSON)."""
        from artifact_jax.tracking import log_results, qualify

        logged = getattr(self, "_params_logged", set())
        if id(tracker) not in logged:
            tracker.log_params(self.params())
            logged.add(id(tracker))
            self._params_logged = logged
        log_results(tracker, res, split=split, step=step)
        if self.export and exported is not None:
            data = json.dumps(binary_inputs.serialize(*exported), indent=4).encode()
            tracker.log_file(qualify("CLASSIFICATION_RESULTS", split), data, step=0 if step is None else step,
                             filename="classification_results.json")


def _names(enum: type[Enum]) -> list[str]:
    return [m.name for m in enum]


def default_plan(*, plots: bool = True, config: Any = None, registry: Registry | None = None) -> BinaryClassificationPlan:
    """Every numeric artifact, and with ``plots`` the ROC, PR, confusion and score-PDF figures."""
    return BinaryClassificationPlan(
        scores=_names(BinaryClassificationScoreType),
        arrays=_names(BinaryClassificationArrayType),
        score_collections=_names(BinaryClassificationScoreCollectionType),
        array_collections=_names(BinaryClassificationArrayCollectionType),
        plots=["CONFUSION_MATRIX_PLOT", "ROC_CURVE", "PR_CURVE", "SCORE_PDF"] if plots else [],
        config=config,
        registry=registry,
    )


def compute(
    name: str | Enum,
    true: Any,
    predicted: Any,
    probs_pos: Any,
    spec: BinaryClassSpec,
    *,
    kind: str | None = None,
    config: Any = None,
    registry: Registry | None = None,
    **overrides: Any,
) -> Any:
    """Compute one artifact by name (``"ROC_AUC"``), enum member or custom key.

    A bare name is looked up in the order scores, arrays, plots, score_collections,
    array_collections, plot_collections (``"CONFUSION_MATRIX"`` is the array; pass
    ``kind=`` or an enum member for another kind). Keyword ``overrides`` set hyperparameters,
    e.g. ``compute("CONFUSION_MATRIX", ..., normalization="TRUE")``.
    """
    registry = registry if registry is not None else REGISTRY
    if kind is None and isinstance(name, Enum):
        kind = _ENUM_KINDS.get(type(name))
    kind, key = resolve(registry, name, kind)
    plan = BinaryClassificationPlan(
        **{kind: [key]}, config=config, registry=registry, overrides={(kind, key): overrides}
    )
    return getattr(plan.run(true, predicted, probs_pos, spec), kind)[key]


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
