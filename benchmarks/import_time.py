"""What ``import artifact_jax`` costs over ``import jax`` (issue 11: at most 0.3 s), as whole processes.

Three commands, each a fresh ``python -c`` timed from this process, run in turn (A, B, C, A, B,
C, ...) so that a change of load hits all three alike; each row is the median of ``--rounds``:

* ``import jax``;
* ``import artifact_jax`` (the eager evaluation API: specs, encoding, plans, tracking,
  ``table_comparison``; pandas, pyarrow and matplotlib load on first use);
* ``import artifact_jax, pandas`` (what a user with a DataFrame pays in all).

Bytecode is cached (in a temporary ``PYTHONPYCACHEPREFIX``, warmed once), as in an installed
package; ``--no-bytecode`` sets ``PYTHONDONTWRITEBYTECODE=1`` instead, so that a source tree
without ``__pycache__`` (a checkout where nothing was written) compiles its modules in every
process (about 0.06 s for artifact_jax's eager modules).
``--before DIR`` adds ``import artifact_jax`` from another source tree (``DIR/src`` first on
``sys.path``), e.g. ``git archive HEAD src | tar -x -C DIR`` for the last commit.

Usage: python benchmarks/import_time.py [--rounds 9] [--no-bytecode] [--before DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_latency import timed as timed_command  # noqa: E402  (one process, timed from the parent)


def timed(code: str, env: dict[str, str]) -> float:
    return timed_command([sys.executable, "-c", code], env)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--no-bytecode", action="store_true", help="compile every module in every process")
    p.add_argument("--before", help="a source tree whose src/ holds another artifact_jax to time")
    args = p.parse_args()

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if args.no_bytecode:  # the installed libraries' own __pycache__ is read, none is written
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp()
    cases = {"import jax": ("import jax", env), "import artifact_jax": ("import artifact_jax", env),
             "import artifact_jax, pandas": ("import artifact_jax, pandas", env)}
    if args.before:
        before = dict(env, PYTHONPATH=os.path.join(args.before, "src"))
        cases[f"import artifact_jax ({args.before})"] = ("import artifact_jax", before)
    for code, case_env in cases.values():  # warm the bytecode cache and the OS file cache
        timed(code, case_env)
    rows: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (code, case_env) in cases.items():
            rows[name].append(timed(code, case_env))
    base = statistics.median(rows["import jax"])
    print(f"{'command':<{max(map(len, rows)) + 2}}{'median s':>9}{'min s':>8}{'over jax s':>12}   "
          f"({args.rounds} rounds, {'no bytecode' if args.no_bytecode else 'bytecode cached'}, load {os.getloadavg()[0]:.2f})")
    for name, seconds in rows.items():
        med = statistics.median(seconds)
        print(f"{name:<{max(map(len, rows)) + 2}}{med:>9.3f}{min(seconds):>8.3f}{med - base:>+12.3f}")


if __name__ == "__main__":
    main()
