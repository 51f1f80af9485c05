"""Shared fixtures: the heart tables shipped with the tests (copied from Artifact-ML, MIT)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

# The demo CLI turns on a persistent XLA compilation cache in the user's home; tests stay out of it.
os.environ.setdefault("JAX_ENABLE_COMPILATION_CACHE", "false")

# Hypothesis: in CI (``CI`` set, as .ci/run does) the examples are derandomized, so a run is
# reproducible and a red build is the code's fault, not the draw's; locally they are random
# (a local failure prints the seed to replay). No deadline either way: the first example of a
# property pays its XLA compile. Tests set their own max_examples (<= 30) where they need fewer.
# HYPOTHESIS_PROFILE=ci|dev overrides the choice.
_PROFILE = dict(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **_PROFILE)
settings.register_profile("dev", **_PROFILE)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

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


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory) -> Path:
    """An empty MLflow SQLite store, made once per session (per xdist worker).

    Creating MLflow's tables (its migrations) takes seconds, about as long as the rest of a
    small tracked training; a test that needs a new store copies this file instead
    (``sqlite_store``, or ``new_store(directory)`` in module-scoped fixtures and working directories).
    Made with the working directory in its own folder, so the default experiment's artifact
    location (``./mlruns``, resolved when it is created) is there, never in the checkout.
    """
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("mlflow-template")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        MlflowClient(f"sqlite:///{root / 'mlflow.db'}").search_experiments()  # creates the tables
    finally:
        os.chdir(cwd)
    return root / "mlflow.db"


@pytest.fixture(scope="session")
def new_store(mlflow_template):
    """``new_store(directory, name="mlflow.db") -> URI``: an empty store there, copied from the template."""

    def copy(directory: Path, name: str = "mlflow.db") -> str:
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mlflow_template, directory / name)
        return f"sqlite:///{directory / name}"

    return copy


@pytest.fixture
def sqlite_store(new_store, tmp_path) -> str:
    """The URI of a new, empty MLflow SQLite store at ``tmp_path / "mlflow.db"``."""
    return new_store(tmp_path)
