"""artifact_jax.models."""
