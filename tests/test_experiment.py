"""Experiments (sim/experiment): plans, CRN seeds, records, resume, failures, statistics,
experiment-file errors, the CLI and the report. Fast: most runs are stand-ins."""

from __future__ import annotations

import io
import json
import math
import os
import re
import types
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats as sps

from sim.errors import GovsimError
from sim.experiment import cli as exp_cli
from sim.experiment import compare, read_runs, report, sensitivity, status, summarize, sweep
from sim.experiment.executors import LocalExecutor
from sim.experiment.indices import analyze_design
from sim.experiment.plan import build_scenario, replication_seed
from sim.experiment.records import ExperimentFolder
from sim.experiment.spec import load_experiment
from sim.experiment.stats import (
    ci_width_notes,
    compare_stats,
    holm,
    parse_ci_width,
    required_replications,
)
from sim.metrics_schema import SUMMARY_KEYS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "yancheng.toml"
SILOED = ROOT / "scenarios" / "siloed.toml"
CENTRE = ROOT / "scenarios" / "command_centre.toml"
FAIL_MARKER = "GOVSIM_TEST_FAIL_MARKER"


# --------------------------------------------------------------------------- stand-in runs


def fake_run(scenario):
    """A stand-in for run_scenario: instant, deterministic in (scenario, seed)."""
    rng = np.random.default_rng(scenario.seed)
    x = scenario.levers.data.centre_integration
    w = scenario.levers.capability.workers_per_grid
    noise = rng.normal(size=len(SUMMARY_KEYS))
    summary = {k: 50.0 + float(z) for k, z in zip(SUMMARY_KEYS, noise, strict=True)}
    summary["p90_resolution_days"] = 10.0 - 4.0 * x - 1.0 * w + 0.5 * float(noise[0])
    summary["misuse_incidents"] = 0
    days = np.arange(scenario.days)
    daily = {
        "day": days,
        "gain_index": 60 + 10 * x + rng.normal(size=days.size),
        "p90_resolution_days": np.full(days.size, summary["p90_resolution_days"]),
    }
    return types.SimpleNamespace(
        daily=daily, summary=summary, timings={"run_s": 0.0}, residents=100, county_values={}
    )


def flaky_run(scenario):
    """fake_run, but replication seeds divisible by 3 raise while the marker file exists."""
    marker = os.environ.get(FAIL_MARKER)
    if marker and os.path.exists(marker) and scenario.seed % 3 == 0:
        raise RuntimeError(f"injected failure for seed {scenario.seed}")
    return fake_run(scenario)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _records(folder: Path) -> list[Path]:
    return sorted((folder / "runs").glob("*.parquet"))


# --------------------------------------------------------------------------- seeds, plan


def test_replications_share_seeds_across_scenarios_and_survive_more_reps(tmp_path):
    out = tmp_path / "exp"
    compare(
        [BASE, SILOED, CENTRE], reps=3, out=out, days=5, workers=0, progress=False, run_fn=fake_run
    )
    plan = ExperimentFolder(out).read_plan()
    seeds = {}
    for run in plan.runs:
        seeds.setdefault(run["rep"], set()).add(run["seed"])
    assert all(len(s) == 1 for s in seeds.values())  # CRN: one seed per replication
    assert len({next(iter(s)) for s in seeds.values()}) == 3
    assert [next(iter(seeds[r])) for r in range(3)] == [
        replication_seed(plan.seed, r) for r in range(3)
    ]
    # every record stores its seed, replication index and spawn key
    for path in _records(out):
        meta = json.loads(pq.read_schema(path).metadata[b"govsim.record"])
        assert meta["run_id"] == path.stem
        assert meta["seed"] == replication_seed(plan.seed, meta["rep"])
        assert meta["seed_spawn_key"] == [0, meta["rep"]]
    # more replications later: the first three runs are reused, not redone
    res = compare(
        [BASE, SILOED, CENTRE], reps=5, out=out, days=5, workers=0, progress=False, run_fn=fake_run
    )
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["invocations"][-1]["runs_to_do"] == 6
    assert res.status == {"done": 15, "failed": 0, "pending": 0, "failed_ids": []}


def test_run_id_is_scenario_hash_with_seed():
    from sim.scenario import load_scenario, scenario_hash

    sc = load_scenario(BASE, ["days=5"])
    built = build_scenario(sc.model_dump(mode="json"), {"levers.data.data_sharing": 0.7}, 42)
    expected = load_scenario(BASE, ["days=5", "seed=42", "levers.data.data_sharing=0.7"])
    assert scenario_hash(built) == scenario_hash(expected)


# --------------------------------------------------------------------------- resume, failures


def test_rerun_skips_finished_runs_and_cleans_temporaries(tmp_path):
    out = tmp_path / "exp"
    compare([BASE, SILOED], reps=2, out=out, days=4, workers=0, progress=False, run_fn=fake_run)
    before = {p.name: p.stat().st_mtime_ns for p in _records(out)}
    (out / "runs" / ".tmp-deadbeef.parquet.1.abc").write_bytes(b"half a parquet file")
    res = compare(
        [BASE, SILOED], reps=2, out=out, days=4, workers=0, progress=False, run_fn=fake_run
    )
    assert {p.name: p.stat().st_mtime_ns for p in _records(out)} == before
    assert not list((out / "runs").glob(".tmp-*"))
    assert res.status["done"] == 4
    assert json.loads((out / "provenance.json").read_text())["invocations"][-1]["runs_to_do"] == 0


def test_failed_runs_are_recorded_skipped_and_retried(tmp_path, monkeypatch):
    marker = tmp_path / "fail"
    marker.write_text("on")
    monkeypatch.setenv(FAIL_MARKER, str(marker))
    out = tmp_path / "exp"
    plan_seeds = [replication_seed(20231129, r) for r in range(6)]
    n_bad = sum(s % 3 == 0 for s in plan_seeds)
    assert 0 < n_bad < 6, "the stand-in should fail some replications, not all"
    res = compare(
        [BASE, SILOED], reps=6, out=out, days=4, workers=0, progress=False, run_fn=flaky_run
    )
    st = res.status
    assert st["failed"] == 2 * n_bad and st["done"] == 12 - 2 * n_bad and st["pending"] == 0
    info = json.loads((out / "failed" / f"{st['failed_ids'][0]}.json").read_text())
    assert "injected failure" in info["traceback"] and "Traceback" in info["traceback"]
    assert info["error_type"] == "RuntimeError" and "rep" in info and "seed" in info
    assert res.rows and all(r["n"] == 6 - n_bad for r in res.rows)  # stats from finished runs
    # a plain rerun leaves the failures alone
    again = compare(
        [BASE, SILOED], reps=6, out=out, days=4, workers=0, progress=False, run_fn=flaky_run
    )
    assert again.status == st
    # --retry-failed reruns only those
    marker.unlink()
    done_before = {p.name: p.stat().st_mtime_ns for p in _records(out)}
    fixed = compare(
        [BASE, SILOED],
        reps=6,
        out=out,
        days=4,
        workers=0,
        progress=False,
        run_fn=flaky_run,
        retry_failed=True,
    )
    assert fixed.status == {"done": 12, "failed": 0, "pending": 0, "failed_ids": []}
    assert not list((out / "failed").glob("*.json"))
    after = {p.name: p.stat().st_mtime_ns for p in _records(out)}
    assert all(after[name] == t for name, t in done_before.items())
    prov = json.loads((out / "provenance.json").read_text())["invocations"][-1]
    assert prov["runs_to_do"] == 2 * n_bad and prov["retry_failed"] is True


def test_another_experiment_in_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "exp"
    compare([BASE, SILOED], reps=1, out=out, days=3, workers=0, progress=False, run_fn=fake_run)
    with pytest.raises(GovsimError, match="holds another experiment"):
        compare([BASE, CENTRE], reps=1, out=out, days=3, workers=0, progress=False, run_fn=fake_run)
    not_exp = tmp_path / "other"
    not_exp.mkdir()
    (not_exp / "notes.txt").write_text("mine")
    with pytest.raises(GovsimError, match="not an experiment folder"):
        compare(
            [BASE, SILOED], reps=1, out=not_exp, days=3, workers=0, progress=False, run_fn=fake_run
        )
    assert (not_exp / "notes.txt").read_text() == "mine"


def test_a_running_experiment_locks_its_folder(tmp_path):
    out = tmp_path / "exp"
    compare([BASE, SILOED], reps=1, out=out, days=3, workers=0, progress=False, run_fn=fake_run)
    holder = ExperimentFolder(out)
    holder.lock()
    try:
        with pytest.raises(GovsimError, match="another govsim process"):
            compare(
                [BASE, SILOED], reps=2, out=out, days=3, workers=0, progress=False, run_fn=fake_run
            )
        assert status(out)["done"] == 2  # status works while the folder is locked
    finally:
        holder.unlock()


def test_read_runs_table(tmp_path):
    out = tmp_path / "exp"
    compare([BASE, SILOED], reps=3, out=out, days=3, workers=0, progress=False, run_fn=fake_run)
    table = read_runs(out)
    assert table.num_rows == 6
    assert set(table.column("status").to_pylist()) == {"done"}
    assert table.column("label").to_pylist()[:2] == ["yancheng", "siloed"]
    assert all(v is not None for v in table.column("p90_resolution_days").to_pylist())


# --------------------------------------------------------------------------- executors


def _tasks(n, days=3):
    from sim.experiment.plan import plan_compare
    from sim.experiment.runner import _tasks as make_tasks
    from sim.experiment.spec import validate_experiment

    exp = validate_experiment(
        {"kind": "compare", "name": "t", "scenarios": [str(BASE)], "replications": n}
    )
    plan = plan_compare(exp, base_dir=Path(""), where="t", days=days)
    return plan, list(make_tasks(plan, {r["run_id"] for r in plan.runs}, fake_run))


def test_local_processes_bound_the_runs_in_flight_and_match_in_process():
    plan, tasks = _tasks(12)
    pulled = yielded = most = 0

    def counting():
        nonlocal pulled
        for t in tasks:
            pulled += 1
            yield t

    executor = LocalExecutor(2)
    outcomes = {}
    for out in executor.run(counting()):
        yielded += 1
        most = max(most, pulled - yielded)
        outcomes[out.run_id] = out
    assert len(outcomes) == 12 and all(o.ok for o in outcomes.values())
    assert most <= 4  # two per worker: memory is bounded by the runs in flight
    from sim.experiment.worker import execute_task

    for task in tasks[:3]:
        here = execute_task(task)
        a = pq.read_table(io.BytesIO(here.data))
        b = pq.read_table(io.BytesIO(outcomes[task.run_id].data))
        assert a.drop_columns([]).equals(b)
        ma = json.loads(a.schema.metadata[b"govsim.record"])
        mb = json.loads(b.schema.metadata[b"govsim.record"])
        assert ma["summary"] == mb["summary"]


# --------------------------------------------------------------------------- statistics


def test_holm_matches_the_step_down_definition():
    p = [0.01, 0.04, 0.03, float("nan"), 0.005]
    adj = holm(p)
    # sorted: 0.005*4, 0.01*3, 0.03*2, 0.04*1 → 0.02, 0.03, 0.06, 0.06 (monotone)
    assert adj[4] == pytest.approx(0.02)
    assert adj[0] == pytest.approx(0.03)
    assert adj[2] == pytest.approx(0.06)
    assert adj[1] == pytest.approx(0.06)
    assert math.isnan(adj[3])
    assert holm([0.9, 0.8]) == [1.0, 1.0]


def test_compare_stats_paired_difference_effect_size_and_pvalues():
    rng = np.random.default_rng(7)
    n = 25
    common = rng.normal(100, 10, n)  # the CRN part shared by all scenarios
    a = common + rng.normal(0, 1, n)
    b = common + 2.0 + rng.normal(0, 1, n)
    c = common + rng.normal(0, 1, n)
    values = {
        "gain_index": {lab: dict(enumerate(v)) for lab, v in zip("abc", (a, b, c), strict=True)}
    }
    rows = compare_stats(values, ["a", "b", "c"], ["gain_index"], seed=1)
    ref, rb, rc = rows
    assert ref["mean"] == pytest.approx(a.mean()) and ref["ci_low"] < a.mean() < ref["ci_high"]
    d = b - a
    assert rb["diff"] == pytest.approx(d.mean())
    assert rb["diff_ci_low"] < 2.0 < rb["diff_ci_high"]
    # pairing removes the shared variation: the difference's CI is far narrower than the means'
    assert rb["diff_ci_high"] - rb["diff_ci_low"] < 0.2 * (ref["ci_high"] - ref["ci_low"])
    assert rb["d_z"] == pytest.approx(d.mean() / d.std(ddof=1))
    assert rb["p_ttest"] == pytest.approx(sps.ttest_rel(b, a).pvalue)
    assert rb["p_holm"] == pytest.approx(min(1, 2 * rb["p_ttest"])) or rb["p_holm"] >= rb["p_ttest"]
    assert rb["p_holm"] < 1e-6 and rc["p_holm"] > 0.01
    assert rb["diff_pct"] == pytest.approx(100 * d.mean() / a.mean())
    # reproducible bootstraps
    assert compare_stats(values, ["a", "b", "c"], ["gain_index"], seed=1) == rows


def test_compare_stats_pairs_only_common_replications_and_handles_constants():
    values = {
        "misuse_incidents": {"a": {0: 0.0, 1: 0.0, 2: 0.0}, "b": {0: 0.0, 2: 0.0}},
        "gain_index": {"a": {0: 1.0, 1: 2.0, 2: 3.0}, "b": {0: 2.0, 2: math.nan}},
    }
    rows = compare_stats(values, ["a", "b"], ["misuse_incidents", "gain_index"])
    mis_b = rows[1]
    assert mis_b["n_pairs"] == 2 and mis_b["diff"] == 0 and mis_b["diff_ci_low"] == 0
    assert rows[0]["ci_low"] == rows[0]["ci_high"] == 0.0
    gain_b = rows[3]
    assert gain_b["n"] == 1 and gain_b["n_pairs"] == 1 and math.isnan(gain_b["diff_ci_low"])


def test_ci_width_says_when_n_is_too_small_and_suggests_n():
    # t-interval: n = (2 t sd / W)^2; sd 1, W 0.5 → n ≈ 64
    n = required_replications(1.0, 0.5)
    assert 60 <= n <= 70
    half = sps.t.ppf(0.975, n - 1) / math.sqrt(n)
    assert 2 * half <= 0.5 < 2 * sps.t.ppf(0.975, n - 2) / math.sqrt(n - 1)
    rng = np.random.default_rng(3)
    values = {
        "gain_index": {
            "a": dict(enumerate(rng.normal(60, 3, 10))),
            "b": dict(enumerate(rng.normal(61, 3, 10))),
        }
    }
    rows = compare_stats(values, ["a", "b"], ["gain_index"])
    notes = ci_width_notes(rows, parse_ci_width(["gain_index=0.5"]))
    assert len(notes) == 1 and notes[0]["n"] == 10 and notes[0]["suggested_n"] > 100
    assert ci_width_notes(rows, parse_ci_width(["gain_index=50"])) == []
    assert ci_width_notes(rows, parse_ci_width(["0.5"])) == []  # 50 % of ~60 is wide enough
    with pytest.raises(GovsimError, match="unknown metric 'gain'"):
        parse_ci_width(["gain=0.5"])
    with pytest.raises(GovsimError, match="must be a number > 0"):
        parse_ci_width(["-1"])


def test_compare_reports_ci_width_notes(tmp_path):
    res = compare(
        [BASE, SILOED],
        reps=3,
        out=tmp_path / "e",
        days=3,
        workers=0,
        progress=False,
        run_fn=fake_run,
        ci_width=["gain_index=0.01"],
    )
    assert [n["metric"] for n in res.notes] == ["gain_index"]
    assert "about N = " in res.text and "注意" in res.text
    assert "gain_index" in json.dumps(
        json.loads((tmp_path / "e" / "stats.json").read_text())["notes"]
    )


# --------------------------------------------------------------------------- sweeps, sensitivity


def test_factorial_sweep_rounds_integer_levers_and_reports_points(tmp_path):
    exp = _write(
        tmp_path / "sw.toml",
        f"""
kind = "sweep"
name = "sw"
base = "{BASE.as_posix()}"
replications = 2
days = 3
[[factors]]
path = "levers.data.centre_integration"
range = [0.0, 1.0]
levels = 3
[[factors]]
path = "levers.capability.workers_per_grid"
values = [1, 2]
""",
    )
    res = sweep(exp, out=tmp_path / "out", workers=0, progress=False, run_fn=fake_run)
    plan = ExperimentFolder(tmp_path / "out").read_plan()
    assert len(plan.points) == 6 and res.status["done"] == 12
    assert {p["factors"]["levers.capability.workers_per_grid"] for p in plan.points} == {1, 2}
    by = {(r["point"], r["metric"]): r for r in res.rows}
    best = min(range(6), key=lambda p: by[(p, "p90_resolution_days")]["mean"])
    assert plan.points[best]["factors"] == {
        "levers.data.centre_integration": 1.0,
        "levers.capability.workers_per_grid": 2,
    }
    assert (tmp_path / "out" / "table.csv").read_text().count("\n") == 1 + 6 * len(SUMMARY_KEYS)


def test_latin_hypercube_sweep_is_reproducible_and_within_ranges(tmp_path):
    exp = _write(
        tmp_path / "lhs.toml",
        f"""
kind = "sweep"
name = "lhs"
base = "{BASE.as_posix()}"
design = "lhs"
samples = 7
replications = 1
days = 2
[[factors]]
path = "levers.data.data_sharing"
range = [0.2, 0.6]
[[factors]]
path = "levers.capability.workers_per_grid"
range = [1, 4]
""",
    )
    sweep(exp, out=tmp_path / "a", workers=0, progress=False, run_fn=fake_run)
    sweep(exp, out=tmp_path / "b", workers=0, progress=False, run_fn=fake_run)
    pa_ = ExperimentFolder(tmp_path / "a").read_plan()
    pb = ExperimentFolder(tmp_path / "b").read_plan()
    assert [p["factors"] for p in pa_.points] == [p["factors"] for p in pb.points]
    xs = [p["factors"]["levers.data.data_sharing"] for p in pa_.points]
    ws = [p["factors"]["levers.capability.workers_per_grid"] for p in pa_.points]
    assert all(0.2 <= x <= 0.6 for x in xs) and all(isinstance(w, int) and 1 <= w <= 4 for w in ws)
    # Latin hypercube: one sample in each of the 7 strata of every factor
    assert sorted(int((x - 0.2) / 0.4 * 7) for x in xs) == list(range(7))


def _ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_analysis_recovers_ishigami_indices_with_convergence_check():
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    n = 1024
    x = sobol_sample.sample(problem, 2 * n, calc_second_order=False, seed=3)
    sampler = {"samples": n, "rows_per_sample": 5, "convergence": True, "tolerance": 0.1}
    res = analyze_design("sobol", problem, x, _ishigami(x), sampler, seed=1)
    s1, st = res["indices"]["S1"], res["indices"]["ST"]
    # analytic values (Ishigami & Homma 1990; SALib's tests):
    # S1 ≈ 0.314, 0.442, 0 and ST ≈ 0.558, 0.442, 0.244
    assert s1 == pytest.approx([0.314, 0.442, 0.0], abs=0.05)
    assert st == pytest.approx([0.558, 0.442, 0.244], abs=0.05)
    assert all(c > 0 for c in res["indices"]["S1_conf"])
    assert res["converged"] is True and res["change"] < 0.1 and res["at_N"] is not None


def test_morris_sensitivity_end_to_end_with_stand_in(tmp_path):
    exp = _write(
        tmp_path / "m.toml",
        f"""
kind = "sensitivity"
name = "m"
base = "{BASE.as_posix()}"
samples = 6
replications = 2
days = 2
metrics = ["p90_resolution_days", "misuse_incidents"]
[[factors]]
path = "levers.data.centre_integration"
range = [0.0, 1.0]
[[factors]]
path = "levers.data.data_sharing"
range = [0.0, 1.0]
[[factors]]
path = "levers.capability.workers_per_grid"
range = [1, 3]
""",
    )
    res = sensitivity(exp, out=tmp_path / "out", workers=0, progress=False, run_fn=fake_run)
    plan = ExperimentFolder(tmp_path / "out").read_plan()
    assert len(plan.points) == 2 * 6 * 4  # 2N trajectories of D + 1 rows
    assert res.status["done"] == len({r["run_id"] for r in plan.runs})
    p90 = res.indices["metrics"]["p90_resolution_days"]
    mu_star = dict(zip(plan.sampler["problem"]["names"], p90["indices"]["mu_star"], strict=True))
    # the stand-in: −4·integration − 1·workers, no effect of data sharing
    assert mu_star["levers.data.centre_integration"] > mu_star["levers.data.data_sharing"]
    assert mu_star["levers.data.data_sharing"] < 1.0
    assert p90["at_N"] is not None and isinstance(p90["converged"], bool)
    assert res.indices["metrics"]["misuse_incidents"]["indices"]["mu_star"] == [0.0, 0.0, 0.0]
    assert "Morris" in res.text and "convergence" in res.text
    html = report(tmp_path / "out", progress=False).read_text(encoding="utf-8")
    assert "敏感性" in html and "data:image/png;base64," in html
    import sim.experiment

    # the API functions are not shadowed by submodules once those are imported
    assert callable(sim.experiment.sensitivity) and callable(sim.experiment.report)


# --------------------------------------------------------------------------- experiment files


GOOD = """
kind = "sweep"
name = "x"
base = "{base}"
replications = 2
[[factors]]
path = "levers.data.centre_integration"
values = [0.0, 1.0]
"""


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda t: t.replace('kind = "sweep"\n', ""), r"x\.toml: kind: required key is missing"),
        (
            lambda t: t.replace("replications = 2", "replications = 0"),
            r"x\.toml: replications = 0: must be ≥ 1",
        ),
        (
            lambda t: t.replace("replications = 2", "replication = 2"),
            r"x\.toml: replication = 2: unknown key in the top level; "
            r"did you mean 'replications'\?",
        ),
        (
            lambda t: t.replace("centre_integration", "centre_integratoin"),
            r"x\.toml: factors\[0\]\.path = \"levers\.data\.centre_integratoin\": unknown key "
            r"'centre_integratoin' in levers\.data .*did you mean 'centre_integration'\?",
        ),
        (
            lambda t: t.replace("values = [0.0, 1.0]", "values = [0.0, 2.0]"),
            r"x\.toml: factors\[0\]\.values = \[0\.0, 2\.0\]: "
            r"levers\.data\.centre_integration = 2: must be ≤ 1",
        ),
        (
            lambda t: t.replace("values = [0.0, 1.0]", "range = [1.0, 0.0]\nlevels = 2"),
            r"x\.toml: factors\[0\]: range = \[1\.0, 0\.0\] must be \[low, high\] with low < high",
        ),
        (
            lambda t: t.replace('path = "levers.data.centre_integration"', 'path = "levers.data"'),
            r"x\.toml: factors\[0\]\.path = \"levers\.data\": is a table, not a value",
        ),
        (
            lambda t: t.replace('path = "levers.data.centre_integration"', 'path = "seed"'),
            r"x\.toml: factors\[0\]\.path = \"seed\": cannot be varied \(each replication",
        ),
        (
            lambda t: t.replace('kind = "sweep"', 'kind = "swep"'),
            r"x\.toml: kind = \"swep\": must be one of \"compare\", \"sweep\", \"sensitivity\"",
        ),
        (
            lambda t: t.replace("replications = 2", "replications = 2 2"),
            r"x\.toml: TOML syntax error",
        ),
        (
            lambda t: t.replace("{base}", "nope.toml"),
            r"x\.toml: base: .*nope\.toml: scenario file not found",
        ),
        (
            lambda t: t.replace(
                "replications = 2", 'replications = 2\nset = ["levers.data.shring=1"]'
            ),
            r"x\.toml: base: --set .*unknown key 'shring'.*did you mean 'data_sharing'\?",
        ),
    ],
)
def test_bad_experiment_files_get_one_clear_line(tmp_path, edit, pattern):
    text = edit(GOOD).replace("{base}", BASE.as_posix())
    path = _write(tmp_path / "x.toml", text)
    with pytest.raises(GovsimError) as info:
        sweep(path, out=tmp_path / "out", workers=0, progress=False, run_fn=fake_run)
    msg = str(info.value)
    assert "\n" not in msg
    assert re.search(pattern, msg), msg
    assert not (tmp_path / "out").exists()  # nothing written


def test_experiment_kind_must_match_the_command(tmp_path):
    path = _write(tmp_path / "x.toml", GOOD.replace("{base}", BASE.as_posix()))
    with pytest.raises(GovsimError, match=r"this is a sweep experiment; run it with `govsim sweep"):
        sensitivity(path, out=tmp_path / "o", workers=0, progress=False)
    sobol = GOOD.replace('kind = "sweep"', 'kind = "sensitivity"\nmethod = "sobol"\nsamples = 3')
    sobol = sobol.replace("values = [0.0, 1.0]", "range = [0.0, 1.0]")
    bad = _write(tmp_path / "s.toml", sobol.replace("{base}", BASE.as_posix()))
    with pytest.raises(GovsimError, match=r"s\.toml: Sobol samples = 3 must be a power of 2"):
        load_experiment(bad)


def test_the_shipped_experiment_files_are_valid():
    from sim.experiment.plan import plan_compare, plan_sensitivity, plan_sweep

    folder = ROOT / "experiments"
    headline = load_experiment(folder / "headline.toml")
    plan = plan_compare(headline, base_dir=folder, where="headline.toml")
    scenario_files = sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))
    assert sorted(Path(g["source"]).name for g in plan.groups) == scenario_files
    assert plan.points[0]["label"] == "yancheng"
    assert headline.replications == 10 and headline.scale == 0.05
    assert len({r["run_id"] for r in plan.runs}) == 10 * len(scenario_files)
    sw = load_experiment(folder / "sweep_example.toml")
    assert len(plan_sweep(sw, base_dir=folder, where="s").points) == 6
    se = load_experiment(folder / "sensitivity_example.toml")
    assert plan_sensitivity(se, base_dir=folder, where="s").sampler["design"] == "morris"


# --------------------------------------------------------------------------- CLI, report


def _cli(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = exp_cli.main(argv)
    return code, buf.getvalue()


def test_register_adds_the_commands_to_govsims_parser():
    import argparse

    p = argparse.ArgumentParser(prog="govsim")
    sub = p.add_subparsers(dest="command", required=True)
    exp_cli.register(sub)
    args = p.parse_args(
        [
            "compare",
            "a.toml",
            "b.toml",
            "--reps",
            "3",
            "--ci-width",
            "0.1",
            "--set",
            "days=3",
            "--scheduler",
            "tcp://h:8786",
        ]
    )
    assert args.files == ["a.toml", "b.toml"] and args.reps == 3 and args.scheduler
    assert args.func is exp_cli.cmd_compare
    for cmd in ("sweep x.toml", "sensitivity x.toml --method sobol", "status d", "report d"):
        assert callable(p.parse_args(cmd.split()).func)
    with pytest.raises(SystemExit):
        p.parse_args(["compare", "a.toml", "--workers", "2", "--scheduler", "tcp://h:1"])


def test_cli_compare_real_runs_status_and_report(tmp_path, capsys):
    out = tmp_path / "cli"
    code, text = _cli(
        [
            "compare",
            str(BASE),
            str(CENTRE),
            "--reps",
            "2",
            "--days",
            "4",
            "--scale",
            "0.001",
            "--out",
            str(out),
            "--workers",
            "0",
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert "办结时间90分位 (p90 resolution time)" in text and "p (Holm)" in text
    assert "command_centre" in text
    code, text = _cli(["status", str(out)])
    assert code == 0
    assert json.loads(text) == {"done": 4, "failed": 0, "pending": 0, "failed_ids": []}
    code, text = _cli(["report", str(out), "--quiet"])
    assert code == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 3
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # self-contained
    for words in ("情景对比", "comparison", "来源记录", "provenance", "git commit", "时间序列"):
        assert words in html
    md = (out / "table.md").read_text(encoding="utf-8")
    assert md.startswith("| 情景 scenario | 解决率 (resolution rate) |")
    assert "| 指标 metric |" in md
    # the records hold real runs: summary in the footer, daily table with one row per day
    meta = ExperimentFolder(out).read_meta(_records(out)[0].stem)
    assert meta["days"] == 4 and meta["residents"] > 1000
    assert pq.read_table(_records(out)[0]).num_rows == 4


def test_cli_user_errors_exit_2_with_one_line(tmp_path, capsys):
    code, _ = _cli(["compare", str(BASE), "--out", str(tmp_path / "o"), "--workers", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "--reps N is required" in err and err.count("\n") == 1
    code, _ = _cli(["status", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "not an experiment folder" in err
    out = tmp_path / "never"
    code, _ = _cli(
        ["compare", str(BASE), "--reps", "2", "--scheduler", "localhost:1", "--out", str(out)]
    )
    assert code == 2 and "expected a Dask scheduler address" in capsys.readouterr().err
    assert not out.exists()  # nothing written
    code, _ = _cli(["compare", str(BASE), "--reps", "0"])
    assert code == 2 and "--reps 0: must be a whole number ≥ 1" in capsys.readouterr().err


def test_summarize_a_partial_folder(tmp_path):
    out = tmp_path / "exp"
    compare([BASE, SILOED], reps=2, out=out, days=3, workers=0, progress=False, run_fn=fake_run)
    next(iter(_records(out))).unlink()  # as if that run had not finished yet
    res = summarize(out, write=False)
    assert res.status["pending"] == 1 and "pending" in res.text


def test_a_worker_ends_when_its_coordinator_is_killed():
    """exit_with: a process that watches another ends within a second of its end (the
    local workers watch the coordinating govsim process; tested through the real
    executor in test_experiment_slow.py's SIGKILL test)."""
    import signal
    import subprocess
    import sys
    import time

    coordinator = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    code = (
        "import sys, time; from sim.experiment.worker import exit_with; "
        "exit_with(int(sys.argv[1])); print('watching', flush=True); time.sleep(60)"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code, str(coordinator.pid)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout.readline().strip() == "watching"
        time.sleep(0.3)
        assert worker.poll() is None  # still there while the coordinator lives
        os.kill(coordinator.pid, signal.SIGKILL)
        coordinator.wait(timeout=10)
        assert worker.wait(timeout=10) == 1
    finally:
        for p in (coordinator, worker):
            if p.poll() is None:
                p.kill()
