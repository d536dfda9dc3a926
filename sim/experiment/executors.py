"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

Every executor takes an iterable of :class:`~sim.experiment.worker.Task` and yields one
:class:`~sim.experiment.worker.Outcome` per task as runs finish, keeping at most a small
window of tasks in flight (about two per worker), so memory is bounded by the runs in
flight, not by the size of the experiment. The coordinating process writes each outcome
to the folder as it arrives. The same task gives the same record on every executor: the
run is a pure function of its scenario and seed (``execute_task``).

Local processes (default)
    ``LocalExecutor(workers)``: a :class:`concurrent.futures.ProcessPoolExecutor` with the
    ``forkserver`` start method (``spawn`` where there is none), workers importing govsim
    once. Each worker gets ``cores // workers`` numba threads, fixed in its initializer
    before numba is imported there (the forkserver preloads no numba: see
    :func:`~sim.experiment.worker.limit_numba_threads`). A worker that dies (OOM
    killer, segfault) breaks the pool: the pool is rebuilt and the runs that were in flight
    are retried; a run whose worker died ``MAX_WORKER_DEATHS`` times is recorded as failed.

Dask distributed (``--scheduler tcp://HOST:PORT``)
    ``DaskExecutor(address)`` joins an existing cluster with ``distributed.Client``;
    each run is ``client.submit(execute_task, task, key="govsim-run-<run_id>")``, results
    are collected with ``distributed.as_completed``. Tasks on a worker that dies are
    rescheduled by the scheduler; if a task keeps killing workers Dask gives up
    (``KilledWorker``) and the run is recorded as failed (``--retry-failed`` reruns it).
    Every worker needs the same govsim installed (the run id check catches a mismatch).

    Clusters on SLURM or PBS work through the same address with ``dask-jobqueue`` (not a
    govsim dependency; ``pip install dask-jobqueue`` on the login node)::

        # cluster.py — keep this running on the login node
        from dask_jobqueue import SLURMCluster        # or PBSCluster
        cluster = SLURMCluster(cores=8, processes=8, memory="32GB", walltime="04:00:00",
                               job_extra_directives=["--cpus-per-task=8"],
                               python="/path/to/.venv/bin/python")
        cluster.scale(jobs=10)                        # 80 worker processes
        print(cluster.scheduler_address)              # tcp://10.0.0.5:8786
        input("press Enter to stop the cluster")

        # then, from any shell that can reach the scheduler:
        govsim sweep experiments/sweep_example.toml --scheduler tcp://10.0.0.5:8786

    One worker process per core with one thread each (``processes == cores``) suits
    govsim: a run is CPU-bound Python and numba. Each task runs its kernels on one numba
    thread (``Task.numba_threads``, set before numba loads in a fresh worker, a per-thread
    mask where it is already loaded), so the runs do not oversubscribe the cores and no
    environment variable is needed on the workers. The experiment folder only needs to be writable
    by the process that runs ``govsim``; workers return the records over the network.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from sim.errors import GovsimError
from sim.experiment.worker import Outcome, Task, execute_task, init_local_worker
from sim.io import usable_cpus

MAX_WORKER_DEATHS = 2
TASKS_PER_WORKER = 2


def _failed(task: Task, message: str, tb: str | None = None) -> Outcome:
    return Outcome(
        task.run_id,
        False,
        error=tb or message,
        info={
            "label": task.label,
            "rep": task.rep,
            "point": task.point,
            "seed": task.seed,
            "factors": task.factors,
            "error_type": "WorkerLost",
            "message": message,
        },
    )


class InProcessExecutor:
    """Runs one after another in this process (``workers=0``; debugging, notebooks)."""

    def describe(self) -> dict[str, Any]:
        return {"executor": "in-process", "workers": 0}

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        for task in tasks:
            yield execute_task(task)


class LocalExecutor:
    """Local worker processes (see the module docstring)."""

    def __init__(self, workers: int | None = None, numba_threads: int | None = None) -> None:
        cpus = usable_cpus()
        self.workers = workers or cpus
        self.numba_threads = numba_threads or max(1, cpus // self.workers)
        methods = mp.get_all_start_methods()
        self.start_method = "forkserver" if "forkserver" in methods else "spawn"

    def describe(self) -> dict[str, Any]:
        return {
            "executor": "local-processes",
            "workers": self.workers,
            "numba_threads_per_worker": self.numba_threads,
            "start_method": self.start_method,
        }

    def _pool(self) -> cf.ProcessPoolExecutor:
        ctx = mp.get_context(self.start_method)
        if self.start_method == "forkserver":
            # numba must not be loaded before a worker's initializer has sized its thread
            # pool (``limit_numba_threads``): preload only modules that do not import it
            ctx.set_forkserver_preload(["sim.experiment.worker"])
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=init_local_worker,
            initargs=(self.numba_threads, os.getpid()),
        )

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        source = iter(tasks)
        retry: deque[tuple[Task, int]] = deque()
        window = TASKS_PER_WORKER * self.workers
        pool = self._pool()
        inflight: dict[cf.Future, tuple[Task, int]] = {}

        def fill() -> None:
            while len(inflight) < window:
                if retry:
                    task, deaths = retry.popleft()
                else:
                    task = next(source, None)
                    if task is None:
                        return
                    deaths = 0
                inflight[pool.submit(execute_task, task)] = (task, deaths)

        try:
            fill()
            while inflight:
                done, _ = cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
                broken = False
                for fut in done:
                    task, deaths = inflight.pop(fut)
                    try:
                        yield fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        out = self._worker_died(task, deaths + 1, retry)
                        if out is not None:
                            yield out
                    except Exception:
                        yield _failed(task, "executor error", traceback.format_exc())
                if broken:
                    for fut, (task, deaths) in list(inflight.items()):
                        inflight.pop(fut)
                        if fut.done() and fut.exception() is None:
                            yield fut.result()
                            continue
                        out = self._worker_died(task, deaths + 1, retry)
                        if out is not None:
                            yield out
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
                fill()
        finally:
            for fut in inflight:
                fut.cancel()
            pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _worker_died(task: Task, deaths: int, retry: deque) -> Outcome | None:
        if deaths < MAX_WORKER_DEATHS:
            retry.append((task, deaths))
            return None
        return _failed(
            task,
            f"the worker process died (killed or crashed) while running this run, "
            f"{deaths} times; it may need more memory than a worker has",
        )


class DaskExecutor:
    """A Dask distributed cluster (see the module docstring)."""

    def __init__(self, scheduler: Any, retries: int = 1, numba_threads: int = 1) -> None:
        self.scheduler = scheduler
        self.numba_threads = numba_threads
        self.retries = retries
        self._client = None
        self._own_client = False

    def _connect(self):
        try:
            from distributed import Client  # lazy: optional, only for --scheduler
        except ImportError:
            raise GovsimError(
                "--scheduler needs the 'distributed' package: pip install 'dask[distributed]'"
            ) from None
        if isinstance(self.scheduler, Client):
            return self.scheduler
        address = str(self.scheduler)
        if "://" not in address:
            raise GovsimError(
                f"--scheduler {address}: expected a Dask scheduler address such as "
                "tcp://10.0.0.5:8786"
            )
        try:
            client = Client(address, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise GovsimError(
                f"--scheduler {address}: cannot connect to a Dask scheduler "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); start one with "
                "`dask scheduler` (and `dask worker ADDRESS`) or check the address"
            ) from None
        self._own_client = True
        return client

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"executor": "dask-distributed"}
        if self._client is not None:
            try:
                info["scheduler"] = self._client.scheduler.address
                nthreads = self._client.nthreads()
                info["workers"] = len(nthreads)
                info["threads"] = sum(nthreads.values())
            except Exception:  # describing is best effort
                pass
        else:
            info["scheduler"] = str(self.scheduler)
        return info

    def open(self) -> None:
        if self._client is None:
            self._client = self._connect()

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None

    def _window(self) -> int:
        try:
            threads = sum(self._client.nthreads().values())
        except Exception:
            threads = 0
        return max(4, TASKS_PER_WORKER * threads)

    def run(self, tasks: Iterable[Task]) -> Iterator[Outcome]:
        from distributed import as_completed  # lazy: optional (_connect checked it)

        self.open()
        client = self._client
        source = iter(tasks)
        inflight: dict[str, Task] = {}
        ac = as_completed(loop=client.loop)

        def submit(task: Task) -> None:
            key = f"govsim-run-{task.run_id}"
            # one numba thread per run: a Dask worker runs one task per thread of its own
            task = replace(task, numba_threads=self.numba_threads)
            fut = client.submit(execute_task, task, key=key, retries=self.retries, pure=False)
            inflight[key] = task
            ac.add(fut)

        window = self._window()
        for task in source:
            submit(task)
            if len(inflight) >= window:
                break
        n_since_refresh = 0
        try:
            for fut in ac:
                task = inflight.pop(fut.key)
                try:
                    out = fut.result()
                except Exception:
                    out = _failed(task, "Dask could not run this task", traceback.format_exc())
                fut.release()
                yield out
                n_since_refresh += 1
                if n_since_refresh >= 50:  # the cluster may have grown or shrunk
                    window, n_since_refresh = self._window(), 0
                while len(inflight) < window:
                    nxt = next(source, None)
                    if nxt is None:
                        break
                    submit(nxt)
        finally:
            for fut in list(ac.futures):
                fut.cancel()


def make_executor(workers: int | None = None, scheduler: Any = None):
    """``DaskExecutor`` if a scheduler is given, else local processes (``workers=0``: none)."""
    if scheduler is not None:
        if workers is not None:
            raise GovsimError("give --workers or --scheduler, not both (Dask sets its workers)")
        return DaskExecutor(scheduler)
    if workers is not None and workers < 0:
        raise GovsimError(f"--workers {workers}: must be ≥ 0 (0 runs in this process)")
    if workers == 0:
        return InProcessExecutor()
    return LocalExecutor(workers)
