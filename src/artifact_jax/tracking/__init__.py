"""artifact_jax.tracking."""
