"""artifact_jax.models: Flax NNX models that satisfy the training protocols."""

from artifact_jax.models.mlp_classifier import ClassifierPreprocessor as ClassifierPreprocessor
from artifact_jax.models.mlp_classifier import MLPClassifier as MLPClassifier
from artifact_jax.models.preprocessing import TablePreprocessor as TablePreprocessor
from artifact_jax.models.tabular_vae import TabularVAE as TabularVAE

__all__ = ["ClassifierPreprocessor", "MLPClassifier", "TablePreprocessor", "TabularVAE"]
