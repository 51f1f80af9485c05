"""Shared fixtures: the heart tables shipped with the tests (copied from Artifact-ML, MIT)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

# The demo CLI turns on a persistent XLA compilation cache in the user's home; tests stay out of it.
os.environ.setdefault("JAX_ENABLE_COMPILATION_CACHE", "false")

DATA = Path(__file__).parent / "data"
HEART_CTS = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]


@pytest.fixture(scope="session")
def heart_real() -> pd.DataFrame:
    return pd.read_csv(DATA / "heart_real.csv", index_col=0)


@pytest.fixture(scope="session")
def heart_synthetic() -> pd.DataFrame:
    return pd.read_csv(DATA / "heart_synthetic.csv", index_col=0)


@pytest.fixture(scope="session")
def heart_spec(heart_real):
    from artifact_jax.spec import TabularDataSpec

    cat = [c for c in heart_real.columns if c not in HEART_CTS]
    return TabularDataSpec.from_df(heart_real, cts_features=HEART_CTS, cat_features=cat)
