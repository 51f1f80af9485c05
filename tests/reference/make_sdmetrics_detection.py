"""SDMetrics 0.32 ``LogisticDetection`` on the penguins detection pair (the number in
``tests/test_utility.py``).

Run with the oracle venv (``python -m venv /tmp/sdm && /tmp/sdm/bin/pip install sdmetrics==0.32.0``)
from the ``tests`` folder (``PENGUINS_CSV`` names palmerpenguins' CSV where the venv lacks the package)::

    cd tests && PENGUINS_CSV=.../palmerpenguins/data/penguins.csv /tmp/sdm/bin/python -m reference.make_sdmetrics_detection

SDMetrics draws its 3 folds with an unseeded ``StratifiedKFold(shuffle=True)``, i.e. from numpy's
global random state: each repeat seeds that state, and the mean over 20 repeats is the reference
(the spread is printed too).
"""

from __future__ import annotations

import json

import numpy as np
from sdmetrics.single_table import LogisticDetection

from reference.detection_data import load

REPEATS = 20


def main() -> None:
    real, synthetic = load()
    scores = []
    for seed in range(REPEATS):
        np.random.seed(seed)
        scores.append(float(LogisticDetection.compute(real.copy(), synthetic.copy())))
    print(json.dumps({
        "checksum_real": float(real.select_dtypes("number").sum().sum()),
        "checksum_synthetic": float(synthetic.select_dtypes("number").sum().sum()),
        "mean": float(np.mean(scores)), "std": float(np.std(scores)),
        "min": float(np.min(scores)), "max": float(np.max(scores)), "scores": scores,
    }, indent=1))


if __name__ == "__main__":
    main()
