"""artifact-jax: validate and train tabular-synthesis and classification models in JAX.

The evaluation API (specs, encoding, plans, tracking, ``table_comparison``) is imported
eagerly; the training and binary-classification names load on first use, so that
``import artifact_jax`` for standalone evaluation does not pay for Flax and orbax. pandas and
pyarrow load on first use too (``artifact_jax.lazy``), and matplotlib when a plot is drawn:
``import artifact_jax`` costs little more than ``import jax`` (``benchmarks/import_time.py``).

Example:
  >>> import artifact_jax as aj
  >>> from artifact_jax import table_comparison as tc  # doctest: +SKIP
"""

import importlib
import os
from typing import Any

from artifact_jax import table_comparison
from artifact_jax.caching import use_compilation_cache
from artifact_jax.encoding import EncodedTable, Layout, encode, encode_tables
from artifact_jax.plans import Flag, NonFiniteResultWarning, Plan, Results, Toolkit
from artifact_jax.spec import BinaryClassSpec, TabularDataSpec
from artifact_jax.table_comparison import TableComparisonPlan, compare, default_plan
from artifact_jax.tracking import (
    FilesystemTracker,
    InMemoryTracker,
    MlflowTracker,
    Tracker,
    log_results,
    tracker_from_uri,
)

__version__ = "0.1.0"

if os.environ.get("ARTIFACT_JAX_CACHE", "").lower() not in ("", "0", "false", "no"):
    # the persistent compilation cache, in $ARTIFACT_JAX_CACHE if it names a folder
    _where = os.environ["ARTIFACT_JAX_CACHE"]
    use_compilation_cache(None if _where.lower() in ("1", "true", "yes") else _where)

_LAZY = {
    "binary_classification": ("artifact_jax.binary_classification", None),
    "BinaryClassificationPlan": ("artifact_jax.binary_classification", "BinaryClassificationPlan"),
    "privacy": ("artifact_jax.privacy", None),
    "PrivacyPlan": ("artifact_jax.privacy", "PrivacyPlan"),
    "utility": ("artifact_jax.utility", None),
    "UtilityPlan": ("artifact_jax.utility", "UtilityPlan"),
    "training": ("artifact_jax.training", None),
    "Trainer": ("artifact_jax.training", "Trainer"),
    "EpochBound": ("artifact_jax.training", "EpochBound"),
    "Patience": ("artifact_jax.training", "Patience"),
    "BestModel": ("artifact_jax.training", "BestModel"),
    "Checkpointing": ("artifact_jax.training", "Checkpointing"),
    "models": ("artifact_jax.models", None),
    "TabularVAE": ("artifact_jax.models", "TabularVAE"),
    "MLPClassifier": ("artifact_jax.models", "MLPClassifier"),
}


def __getattr__(name: str) -> Any:
    """Load the training and binary-classification names on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'artifact_jax' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = importlib.import_module(module)
    return value if attr is None else getattr(value, attr)


__all__ = [
    "BestModel",
    "BinaryClassSpec",
    "BinaryClassificationPlan",
    "Checkpointing",
    "EncodedTable",
    "EpochBound",
    "FilesystemTracker",
    "Flag",
    "InMemoryTracker",
    "Layout",
    "MLPClassifier",
    "MlflowTracker",
    "NonFiniteResultWarning",
    "Patience",
    "Plan",
    "PrivacyPlan",
    "Results",
    "TableComparisonPlan",
    "TabularDataSpec",
    "TabularVAE",
    "Toolkit",
    "Tracker",
    "Trainer",
    "UtilityPlan",
    "binary_classification",
    "compare",
    "default_plan",
    "encode",
    "encode_tables",
    "log_results",
    "models",
    "privacy",
    "table_comparison",
    "tracker_from_uri",
    "use_compilation_cache",
    "utility",
    "training",
]
