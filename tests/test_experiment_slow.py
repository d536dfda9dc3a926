"""Slow experiment tests: SIGKILL and resume, a Dask cluster losing a worker, sensitivity
convergence on the real model. Marked slow (run by .ci/run after the fast suite)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from processes import descendants, still_running

from sim.experiment import compare, sensitivity, status
from sim.experiment.records import ExperimentFolder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "yancheng.toml"
SILOED = ROOT / "scenarios" / "siloed.toml"
CENTRE = ROOT / "scenarios" / "command_centre.toml"


def _record_ids(out: Path) -> list[str]:
    return sorted(p.stem for p in (out / "runs").glob("*.parquet"))


def _wait_for_records(out: Path, n: int, proc=None, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (out / "runs").is_dir() and len(_record_ids(out)) >= n:
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"experiment ended early: {proc.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} records after {timeout} s")


def _check_complete(out: Path) -> None:
    """Every planned run present exactly once, every record readable, nothing left over."""
    plan = ExperimentFolder(out).read_plan()
    planned = sorted({r["run_id"] for r in plan.runs})
    ids = _record_ids(out)
    assert ids == planned  # none lost, none extra (names are run ids: no duplicates)
    seen = set()
    for rid in ids:
        table = pq.read_table(out / "runs" / f"{rid}.parquet")  # not corrupt
        meta = json.loads(table.schema.metadata[b"govsim.record"])
        assert meta["run_id"] == rid and meta["status"] == "ok"
        assert table.num_rows == meta["days"]
        key = (meta["point"], meta["rep"])
        assert key not in seen
        seen.add(key)
    leftovers = [p.name for p in out.rglob(".tmp-*")]
    assert leftovers == []
    assert status(out) == {"done": len(planned), "failed": 0, "pending": 0, "failed_ids": []}


def test_sigkill_at_any_moment_then_rerun_completes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "sim.experiment",
        "compare",
        str(BASE),
        str(SILOED),
        str(CENTRE),
        "--reps",
        "4",
        "--days",
        "30",
        "--scale",
        "0.002",
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # kill 1: once some records exist; kill 2: right after the next start (during setup)
    for wait_records, delay in ((3, 0.0), (None, 1.0)):
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        if wait_records is not None:
            _wait_for_records(out, wait_records, proc)
        time.sleep(delay)
        pytest.importorskip("psutil")
        helpers = descendants(proc.pid)  # forkserver, resource tracker, workers
        if wait_records is not None:
            assert len(helpers) >= 3, helpers  # the workers were running
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # the workers see the coordinator gone and end, and the forkserver with them
        # (they used to stay, each holding a loaded model, until the machine restarted)
        left = still_running(helpers, 20.0)
        assert not left, left
        # while interrupted: status still answers, every record present is whole
        st = status(out)
        assert st["done"] + st["pending"] == 12 and st["failed"] == 0
        for rid in _record_ids(out):
            pq.read_table(out / "runs" / f"{rid}.parquet")
    before = {rid: (out / "runs" / f"{rid}.parquet").stat().st_mtime_ns for rid in _record_ids(out)}
    assert 3 <= len(before) < 12
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    _check_complete(out)
    # the rerun skipped the records already there
    for rid, mtime in before.items():
        assert (out / "runs" / f"{rid}.parquet").stat().st_mtime_ns == mtime
    prov = json.loads((out / "provenance.json").read_text())["invocations"]
    assert len(prov) in (2, 3)  # the second kill may come before the provenance is written
    assert prov[-1]["runs_to_do"] == 12 - len(before)


def test_dask_cluster_losing_a_worker_completes_with_identical_results(tmp_path):
    import logging

    from distributed import Client, LocalCluster

    from sim.experiment.plan import Plan
    from sim.experiment.runner import _tasks
    from sim.experiment.worker import execute_task

    out = tmp_path / "dask"
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        killed = threading.Event()
        seen_status = {}

        def killer():
            _wait_for_records(out, 2, timeout=180)
            seen_status.update(status(out))  # answers while the experiment runs
            os.kill(victim, signal.SIGKILL)
            killed.set()

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        res = compare(
            [BASE, CENTRE],
            reps=6,
            out=out,
            days=60,
            scale=0.002,
            scheduler=cluster.scheduler_address,
            progress=False,
        )
        thread.join(timeout=5)
        assert killed.is_set(), "the worker was not killed while the experiment ran"
        assert seen_status["done"] >= 2 and seen_status["pending"] > 0
        assert res.status == {"done": 12, "failed": 0, "pending": 0, "failed_ids": []}
        assert victim not in client.run(os.getpid).values()  # it really died
    _check_complete(out)
    prov = json.loads((out / "provenance.json").read_text())["invocations"][-1]
    assert prov["executor"]["executor"] == "dask-distributed"
    # same run ids → identical results in this process
    folder = ExperimentFolder(out)
    plan = folder.read_plan()
    assert isinstance(plan, Plan)
    tasks = list(_tasks(plan, {r["run_id"] for r in plan.runs[:3]}, None))
    for task in tasks[:2]:
        here = execute_task(task)
        assert here.ok, here.error
        import io

        local = pq.read_table(io.BytesIO(here.data))
        remote = folder.read_daily(task.run_id)
        assert local.column_names == remote.column_names
        for name in local.column_names:  # bit-identical, NaN where NaN
            a_ = local.column(name).to_numpy(zero_copy_only=False)
            b_ = remote.column(name).to_numpy(zero_copy_only=False)
            assert a_.dtype == b_.dtype and np.array_equal(a_, b_, equal_nan=a_.dtype.kind == "f")
        a = json.loads(local.schema.metadata[b"govsim.record"])
        b = folder.read_meta(task.run_id)
        assert a["seed"] == b["seed"] and a["summary"].keys() == b["summary"].keys()
        for k, v in a["summary"].items():  # JSON null for NaN
            assert v == b["summary"][k], k


def test_sensitivity_on_the_model_reports_indices_at_n_and_2n(tmp_path):
    exp = ROOT / "experiments" / "sensitivity_example.toml"
    res = sensitivity(
        exp,
        out=tmp_path / "sens",
        samples=2,
        reps=1,
        days=30,
        scale=0.001,
        workers=2,
        progress=False,
    )
    plan = ExperimentFolder(tmp_path / "sens").read_plan()
    d = len(plan.sampler["problem"]["names"])
    assert len(plan.points) == 2 * 2 * (d + 1)
    assert res.status["done"] == len({r["run_id"] for r in plan.runs})
    for metric, r in res.indices["metrics"].items():
        assert "error" not in r, metric
        assert len(r["indices"]["mu_star"]) == d and len(r["at_N"]["mu_star"]) == d
        assert all(c >= 0 for c in r["indices"]["mu_star_conf"])
        assert r["change"] >= 0 and isinstance(r["converged"], bool)
    # Sobol on the same file: N·(D+2) rows at 2N, S1/ST with CIs
    res2 = sensitivity(
        exp,
        method="sobol",
        out=tmp_path / "sobol",
        samples=2,
        reps=1,
        days=20,
        scale=0.001,
        workers=2,
        progress=False,
    )
    r = res2.indices["metrics"]["gain_index"]
    assert len(r["indices"]["ST"]) == d and len(r["indices"]["S1_conf"]) == d
    assert r["at_N"] is not None
