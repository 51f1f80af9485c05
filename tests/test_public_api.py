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
