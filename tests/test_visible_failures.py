"""Failures are visible: no silently dropped artifact names, diagnostics through ``warnings``."""

from __future__ import annotations

import pytest


def test_demo_plan_names_an_unknown_artifact(monkeypatch):
    from artifact_jax.training import demo

    def names(plan):
        return {(e.kind, e.key) for e in plan.entries}

    asked = {(kind, name) for kind, names_ in demo.DEMO_PLAN.items() for name in names_}
    assert names(demo.demo_plan()) == asked  # every name the demo asks for, none dropped
    monkeypatch.setitem(demo.DEMO_PLAN, "plots", [*demo.DEMO_PLAN["plots"], "NOT_A_PLOT"])
    with pytest.raises(ValueError, match="NOT_A_PLOT"):
        demo.demo_plan()
    assert all("plot" not in kind for kind, _ in names(demo.demo_plan(plots=False)))  # not asked for


def test_a_tracker_that_fails_to_close_at_exit_warns():
    from artifact_jax.tracking import background

    class Stuck:
        def shutdown(self, failed, timeout):
            raise OSError("disk full")

    with pytest.warns(RuntimeWarning, match="MyTracker was not closed.*disk full"):
        background._close_at_exit(Stuck(), "MyTracker")
