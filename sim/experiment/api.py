"""The Python API of experiments, with the CLI's names: compare, sweep, sensitivity, status, report.

Each of ``compare``, ``sweep`` and ``sensitivity`` plans the runs, runs the missing ones
into the experiment folder (resumable; see :mod:`sim.experiment.runner`), then computes
the statistics from the records, writes ``table.csv``, ``table.md`` (compare) and
``stats.json`` into the folder and returns an :class:`ExperimentResult`::

    from sim.experiment import compare, report
    res = compare(["scenarios/yancheng.toml", "scenarios/fine_grids.toml"], reps=10,
                  days=90, out="runs/fine_grids_vs_baseline")
    print(res)                      # the tables, Chinese label first
    res.rows                        # the same as a list of dicts (also table.csv)
    report(res.folder)              # report.html
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from sim.errors import GovsimError
from sim.experiment import plan as planning
from sim.experiment.executors import make_executor
from sim.experiment.records import status as folder_status
from sim.experiment.runner import run_plan
from sim.experiment.spec import (
    CompareExperiment,
    SensitivityExperiment,
    is_experiment_file,
    load_experiment,
    validate_experiment,
)
from sim.experiment.stats import parse_ci_width
from sim.experiment.summary import ExperimentResult, summarize
from sim.scenario.messages import allowed_text, fmt_value
from sim.scenario.schema import Scenario


def default_out(plan: planning.Plan) -> Path:
    """``runs/<name>-<hash8>``: the same experiment always lands in the same folder."""
    return Path("runs") / f"{plan.name}-{plan.definition_hash[:8]}"


def _check_reps(reps: int | None) -> None:
    if reps is not None and (isinstance(reps, bool) or not isinstance(reps, int) or reps < 1):
        raise GovsimError(f"--reps {reps}: must be a whole number ≥ 1")


def _check_flags(**flags: Any) -> None:
    """``--days``, ``--scale``, ``--seed``, ``--samples`` checked, named as typed.

    ``days`` and ``scale`` follow the scenario schema, ``seed`` the experiment seed's
    rule, so a bad value is reported as ``--days -5: must be ≥ 1 (…)`` rather than as a
    ``--set`` applied to some scenario.
    """
    fields = {
        "days": Scenario.model_fields["days"],
        "scale": Scenario.model_fields["scale"],
        "seed": CompareExperiment.model_fields["seed"],
        "samples": SensitivityExperiment.model_fields["samples"],
    }
    for name, value in flags.items():
        if value is None:
            continue
        info = fields[name]
        annotation = info.annotation
        if name in ("seed", "samples"):
            annotation = int  # not None: None means the flag was not given
        try:
            TypeAdapter(Annotated[annotation, *info.metadata]).validate_python(value)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            rule = allowed_text(err["type"], err.get("ctx") or {}, err["msg"], value, annotation)
            desc = f" ({info.description})" if info.description else ""
            raise GovsimError(f"--{name} {fmt_value(value)}: {rule}{desc}") from None


def _with(exp, where: str, **updates):
    updates = {k: v for k, v in updates.items() if v is not None}
    if not updates:
        return exp
    return validate_experiment({**exp.model_dump(), **updates}, f"{where} (with options)")


def _execute(plan, out, workers, scheduler, retry_failed, progress, run_fn) -> Path:
    folder = Path(out) if out is not None else default_out(plan)
    executor = make_executor(workers, scheduler)
    run_plan(plan, folder, executor, retry_failed=retry_failed, progress=progress, run_fn=run_fn)
    return folder


# --------------------------------------------------------------------------- compare


def compare(
    scenarios: str | Path | Sequence[str | Path],
    reps: int | None = None,
    out: str | Path | None = None,
    *,
    days: int | None = None,
    scale: float | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    ci_width: Sequence[str | float] = (),
    workers: int | None = None,
    scheduler: Any = None,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable | None = None,
) -> ExperimentResult:
    """Compare scenarios with ``reps`` replications each and common random numbers.

    Parameters
    ----------
    scenarios
        Scenario files (the first is the reference), or one experiment file of
        ``kind = "compare"`` (then ``reps``, ``seed``, ``days``… override the file's).
    reps
        Replications per scenario; replication i uses the same seed in every scenario.
    out
        Experiment folder (default ``runs/<name>-<hash8>``); rerunning resumes it.
    days, scale, overrides
        As ``govsim run``'s ``--days``, ``--scale`` and ``--set``, for every scenario.
    seed
        Experiment seed (default: the reference scenario's seed).
    ci_width
        Requested 95 % CI widths (``0.05`` relative, ``"metric=W"`` absolute): the
        result's ``notes`` say where N is too small and suggest N.
    workers, scheduler
        Local worker processes (default: the core count; 0 = in this process), or a Dask
        scheduler address / ``distributed.Client``.
    retry_failed
        Rerun runs that failed before (otherwise they stay failed).
    """
    _check_reps(reps)
    _check_flags(days=days, scale=scale, seed=seed)
    items = [scenarios] if isinstance(scenarios, str | Path) else list(scenarios)
    if not items:
        raise GovsimError("compare: give at least one scenario file")
    experiment_files = [p for p in items if is_experiment_file(p)]
    if experiment_files:
        if len(items) > 1:
            raise GovsimError(
                f"{experiment_files[0]}: is an experiment file; give either one experiment "
                "file or scenario files, not both"
            )
        path = Path(items[0])
        exp = _with(
            load_experiment(path, expect="compare"), str(path), replications=reps, seed=seed
        )
        base_dir, where = path.parent, str(path)
        widths = list(exp.ci_width) + [str(w) for w in ci_width]
    else:
        if reps is None:
            raise GovsimError("compare: --reps N is required (replications per scenario)")
        exp = validate_experiment(
            {
                "kind": "compare",
                "name": "compare",
                "scenarios": [str(p) for p in items],
                "replications": reps,
                "seed": seed,
            },
            "govsim compare",
        )
        base_dir, where = Path(""), "govsim compare"
        widths = [str(w) for w in ci_width]
    request = parse_ci_width(widths)
    plan = planning.plan_compare(
        exp, base_dir=base_dir, where=where, extra_set=list(overrides), days=days, scale=scale
    )
    folder = _execute(plan, out, workers, scheduler, retry_failed, progress, run_fn)
    return summarize(folder, ci_width=request)


# --------------------------------------------------------------------------- sweep


def sweep(
    experiment: str | Path,
    out: str | Path | None = None,
    *,
    reps: int | None = None,
    days: int | None = None,
    scale: float | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable | None = None,
) -> ExperimentResult:
    """Run a sweep experiment file (factorial grid or Latin hypercube × replications)."""
    _check_reps(reps)
    _check_flags(days=days, scale=scale, seed=seed)
    path = Path(experiment)
    exp = _with(load_experiment(path, expect="sweep"), str(path), replications=reps, seed=seed)
    plan = planning.plan_sweep(
        exp,
        base_dir=path.parent,
        where=str(path),
        extra_set=list(overrides),
        days=days,
        scale=scale,
    )
    folder = _execute(plan, out, workers, scheduler, retry_failed, progress, run_fn)
    return summarize(folder)


# --------------------------------------------------------------------------- sensitivity


def sensitivity(
    experiment: str | Path,
    method: str | None = None,
    out: str | Path | None = None,
    *,
    samples: int | None = None,
    reps: int | None = None,
    days: int | None = None,
    scale: float | None = None,
    overrides: Sequence[str] = (),
    seed: int | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable | None = None,
) -> ExperimentResult:
    """Run a sensitivity experiment file with SALib (``method``: "morris" or "sobol")."""
    _check_reps(reps)
    _check_flags(days=days, scale=scale, seed=seed, samples=samples)
    path = Path(experiment)
    exp = _with(
        load_experiment(path, expect="sensitivity"), str(path), replications=reps, seed=seed
    )
    plan = planning.plan_sensitivity(
        exp,
        base_dir=path.parent,
        where=str(path),
        extra_set=list(overrides),
        days=days,
        scale=scale,
        method=method,
        samples=samples,
    )
    folder = _execute(plan, out, workers, scheduler, retry_failed, progress, run_fn)
    return summarize(folder)


# --------------------------------------------------------------------------- results


def status(out: str | Path) -> dict[str, Any]:
    """``{done, failed, pending, failed_ids}`` of an experiment folder (works while running)."""
    return folder_status(out)


def report(out: str | Path, html: str | Path | None = None, *, progress: bool = True) -> Path:
    """Write the self-contained HTML report of an experiment folder; returns its path."""
    # matplotlib only here: `import sim.experiment` (every worker process) stays without it
    from sim.experiment.html_report import write_report

    return write_report(out, html, progress=progress)
