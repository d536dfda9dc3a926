"""Run a plan into an experiment folder (resumable), and read the experiment back.

``run_plan`` takes the folder's lock, writes the plan and a provenance entry, then hands
the runs that have no record yet to an executor and writes each outcome as it arrives:
a record for a finished run, a failed record (traceback) for a run that raised. Runs with
a failed record are skipped unless ``retry_failed``. Killing the process at any moment
loses at most the runs in flight; rerunning the same command completes the experiment.

``collect_values`` and ``aggregate_daily`` read the experiment back from the records
(footers only for the summaries; one daily table at a time for the time series), so
memory does not grow with the number of runs' daily tables.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats as sps
from tqdm import tqdm

import sim
from sim.errors import GovsimError
from sim.experiment.plan import Plan, build_scenario
from sim.experiment.records import (
    ExperimentFolder,
    RecordWarning,
    read_json,
    status,
    write_json,
)
from sim.experiment.worker import Task
from sim.metrics_schema import SUMMARY_KEYS
from sim.store import provenance

EXTRA_PACKAGES = ("SALib", "dask", "distributed", "tqdm", "matplotlib")


def _provenance_entry(plan: Plan, executor, retry_failed: bool) -> dict[str, Any]:
    prov = provenance()
    for name in EXTRA_PACKAGES:
        try:
            prov["packages"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            prov["packages"][name] = None
    prov["model_version"] = sim.model_version()  # version + digest of the model's code
    prov["sampler"] = plan.sampler
    prov["executor"] = executor.describe()
    prov["retry_failed"] = retry_failed
    prov["plan"] = {
        "kind": plan.kind,
        "name": plan.name,
        "experiment_seed": plan.seed,
        "replications": plan.replications,
        "points": len(plan.points),
        "runs": len(plan.runs),
        "unique_runs": len(plan.unique_runs()),
        "definition_hash": plan.definition_hash,
    }
    return prov


def _check_same_experiment(folder: ExperimentFolder, plan: Plan) -> None:
    if not folder.plan_path.is_file():
        return
    old = read_json(folder.plan_path)
    if old.get("definition_hash") != plan.definition_hash or old.get("kind") != plan.kind:
        raise GovsimError(
            f"{folder.root}: holds another experiment ({old.get('kind')} '{old.get('name')}', "
            "other scenarios, factors, seed or settings); pass another --out, or delete the "
            "folder to start over"
        )


def _tasks(plan: Plan, run_ids: set[str], run_fn, root: Path | None = None) -> Iterator[Task]:
    # a shared warm-up keeps one snapshot per (warm-up, seed) in the folder's warmup/
    # (without a folder each run simulates its warm-up: the same numbers, more work)
    shared = plan.definition.get("shared_warmup") and root is not None
    snapshots = str(root / "warmup") if shared else None
    runs = [r for r in plan.unique_runs() if r["run_id"] in run_ids]
    if shared:
        runs = warmups_first(plan, runs)
    for run in runs:
        point = plan.points[run["point"]]
        yield Task(
            run_id=run["run_id"],
            scenario=plan.groups[point["group"]]["scenario"],
            factors=point["factors"],
            seed=run["seed"],
            rep=run["rep"],
            point=run["point"],
            label=point["label"],
            experiment_seed=plan.seed,
            run_fn=run_fn,
            snapshot_dir=snapshots,
        )


def warmups_first(plan: Plan, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``runs`` reordered for a shared warm-up: first one run of each (warm-up, seed),
    which simulates that warm-up and writes its snapshot, then the others in the same
    order of warm-ups, which fork the snapshots written long before.

    In plan order the first runs of a replication all need its one baseline warm-up, so
    parallel workers each simulated it at once (the same bytes, written twice). The
    results do not depend on the order (every draw is keyed by seed and day)."""
    from sim.model import snapshot_key  # lazy: numba

    keys = [
        (snapshot_key(build_scenario(plan.groups[plan.points[r["point"]]["group"]]["scenario"],
                                     {}, r["seed"])), r["seed"])
        for r in runs
    ]  # fmt: skip
    first: dict[tuple[str, int], int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    rank = {k: n for n, k in enumerate(first)}
    openers = [runs[i] for i in first.values()]
    rest = sorted(
        (i for i in range(len(runs)) if first[keys[i]] != i), key=lambda i: (rank[keys[i]], i)
    )
    return openers + [runs[i] for i in rest]


def plan_label(plan: Plan) -> str:
    """The experiment's name, or ``yancheng vs fine_grids`` for scenario files compared."""
    if plan.kind == "compare" and plan.name == "compare":  # no experiment file: no name
        labels = [p["label"] for p in plan.points]
        shown = labels[0] if len(labels) == 1 else f"{labels[0]} vs " + ", ".join(labels[1:3])
        if len(labels) > 3:
            shown += f" (+{len(labels) - 3} more)"
        return shown
    return plan.name


def progress_label(plan: Plan) -> str:
    """``compare: yancheng vs fine_grids``, ``sweep: sweep_example``: the progress bar's."""
    return f"{plan.kind}: {plan_label(plan)}"


def run_plan(
    plan: Plan,
    out: str | Path,
    executor,
    *,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable | None = None,
    on_outcome: Callable | None = None,
) -> dict[str, Any]:
    """Execute the runs of ``plan`` missing from ``out``; returns the folder's status.

    Parameters
    ----------
    plan
        From :mod:`sim.experiment.plan`.
    out
        The experiment folder (created if needed; an existing one must hold the same
        experiment, replications aside).
    executor
        From :func:`sim.experiment.executors.make_executor`.
    retry_failed
        Also rerun the runs that have a failed record (otherwise they are skipped).
    run_fn
        Stand-in for :func:`sim.run.run_scenario` (tests); must be picklable by reference.
    """
    folder = ExperimentFolder(out)
    if hasattr(executor, "open"):
        executor.open()  # a bad scheduler address fails before anything is written
    try:
        folder.create()
        folder.lock()
    except BaseException:
        if hasattr(executor, "close"):
            executor.close()
        raise
    try:
        _check_same_experiment(folder, plan)
        write_json(folder.plan_path, plan.to_json())
        folder.remove_temporaries()
        for src, dest, problem in folder.set_aside_damaged():
            warnings.warn(
                f"{src}: damaged run record — {problem}; moved to {dest} (nothing is deleted) "
                "and run again",
                RecordWarning,
                stacklevel=2,
            )
        done = folder.done_ids()
        failed = folder.failed_ids() - done
        todo = {
            r["run_id"]
            for r in plan.unique_runs()
            if r["run_id"] not in done and (retry_failed or r["run_id"] not in failed)
        }
        history = read_json(folder.provenance_path) if folder.provenance_path.is_file() else None
        entries = list((history or {}).get("invocations", []))
        entry = _provenance_entry(plan, executor, retry_failed)
        entry["runs_to_do"] = len(todo)
        entries.append(entry)
        write_json(folder.provenance_path, {"invocations": entries})
        n_failed = 0
        t0 = time.perf_counter()
        bar = None
        if progress and todo:
            bar = tqdm(
                total=len(todo),
                desc=progress_label(plan),
                unit="run",
                file=sys.stderr,
                dynamic_ncols=True,
            )
        try:
            for outcome in executor.run(_tasks(plan, todo, run_fn, folder.root)):
                if outcome.ok:
                    folder.write_record(outcome.run_id, outcome.data)
                else:
                    n_failed += 1
                    folder.write_failure(
                        outcome.run_id,
                        {
                            "run_id": outcome.run_id,
                            **outcome.info,
                            "traceback": outcome.error,
                            "time_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                        },
                    )
                if on_outcome is not None:
                    on_outcome(outcome)
                if bar is not None:
                    bar.update(1)
                    if n_failed:
                        bar.set_postfix(failed=n_failed, refresh=False)
        finally:
            if bar is not None:
                bar.close()
            if hasattr(executor, "close"):
                executor.close()
        st = status(folder.root)
        entry["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        entry["wall_s"] = time.perf_counter() - t0
        entry["status"] = {k: v for k, v in st.items() if k != "failed_ids"}
        write_json(folder.provenance_path, {"invocations": entries})
        return st
    finally:
        folder.unlock()


# --------------------------------------------------------------------------- reading back


def collect_values(
    folder: ExperimentFolder, plan: Plan, metrics: list[str] | None = None
) -> dict[str, dict[int, dict[int, float]]]:
    """``values[metric][point][rep]`` from the records present (summaries only)."""
    metrics = metrics or plan.metrics
    done = folder.done_ids()
    values: dict[str, dict[int, dict[int, float]]] = {m: {} for m in metrics}
    cache: dict[str, dict[str, Any]] = {}
    for run in plan.runs:
        rid = run["run_id"]
        if rid not in done:
            continue
        if rid not in cache:
            cache[rid] = folder.read_meta(rid)["summary"]
        summary = cache[rid]
        for m in metrics:
            v = summary.get(m)
            values[m].setdefault(run["point"], {})[run["rep"]] = (
                float(v) if v is not None else math.nan
            )
    return values


def read_runs(out: str | Path):
    """The experiment's table as a ``pyarrow.Table``: one row per (point, replication).

    Columns: ``run_id``, ``point``, ``label``, ``rep``, ``seed``, one column per factor
    (sweeps, sensitivity), ``status`` (``done``, ``failed`` or ``pending``) and one column
    per summary metric (null unless done). Read from the records' footers.
    """
    folder = ExperimentFolder(out)
    plan = folder.read_plan()
    done = folder.done_ids()
    failed = folder.failed_ids() - done
    factor_names = list(plan.points[0]["factors"]) if plan.points else []
    cols: dict[str, list] = {
        k: [] for k in ("run_id", "point", "label", "rep", "seed", *factor_names, "status")
    }
    for m in SUMMARY_KEYS:
        cols[m] = []
    cache: dict[str, dict] = {}
    for run in plan.runs:
        rid = run["run_id"]
        point = plan.points[run["point"]]
        cols["run_id"].append(rid)
        cols["point"].append(run["point"])
        cols["label"].append(point["label"])
        cols["rep"].append(run["rep"])
        cols["seed"].append(run["seed"])
        for f in factor_names:
            cols[f].append(point["factors"].get(f))
        st = "done" if rid in done else ("failed" if rid in failed else "pending")
        cols["status"].append(st)
        if st == "done" and rid not in cache:
            cache[rid] = folder.read_meta(rid)["summary"]
        summary = cache.get(rid, {}) if st == "done" else {}
        for m in SUMMARY_KEYS:
            v = summary.get(m)
            cols[m].append(float(v) if v is not None else None)
    return pa.table(cols)


class _Welford:
    """Running mean and variance per day (NaN-aware), for one group's time series."""

    def __init__(self) -> None:
        self.n: np.ndarray | None = None
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=float)
        if self.n is None:
            self.n = np.zeros(x.size)
            self.mean = np.zeros(x.size)
            self.m2 = np.zeros(x.size)
        k = min(x.size, self.n.size)
        x = x[:k]
        ok = np.isfinite(x)
        n, mean, m2 = self.n[:k], self.mean[:k], self.m2[:k]
        n[ok] += 1
        delta = np.where(ok, x - mean, 0.0)
        mean += np.where(ok, delta / np.maximum(n, 1), 0.0)
        m2 += np.where(ok, delta * (x - mean), 0.0)

    def result(self) -> dict[str, np.ndarray]:
        n = self.n
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, self.mean, np.nan)
            sd = np.sqrt(np.where(n > 1, self.m2 / np.maximum(n - 1, 1), np.nan))
            half = sps.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
        return {"n": n, "mean": mean, "low": mean - half, "high": mean + half}


def aggregate_daily(
    folder: ExperimentFolder,
    plan: Plan,
    columns: list[str],
    points: list[int] | None = None,
    progress: bool = False,
) -> dict[int, dict[str, dict[str, np.ndarray]]]:
    """Per point and daily column: mean over replications and its 95 % t-interval.

    Streams one record's daily table at a time. Returns ``{point: {column: {"n", "mean",
    "low", "high"}}}``.
    """
    wanted = set(range(len(plan.points)) if points is None else points)
    done = folder.done_ids()
    acc: dict[int, dict[str, _Welford]] = {}
    runs = [r for r in plan.runs if r["point"] in wanted and r["run_id"] in done]
    it = runs
    if progress and runs:
        it = tqdm(runs, desc="daily tables", unit="run", file=sys.stderr, leave=False)
    for run in it:
        try:
            table = folder.read_daily(run["run_id"], columns)
        except GovsimError as exc:  # a damaged record: named, left out
            warnings.warn(
                f"{exc}; left out of the time series (move it out of runs/ and run the "
                "experiment command again to redo it)",
                RecordWarning,
                stacklevel=2,
            )
            continue
        slot = acc.setdefault(run["point"], {})
        for c in table.column_names:
            slot.setdefault(c, _Welford()).add(table.column(c).to_numpy(zero_copy_only=False))
    return {p: {c: w.result() for c, w in cols.items()} for p, cols in acc.items()}
