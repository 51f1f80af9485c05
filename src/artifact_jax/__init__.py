"""artifact-jax: validate and train tabular-synthesis and classification models in JAX.

Example:
  >>> import artifact_jax as aj
  >>> from artifact_jax import table_comparison as tc  # doctest: +SKIP
"""

from artifact_jax import table_comparison
from artifact_jax.encoding import EncodedTable, Layout, encode, encode_tables
from artifact_jax.plans import Results, TableComparisonPlan, compare, default_plan
from artifact_jax.spec import BinaryClassSpec, TabularDataSpec
from artifact_jax.tracking import (
    FilesystemTracker,
    InMemoryTracker,
    MlflowTracker,
    Tracker,
    log_results,
    tracker_from_uri,
)

__version__ = "0.1.0"

__all__ = [
    "BinaryClassSpec",
    "EncodedTable",
    "FilesystemTracker",
    "InMemoryTracker",
    "Layout",
    "MlflowTracker",
    "Results",
    "TableComparisonPlan",
    "TabularDataSpec",
    "Tracker",
    "compare",
    "default_plan",
    "encode",
    "encode_tables",
    "log_results",
    "table_comparison",
    "tracker_from_uri",
]
