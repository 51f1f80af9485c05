"""Train a table synthesizer with periodic validation, tracked in MLflow (artifact-jax).

Artifact-ML's motivating example, declaratively: a beta-VAE learns the Palmer penguins
table (shipped with the ``palmerpenguins`` package, no network); every 5 epochs it
generates 1000 rows and a validation plan scores them against the real table; losses,
scores, per-column tables and plots go to MLflow.

    python examples/train_synthesizer.py [EPOCHS]      # default 100
    mlflow ui --backend-store-uri sqlite:///mlflow.db
"""

import sys

import optax
import palmerpenguins
from flax import nnx

import artifact_jax as aj
from artifact_jax.training import LoaderLoss, TableComparison

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
real = palmerpenguins.load_penguins().dropna().reset_index(drop=True)
spec = aj.TabularDataSpec.from_df(real, cat_features=["species", "island", "sex", "year"])
model = aj.TabularVAE.from_frame(real, spec, rngs=nnx.Rngs(0))
data = model.encode_frame(real)  # {"codes": int32[rows, features]}, kept on the device

plan = aj.TableComparisonPlan(
    scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
    score_collections=["JS_DISTANCE"],
    array_collections=["MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION"],
    plots=["PDF", "CORRELATION_HEATMAP_JUXTAPOSITION"],
)
with aj.MlflowTracker("sqlite:///mlflow.db", experiment="penguins-synthesizer") as tracker:
    trainer = aj.Trainer(
        model,
        optax.adam(1e-3),
        batch_size=512,
        stopper=aj.EpochBound(epochs),
        tracker=tracker,
        routines=[
            LoaderLoss(data, period=5, split="TRAIN"),  # LOSS_TRAIN
            # real is the training table, so the split is TRAIN (a holdout would be VAL):
            TableComparison(plan, real, spec, n_records=1000, period=5),  # MEAN_JS_DISTANCE_TRAIN, ...
        ],
    )
    result = trainer.fit(data)

print(result.history.dropna().round(4).to_string())
print(f"MLflow run {tracker.run_id}: mlflow ui --backend-store-uri sqlite:///mlflow.db")
