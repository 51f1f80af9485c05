"""artifact_jax.training."""
