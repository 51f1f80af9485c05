"""artifact-core 0.2.1's CORRELATION_DISTANCE for all 2 x 3 x 4 settings on a tiny table with NaNs.

``nan_pair()`` is pure pandas/numpy from integer arithmetic (identical frames under any
interpreter); ``tests/test_correlation_distance.py`` imports it and embeds the printed values.
Regenerate with the reference interpreter (artifact-core 0.2.1, dython 0.7.9, pandas 2.3.3,
numpy 2.4.6, scipy 1.17.1; see make_table_reference.py for the venv):

    /tmp/ref/bin/python tests/reference/make_correlation_reference.py

Each value is ``CorrelationDistanceScore(spec, CorrelationDistanceScoreHyperparams.build(...))
.compute(resources)``, what artifact-core's registry does for a configured CORRELATION_DISTANCE,
with ``spec = TabularDataSpec.from_df(real, cts_features=CTS, cat_features=CAT)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CTS = ["c1", "c2", "c3"]
CAT = ["k1", "k2"]
CAT_ASSOC = ("CRAMERS_V", "THEILS_U")
CTS_ASSOC = ("PEARSON", "SPEARMAN", "KENDALL")
METRICS = ("L2", "MAE", "RMSE", "COSINE_SIMILARITY")


def _frame(n: int, a: int, b: int) -> pd.DataFrame:
    i = np.arange(n)
    c2 = ((i * a) % 5).astype(float)  # ties
    return pd.DataFrame({
        "c1": np.where(i % 5 == 3, np.nan, ((i * 7 + b) % 11) / 2 + 0.25),  # NaN -> 0 in dython
        "k1": np.array([None if v % 7 == 4 else "abc"[(v // 2 + b) % 3] for v in i], dtype=object),
        "c2": c2,
        "k2": np.array(["xy"[((v * a) // 4) % 2] for v in i], dtype=object),
        "c3": c2 * 1.5 + (i * 5 + b) % 4 - i / 8,
    })  # fmt: skip


def nan_pair() -> tuple[pd.DataFrame, pd.DataFrame]:
    """real (16 rows) and synthetic (14 rows): NaN in a continuous and a categorical column."""
    return _frame(16, 3, 0), _frame(14, 2, 1)


def main() -> None:
    import os
    import tempfile

    os.chdir(tempfile.mkdtemp(prefix="artifact_ref_"))  # no .artifact-ml override
    from artifact_core.table_comparison import TabularDataSpec
    from artifact_core.table_comparison._artifacts.scores.correlation import (
        CorrelationDistanceScore,
        CorrelationDistanceScoreHyperparams,
    )
    from artifact_core.table_comparison.spi import TableComparisonArtifactResources

    real, synthetic = nan_pair()
    spec = TabularDataSpec.from_df(real, cts_features=CTS, cat_features=CAT)
    resources = TableComparisonArtifactResources(dataset_real=real, dataset_synthetic=synthetic)
    print("{")
    for ca in CAT_ASSOC:
        for na in CTS_ASSOC:
            values = {}
            for m in METRICS:
                hp = CorrelationDistanceScoreHyperparams.build(
                    categorical_association_type=ca, continuous_association_type=na, vector_distance_metric=m
                )
                values[m] = float(CorrelationDistanceScore(spec, hp).compute(resources))
            print(f"    ({ca!r}, {na!r}): {values!r},")
    print("}")


if __name__ == "__main__":
    main()
