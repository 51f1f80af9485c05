"""Plans: one compiled program per spec and shape, vmap, sharding, config, custom artifacts."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pandas as pd
import pytest

import artifact_jax as aj
from artifact_jax import plans
from artifact_jax import table_comparison as tc
from artifact_jax.encoding import encode_tables
from artifact_jax.plans import _program

NUMERIC = dict(
    scores=["MEAN_JS_DISTANCE", "CORRELATION_DISTANCE"],
    score_collections=["JS_DISTANCE"],
    array_collections=["MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION", "MEDIAN_JUXTAPOSITION"],
)


def _resample(df, seed):
    return df.sample(len(df), replace=True, random_state=seed).reset_index(drop=True)


def test_new_sample_of_same_shape_does_not_recompile(heart_real, heart_synthetic, heart_spec):
    _program.cache_clear()
    plan = aj.TableComparisonPlan(**NUMERIC)
    first = plan.run(heart_real, heart_synthetic, heart_spec)
    options = plans.compile_options(np.zeros((len(heart_real), 1)))  # what evaluate uses for a small table
    static = plan.encode(heart_real, heart_synthetic, heart_spec).static  # (Layout.complete: no NaN in heart)
    assert static.complete
    program = plan.compile(static=static, options=options).run
    traces = program._cache_size()
    second = plan.run(heart_real, _resample(heart_synthetic, 1), heart_spec)
    third = aj.TableComparisonPlan(**NUMERIC).run(heart_real, _resample(heart_synthetic, 2), heart_spec)
    assert program._cache_size() == traces == 1
    assert first.scores["MEAN_JS_DISTANCE"] != second.scores["MEAN_JS_DISTANCE"] != third.scores["MEAN_JS_DISTANCE"]


def test_quick_compile_options_fall_back_where_xla_lacks_one(monkeypatch):
    """Small tables compile with ``PLAN_QUICK_COMPILE`` where XLA knows its options; an XLA that
    rejects one (a removed debug option) gets ``QUICK_COMPILE``, not a compile error."""
    small, large = np.zeros((100, 1)), np.zeros((plans.QUICK_COMPILE_ROWS + 1, 1))
    assert plans.compile_options(small) == plans.PLAN_QUICK_COMPILE and plans.compile_options(large) == ()
    assert not plans._known_options.__wrapped__((("xla_no_such_option", True),))
    monkeypatch.setattr(plans, "PLAN_QUICK_COMPILE", (*plans.QUICK_COMPILE, ("xla_no_such_option", True)))
    assert plans.compile_options(small) == plans.QUICK_COMPILE


def test_jit_equals_eager_and_vmap_equals_loop(heart_real, heart_synthetic, heart_spec):
    plan = aj.TableComparisonPlan(**NUMERIC)
    samples = [_resample(heart_synthetic, s) for s in range(3)]
    with jax.enable_x64(True):
        layout, tables = encode_tables([heart_real, *samples], heart_spec)
        # the options ``run`` compiles a table this small with (and ~2x quicker to compile)
        program = plan.compile(heart_spec, layout, options=plans.compile_options(tables))
        looped = [program(tables[0], t) for t in tables[1:]]
        stacked = jax.tree.map(lambda *xs: np.stack(xs), *tables[1:])
        batched = jax.vmap(program, in_axes=(None, 0))(tables[0], stacked)
        with jax.disable_jit():
            eager = program(tables[0], tables[1])
    for i, one in enumerate(looped):
        for key in one:
            np.testing.assert_allclose(np.asarray(batched[key])[i], np.asarray(one[key]), rtol=1e-12, atol=1e-12)
    for key in eager:
        np.testing.assert_allclose(np.asarray(eager[key]), np.asarray(looped[0][key]), rtol=1e-12, atol=1e-12)


SHARDED = textwrap.dedent(
    """
    import json, sys
    import jax, numpy as np, pandas as pd
    import artifact_jax as aj
    from jax.sharding import Mesh
    real = pd.read_csv(sys.argv[1], index_col=0); synth = pd.read_csv(sys.argv[2], index_col=0)
    cts = ["Age", "RestingBP", "Cholesterol", "MaxHR", "Oldpeak"]
    spec = aj.TabularDataSpec.from_df(real, cts_features=cts, cat_features=[c for c in real if c not in cts])
    plan = aj.TableComparisonPlan(**json.loads(sys.argv[3]))
    mesh = Mesh(np.array(jax.devices()), ("rows",))
    assert len(jax.devices()) == 4
    one = plan.run(real, synth, spec)
    placed, device_put = [], jax.device_put  # record every array the sharded run places
    def spy(x, *args, **kwargs):
        out = device_put(x, *args, **kwargs)
        placed.extend(leaf for leaf in jax.tree.leaves(out) if isinstance(leaf, jax.Array))
        return out
    jax.device_put = spy
    four = plan.run(real, synth, spec, mesh=mesh)
    jax.device_put = device_put
    shards = [{"shape": list(a.shape), "devices": len(a.sharding.device_set), "axis": (list(getattr(a.sharding, "spec", ())) or [None])[0],
               "shards": sorted({tuple(s.data.shape) for s in a.addressable_shards})} for a in placed]
    print(json.dumps({"one": one.to_dict(), "four": four.to_dict(), "placed": shards}))
    """
)


def test_rows_sharded_over_four_devices_give_the_same_numbers(tmp_path):
    from conftest import DATA

    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run(
        [sys.executable, "-c", SHARDED, str(DATA / "heart_real.csv"), str(DATA / "heart_synthetic.csv"), json.dumps(NUMERIC)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    one, four = res["one"], res["four"]
    assert one["scores"].keys() == four["scores"].keys()
    for k in one["scores"]:
        assert four["scores"][k] == pytest.approx(one["scores"][k], abs=1e-12)
    for name, coll in one["array_collections"].items():
        for f, v in coll.items():
            np.testing.assert_allclose(four["array_collections"][name][f], v, rtol=1e-12)
    assert four["scores"]["MEAN_JS_DISTANCE"] == pytest.approx(0.05911080917853397, abs=1e-12)
    # the inputs really were split: every row-indexed leaf of both tables (918 rows padded to 920)
    # on the 4 devices, PartitionSpec('rows', ...), one quarter of the rows per device
    rowwise = [p for p in res["placed"] if p["shape"] and p["shape"][0] == 920]
    assert len(rowwise) >= 4, res["placed"]  # at least cts, cat, valid of real and synthetic
    for p in rowwise:
        assert p["devices"] == 4 and p["axis"] == "rows", p
        assert p["shards"] == [[230, *p["shape"][1:]]], p


def test_artifact_ml_override_file_and_explicit_config(tmp_path, monkeypatch, heart_real, heart_synthetic, heart_spec):
    (tmp_path / ".artifact-ml").mkdir()
    (tmp_path / ".artifact-ml" / "table_comparison.json").write_text(
        json.dumps({"scores": {"MEAN_JS_DISTANCE": {"n_bins_cts_histogram": 10}}})
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)  # found by walking up, as the reference does
    plan = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"])
    # reference value with n_bins 10 (data/table_reference.json, heart)
    assert plan.run(heart_real, heart_synthetic, heart_spec).scores["MEAN_JS_DISTANCE"] == pytest.approx(
        0.01742293479723286, abs=1e-12
    )
    explicit = {"scores": {"MEAN_JS_DISTANCE": {"n_bins_cts_histogram": 5}}}
    assert tc.mean_js_distance(heart_real, heart_synthetic, heart_spec, config=explicit, n_bins_cts_histogram=5) == (
        pytest.approx(0.015123465456839206, abs=1e-12)
    )
    with pytest.raises(ValueError, match="MEAN_JS_DISTANCE: unknown hyperparameter 'n_bins'"):
        aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], config={"scores": {"MEAN_JS_DISTANCE": {"n_bins": 3}}})


@dataclasses.dataclass(frozen=True)
class ScaleHyperparams:
    factor: float = 2.0


def test_custom_artifact_by_string_key(heart_real, heart_synthetic, heart_spec):
    def row_ratio(real, synthetic, spec, *, factor):
        return factor * len(synthetic) / len(real)

    registry = tc.register(tc.REGISTRY, "ROW_RATIO", row_ratio, kind="scores", hyperparams=ScaleHyperparams)
    assert "ROW_RATIO" not in tc.REGISTRY["scores"]  # the built-in registry is untouched
    plan = aj.TableComparisonPlan(
        scores=["ROW_RATIO", "MEAN_JS_DISTANCE"], registry=registry,
        config={"scores": {"ROW_RATIO": {"factor": 3.0}}},
    )
    res = plan.run(heart_real, heart_synthetic, heart_spec)
    assert res.scores["ROW_RATIO"] == 3.0 and 0 < res.scores["MEAN_JS_DISTANCE"] < 0.1
    assert tc.compute("ROW_RATIO", heart_real, heart_synthetic, heart_spec, registry=registry) == 2.0


def test_compute_by_name_and_enum_and_errors(heart_real, heart_synthetic, heart_spec):
    by_name = tc.compute("MEAN_JS_DISTANCE", heart_real, heart_synthetic, heart_spec)
    by_enum = tc.compute(tc.TableComparisonScoreType.MEAN_JS_DISTANCE, heart_real, heart_synthetic, heart_spec)
    assert by_name == by_enum
    assert tc.TableComparisonScoreType.MEAN_JS_DISTANCE.value == "mean_js_distance"
    with pytest.raises(ValueError, match="Unknown artifact 'NOPE'"):
        tc.compute("NOPE", heart_real, heart_synthetic, heart_spec)
    with pytest.raises(ValueError, match="vector_distance_metric='L3' is not one of"):
        tc.correlation_distance(heart_real, heart_synthetic, heart_spec, vector_distance_metric="L3")
    with pytest.raises(ValueError, match="synthetic lacks the spec's features \\['Age'\\]"):
        tc.mean_js_distance(heart_real, heart_synthetic.drop(columns="Age"), heart_spec)
    with pytest.raises(ValueError, match="real is empty"):
        tc.mean_js_distance(heart_real.iloc[:0], heart_synthetic, heart_spec)
    bad = heart_synthetic.assign(Cholesterol=["high"] * len(heart_synthetic))
    with pytest.raises(ValueError, match="continuous column 'Cholesterol' holds non-numeric"):
        tc.mean_js_distance(heart_real, bad, heart_spec)
    with pytest.raises(ValueError, match="spec must be a TabularDataSpec"):
        aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"]).run(heart_real, heart_synthetic, {"Age": "cts"})


def test_plan_logs_with_split_suffix(heart_real, heart_synthetic, heart_spec):
    tracker = aj.InMemoryTracker()
    plan = aj.TableComparisonPlan(**NUMERIC)
    for step in (0, 5):
        plan.run(heart_real, heart_synthetic, heart_spec, tracker=tracker, split="TRAIN", step=step)
    tracker.close()
    assert [s for s, _ in tracker.scores["MEAN_JS_DISTANCE_TRAIN"]] == [0, 5]
    assert "JS_DISTANCE_TRAIN" in tracker.score_collections and "MEAN_JUXTAPOSITION_TRAIN" in tracker.array_collections
    assert tracker.params  # the plan's hyperparameters, logged once
    assert len(tracker.files["TABULAR_DATA_SYNTHETIC"]) == 2


def test_compare_runs_the_default_plan(heart_real, heart_synthetic, heart_spec):
    res = aj.compare(heart_real, heart_synthetic, heart_spec, plots=False)
    assert set(res.scores) >= {"MEAN_JS_DISTANCE", "CORRELATION_DISTANCE", "DIAGNOSTIC_SCORE"}
    assert len(res.array_collections) == 8 and list(res.score_collections["JS_DISTANCE"])[0] == "Sex"
    assert res.scores["CORRELATION_DISTANCE"] == pytest.approx(0.04174251797616783, abs=1e-12)
    json.dumps(res.to_dict())  # JSON-ready
    assert isinstance(res.array_collections["MEAN_JUXTAPOSITION"]["Age"], np.ndarray)
    assert pd.isna(res.scores.get("nothing", np.nan))


CACHED = textwrap.dedent(
    """
    import json, sys
    import jax, numpy as np, pandas as pd
    import artifact_jax as aj

    aj.use_compilation_cache(sys.argv[1])
    traced = []  # the programs this process traced (a loaded one is neither traced nor lowered)
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: traced.append(str(kw.get("fun_name"))) if event.endswith("jaxpr_trace_duration") else None)
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(list("abc"), 300)})
    synth = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(list("abd"), 200)})
    spec = aj.TabularDataSpec.from_df(real)
    res = aj.compare(real, synth, spec, plots=False)
    # a KDE beside quick parts: two programs (the optimised one compiled beside), both stored
    kde = aj.TableComparisonPlan(score_collections=["JS_DISTANCE"], plots=["PDF"]).run(real, synth, spec)
    print(json.dumps({"plan_traced": any("plan" in name for name in traced), **res.to_dict(),
                      "kde_js": kde.score_collections["JS_DISTANCE"]}))
    """
)


def test_a_second_process_loads_the_compiled_program_from_the_cache(tmp_path):
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_ENABLE_COMPILATION_CACHE="true")
    runs = [
        subprocess.run([sys.executable, "-c", CACHED, str(tmp_path), which], capture_output=True, text=True,
                       env=env, timeout=300)
        for which in ("first", "second")
    ]
    for out in runs:
        assert out.returncode == 0, out.stderr[-3000:]
    first, second = (json.loads(out.stdout.strip().splitlines()[-1]) for out in runs)
    assert first.pop("plan_traced") and not second.pop("plan_traced")  # the second process loads the executable
    assert first == second and first["scores"]["MEAN_JS_DISTANCE"] > 0
    assert first["kde_js"] == first["score_collections"]["JS_DISTANCE"]
    # compare's three programs (reference, fidelity, diagnostics), the PDF's two (JS, KDE)
    assert len(list((tmp_path / "artifact-jax-programs").glob("*.executable"))) == 5


def _split_and_whole(plan, real, synthetic, spec) -> tuple[set[str], dict, dict]:
    """The names of the programs ``plan.evaluate`` compiled, its numbers, and those of the plan's
    one program (``compile``)."""
    from artifact_jax.profiling import Profile

    profile = Profile()
    with jax.enable_x64(True):
        encoded = plan.encode(real, synthetic, spec)
        split = plan.evaluate(encoded)
        whole = jax.device_get(plan.compile(static=encoded.static)(*encoded.inputs))
    return set(profile.programs), split, whole


def test_small_inputs_compile_side_by_side_programs_per_module_and_optimised_part(heart_real, heart_synthetic, heart_spec,
                                                                                    monkeypatch):
    """Small inputs compile quickly, as one program per module of the parts (compiled side by
    side, one a core), but a KDE of more than ``KDE_QUICK_ROWS`` rows runs much longer
    unoptimised: then the PDF plot's part (marked ``registry.optimised(rows=...)``) is a program
    of its own, fully optimised; below, it is quick. The numbers are those of one program
    compiled without options."""
    from artifact_jax.artifacts import table_plots

    plan = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE", "QUALITY_SCORE"], plots=["PDF", "CDF"])
    names, parts = plan._parts()
    groups = plans._split(names, parts, plans.PLAN_QUICK_COMPILE, table_plots.KDE_QUICK_ROWS + 1)
    assert [(label, [name for name, _ in g], options) for label, g, _, options in groups] == [
        ("pdf_numbers", ["plots/PDF"], ()),  # the optimised first: its compile starts first
        ("table_comparison", ["scores/MEAN_JS_DISTANCE"], plans.PLAN_QUICK_COMPILE),
        ("fidelity", ["scores/QUALITY_SCORE"], plans.PLAN_QUICK_COMPILE),
        ("table_plots", ["plots/CDF"], plans.PLAN_QUICK_COMPILE),
    ]
    small = plans._split(names, parts, plans.PLAN_QUICK_COMPILE, table_plots.KDE_QUICK_ROWS)
    assert [(label, [name for name, _ in g]) for label, g, _, _ in small] == [
        ("table_comparison", ["scores/MEAN_JS_DISTANCE"]), ("fidelity", ["scores/QUALITY_SCORE"]),
        ("table_plots", ["plots/PDF", "plots/CDF"])]
    assert plans._split(names, parts, ()) == [("", names, parts, ())]  # large inputs: one program
    tsne = aj.TableComparisonPlan(plots=["TSNE_JUXTAPOSITION"])  # alone, t-SNE is still optimised
    assert [options for *_, options in plans._split(*tsne._parts(), plans.PLAN_QUICK_COMPILE, 918)] == [()]
    monkeypatch.setattr(table_plots.pdf_numbers, "optimised", 0)  # the heart tables' KDEs optimised too
    programs, split, whole = _split_and_whole(plan, heart_real, heart_synthetic, heart_spec)
    assert {"table_comparison_plan_fidelity", "table_comparison_plan_pdf_numbers"} <= programs
    assert set(split) == set(whole)
    for name in whole:
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15), split[name], whole[name])


def test_the_tsne_starts_from_the_quick_programs_pca_while_its_own_program_compiles(heart_real, heart_synthetic,
                                                                                   heart_spec):
    """Beside quick programs, the t-SNE's PCA start (``registry.starts_from``) is computed by the
    quick program of its module, next to the PCA plot's fits (an eigensolver compiles for ~0.7
    CPU s optimised), and the optimised t-SNE program, ordered after it, reads its output
    (``caching.Output``); the embedding is the one program's (or the start's round-off apart)."""

    plan = aj.TableComparisonPlan(plots=["TSNE_JUXTAPOSITION", "PCA_JUXTAPOSITION"],
                                  config={"plots": {"TSNE_JUXTAPOSITION": {"max_iter": 300, "perplexity": 15}}})
    names, parts = plan._parts()
    quick = plans.PLAN_QUICK_COMPILE
    groups = plans._started(plans._split(names, parts, quick, 918), quick)
    assert [(label, [n for n, _ in g], len(p), o) for label, g, p, o, _ in groups] == [
        ("table_plots", ["plots/PCA_JUXTAPOSITION"], 2, quick),  # the PCA plot's part and the t-SNE's start
        ("projection_numbers", ["plots/TSNE_JUXTAPOSITION"], 1, ())]
    assert groups[0][4] is None and [(o.call, o.index) for o in groups[1][4]] == [(0, 1)]
    assert plans._started(plans._split(names, parts, (), 918), ()) == [("", names, parts, (), None)]  # one program
    alone = aj.TableComparisonPlan(plots=["TSNE_JUXTAPOSITION"])._parts()  # a quick program for the start alone
    assert [(label, o) for label, _, _, o, _ in plans._started(plans._split(*alone, quick, 918), quick)] == [
        ("table_plots", quick), ("", ())]
    programs, split, whole = _split_and_whole(plan, heart_real, heart_synthetic, heart_spec)
    assert {"table_comparison_plan_table_plots", "table_comparison_plan_projection_numbers"} <= programs
    np.testing.assert_allclose(split["plots/PCA_JUXTAPOSITION"]["points"], whole["plots/PCA_JUXTAPOSITION"]["points"],
                               rtol=1e-10, atol=1e-12)
    tsne_split, tsne_whole = split["plots/TSNE_JUXTAPOSITION"]["points"], whole["plots/TSNE_JUXTAPOSITION"]["points"]
    assert np.isfinite(tsne_split).all()
    np.testing.assert_allclose(tsne_split, tsne_whole, rtol=1e-3, atol=1e-3 * np.abs(tsne_whole).max())


def test_run_draws_a_programs_figures_while_later_programs_still_compile(heart_real, heart_synthetic, heart_spec,
                                                                        monkeypatch):
    """``run`` calls each program's host parts (draws its figures) as soon as its numbers are in
    (``caching.stored_calls_as_ready``): here the PDF program's compile waits until the CDF's
    figure is drawn, which only a pipelined run can do; the results are ``finalize(evaluate)``'s,
    in the plan's order."""
    import threading

    from artifact_jax import caching
    from artifact_jax.artifacts import table_plots

    drawn, waited = threading.Event(), []
    compile_and_store, hosts = caching._compile_and_store, plans.Plan._hosts

    def compile_after_cdf(lowered, inner, args, name, *rest):
        if name.endswith("pdf_numbers"):
            waited.append(drawn.wait(timeout=60))
        return compile_and_store(lowered, inner, args, name, *rest)

    def hosts_then_signal(entries, numbers, ctx):
        out = hosts(entries, numbers, ctx)
        if ("plots", "CDF") in out:
            drawn.set()
        return out

    monkeypatch.setattr(caching, "_compile_and_store", compile_after_cdf)
    monkeypatch.setattr(plans.Plan, "_hosts", staticmethod(hosts_then_signal))
    monkeypatch.setattr(table_plots.pdf_numbers, "optimised", 0)  # a program of its own at every size
    plan = aj.TableComparisonPlan(scores=["MEAN_JS_DISTANCE"], plots=["PDF", "CDF"])
    monkeypatch.setattr(caching, "_LOADED", {})  # compiled afresh: no program of another test answers
    res = plan.run(heart_real, heart_synthetic, heart_spec)
    assert waited == [True] and list(res.plots) == ["PDF", "CDF"]
    with jax.enable_x64(True):
        again = plan.finalize(plan.evaluate(plan.encode(heart_real, heart_synthetic, heart_spec)), heart_spec,
                              heart_real, heart_synthetic)
    assert res.scores == again.scores and list(again.plots) == ["PDF", "CDF"]


def test_larger_inputs_run_first_from_a_quick_compile_then_from_the_optimised_program(
    heart_real, heart_synthetic, heart_spec, monkeypatch
):
    """Tiered compiling: inputs of more than ``QUICK_COMPILE_ROWS`` rows (the heart tables here)
    run first from a quickly compiled program, then (a process's next calls for the shape)
    from the optimised one; the numbers agree."""
    from artifact_jax import caching

    monkeypatch.setattr(plans, "QUICK_COMPILE_ROWS", 100)
    monkeypatch.setattr(caching, "_SEEN", set())
    options, program = [], plans._program
    monkeypatch.setattr(plans, "_program", lambda *args: options.append(args[3]) or program(*args))
    plan = aj.TableComparisonPlan(scores=["QUALITY_SCORE"], score_collections=["KS_COMPLEMENT"])
    runs = []
    for _ in range(3):
        options.append("run")
        runs.append(plan.run(heart_real, heart_synthetic, heart_spec))
    quick = plans._quick_options()
    assert options == ["run", (), quick, "run", (), (), "run", (), ()]  # (the optimised one's key, then the call's)
    for r in runs[1:]:
        assert r.scores == pytest.approx(runs[0].scores, abs=1e-12)
        assert r.score_collections["KS_COMPLEMENT"] == runs[0].score_collections["KS_COMPLEMENT"]  # (exact counts)


LAPACK = textwrap.dedent(
    """
    import sys
    import jax, jax.numpy as jnp, numpy as np
    from artifact_jax import caching

    jax.config.update("jax_enable_x64", True)
    caching.use_compilation_cache(sys.argv[1])
    eigenvalues = jax.jit(lambda a: jnp.linalg.eigh(a @ a.T)[0])  # a LAPACK call on CPU
    a = np.arange(9.0).reshape(3, 3) / 7
    print(repr(np.asarray(caching.stored_call(eigenvalues, "eigh-test", (a,), "eigh")).tolist()))
    """
)


def test_a_loaded_executable_calling_lapack_runs(tmp_path):
    """An executable with LAPACK calls, loaded in a process that never lowered one, needs jaxlib's
    LAPACK pointers set first (otherwise it segfaults)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_ENABLE_COMPILATION_CACHE="true")
    runs = [subprocess.run([sys.executable, "-c", LAPACK, str(tmp_path)], capture_output=True, text=True, env=env,
                           timeout=120) for _ in range(2)]
    for out in runs:
        assert out.returncode == 0, out.stderr[-3000:]
    assert runs[0].stdout == runs[1].stdout
    assert len(list((tmp_path / "artifact-jax-programs").glob("*.executable"))) == 1


SORTED = textwrap.dedent(
    """
    import sys
    import jax, jax.numpy as jnp, numpy as np
    from artifact_jax import caching

    caching.use_compilation_cache(sys.argv[1])
    program = jax.jit(lambda a: jnp.sort(a, axis=0)[a.shape[0] // 2] + jnp.argsort(a[:, 0]).sum())
    a = np.random.default_rng(0).normal(size=(100, 3)).astype(np.float32)
    print(repr(np.asarray(caching.stored_call(program, "sort-test", (a,), "sorted")).tolist()))
    """
)


def test_a_program_stored_when_the_xla_cache_held_it_still_runs(tmp_path):
    """A stored program whose key changed (e.g. a new artifact_jax) while its XLA program did not:
    the executable JAX's XLA cache hands back is not the one stored (its re-serialisation loses
    functions: the next process failed with ``NOT_FOUND: Function wrapped_iota not found``); a
    fresh compile is, so the next process loads it and runs."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_ENABLE_COMPILATION_CACHE="true")
    outs, stored = [], tmp_path / "artifact-jax-programs"
    for step in range(3):
        if step == 1:  # the XLA cache (if anything filled it) stays, the stored program goes
            shutil.rmtree(stored)
        outs.append(subprocess.run([sys.executable, "-c", SORTED, str(tmp_path)], capture_output=True, text=True,
                                   env=env, timeout=120))
        assert outs[-1].returncode == 0, outs[-1].stderr[-3000:]
        assert len(list(stored.glob("*.executable"))) == 1  # stored again at step 1
        assert len(list(tmp_path.glob("jit_sorted*"))) == 1  # the fresh compile wrote nothing there
    assert outs[0].stdout == outs[1].stdout == outs[2].stdout


CHAINED = textwrap.dedent(
    """
    import sys
    import jax, jax.numpy as jnp, numpy as np
    from artifact_jax import caching

    if len(sys.argv) > 1:
        caching.use_compilation_cache(sys.argv[1])
    first = jax.jit(lambda a: (a.sum(), jnp.cumsum(a)))
    second = jax.jit(lambda a, c: (c * 2 + a).sum())
    a = np.arange(5.0, dtype=np.float32)
    outs = caching.stored_calls([(first, "chain-first", (a,), "first", None),
                                 (second, "chain-second", (a, caching.Output(0, 1)), "second", None)])
    print(repr([float(outs[0][0]), float(outs[1])]))
    """
)


def test_a_call_reads_an_earlier_calls_output_compiled_or_loaded(tmp_path):
    """``caching.Output``: a later program is lowered for an earlier call's output shapes,
    compiled beside it, and called with its output; in later processes both are loaded, or one
    is and the other compiled (the later one lowered for the loaded earlier one's output)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAX_ENABLE_COMPILATION_CACHE="true")
    stored = tmp_path / "artifact-jax-programs"
    outs = []
    for step in range(5):
        if step >= 3:  # one of the two stored programs goes (each in turn): it is compiled again
            sorted(stored.glob("*.executable"))[step - 3].unlink()
        argv = [sys.executable, "-c", CHAINED] + ([str(tmp_path)] if step else [])
        outs.append(subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120))
        assert outs[-1].returncode == 0, outs[-1].stderr[-3000:]
        assert len(list(stored.glob("*.executable"))) == (0 if step == 0 else 2)
    assert {o.stdout for o in outs} == {"[10.0, 50.0]\n"}  # sum(a) = 10; sum(2 cumsum(a) + a) = 2 * 20 + 10


def test_a_call_reading_a_failed_calls_output_raises_and_none_waits(monkeypatch):
    """A program that fails to compile (on the pool) fails the calls reading its output too: the
    error reaches the caller, no thread waits for an output that never comes."""
    from artifact_jax import caching

    compile_and_store = caching._compile_and_store

    def failing(lowered, inner, args, name, *rest):
        if name == "first":
            raise RuntimeError("no compile")
        return compile_and_store(lowered, inner, args, name, *rest)

    monkeypatch.setattr(caching, "_compile_and_store", failing)
    monkeypatch.setattr(caching, "_LOADED", {})
    first, later = jax.jit(lambda a: (a + 1,)), jax.jit(lambda a, b: a + b)
    with pytest.raises(RuntimeError, match="no compile"):
        caching.stored_calls([(first, "chain-failing", (np.float32(1),), "first", None),
                              (later, "chain-later", (np.float32(1), caching.Output(0, 0)), "later", None)])
    with pytest.raises(ValueError, match="does not come before it"):
        caching.stored_calls([(later, "chain-later", (np.float32(1), caching.Output(1, 0)), "later", None),
                              (later, "chain-later", (np.float32(1), np.float32(2)), "later", None)])


def test_program_keys_name_closures_by_what_they_hold():
    from artifact_jax import caching

    mean, std = (tc.REGISTRY["array_collections"][n].device for n in ("MEAN_JUXTAPOSITION", "STD_JUXTAPOSITION"))
    assert caching.stable_key(mean) != caching.stable_key(std)
    assert caching.stable_key(lambda: 0) is None  # not artifact_jax's: never cached by name
    assert caching.stable_key(object()) is None


def test_run_many_is_one_vmapped_call_equal_to_run(heart_real, heart_synthetic, heart_spec):
    plan = aj.default_plan(plots=False)
    samples = [heart_synthetic.iloc[:700], _resample(heart_synthetic, 1).iloc[:700], heart_synthetic.iloc[100:400]]
    many = plan.run_many(heart_real, samples, heart_spec)  # two lengths: padded, stacked
    for res, sample in zip(many, samples, strict=True):
        one = plan.run(heart_real, sample, heart_spec)
        for name, value in one.scores.items():
            assert res.scores[name] == pytest.approx(value, abs=1e-12), name
        for name, coll in one.array_collections.items():
            for f, v in coll.items():
                np.testing.assert_allclose(res.array_collections[name][f], v, rtol=1e-12, atol=1e-12)
    with jax.enable_x64(True):
        layout, tables = encode_tables([heart_real, *samples[1:2] * 2], heart_spec)
        stacked = jax.tree.map(lambda *xs: np.stack(xs), *tables[1:])
        program = plan.compile(heart_spec, layout, options=plans.compile_options(tables))  # as run: ~2x quicker to compile
        batched = jax.vmap(program, in_axes=(None, 0))(tables[0], stacked)
    first, second = plan.finalize(batched, heart_spec, batched=True)
    # identical samples in one batch agree to round-off (XLA may sum a batch element's GEMM in
    # another order), and with run_many
    assert first.scores == pytest.approx(second.scores, abs=1e-12)
    assert first.scores == pytest.approx(many[1].scores, abs=1e-12)


def test_the_garbage_collector_is_paused_while_programs_are_traced_and_restored_after(monkeypatch):
    """``caching.stored_calls`` traces with Python's cyclic collector off (its collections walk
    every object of the process) and leaves it as it found it."""
    import gc

    from artifact_jax import caching

    seen = []

    def program(x):
        seen.append(gc.isenabled())  # at trace time
        return x + 1

    assert gc.isenabled()
    assert int(caching.stored_call(jax.jit(program), None, (np.int32(1),), "gc-test")) == 2
    assert seen == [False] and gc.isenabled()
    with caching.gc_paused():
        kept = [[]]  # made while paused and still alive after: the oldest generation, not walked by the next collections
    assert any(o is kept for o in gc.get_objects(generation=2)) and not any(o is kept for o in gc.get_objects(generation=0))
    monkeypatch.setattr(caching, "PROMOTED_BEFORE_FULL_COLLECTION", 1000)  # a loop's garbage: collected in full
    full = []
    gc.callbacks.append(collected := lambda phase, info: full.append(info["generation"]) if phase == "stop" else None)
    try:
        for _ in range(3):
            with caching.gc_paused():
                garbage = [[] for _ in range(600)]
                garbage.append(garbage)  # a cycle: only a collection frees it
            del garbage
    finally:
        gc.callbacks.remove(collected)
    assert 2 in full
    gc.freeze()  # a process that froze objects itself (before forking workers) keeps them frozen
    try:
        with caching.gc_paused():
            pass
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        with caching.gc_paused():
            pass
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
