"""Experiment tracking: one ``Tracker`` protocol, MLflow, filesystem and in-memory backends."""

from artifact_jax.tracking.background import BackgroundTracker
from artifact_jax.tracking.filesystem import FilesystemTracker
from artifact_jax.tracking.memory import InMemoryTracker, LoggedFile
from artifact_jax.tracking.mlflow import MlflowTracker
from artifact_jax.tracking.protocol import Tracker, TrackingError
from artifact_jax.tracking.results import ResultsLike, derived, log_results, qualify
from artifact_jax.tracking.uri import tracker_from_uri

__all__ = [
    "BackgroundTracker",
    "FilesystemTracker",
    "InMemoryTracker",
    "LoggedFile",
    "MlflowTracker",
    "ResultsLike",
    "Tracker",
    "TrackingError",
    "derived",
    "log_results",
    "qualify",
    "tracker_from_uri",
]
