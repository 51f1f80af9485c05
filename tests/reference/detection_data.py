"""The real/synthetic pair of the detection parity tests: palmerpenguins and a perturbed copy.

Pure pandas/numpy (numpy's legacy ``RandomState``, whose stream is frozen), so that the
project's interpreter (pandas 3) and the SDMetrics oracle venv (pandas 2) build the same values:
``make_sdmetrics_detection.py`` runs it there, ``tests/test_utility.py`` here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEED = 14
CTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]
CAT = ["species", "island", "sex"]


def penguins_csv() -> str:
    """The path of palmerpenguins' ``penguins.csv`` (``$PENGUINS_CSV`` where the package is not installed)."""
    import importlib.util
    import os
    from pathlib import Path

    if os.environ.get("PENGUINS_CSV"):
        return os.environ["PENGUINS_CSV"]
    spec = importlib.util.find_spec("palmerpenguins")
    if spec is None:
        raise ValueError("palmerpenguins is not installed: set PENGUINS_CSV to its penguins.csv.")
    return str(Path(spec.origin).parent / "data" / "penguins.csv")


def perturbed(real: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """A "synthetic" copy of ``real``: continuous columns get Gaussian noise (0.5 standard
    deviations, body mass also a 0.3 sd shift; missing values stay missing), 20% of each
    categorical column is redrawn from the column's values (missing ones included)."""
    rng = np.random.RandomState(seed)
    out = real.copy()
    for c in CTS:
        x = real[c].to_numpy(dtype=np.float64)
        sd = np.nanstd(x)
        noisy = x + rng.normal(0.0, 0.5 * sd, len(x)) + (0.3 * sd if c == "body_mass_g" else 0.0)
        out[c] = np.round(noisy, 1)
    for c in CAT:
        values = real[c].to_numpy(dtype=object)
        redraw = rng.rand(len(values)) < 0.2
        picks = values[rng.randint(0, len(values), len(values))]
        out[c] = np.where(redraw, picks, values)
    return out


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(real, synthetic)``: the 344 penguins (NaNs in 5 columns) and their perturbed copy."""
    real = pd.read_csv(penguins_csv())[CAT + CTS]
    for c in CAT:
        real[c] = real[c].astype(object)
    return real, perturbed(real)
