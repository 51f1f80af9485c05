"""Every public name resolves and has a docstring (optax's coverage habit)."""

import inspect

import artifact_jax as aj
from artifact_jax import binary_classification as bc
from artifact_jax import table_comparison as tc


def test_public_names_resolve_and_are_documented():
    for module in (aj, tc, bc):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
                assert inspect.getdoc(obj), f"{module.__name__}.{name} has no docstring"


def test_plans_imports_first_and_alone_and_the_package_stays_light():
    """No import cycle (``artifact_jax.plans`` first, in a fresh interpreter); ``import
    artifact_jax`` loads none of pandas, pyarrow, matplotlib, scipy, mlflow, scikit-learn, Flax or
    orbax (issue 11: at most 0.3 s over ``import jax``); and an Arrow table encodes with pandas
    loaded then, on first use (``artifact_jax.lazy``)."""
    import subprocess
    import sys

    code = (
        "import sys, artifact_jax.plans, artifact_jax\n"
        "from artifact_jax import TableComparisonPlan, TabularDataSpec\n"
        "heavy = ('pandas', 'pyarrow', 'matplotlib', 'scipy', 'mlflow', 'sklearn', 'flax', 'orbax')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
        "import pyarrow as pa\n"
        "spec = TabularDataSpec.from_df(pa.table({'x': [1.5, None], 'k': ['a', 'b']}))\n"
        "enc = artifact_jax.encode(pa.table({'x': [2.0], 'k': ['b']}), spec)\n"
        "print(spec.cat_features, enc.cts.tolist(), enc.cat.tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines() == ["[]", "['k'] [[2.0]] [[1]]"], out.stdout
