"""Command line of experiments: compare, sweep, sensitivity, uncertainty, discover, status,
report.

``register(subparsers)`` adds the commands to ``govsim``'s parser (``sim/cli.py``). User
errors raise :class:`~sim.errors.GovsimError` (one line, exit 2). An experiment whose
runs partly failed still prints its tables, then says so on stderr and exits 1.
``python -m sim.experiment`` runs these commands alone.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import warnings
from collections.abc import Sequence

from sim.errors import GovsimError

EXIT_RUNS_FAILED = 1


def _add_common(sp: argparse.ArgumentParser, *, reps_required: bool = False) -> None:
    sp.add_argument("--reps", type=int, help="replications per scenario or design point")
    sp.add_argument("--out", help="experiment folder (default runs/<name>-<hash8>); rerun resumes")
    sp.add_argument("--days", type=int, help="days to simulate (default: the scenario's)")
    sp.add_argument("--scale", type=float, help="fraction of the population (1:100 = 0.01)")
    sp.add_argument("--seed", type=int, help="experiment seed (replication seeds derive from it)")
    sp.add_argument(
        "--set",
        action="append",
        metavar="KEY.PATH=VALUE",
        help="override a scenario value in every run, e.g. --set levers.data.data_sharing=0.6",
    )
    ex = sp.add_mutually_exclusive_group()
    ex.add_argument(
        "--workers",
        type=int,
        help="local worker processes (default: the core count; 0 = in this process)",
    )
    ex.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on this Dask distributed scheduler (e.g. a dask-jobqueue SLURM/PBS cluster)",
    )
    sp.add_argument("--retry-failed", action="store_true", help="rerun the runs that failed")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")


def _finish(result) -> int:
    print(result.text)
    st = result.status
    print(f"\n实验目录 (experiment folder): {result.folder}")
    if st["failed"]:
        print(
            f"govsim: {st['failed']} run(s) failed (tracebacks in {result.folder}/failed/); "
            f"`govsim status {result.folder}` lists them; rerun with --retry-failed",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    return 0


def _kwargs(args: argparse.Namespace) -> dict:
    return {
        "out": args.out,
        "reps": args.reps,
        "days": args.days,
        "scale": args.scale,
        "overrides": list(args.set or []),
        "seed": args.seed,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "retry_failed": args.retry_failed,
        "progress": not args.quiet,
    }


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our warnings as one ``govsim: warning: …`` line each (no source line)."""
    print(f"govsim: warning: {message}", file=sys.stderr if file is None else file)


def _with_warnings(fn):
    """Run a command showing every :class:`RecordWarning` once, as ``govsim: warning:``."""

    @functools.wraps(fn)
    def wrapper(args):
        # lazy: `govsim --help` parses without pyarrow/scipy
        from sim.experiment.records import RecordWarning

        with warnings.catch_warnings():
            warnings.simplefilter("default", RecordWarning)
            shown = warnings.showwarning

            def show(message, category, *rest, **kw):
                if issubclass(category, RecordWarning):
                    _show_warning(message, category, *rest, **kw)
                else:
                    shown(message, category, *rest, **kw)

            warnings.showwarning = show
            return fn(args)

    return wrapper


def _interruptible(fn):
    @_with_warnings
    def wrapper(args):
        try:
            return fn(args)
        except KeyboardInterrupt:
            print(
                "govsim: interrupted; the finished runs are recorded — rerun the same command "
                "to resume",
                file=sys.stderr,
            )
            return 130

    return wrapper


@_interruptible
def cmd_compare(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without pyarrow/scipy
    from sim.experiment.api import compare

    return _finish(compare(args.files, ci_width=list(args.ci_width or []), **_kwargs(args)))


@_interruptible
def cmd_sweep(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without pyarrow/scipy
    from sim.experiment.api import sweep

    return _finish(sweep(args.file, **_kwargs(args)))


@_interruptible
def cmd_sensitivity(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without pyarrow/scipy
    from sim.experiment.api import sensitivity

    return _finish(
        sensitivity(args.file, method=args.method, samples=args.samples, **_kwargs(args))
    )


@_interruptible
def cmd_optimise(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without optuna/pyarrow/scipy
    from sim.experiment.optimise import optimise, summary_text

    result = optimise(
        args.file,
        args.out,
        days=args.days,
        scale=args.scale,
        overrides=list(args.set or []),
        trials=args.trials,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        retry_failed=args.retry_failed,
    )
    print(summary_text(result))
    from sim.experiment.planner_report import write_planner_report  # lazy: matplotlib

    page = write_planner_report(result["folder"], discover=args.discover)
    print(f"规划报告 (planner report): {page}")
    from sim.experiment.records import status

    failed = status(f"{result['folder']}/evaluations")["failed"]
    if failed:
        print(
            f"govsim: {failed} run(s) failed (tracebacks in {result['folder']}/evaluations/"
            "failed/); their candidates' means leave them out; rerun with --retry-failed",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    return 0


def _add_run_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--out", help="output folder (default runs/<name>-<hash8>); rerun resumes")
    ex = sp.add_mutually_exclusive_group()
    ex.add_argument("--workers", type=int, help="local worker processes (0 = in this process)")
    ex.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="a Dask scheduler")
    sp.add_argument("--retry-failed", action="store_true", help="rerun the runs that failed")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_kwargs(args: argparse.Namespace) -> dict:
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "retry_failed": args.retry_failed,
        "progress": not args.quiet,
    }


@_interruptible
def cmd_uncertainty(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without SALib/scipy
    from pathlib import Path

    from sim.experiment.uncertainty import STAGES, run_uncertainty, summary_text

    stages = args.stages.split(",") if args.stages else list(STAGES)
    result = run_uncertainty(args.file, args.out, stages=stages, **_run_kwargs(args))
    print(summary_text(result, Path(result["folder"])))
    return 0


@_interruptible
def cmd_discover(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without ema_workbench/pandas
    from sim.experiment.discover import run_discover, summary_text

    print(summary_text(run_discover(args.file, args.out, **_run_kwargs(args))))
    return 0


@_with_warnings
def cmd_status(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without pyarrow/scipy
    from sim.experiment.records import status

    print(json.dumps(status(args.dir), ensure_ascii=False))
    return 0


@_with_warnings
def cmd_report(args: argparse.Namespace) -> int:
    # lazy: `govsim --help` parses without pyarrow/scipy
    from sim.experiment.api import report

    if args.robustness:
        from sim.experiment.summary import summarize
        from sim.experiment.uncertainty import attach_robustness

        attach_robustness(args.dir, args.robustness)
        summarize(args.dir)  # table.md with the robustness beside each effect
    path = report(args.dir, args.out, progress=not args.quiet)
    print(f"报告 (report): {path}")
    return 0


def register(subparsers) -> None:
    """Add compare, sweep, sensitivity, status and report to govsim's subparsers."""
    c = subparsers.add_parser(
        "compare",
        help="compare scenarios with replications (common random numbers) and statistics",
    )
    c.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="scenario files, the first is the reference (or one experiment file, kind=compare)",
    )
    _add_common(c)
    c.add_argument(
        "--ci-width",
        action="append",
        metavar="W|METRIC=W",
        help="wanted 95%% CI width: 0.05 = 5%% of the reference mean, or "
        "p90_resolution_days=0.5 in the metric's unit; says if --reps is too small",
    )
    c.set_defaults(func=cmd_compare)

    s = subparsers.add_parser("sweep", help="run a sweep experiment file (factorial or LHS)")
    s.add_argument("file", help="experiment file, e.g. experiments/sweep_example.toml")
    _add_common(s)
    s.set_defaults(func=cmd_sweep)

    g = subparsers.add_parser(
        "sensitivity", help="global sensitivity analysis (SALib Morris or Sobol)"
    )
    g.add_argument("file", help="experiment file, e.g. experiments/sensitivity_example.toml")
    g.add_argument("--method", choices=("morris", "sobol"), help="default: the file's method")
    g.add_argument("--samples", type=int, help="N (Morris trajectories, Sobol base samples)")
    _add_common(g)
    g.set_defaults(func=cmd_sensitivity)

    o = subparsers.add_parser(
        "optimise", help="budget-constrained search over levers (Optuna; plan file kind=optimise)"
    )
    o.add_argument("file", help="plan file, e.g. experiments/plans/same_budget.toml")
    o.add_argument(
        "--out", help="output folder (default runs/optimise-<name>-<hash8>); rerun resumes"
    )
    o.add_argument("--days", type=int, help="days to simulate (default: the plan's)")
    o.add_argument("--scale", type=float, help="fraction of the population (1:100 = 0.01)")
    o.add_argument("--set", action="append", metavar="KEY.PATH=VALUE", help="override a value")
    ox = o.add_mutually_exclusive_group()
    ox.add_argument("--workers", type=int, help="local worker processes (0 = in this process)")
    ox.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="a Dask scheduler")
    o.add_argument("--retry-failed", action="store_true", help="rerun the runs that failed")
    o.add_argument("--quiet", action="store_true", help="no progress bar")
    o.add_argument("--trials", type=int, help="candidates to propose (default: the plan's)")
    o.add_argument("--discover", metavar="DIR", help="a govsim discover folder for the report")
    o.set_defaults(func=cmd_optimise)

    u = subparsers.add_parser(
        "uncertainty",
        help="Morris screening, Sobol indices and robustness of the headline conclusions "
        "over the registry's assumption parameters",
    )
    u.add_argument("file", help="experiment file, e.g. experiments/uncertainty.toml")
    u.add_argument("--stages", help="comma-separated: morris,sobol,robustness (default all)")
    _add_run_options(u)
    u.set_defaults(func=cmd_uncertainty)

    d = subparsers.add_parser(
        "discover", help="scenario discovery (PRIM): where a strategy fails to beat the baseline"
    )
    d.add_argument("file", help="experiment file, e.g. experiments/discover_example.toml")
    _add_run_options(d)
    d.set_defaults(func=cmd_discover)

    st = subparsers.add_parser(
        "status", help="print {done, failed, pending, failed_ids} of an experiment folder"
    )
    st.add_argument("dir", help="experiment folder")
    st.set_defaults(func=cmd_status)

    r = subparsers.add_parser("report", help="write an experiment folder's HTML report")
    r.add_argument("dir", help="experiment folder")
    r.add_argument("--out", help="HTML file (default DIR/report.html)")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument(
        "--robustness",
        metavar="UNCERTAINTY_DIR",
        help="a govsim uncertainty folder: show each conclusion's robustness beside it",
    )
    r.set_defaults(func=cmd_report)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sim.experiment",
        description="govsim experiments: compare, sweep, sensitivity, status, report",
    )
    register(p.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.experiment``: the same error handling as ``govsim``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GovsimError as e:
        print(f"govsim: error: {e}", file=sys.stderr)
        return e.exit_code
