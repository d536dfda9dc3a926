"""What a worker process does for one run: build the scenario, simulate, encode the record.

:func:`execute_task` is a pure function of its :class:`Task` (STYLE.md §9): it runs the
same way in the calling process, in a local worker process and on a Dask worker, and
returns the record as Parquet bytes (or the traceback) for the coordinating process to
write. It never raises for a failing run: the failure is the result, so Dask's retries
are left for lost workers, not for deterministic errors.
"""

from __future__ import annotations

import os
import platform
import select
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import sim
from sim.experiment.plan import build_scenario
from sim.experiment.records import encode_record
from sim.scenario import scenario_hash

RunFn = Callable[[Any], Any]


@dataclass(frozen=True)
class Task:
    """One run to do: the planned id and everything needed to rebuild its scenario."""

    run_id: str
    scenario: dict[str, Any]  # the resolved base scenario (JSON dump)
    factors: dict[str, Any]
    seed: int
    rep: int
    point: int
    label: str
    experiment_seed: int
    run_fn: RunFn | None = None  # default sim.run.run_scenario; tests pass stand-ins
    numba_threads: int | None = None  # threads for this run's kernels (None: leave as is)
    snapshot_dir: str | None = None  # shared warm-up: fork from (and keep) snapshots here


@dataclass
class Outcome:
    """What came back: a record (``data``) or a failure (``error``, a traceback)."""

    run_id: str
    ok: bool
    data: bytes | None = None
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


_WORKER_INFO: dict[str, Any] | None = None


def worker_info() -> dict[str, Any]:
    """Python, platform and key package versions of this worker (computed once)."""
    global _WORKER_INFO
    if _WORKER_INFO is None:

        def version(name):
            try:
                return metadata.version(name)
            except metadata.PackageNotFoundError:
                return None

        _WORKER_INFO = {
            "govsim": sim.__version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": version("numpy"),
            "numba": version("numba"),
        }
    return _WORKER_INFO


def limit_numba_threads(n: int) -> int:
    """Make this thread run numba kernels on at most ``n`` threads; returns the number used.

    Numba sizes its thread pool once, from ``NUMBA_NUM_THREADS`` when it is first imported,
    and re-reads that variable at every compilation: a value that differs from the pool it
    launched then raises ``RuntimeError: Cannot set NUMBA_NUM_THREADS …``. So the variable
    is set only in a process that has not imported numba yet (the pool is then sized ``n``
    from the start); where numba is already loaded the variable is left alone and the
    calling thread's share is masked with :func:`numba.set_num_threads` (a per-thread
    setting, so each Dask task thread sets its own). Results do not depend on the number
    of threads (counter-based draws), only the speed does.
    """
    n = max(1, int(n))
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(n)
    import numba  # lazy: NUMBA_NUM_THREADS must be set before numba's first import

    used = min(n, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(used)
    return used


def exit_with(pid: int) -> threading.Thread:
    """End this process (``os._exit``) as soon as process ``pid`` has ended.

    A local worker waits for its next task on a pipe that its sibling workers also hold
    open, so it never sees the coordinating process die: after a ``kill -9`` of
    ``govsim compare`` the workers and the forkserver stayed, each holding a loaded model
    (~300 MB), until the machine restarted. A daemon thread waits on a pidfd (Linux ≥ 5.3;
    elsewhere it checks every second) and exits the worker when the coordinator is gone.
    Nothing is lost: records are written by the coordinator only.
    """

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd here, or pid already gone
            fd = None
        if fd is not None:
            select.select([fd], [], [])
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:  # alive, owned by someone else
                    pass
                time.sleep(1.0)
        os._exit(1)

    t = threading.Thread(target=watch, name="govsim-exit-with-coordinator", daemon=True)
    t.start()
    return t


def init_local_worker(numba_threads: int, coordinator_pid: int | None = None) -> None:
    """Initializer of local worker processes: share the cores between the workers.

    Runs in a fresh worker before any kernel (the forkserver preloads no numba), so the
    worker's numba pool is sized ``numba_threads`` from its start; then the model's
    modules are imported once, before the first task. With ``coordinator_pid`` the worker
    ends when that process ends (:func:`exit_with`).
    """
    if coordinator_pid is not None:
        exit_with(coordinator_pid)
    limit_numba_threads(numba_threads)
    # lazy: the model loads numba, allowed only after limit_numba_threads sized its pool
    import sim.run  # noqa: F401  (load the model and its cached kernels before the first task)


def execute_task(task: Task) -> Outcome:
    """Simulate one run and return its record bytes, or its traceback."""
    t0 = time.perf_counter()
    if task.numba_threads is not None:
        limit_numba_threads(task.numba_threads)
    base_info = {"label": task.label, "rep": task.rep, "point": task.point, "seed": task.seed}
    try:
        scenario = build_scenario(task.scenario, task.factors, task.seed)
        rid = scenario_hash(scenario)
        if rid != task.run_id:
            raise RuntimeError(
                f"run id mismatch: this worker computes {rid[:12]} for the run planned as "
                f"{task.run_id[:12]}; the worker's govsim ({worker_info()['govsim']}) or its "
                "scenario schema differs from the planner's"
            )
        if task.run_fn is None:
            from sim.run import run_scenario  # lazy: loads numba (see init_local_worker)

            result = run_scenario(scenario, snapshot_dir=task.snapshot_dir)
        else:
            result = task.run_fn(scenario)
        t_run = time.perf_counter() - t0
        meta = {
            "record_format": 1,
            "run_id": rid,
            "status": "ok",
            **base_info,
            "experiment_seed": task.experiment_seed,
            "seed_spawn_key": [0, task.rep],
            "factors": task.factors,
            "scenario_name": scenario.name,
            "days": scenario.days,
            "scale": scenario.scale,
            "residents": getattr(result, "residents", None),
            "summary": {k: _num(v) for k, v in result.summary.items()},
            "county_values": dict(getattr(result, "county_values", {}) or {}),
            "timings": {**dict(getattr(result, "timings", {}) or {}), "task_s": t_run},
            "worker": {**worker_info(), "pid": os.getpid()},
        }
        data = encode_record(result.daily, meta)
        return Outcome(rid, True, data=data, info={"seconds": time.perf_counter() - t0})
    except Exception as exc:  # a failing run is a result, not a crash
        return Outcome(
            task.run_id,
            False,
            error=traceback.format_exc(),
            info={
                **base_info,
                "factors": task.factors,
                "error_type": type(exc).__name__,
                "message": str(exc)[:500],
                "seconds": time.perf_counter() - t0,
                "worker": {**worker_info(), "pid": os.getpid()},
            },
        )


def _num(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bool):
        return int(v)
    return v
