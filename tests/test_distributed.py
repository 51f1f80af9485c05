"""Streaming evaluation under ``jax.distributed``: 2 CPU processes, each streaming its half of
the rows, give the same ``Results`` as one process's ``plan.run`` on all rows (issue 15).

The test starts both processes on 127.0.0.1 (this file is their script: ``python
tests/test_distributed.py PROCESS_ID PORT``), waits for them with a timeout and kills them on
failure. Each prints its ``Results.to_dict()`` as one JSON line.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import types

import numpy as np
import pandas as pd
import pytest

N_PROCESSES, BATCHES, TIMEOUT_S = 2, 3, 150  # ~30 s on a loaded 2-core VM
PLAN = dict(
    scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
    score_collections=["JS_DISTANCE"],
    array_collections=[f"{s}_JUXTAPOSITION" for s in (
        "MEAN", "STD", "VARIANCE", "MIN", "MAX", "MEDIAN", "FIRST_QUARTILE", "THIRD_QUARTILE")],
)  # fmt: skip


def _tables(n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A generated mixed table (3 continuous columns, 2 categorical) with missing values in both
    kinds; the synthetic one holds an unseen category ("d") only in its second half, so only
    process 1 sees it in pass 1 and the vocabulary must be merged across processes."""
    rng = np.random.default_rng(15)

    def table(shift: float) -> pd.DataFrame:
        x = rng.normal(shift, 1.0, n)
        age = rng.integers(18, 80, n).astype(np.float64)  # ties: quantiles between equal values
        kind = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
        y = 0.5 * x + rng.normal(0.0, 1.0, n) + (kind == "b")
        x[rng.random(n) < 0.1], age[rng.random(n) < 0.05], kind[rng.random(n) < 0.05] = np.nan, np.nan, None
        return pd.DataFrame({"x": x, "y": y, "age": age, "kind": kind, "flag": rng.choice(["u", "v"], n)})

    real, synthetic = table(0.0), table(0.3)
    synthetic.loc[synthetic.index[-60::4], "kind"] = "d"
    return real, synthetic


def _shard(df: pd.DataFrame, process: int) -> list[pd.DataFrame]:
    """This process's contiguous share of the rows, in ``BATCHES`` batches."""
    rows = np.array_split(np.arange(len(df)), N_PROCESSES)[process]
    return [df.iloc[r] for r in np.array_split(rows, BATCHES)]


def _worker(process: int, port: int) -> None:
    """One process: join the cluster, stream its shards, print the results as JSON."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=N_PROCESSES,
                               process_id=process, initialization_timeout=60)  # fmt: skip
    import artifact_jax as aj
    from artifact_jax import streaming
    from artifact_jax.spec import TabularDataSpec

    assert jax.process_count() == N_PROCESSES and jax.process_index() == process
    streaming.SELECT_BINS, streaming.GATHER_VALUES = 16, 4  # several refinement passes, all reduced across processes
    real, synthetic = _tables()
    plan = aj.TableComparisonPlan(**PLAN)
    res = plan.run_stream(_shard(real, process), _shard(synthetic, process), TabularDataSpec.from_df(real))
    print(json.dumps(res.to_dict()), flush=True)
    jax.distributed.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_give_the_results_of_one(tmp_path):
    """2 processes x 1 CPU device (gloo collectives), each streaming half of each table: both
    print the same numbers, equal to ``plan.run`` on all rows to 1e-12 (quantiles exactly)."""
    import artifact_jax as aj
    from artifact_jax.spec import TabularDataSpec
    from test_streaming import _assert_equal

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}  # 1 device each
    port, logs, procs = _free_port(), [], []
    try:
        for i in range(N_PROCESSES):
            logs.append((open(tmp_path / f"{i}.out", "w+"), open(tmp_path / f"{i}.err", "w+")))  # noqa: SIM115
            procs.append(subprocess.Popen([sys.executable, __file__, str(i), str(port)], stdout=logs[i][0],
                                          stderr=logs[i][1], env=env))  # fmt: skip
        real, synthetic = _tables()  # the reference while they run
        expected = aj.TableComparisonPlan(**PLAN).run(real, synthetic, TabularDataSpec.from_df(real))
        deadline = time.monotonic() + TIMEOUT_S
        for p in procs:
            p.wait(timeout=max(deadline - time.monotonic(), 1))
    except subprocess.TimeoutExpired:
        pytest.fail(f"the processes ran past {TIMEOUT_S} s (a collective waiting on a process that diverged?):\n"
                    + "\n".join(f"process {i}: {(tmp_path / f'{i}.err').read_text()[-1500:]}" for i in range(len(procs))))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    outputs = []
    for i, (p, (out, err)) in enumerate(zip(procs, logs, strict=True)):
        out.seek(0), err.seek(0)
        text, errors = out.read(), err.read()
        out.close(), err.close()
        assert p.returncode == 0, f"process {i} exited with {p.returncode}:\n{errors[-3000:]}"
        outputs.append(json.loads(text.strip().splitlines()[-1]))
    assert outputs[0]["score_collections"]["JS_DISTANCE"].keys() == {"x", "y", "age", "kind", "flag"}
    results = [types.SimpleNamespace(to_dict=lambda d=d: d) for d in outputs]
    _assert_equal(results[0], results[1])
    reference = types.SimpleNamespace(to_dict=lambda: json.loads(json.dumps(expected.to_dict())))
    for got in results:
        _assert_equal(reference, got)
    for name in ("MEDIAN_JUXTAPOSITION", "FIRST_QUARTILE_JUXTAPOSITION", "THIRD_QUARTILE_JUXTAPOSITION"):
        assert outputs[0]["array_collections"][name] == reference.to_dict()["array_collections"][name]


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]))
