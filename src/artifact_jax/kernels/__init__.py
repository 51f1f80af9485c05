"""artifact_jax.kernels."""
