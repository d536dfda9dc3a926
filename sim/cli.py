"""The ``govsim`` command line: run, validate, schema, bench, compile, app, compare, sweep,
sensitivity, status, report.

Every user error (bad file, key, value, argument) is printed as one line on stderr and
exits with code 2; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Sequence

from sim.app.cli import register as register_app
from sim.bench_options import add_arguments as add_bench_arguments
from sim.errors import GovsimError
from sim.experiment.cli import register as register_experiments
from sim.metrics_schema import SUMMARY_KEYS
from sim.scenario import load_scenario, scenario_hash
from sim.scenario.schema import Scenario


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_summary(summary: dict, title: str = "") -> str:
    """The summary as a two-column table, Chinese label first with English beside it."""
    rows = []
    for key, (zh, en, unit) in SUMMARY_KEYS.items():
        v = summary.get(key)
        if v is None or (isinstance(v, float) and v != v):
            s = "—"
        elif unit == "share":
            s = f"{100 * v:.1f} %"
        elif unit == "count" and float(v).is_integer():
            s = f"{int(v):,}"
        elif unit == "days":
            s = f"{v:.2f} 天/days"
        elif unit == "working days":
            s = f"{v:.2f} 工作日/working days"
        else:
            s = f"{v:,.2f}"
        rows.append((f"{zh} ({en})", s))
    w = max(_width(a) for a, _ in rows) + 2
    lines = [title] if title else []
    lines += [_pad(a, w) + b for a, b in rows]
    return "\n".join(lines)


def _overrides(args: argparse.Namespace) -> list[str]:
    sets = list(args.set or [])
    for flag in ("days", "scale", "seed"):
        v = getattr(args, flag, None)
        if v is not None:
            sets.append(f"{flag}={v}")
    return sets


def cmd_run(args: argparse.Namespace) -> int:
    # lazy: sim.run loads numba; worker processes import this module before sizing its pool
    from sim.run import run_file

    result, out = run_file(
        args.file, _overrides(args), out=args.out, force=args.force, progress=not args.quiet,
        figures=not args.no_figures, events=args.events,
    )  # fmt: skip
    sc = result.scenario
    title = (
        f"{sc.title_zh or sc.name} ({sc.title_en or sc.name}): {result.residents:,} 居民/"
        f"residents × {sc.days} 天/days, seed {sc.seed}"
    )
    if result.reused:
        print(
            "已有相同运行的记录（同一情景、种子和模型版本），直接显示保存的结果；"
            "--force 重新计算。\n"
            "This run (same scenario, seed and model version) is already in its folder: showing "
            "the saved result; --force recomputes it.\n",
            file=sys.stderr,
        )
    print(format_summary(result.summary, title))
    print(f"\n运行记录 (run folder): {out}")
    print(
        "注：一次运行是一个随机抽样（一个种子）；README 中的结论是多次重复的均值，见 "
        "experiments/README.md。\n"
        "Note: one run is one random draw (one seed); the README's headline figures are means "
        "over replications (govsim compare experiments/headline.toml)."
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.file, args.set or [])
    print(f"{args.file}: ok ({sc.name}, run id {scenario_hash(sc)[:8]})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(Scenario.model_json_schema(), ensure_ascii=False, indent=2))
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    # lazy, like the other subcommands: only this one walks the parameter registry
    from sim.scenario.registry import render

    print(render(args.format, args.lang, args.assumptions_only))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    # lazy: sim.bench loads numba; worker processes import this module before sizing its pool
    if args.headline:
        from sim.experiment.headline_cost import headline_cost
        from sim.io import atomic_write_json

        report = headline_cost(args.headline, args.sample_days, args.workers, not args.no_progress)
        if args.json_out:
            atomic_write_json(args.json_out, report, make_parents=True)
        print(json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False))
        return 0
    from sim.bench import run_from_args

    return int(run_from_args(args) or 0)


def cmd_compile(args: argparse.Namespace) -> int:
    # lazy: numba
    from pathlib import Path

    from sim.kernels.compile import MANIFEST, compile_with_notice

    if args.write_manifest:
        from sim.run import write_kernel_manifest

        files = sorted(Path(args.scenarios).glob("*.toml"))
        if not files:
            raise GovsimError(f"--scenarios {args.scenarios}: no *.toml scenario files there")
        print(write_kernel_manifest(files))
        return 0
    if args.processes is not None and args.processes < 1:
        raise GovsimError(f"--processes {args.processes}: must be ≥ 1 (helper processes)")
    n = compile_with_notice(args.processes)
    print(
        f"编译了 {n} 个内核签名，已在缓存中（{MANIFEST.name}）。\n"
        f"Compiled {n} kernel signatures; the model's kernels are in numba's cache."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="govsim",
        description="市域社会治理现代化仿真 — simulator of city-level social governance",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_set(sp):
        sp.add_argument(
            "--set", action="append", metavar="KEY.PATH=VALUE",
            help="override a scenario value, e.g. --set levers.capability.workers_per_grid=2",
        )  # fmt: skip

    r = sub.add_parser("run", help="simulate a scenario file and write a run folder")
    r.add_argument("file", help="scenario file (TOML), e.g. scenarios/yancheng.toml")
    r.add_argument("--days", type=int, help="days to simulate (default: the scenario's)")
    r.add_argument("--scale", type=float, help="fraction of the population (1:100 = 0.01)")
    r.add_argument("--seed", type=int, help="master random seed")
    add_set(r)
    r.add_argument("--out", help="run folder (default runs/<scenario>-<hash8>)")
    r.add_argument(
        "--force", action="store_true",
        help="recompute and replace an existing run folder (without it, an existing folder of "
        "the same run is shown as saved)",
    )  # fmt: skip
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    r.add_argument(
        "--events", action="store_true",
        help="also write the event log, events.parquet (what happened to each issue, each day)",
    )  # fmt: skip
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check a scenario file (exit 0 if valid, 2 if not)")
    v.add_argument("file")
    add_set(v)
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.set_defaults(func=cmd_schema)

    pr = sub.add_parser(
        "params", help="print the parameter registry (参数表): unit, source, plausible range"
    )
    pr.add_argument("--lang", choices=("zh", "en"), default="zh", help="names and units")
    pr.add_argument("--format", choices=("text", "markdown", "csv"), default="text")
    pr.add_argument(
        "--assumptions-only", action="store_true",
        help="only the parameters whose source is 'assumption'",
    )  # fmt: skip
    pr.set_defaults(func=cmd_params)

    b = sub.add_parser("bench", help="benchmark throughput, memory and the ratio to the twins")
    add_bench_arguments(b)
    b.set_defaults(func=cmd_bench)

    c = sub.add_parser(
        "compile",
        help="compile the model's kernels now, on every core (a first run does it itself)",
    )
    c.add_argument("--processes", type=int, default=None, help="helper processes (default: cores)")
    c.add_argument(
        "--write-manifest", action="store_true",
        help="developers: rewrite sim/kernels/kernels.json from tiny runs of --scenarios "
        "(with NUMBA_CACHE_DIR an empty folder, so compile times are measured)",
    )  # fmt: skip
    c.add_argument("--scenarios", default="scenarios", help="folder of scenario files")
    c.set_defaults(func=cmd_compile)

    register_app(sub)
    register_experiments(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``govsim`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GovsimError as e:
        print(f"govsim: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("govsim: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
