"""The reference demo, declaratively: train the beta-VAE on a table, validate it every N epochs.

``run_demo`` is artifact-torch's ``demos/table_comparison`` in one call: the
``TabularVAE`` trained with Adam; every ``validate_every`` epochs the train-set loss
(``LOSS_TRAIN``) and the demo's table-comparison plan on ``n_generate`` generated rows
(``MEAN_JS_DISTANCE_TRAIN``, ...); everything logged to a tracker (MLflow by default);
optional orbax checkpoints and resume. The CLI's ``artifact-jax demo`` is a thin wrapper.

``run_classification_demo`` is ``demos/binary_classification``: the ``MLPClassifier`` on a
table split 80/20 (scikit-learn's breast-cancer table by default), with ``LOSS_TRAIN``,
``LOSS_VAL`` and the demo's classification plan on both splits every ``validate_every``
epochs (``ROC_AUC_VAL``, ...).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optax
import pandas as pd
from flax import nnx

from artifact_jax.models.tabular_vae import TabularVAE
from artifact_jax.plots.workers import PlotWorkers
from artifact_jax.training import run_params
from artifact_jax.training.checkpoints import Checkpointing, tracking_run
from artifact_jax.training.loop import Trainer, TrainResult
from artifact_jax.training.protocols import GenerationParams
from artifact_jax.training.routines import LoaderLoss, TableComparison
from artifact_jax.training.stopping import EpochBound

PENGUINS_CAT = ("species", "island", "sex", "year")
DEMO_PLAN = {
    "scores": ["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
    "score_collections": ["JS_DISTANCE"],
    "array_collections": [
        "MEAN_JUXTAPOSITION",
        "STD_JUXTAPOSITION",
        "MIN_JUXTAPOSITION",
        "MAX_JUXTAPOSITION",
    ],
    "plots": [
        "PDF",
        "CDF",
        "DESCRIPTIVE_STATS_ALIGNMENT",
        "PCA_JUXTAPOSITION",
        "CORRELATION_HEATMAP_JUXTAPOSITION",
    ],
    "plot_collections": ["PDF", "CDF"],
}


def load_table(data: pd.DataFrame | str | Path | None) -> tuple[pd.DataFrame, Sequence[str] | None]:
    """The demo's table: a DataFrame, a CSV/Parquet path, or None for the Palmer penguins.

    A file is read by ``cli.read_table``, the one rule for reading a table file (``compare``
    uses it too): a CSV is parsed by ``pd.read_csv``, quotes and all; an index column written
    by ``DataFrame.to_csv`` (unnamed, unique, never missing) becomes the index, never a
    feature; a named column is never dropped.

    Returns the table and its default categorical columns (None: infer from dtypes).
    """
    if isinstance(data, pd.DataFrame):
        return data, None
    if data is None:
        import palmerpenguins

        return palmerpenguins.load_penguins(), PENGUINS_CAT
    path = Path(data)
    if not path.exists():
        raise ValueError(f"--data {str(path)!r} does not exist.")
    from artifact_jax.cli import read_table

    return read_table(path), None


def demo_plan(*, plots: bool = True) -> Any:
    """The reference demo's ``TableComparisonPlan`` (``DEMO_PLAN``; without plots if not ``plots``).

    An artifact name the registry lacks is a ``ValueError`` naming it, never silently dropped.
    """
    from artifact_jax.table_comparison import TableComparisonPlan

    kinds = {k: list(v) for k, v in DEMO_PLAN.items() if plots or k not in ("plots", "plot_collections")}
    return TableComparisonPlan(**kinds)


@dataclass
class DemoResult:
    """What ``run_demo`` returns.

    Attributes:
      train: the ``TrainResult`` (history, model, timings...).
      spec: the data spec used.
      tracking_uri: where the run was logged (None: not logged).
      experiment: the experiment name.
      seconds: wall time of the whole demo.
      rows: rows of the training table after dropping incomplete ones.
      timings: wall seconds of ``setup`` (table, spec, model, tracker), ``fit`` and
        ``close`` (waiting for the tracker to write everything queued); ``first_validation``:
        from the start of the demo to the first logged validation (setup, the compiles and
        the first ``validate_every`` epochs); ``plots_cpu``: CPU seconds the plot workers
        spent drawing and rendering (they run alongside).
    """

    train: TrainResult
    spec: Any
    tracking_uri: str | None
    experiment: str
    seconds: float
    rows: int
    timings: dict[str, float] = field(default_factory=dict)

    def _time_line(self) -> str:
        t, own = self.train.timings, self.timings
        routines = {k: v for k, v in t.items() if "[" in k and "/" not in k}
        parts = {
            "setup": own.get("setup"), "epochs": t.get("epochs"),
            **routines,
            "waiting for plots": sum(v for k, v in t.items() if k.endswith("/plots") and k.split("/")[0] in routines) or None,
            "checkpoints": t.get("checkpoints"), "closing the tracker": own.get("close"),
        }  # fmt: skip
        line = ", ".join(f"{k} {v:.1f}s" for k, v in parts.items() if v is not None)
        if own.get("plots_cpu"):
            line += f" (plot workers: {own['plots_cpu']:.1f} CPU s alongside)"
        return line

    def summary(self) -> str:
        """A few lines: epochs, final scores, timings, and how to look at the run."""
        h = self.train.history
        last = {c: h[c].dropna().iloc[-1] for c in h.columns if h[c].notna().any()}
        lines = [
            f"Trained {len(h)} epochs on {self.rows} rows in {self.seconds:.1f} s ({self.train.stop_reason}).",
            "Final scores: " + ", ".join(f"{k}={v:.4g}" for k, v in last.items()),
            "Time: " + self._time_line(),
        ]
        if (first := self.timings.get("first_validation")) is not None:
            lines.insert(2, f"First validation logged {first:.1f} s after the start ({self.train.timings['first_validation']:.1f} s into training, compiles included).")
        uri = self.tracking_uri
        if uri and (uri.startswith(("sqlite:", "http:", "https:", "file:", "postgresql:", "mysql:"))):
            lines.append(f"Open the MLflow UI: mlflow ui --backend-store-uri {uri}")
        elif uri:
            lines.append(f"Logged to {uri} (experiment {self.experiment!r}).")
        return "\n".join(lines)


def run_demo(
    data: pd.DataFrame | str | Path | None = None,
    *,
    cat: Sequence[str] | None = None,
    cts: Sequence[str] | None = None,
    epochs: int = 100,
    batch_size: int = 512,
    lr: float = 1e-3,
    validate_every: int = 5,
    n_generate: int = 1000,
    temperature: float = 1.0,
    tracking_uri: str | None = "sqlite:///mlflow.db",
    experiment: str = "artifact-jax-demo",
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    seed: int = 0,
    devices: int | None = None,
    plots: bool = True,
    progress: bool = True,
    tracker: Any = None,
    plan: Any = None,
    render_workers: int | None = None,
) -> DemoResult:
    """Train the demo's beta-VAE on a table with periodic validation, tracking and checkpoints.

    Args:
      data: a DataFrame, a CSV/Parquet path, or None for the Palmer penguins table
        (shipped with the ``palmerpenguins`` package; no network).
      cat, cts: categorical / continuous columns (default: inferred from dtypes).
      epochs: training epochs (``EpochBound``).
      batch_size, lr: Adam's batch size and learning rate.
      validate_every: period (epochs) of ``LOSS_TRAIN``, the plan and checkpoints.
      n_generate: rows generated for each validation.
      temperature: sampling temperature of generation.
      tracking_uri: ``tracking.tracker_from_uri`` URI (MLflow SQLite by default); None logs nothing.
      experiment: experiment name.
      checkpoint_dir: orbax checkpoints (every ``validate_every`` epochs); needed to ``resume``.
      resume: continue from the latest checkpoint in ``checkpoint_dir``.
      seed: seeds initialisation, shuffles and generation.
      devices: shard batches over the first ``devices`` devices.
      plots: include the plan's plots (slower; off for benchmarks of the numbers).
      progress: show the tqdm bar.
      tracker: log to this tracker instead of ``tracking_uri`` (the caller closes it).
      plan: validate with this plan instead of ``demo_plan(plots=plots)``.
      render_workers: processes that draw and render the plots while training goes on
        (``plots.workers.PlotWorkers``); default: the number of CPUs (at most 4); 0 draws them
        in this process.

    Returns:
      A ``DemoResult``; ``.summary()`` is the text to print.
    """
    start = time.perf_counter()
    df, default_cat = load_table(data)
    cat = list(cat) if cat is not None else (list(default_cat) if default_cat is not None else None)
    n_before, full = len(df), df
    df = df.dropna().reset_index(drop=True)
    if len(df) == 0:
        from artifact_jax.encoding import missing_columns_note

        raise ValueError(f"The table has no complete rows (all {n_before} have missing values){missing_columns_note(full)}.")
    from artifact_jax.spec import TabularDataSpec

    spec = TabularDataSpec.from_df(df, cts_features=cts, cat_features=cat)
    df = df[list(spec.features)]
    plan = plan if plan is not None else demo_plan(plots=plots)
    params = {
        "model": "TabularVAE", "epochs": epochs, "batch_size": batch_size, "lr": lr,
        "validate_every": validate_every, "n_generate": n_generate, "temperature": temperature,
        "seed": seed, "rows": len(df), "features": ",".join(spec.features),
    }  # fmt: skip
    owned = tracker is None and tracking_uri is not None
    timings: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        workers = None
        if render_workers != 0 and any("plot" in e[0] for e in getattr(plan, "entries", ())):
            workers = stack.enter_context(PlotWorkers(render_workers))  # they import matplotlib meanwhile
        if owned:  # MLflow sets up its store on a thread while the model is built and compiled
            run = tracking_run(checkpoint_dir, tracking_uri) if resume else None  # resume: continue its run
            opening = stack.enter_context(ThreadPoolExecutor(1)).submit(
                _open_tracker, tracking_uri, experiment, params, run
            )
            tracker = _Deferred(opening)
            if run is not None:
                tracker.ready()  # open before the trainer logs its (perhaps changed) params into the run
        elif tracker is not None:
            tracker.log_params(params)
        model = TabularVAE.from_frame(df, spec, rngs=nnx.Rngs(seed, noise=seed + 1))
        train = model.encode_frame(df)
        routines: list[Any] = [LoaderLoss(train, period=validate_every, split="TRAIN")]
        if plan is not None:
            generation = GenerationParams(temperature=temperature)
            routines.append(TableComparison(
                plan, df, spec, n_records=n_generate, period=validate_every, split="TRAIN", params=generation,
                render=workers,
            ))  # fmt: skip
        trainer = Trainer(
            model,
            optax.adam(lr),
            batch_size=batch_size,
            stopper=EpochBound(epochs),
            routines=routines,
            tracker=tracker,
            checkpoints=None if checkpoint_dir is None else Checkpointing(checkpoint_dir, period=validate_every),
            seed=seed,
            devices=devices,
            progress=progress,
        )
        timings["setup"] = time.perf_counter() - start
        failed = True
        try:
            result = trainer.fit(train, resume=resume)
            failed = False
            if "first_validation" in result.timings:
                timings["first_validation"] = timings["setup"] + result.timings["first_validation"]
        finally:
            timings["fit"] = time.perf_counter() - start - timings["setup"]
            if owned and tracker.ready():
                tracker.close(failed=failed) if _accepts_failed(tracker) else tracker.close()
            timings["close"] = time.perf_counter() - start - timings["setup"] - timings["fit"]
    if workers is not None:
        timings["plots_cpu"] = workers.cpu_seconds
    uri = tracking_uri if owned else None
    return DemoResult(result, spec, uri, experiment, time.perf_counter() - start, len(df), timings)


def _open_tracker(uri: str, experiment: str, params: dict[str, Any], run: dict[str, Any] | None = None) -> Any:
    from artifact_jax.tracking import MlflowTracker, tracker_from_uri

    if run is not None:  # the checkpoint's MLflow run (checkpoints.tracking_run); changed params go apart
        tracker = MlflowTracker(uri, run_id=run["run_id"])
        run_params.log_params(tracker, params, resumed_at=run["epoch"])
        return tracker
    tracker = tracker_from_uri(uri, experiment=experiment)
    tracker.log_params(params)
    return tracker


class _Deferred:
    """A tracker being opened on a thread (MLflow takes seconds to set up its store).

    Until it is open, ``log_*`` calls are kept, in order, and replayed by the first call
    after it opened (so training never waits for it); any other attribute waits for it.
    If opening failed, the next call raises that error. Drive it from one thread.
    """

    def __init__(self, future: Any):
        self._future, self._held = future, []

    def ready(self) -> bool:
        """Wait until the tracker is open; False if opening it failed (nothing to close)."""
        return self._future.exception() is None

    def _replay(self) -> Any:
        tracker = self._future.result()
        while self._held:
            name, args, kwargs = self._held.pop(0)
            getattr(tracker, name)(*args, **kwargs)
        return tracker

    def __getattr__(self, name: str) -> Any:
        if name.startswith("log_") and not self._future.done():
            return lambda *args, **kwargs: self._held.append((name, args, kwargs))
        return getattr(self._replay(), name)


def _accepts_failed(tracker: Any) -> bool:
    import inspect

    try:
        return "failed" in inspect.signature(tracker.close).parameters
    except (TypeError, ValueError):
        return False


# -- the classification demo ---------------------------------------------------------------
BREAST_CANCER_LABEL = "diagnosis"
DEMO_CLASSIFICATION_PLAN = {
    "scores": ["PRECISION", "RECALL", "ROC_AUC", "PR_AUC"],
    "plots": ["SCORE_PDF", "GROUND_TRUTH_PROB_PDF"],
    "score_collections": ["SCORE_MEANS", "SCORE_STDS", "SCORE_STATS"],
    "plot_collections": ["THRESHOLD_VARIATION_CURVES", "CONFUSION_MATRIX_PLOTS"],
}


def load_classification_table(
    data: pd.DataFrame | str | Path | None, label: str | None = None
) -> tuple[pd.DataFrame, str]:
    """The classification demo's table and label column.

    Args:
      data: a DataFrame, a CSV/Parquet path (read as ``load_table`` does), or None for
        scikit-learn's bundled breast-cancer table (569 rows, 30 continuous features; no
        network), whose label ``diagnosis`` is ``"malignant"`` or ``"benign"``.
      label: the label column; required with ``data``.

    Returns:
      ``(table, label)``.
    """
    if data is None:
        if label not in (None, BREAST_CANCER_LABEL):
            raise ValueError(
                f"--label {label!r}: the default breast-cancer table's label is {BREAST_CANCER_LABEL!r}; "
                "pass --data PATH to use another table."
            )
        from sklearn.datasets import load_breast_cancer

        bunch = load_breast_cancer(as_frame=True)
        df = bunch.frame.drop(columns="target")
        df[BREAST_CANCER_LABEL] = np.asarray(bunch.target_names, dtype=object)[bunch.target.to_numpy()]
        return df, BREAST_CANCER_LABEL
    df, _ = load_table(data)
    if label is None:
        raise ValueError(
            f"--label COL names the binary label column of --data; its columns are {list(df.columns)}."
        )
    if label not in df.columns:
        raise ValueError(
            f"--label {label!r} is not a column of the table; its columns are {list(df.columns)}."
        )
    return df, label


def classification_plan(*, plots: bool = True) -> Any:
    """The reference classification demo's ``BinaryClassificationPlan`` (with ``plots``, its figures too)."""
    from artifact_jax.binary_classification import BinaryClassificationPlan

    kinds = {k: list(v) for k, v in DEMO_CLASSIFICATION_PLAN.items() if plots or "plot" not in k}
    return BinaryClassificationPlan(**kinds)


def run_classification_demo(
    data: pd.DataFrame | str | Path | None = None,
    *,
    label: str | None = None,
    positive_class: Any = None,
    cat: Sequence[str] | None = None,
    cts: Sequence[str] | None = None,
    epochs: int = 50,
    batch_size: int = 64,
    lr: float = 1e-3,
    validate_every: int = 5,
    test_size: float = 0.2,
    threshold: float = 0.5,
    tracking_uri: str | None = "sqlite:///mlflow.db",
    experiment: str = "artifact-jax-demo",
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    seed: int = 0,
    devices: int | None = None,
    plots: bool = True,
    progress: bool = True,
    tracker: Any = None,
    plan: Any = None,
) -> DemoResult:
    """Train the reference's MLP classifier on a table with periodic validation and tracking.

    artifact-torch's ``demos/binary_classification`` in one call: the table is split 80/20
    (``test_size``) with ``seed``, stratified by the label when both classes have two rows
    or more (the reference does not stratify); the ``MLPClassifier`` and its preprocessing
    are fitted on the training split and trained with Adam; every ``validate_every`` epochs
    the eval-mode loss (``LOSS_TRAIN``, ``LOSS_VAL``) and the demo's classification plan
    (``ROC_AUC_VAL``, ...) run on both splits, logged to a tracker (MLflow by default).

    Args:
      data: a DataFrame, a CSV/Parquet path, or None for scikit-learn's bundled
        breast-cancer table (no network).
      label: the binary label column (required with ``data``).
      positive_class: the positive class (default: the last of the two in sorted order;
        ``malignant`` for the breast-cancer table).
      cat, cts: categorical (one-hot) / continuous (standardised) features; default: every
        other column, numeric ones continuous.
      epochs: training epochs (``EpochBound``).
      batch_size, lr: Adam's batch size and learning rate (the reference's 64 and 1e-3).
      validate_every: period (epochs) of the losses, the plan and checkpoints.
      test_size: the held-out fraction (the ``VAL`` split).
      threshold: predict positive iff ``p(positive) >= threshold``.
      tracking_uri: ``tracking.tracker_from_uri`` URI (MLflow SQLite by default); None logs nothing.
      experiment: experiment name.
      checkpoint_dir: orbax checkpoints (every ``validate_every`` epochs); needed to ``resume``.
      resume: continue from the latest checkpoint in ``checkpoint_dir``.
      seed: seeds the split, initialisation and shuffles.
      devices: shard batches over the first ``devices`` devices.
      plots: include the plan's figures (slower).
      progress: show the tqdm bar.
      tracker: log to this tracker instead of ``tracking_uri`` (the caller closes it).
      plan: validate with this plan instead of ``classification_plan(plots=plots)``.

    Returns:
      A ``DemoResult`` (``rows``: training rows; ``spec``: the ``BinaryClassSpec``);
      ``.summary()`` is the text to print.
    """
    from sklearn.model_selection import train_test_split

    from artifact_jax.models.mlp_classifier import MLPClassifier
    from artifact_jax.training.protocols import ClassificationParams
    from artifact_jax.training.routines import BinaryClassificationRoutine

    start = time.perf_counter()
    df, label = load_classification_table(data, label)
    n_before, full = len(df), df
    df = df.dropna()
    if len(df) < 2:
        from artifact_jax.encoding import missing_columns_note

        raise ValueError(
            f"The table has {len(df)} complete rows (of {n_before}); at least 2 are needed to split it{missing_columns_note(full)}."
        )
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}.")
    counts = df[label].astype(str).value_counts()
    stratify = df[label].astype(str) if len(counts) == 2 and counts.min() >= 2 else None
    train_df, val_df = train_test_split(df, test_size=test_size, random_state=seed, stratify=stratify)
    model = MLPClassifier.from_frame(
        train_df, label, cat=cat, cts=cts, positive_class=positive_class, rngs=nnx.Rngs(seed)
    )
    spec = model.spec
    train, val = model.encode_frame(train_df), model.encode_frame(val_df)
    plan = plan if plan is not None else classification_plan(plots=plots)
    params = ClassificationParams(threshold=threshold)
    routines: list[Any] = []
    for split, frame, batch in (("TRAIN", train_df, train), ("VAL", val_df, val)):
        routines.append(LoaderLoss(batch, period=validate_every, split=split))
        true = frame[label].astype(str)
        routines.append(
            BinaryClassificationRoutine(
                plan, batch, true, spec, period=validate_every, split=split, params=params
            )
        )
    owned = tracker is None and tracking_uri is not None
    run = tracking_run(checkpoint_dir, tracking_uri) if owned and resume else None  # resume: continue its run
    if owned:
        tracker = _open_tracker(tracking_uri, experiment, {}, run)
    if tracker is not None:
        run_params.log_params(tracker, {
            "model": "MLPClassifier", "task": "classification", "epochs": epochs, "batch_size": batch_size,
            "lr": lr, "validate_every": validate_every, "threshold": threshold, "seed": seed,
            "rows_train": len(train_df), "rows_val": len(val_df), "label": label,
            "positive_class": spec.positive_class, "n_features": len(model.preprocessor.features),
        }, resumed_at=None if run is None else run["epoch"])  # fmt: skip
    trainer = Trainer(
        model,
        optax.adam(lr),
        batch_size=batch_size,
        stopper=EpochBound(epochs),
        routines=routines,
        tracker=tracker,
        checkpoints=None if checkpoint_dir is None else Checkpointing(checkpoint_dir, period=validate_every),
        seed=seed,
        devices=devices,
        progress=progress,
    )
    failed, timings = True, {"setup": time.perf_counter() - start}
    try:
        result = trainer.fit(train, resume=resume)
        failed = False
        if "first_validation" in result.timings:
            timings["first_validation"] = timings["setup"] + result.timings["first_validation"]
    finally:
        if owned:
            tracker.close(failed=failed) if _accepts_failed(tracker) else tracker.close()
    uri = tracking_uri if owned else None
    return DemoResult(result, spec, uri, experiment, time.perf_counter() - start, len(train_df), timings)
