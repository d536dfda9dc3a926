"""``govsim optimise`` through the real model: the example plans never recommend above
their budget, and a run killed with SIGKILL resumes to the same result (issue 16).

Slow: each runs the model many times (at 1:1000 and a few days, so the search is short).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.experiment import optimise as opt
from sim.experiment.planner_report import write_planner_report

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "experiments" / "plans"
SMALL = {"scale": 0.001, "days": 10, "trials": 4}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["same_budget", "budget_cut_10", "grid_workers_200"])
def test_example_plan_never_recommends_above_its_budget(tmp_path, name):
    res = opt.optimise(PLANS / f"{name}.toml", tmp_path / name, workers=0, progress=False, **SMALL)
    write_planner_report(tmp_path / name)
    budget = res["budget_yuan_per_year"]
    for c in res["recommendations"] + res["leaders"]:
        assert c["cost_yuan_city"] <= budget
    for t in res["trials"]:
        if t["cost_yuan_city"] > budget:
            assert t["point"] is None and t["feasible"] is False  # never ran
    assert (tmp_path / name / "planner_report.html").is_file()


def _cmd(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim.cli",
        "optimise",
        str(PLANS / "same_budget.toml"),
        "--scale",
        "0.001",
        "--days",
        "10",
        "--trials",
        "8",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]


def _records(out: Path) -> int:
    runs = out / "evaluations" / "runs"
    return len(list(runs.glob("*.parquet"))) if runs.is_dir() else 0


def test_kill_9_then_rerun_gives_the_uninterrupted_result(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        _cmd(killed),
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 600
    try:  # kill the process group (govsim and its worker) once the search has begun
        while time.monotonic() < deadline and proc.poll() is None:
            journal = killed / "study.journal"
            if journal.is_file() and _records(killed) >= 14:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert not (killed / opt.RESULT_FILE).is_file()
    n_before = _records(killed)
    done = subprocess.run(_cmd(killed), cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = tmp_path / "fresh"
    done = subprocess.run(_cmd(fresh), cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    a = json.loads((killed / opt.RESULT_FILE).read_text("utf-8"))
    b = json.loads((fresh / opt.RESULT_FILE).read_text("utf-8"))
    assert [t["params"] for t in a["trials"]] == [t["params"] for t in b["trials"]]
    assert [t["values"] for t in a["trials"]] == [t["values"] for t in b["trials"]]
    assert [c["params"] for c in a["recommendations"]] == [
        c["params"] for c in b["recommendations"]
    ]
    # the runs done before the kill were kept (more records than a fresh folder only if the
    # model's code changed in between: its runs were redone under the new digest)
    assert _records(killed) >= max(_records(fresh), n_before)
    for c in a["recommendations"]:
        assert c["cost_yuan_city"] <= a["budget_yuan_per_year"]


def test_dask_executor_gives_the_same_study_as_in_process(tmp_path):
    import logging

    from distributed import Client, LocalCluster

    sys.path.insert(0, str(ROOT / "tests"))
    import test_optimise as toy  # the toy plan with a known optimum

    scen = tmp_path / "scen"
    scen.mkdir()
    plan = toy._toy_plan(scen, budget=1e12, trials=6)  # every candidate within budget
    local = opt.optimise(plan, tmp_path / "local", workers=0, progress=False, run_fn=toy.toy_run)
    with (
        LocalCluster(
            n_workers=2, processes=False, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        dask = opt.optimise(
            plan, tmp_path / "dask", scheduler=client, progress=False, run_fn=toy.toy_run
        )
    assert [t["values"] for t in dask["trials"]] == [t["values"] for t in local["trials"]]
    assert dask["provenance"]["executor"]["executor"] == "dask-distributed"
