"""What a compare experiment costs before it is run: ``govsim bench --headline FILE``.

The research-scale headline (issue 14: 1:10, three years after a warm-up, 30
replications, every configuration and its equal-cost twin) takes hours on two cores, too
long to time whole in a benchmark. This module measures what it is made of, on this
machine, one numba thread per run as the experiment's workers have:

- building each distinct city and simulating ``sample_days`` days of every scenario, for
  its seconds per simulated day;
- writing and forking one warm-up snapshot (:meth:`sim.model.GovernanceModel.snapshot`);

and adds them up over the experiment's plan: every run's days, every warm-up (one per
city and seed when the experiment shares its warm-up, one per run otherwise). The result
is a projection from measured parts, labelled as such, with and without the shared
warm-up; per-day cost is assumed constant over a run (queues and activation have settled
after the warm-up, so the day's work is stationary), which is what a longer
``sample_days`` checks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sim.experiment.plan import build_scenario, plan_compare
from sim.experiment.spec import load_experiment
from sim.experiment.worker import limit_numba_threads


def headline_cost(
    path: str | Path, sample_days: int = 30, workers: int = 2, progress: bool = True
) -> dict[str, Any]:
    """Project the wall time of the compare experiment ``path`` from measured parts.

    Parameters
    ----------
    path
        A ``kind = "compare"`` experiment file.
    sample_days
        Days simulated per scenario to measure its seconds per day (after its warm-up
        of the same length, so queues are not empty); rounded up to a multiple of the
        residents' clock (``attitude_days``), so the window holds whole steps of it.
    workers
        Worker processes the projection divides the core-seconds by (one numba thread
        each, as ``govsim compare --workers N`` runs them).

    Returns
    -------
    dict
        ``runs``, ``warmups_shared`` / ``warmups_unshared``, per-scenario
        ``seconds_per_day`` and ``build_s``, ``snapshot_write_s`` / ``snapshot_fork_s``
        and ``snapshot_mb``, the projected core-seconds and wall hours with and without
        the shared warm-up (``projected_*``), and ``method``.
    """
    from sim.model import GovernanceModel, snapshot_key, warmup_scenario  # lazy: numba

    path = Path(path)
    exp = load_experiment(path, expect="compare")
    plan = plan_compare(exp, base_dir=path.parent, where=str(path))
    limit_numba_threads(1)
    first_seed = plan.runs[0]["seed"]
    # time whole steps of the residents' clock (sim.kernels.clock): trust and participation
    # move on one day in k, so a window of another length over- or under-counts them
    clock = max(
        build_scenario(plan.groups[pt["group"]]["scenario"], {}, first_seed).attitude_days
        for pt in plan.points
    )
    asked_days, sample_days = sample_days, -(-sample_days // clock) * clock
    per_point: list[dict[str, Any]] = []
    snap_write = snap_fork = snap_mb = 0.0
    for i, point in enumerate(plan.points):
        sc = build_scenario(plan.groups[point["group"]]["scenario"], {}, first_seed)
        probe = sc.model_copy(update={"warmup_days": sample_days})
        t0 = time.perf_counter()
        model = GovernanceModel(warmup_scenario(probe).model_copy(update={"warmup_days": 0}))
        build = time.perf_counter() - t0
        model.run(sample_days)  # settle the queues before timing
        t0 = time.perf_counter()
        model.run(sample_days)
        per_day = (time.perf_counter() - t0) / sample_days
        if i == 0:
            warm = GovernanceModel(warmup_scenario(probe))
            t0 = time.perf_counter()
            data = warm.snapshot()
            snap_write = time.perf_counter() - t0
            t0 = time.perf_counter()
            GovernanceModel.restore(data, probe)
            snap_fork = time.perf_counter() - t0
            snap_mb = len(data) / 2**20
        per_point.append({"label": point["label"], "build_s": build, "seconds_per_day": per_day})
        if progress:
            print(
                f"  {point['label']}: build {build:.2f} s, {per_day * 1e3:.2f} ms/day",
                flush=True,
            )
    days = plan.definition.get("days") or sc.days
    warmup_days = sc.warmup_days
    shared = bool(plan.definition.get("shared_warmup"))
    core_run = core_unshared = 0.0
    keys: set[tuple[str, int]] = set()
    for run in plan.unique_runs():
        pt = per_point[run["point"]]
        run_s = days * pt["seconds_per_day"]
        core_unshared += run_s + pt["build_s"] + warmup_days * pt["seconds_per_day"]
        # a shared warm-up runs under the reference's levers
        warm_per_day = per_point[0 if shared else run["point"]]["seconds_per_day"]
        warm_s = pt["build_s"] + warmup_days * warm_per_day
        sc = build_scenario(plan.groups[plan.points[run["point"]]["group"]]["scenario"], {},
                            run["seed"])  # fmt: skip
        key = snapshot_key(sc) if shared else run["run_id"]
        if (key, run["seed"]) not in keys:
            keys.add((key, run["seed"]))
            core_run += warm_s + (snap_write if shared else 0.0)
        core_run += run_s + (snap_fork if shared else 0.0)
    n_runs = len(plan.unique_runs())
    return {
        "experiment": str(path),
        "scale": sc.scale,
        "residents": int(model.state.city.n_residents),
        "days": int(days),
        "warmup_days": int(warmup_days),
        "runs": n_runs,
        "shared_warmup": shared,
        "warmups": len(keys),
        "sample_days": int(sample_days),
        "sample_days_asked": int(asked_days),
        "attitude_days": int(clock),
        "scenarios": per_point,
        "snapshot_write_s": snap_write,
        "snapshot_fork_s": snap_fork,
        "snapshot_mb": snap_mb,
        "workers": int(workers),
        "projected_core_s": core_run,
        "projected_wall_h": core_run / workers / 3600.0,
        "projected_core_s_without_sharing": core_unshared,
        "projected_wall_h_without_sharing": core_unshared / workers / 3600.0,
        "method": (
            "projection: every run's and warm-up's days × the scenario's measured seconds "
            f"per day ({sample_days} days, a whole number of the residents' clock steps of "
            f"{clock} days; one numba thread), plus measured build, "
            "snapshot and fork times, summed over the plan and divided by the workers"
        ),
    }
