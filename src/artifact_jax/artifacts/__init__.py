"""artifact_jax.artifacts."""
