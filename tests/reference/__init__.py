"""Reference-value tooling for the parity tests (datasets shared with the reference generator)."""
