"""artifact_jax.plots."""
