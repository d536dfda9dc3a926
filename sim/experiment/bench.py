"""Overhead of the experiment layer over bare runs (a benchmark, not a timed test).

``python -m sim.experiment.bench [--runs 200] [--days 365] [--scale 0.01] [--workers N]``
times the same runs (the baseline scenario, replication seeds 0…runs−1) twice, each arm
with its own pool of ``workers`` processes, alternating the arms in ``--blocks`` blocks
so that a change of load on the machine hits both alike:

``bare``
    ``ProcessPoolExecutor.map`` of :func:`sim.run.run_scenario`, returning the summary
    only: no planning, no records, no statistics.
``experiment``
    The compare machinery into a fresh folder, each block resuming it: planning and run
    ids, the folder lock, provenance, the worker encoding each record, the coordinating
    process writing it atomically (fsync), and the statistics once at the end.

It prints one JSON object: both wall times, ``overhead`` = experiment / bare − 1, the
coordinating process's CPU seconds (``coordinator_cpu_s``) and, from the records, the
median seconds per run spent inside the worker outside ``run_scenario`` (scenario
rebuild, hash check, Parquet encoding; ``worker_extra_s_per_run_median``). Other work on
the machine adds noise to the wall times; the CPU figures are the noise-free view of what
the layer costs.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from sim.experiment.executors import make_executor, usable_cpus
from sim.experiment.plan import plan_compare, replication_seed
from sim.experiment.records import ExperimentFolder
from sim.experiment.runner import run_plan
from sim.experiment.spec import validate_experiment
from sim.experiment.summary import summarize
from sim.experiment.worker import init_local_worker
from sim.scenario import load_scenario
from sim.scenario.schema import Scenario

BASE = Path(__file__).resolve().parents[2] / "scenarios" / "yancheng.toml"


def _bare_run(args: tuple[dict, int]) -> dict:
    # lazy: this module is the workers' __main__ and must not load numba before
    # init_local_worker sizes its thread pool
    from sim.run import run_scenario

    data, seed = args
    return run_scenario(Scenario.model_validate({**data, "seed": seed})).summary


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _bare_block(data: dict, seeds: list[int], workers: int, threads: int, bar) -> float:
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=init_local_worker, initargs=(threads, os.getpid())
    ) as pool:
        for _ in pool.map(_bare_run, [(data, s) for s in seeds]):
            if bar is not None:
                bar.update(1)
    return time.perf_counter() - t0


def overhead_benchmark(
    runs: int = 200,
    days: int = 365,
    scale: float = 0.01,
    workers: int | None = None,
    scenario: str | Path = BASE,
    blocks: int = 4,
    progress: bool = True,
) -> dict:
    """Time ``runs`` bare runs and the same runs as an experiment; see the module doc.

    The runs are split into ``blocks``; each block runs bare, then as the experiment
    (resuming the same folder, so each block adds its runs), so that a change of load on
    the machine hits both arms alike. The statistics are computed once, at the end.
    """
    workers = workers or usable_cpus()
    threads = max(1, usable_cpus() // workers)
    sc = load_scenario(scenario, [f"days={days}", f"scale={scale}"])
    data = sc.model_dump(mode="json")
    bounds = [round(runs * k / blocks) for k in range(blocks + 1)]
    bar = None
    if progress:
        bar = tqdm(total=2 * runs, desc="bare + experiment runs", unit="run", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="govsim-bench-"))
    out = tmp / "exp"
    t_bare = t_exp = cpu = 0.0
    try:
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            seeds = [replication_seed(sc.seed, r) for r in range(lo, hi)]
            t_bare += _bare_block(data, seeds, workers, threads, bar)
            cpu0, t0 = _cpu_self(), time.perf_counter()
            exp = validate_experiment(
                {
                    "kind": "compare",
                    "name": "bench",
                    "scenarios": [str(scenario)],
                    "replications": hi,
                    "days": days,
                    "scale": scale,
                }
            )
            plan = plan_compare(exp, base_dir=Path(""), where="bench")
            run_plan(
                plan,
                out,
                make_executor(workers),
                progress=False,
                on_outcome=(lambda _o: bar.update(1)) if bar is not None else None,
            )
            t_exp += time.perf_counter() - t0
            cpu += _cpu_self() - cpu0
        cpu0, t0 = _cpu_self(), time.perf_counter()
        res = summarize(out)
        t_stats = time.perf_counter() - t0
        t_exp += t_stats
        cpu += _cpu_self() - cpu0
        folder = ExperimentFolder(out)
        if res.status["failed"] or res.status["done"] != runs:
            rid = (res.status["failed_ids"] or ["?"])[0]
            tb = folder.read_failure(rid)["traceback"] if rid != "?" else ""
            raise RuntimeError(f"the experiment did not finish cleanly: {res.status}\n{tb}")
        extra, run_s = [], []
        for rid in folder.done_ids():
            t = folder.read_meta(rid)["timings"]
            inner = t.get("build_s", 0.0) + t.get("run_s", 0.0)
            extra.append(t["task_s"] - inner)
            run_s.append(inner)
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "runs": runs,
        "days": days,
        "scale": scale,
        "workers": workers,
        "blocks": blocks,
        "bare_wall_s": t_bare,
        "experiment_wall_s": t_exp,
        "overhead": t_exp / t_bare - 1.0,
        "statistics_s": t_stats,
        "coordinator_cpu_s": cpu,
        "coordinator_cpu_share_of_bare_wall": cpu / t_bare,
        "worker_extra_s_per_run_median": statistics.median(extra),
        "worker_run_s_per_run_median": statistics.median(run_s),
        "load_average_at_end": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sim.experiment.bench", description=__doc__)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--scale", type=float, default=0.01)
    p.add_argument("--workers", type=int)
    p.add_argument("--blocks", type=int, default=4)
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    report = overhead_benchmark(
        args.runs,
        args.days,
        args.scale,
        args.workers,
        blocks=args.blocks,
        progress=not args.quiet,
    )
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
