"""artifact_jax.training: fit Flax NNX models with optax, hooks, routines, stopping and checkpoints."""

from artifact_jax.training.checkpoints import Checkpointing as Checkpointing
from artifact_jax.training.hooks import Hook as Hook
from artifact_jax.training.hooks import StepInfo as StepInfo
from artifact_jax.training.hooks import chain as chain
from artifact_jax.training.hooks import epoch_loss as epoch_loss
from artifact_jax.training.hooks import grad_norm as grad_norm
from artifact_jax.training.hooks import learning_rate as learning_rate
from artifact_jax.training.hooks import mean_of as mean_of
from artifact_jax.training.hooks import output_mean as output_mean
from artifact_jax.training.hooks import param_stats as param_stats
from artifact_jax.training.loop import NonFiniteLossError as NonFiniteLossError
from artifact_jax.training.loop import Trainer as Trainer
from artifact_jax.training.loop import TrainResult as TrainResult
from artifact_jax.training.loop import make_epoch as make_epoch
from artifact_jax.training.protocols import BinaryClassification as BinaryClassification
from artifact_jax.training.protocols import BinaryClassifier as BinaryClassifier
from artifact_jax.training.protocols import ClassificationParams as ClassificationParams
from artifact_jax.training.protocols import GenerationParams as GenerationParams
from artifact_jax.training.protocols import Model as Model
from artifact_jax.training.protocols import TableSynthesizer as TableSynthesizer
from artifact_jax.training.routines import BinaryClassificationRoutine as BinaryClassificationRoutine
from artifact_jax.training.routines import LoaderLoss as LoaderLoss
from artifact_jax.training.routines import RoutineContext as RoutineContext
from artifact_jax.training.routines import TableComparison as TableComparison
from artifact_jax.training.routines import every as every
from artifact_jax.training.state import Graphs as Graphs
from artifact_jax.training.state import History as History
from artifact_jax.training.state import TrainState as TrainState
from artifact_jax.training.stopping import Best as Best
from artifact_jax.training.stopping import BestModel as BestModel
from artifact_jax.training.stopping import EpochBound as EpochBound
from artifact_jax.training.stopping import Patience as Patience
from artifact_jax.training.stopping import any_of as any_of

__all__ = [
    "Best",
    "BestModel",
    "BinaryClassification",
    "BinaryClassificationRoutine",
    "BinaryClassifier",
    "Checkpointing",
    "ClassificationParams",
    "EpochBound",
    "GenerationParams",
    "Graphs",
    "History",
    "Hook",
    "LoaderLoss",
    "Model",
    "NonFiniteLossError",
    "Patience",
    "RoutineContext",
    "StepInfo",
    "TableComparison",
    "TableSynthesizer",
    "TrainResult",
    "TrainState",
    "Trainer",
    "any_of",
    "chain",
    "epoch_loss",
    "every",
    "grad_norm",
    "learning_rate",
    "make_epoch",
    "mean_of",
    "output_mean",
    "param_stats",
]
