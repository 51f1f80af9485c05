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
    """No import cycle (``artifact_jax.plans`` first, in a fresh interpreter), and ``import
    artifact_jax`` loads none of matplotlib, mlflow, scikit-learn, orbax or scipy.stats."""
    import subprocess
    import sys

    code = (
        "import sys, artifact_jax.plans, artifact_jax\n"
        "heavy = ('matplotlib', 'mlflow', 'sklearn', 'orbax', 'scipy.stats')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "[]", out.stdout
