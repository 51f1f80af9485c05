"""artifact-jax: validate and train tabular-synthesis and classification models in JAX."""

__version__ = "0.1.0"
