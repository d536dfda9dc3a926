"""``govsim bench``: how fast and how big the daily step runs, as one JSON object.

The report (:func:`run_bench`) holds

``runs``
    One entry per scale (1:100 and 1:10; ``full`` adds 1:1): ``scale``, ``scale_label``,
    ``residents``, ``days``, ``build_s`` (building the model: city, pools, agents, warm-up days),
    ``city_build_s`` (the city alone), ``wall_s`` (the days only, build excluded),
    ``resident_days_per_s`` (residents × days / wall_s), ``end_to_end_s`` (build_s + wall_s)
    and ``end_to_end_resident_days_per_s`` (residents × days / end_to_end_s), ``day_s_median`` and
    ``day_s_max`` (one day's step), ``load_average_at_end`` and ``peak_rss_mb``. Each scale
    runs in a fresh child process (``python -m sim.bench --one SCALE``), so its peak RSS
    is that scale's alone (plus the interpreter, imports and a tiny warm-up model, whose
    level is ``rss_after_warmup_mb``).
``stages``
    ``{scale_label: {stage: seconds}}`` for every scale run: the seconds each stage of the
    daily step took, summed over the run's ``days`` (divide by ``days`` for a per-day
    figure); the stages add up to about ``wall_s``.
``ratio_vs_reference``
    The whole daily step with the numba kernels against the plain-Python reference twins
    (``tests/reference/step.py``, ``reference_step(model)``) on the same 10,000-resident
    city in the same run: reference seconds per day / kernel seconds per day, over the same
    ``reference_days``; ``reference`` holds the details, with both models' seconds per stage
    summed over those days. ``null`` with ``ratio_note`` saying why when the twins cannot
    be imported or fail (they live in the repository's ``tests/``, not in the package).
``mesa_epstein_agent_steps_per_s``
    Mesa's own shipped Epstein civil-violence example (default 40 × 40 grid and parameters,
    seeded) timed in the same run: agents × steps / seconds, the peer yardstick.
    ``ratio_vs_mesa_epstein`` is the 1:1 run's (else the largest scale's)
    ``resident_days_per_s`` divided by it.
``cold_start``
    ``govsim run`` at 1:100 from a new process with numba's cache warm: seconds from the
    process's start to the end of its first simulated day (``seconds_to_first_day``, the
    median of ``runs``), split into ``imports_s`` (what ``govsim run`` imports),
    ``build_s`` (scenario, city, pools, agents and warm-up days) and ``first_day_s``.
``machine``, ``provenance``, ``numba_warm``
    CPU count, platform, Python, numba threads, the load average at start and end (other
    work on the machine stalls the parallel kernels far beyond its share of the CPU:
    compare ``day_s_median`` with ``wall_s / days``); versions and git commit
    (:func:`sim.store.provenance`). ``numba_warm`` is true: every process compiles (or loads
    from cache) the kernels on a tiny model before any timing, so no timing includes JIT
    compilation.

Progress goes to stderr; stdout carries only the JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.bench_options import DEFAULT_SCENARIO_PATH, REPO_ROOT, add_arguments
from sim.errors import GovsimError
from sim.io import atomic_write_json
from sim.model import STAGES, GovernanceModel
from sim.scenario import Scenario, load_scenario

DEFAULT_SCALES = (0.01, 0.1)
FULL_SCALE = 1.0
REFERENCE_RESIDENTS = 10_000
WARMUP_SCALE = 0.001  # about 6,700 residents
WARMUP_DAYS = 8  # past day 6, so the weekly compaction of the issue table is compiled too
EPSTEIN_SEED = 42


# --------------------------------------------------------------------------- helpers


def _log(message: str, progress: bool) -> None:
    if progress:
        print(f"bench: {message}", file=sys.stderr, flush=True)


def scale_label(scale: float) -> str:
    """``0.01`` → ``"1:100"``; a scale that is not 1/integer keeps its decimal form."""
    inverse = 1.0 / scale
    if abs(inverse - round(inverse)) < 1e-9 * inverse:
        return f"1:{round(inverse)}"
    return repr(scale)


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def load_bench_scenario(scenario_path: str | None = DEFAULT_SCENARIO_PATH) -> tuple[Scenario, str]:
    """The scenario to benchmark and a description of where it came from.

    The default path (``scenarios/yancheng.toml`` of the checkout) falls back to the schema
    defaults, which are the Yancheng baseline, when the file is absent; any other path
    must exist.
    """
    if scenario_path is None:
        scenario_path = DEFAULT_SCENARIO_PATH
    if scenario_path == DEFAULT_SCENARIO_PATH and not Path(scenario_path).is_file():
        return Scenario(name="yancheng"), 'Scenario(name="yancheng") (schema defaults)'
    return load_scenario(scenario_path), str(scenario_path)


def _at_scale(scenario: Scenario, scale: float) -> Scenario:
    return scenario.model_copy(update={"scale": float(scale)})


def _quiet_progress(total: int, desc: str, progress: bool):
    """A tqdm bar on stderr, or None."""
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="day", file=sys.stderr, leave=False)


def warm_up(scenario: Scenario) -> float:
    """Compile (or load from numba's cache) every kernel on a tiny model; returns seconds."""
    t0 = time.perf_counter()
    GovernanceModel(_at_scale(scenario, WARMUP_SCALE)).run(WARMUP_DAYS)
    return time.perf_counter() - t0


def _load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages (None where unknown): other work on the machine
    slows parallel kernels far more than its share of the CPU, so record it."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info() -> dict[str, Any]:
    import numba

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run in this process yet
        layer = None
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer": layer,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }


# --------------------------------------------------------------------------- one scale


def bench_one_scale(
    scenario_path: str | None, scale: float, days: int, progress: bool = False
) -> dict[str, Any]:
    """Warm up, build the model at ``scale``, run ``days`` days; this process's numbers.

    Meant to run alone in a fresh process (``python -m sim.bench --one SCALE``) so that
    ``peak_rss_mb`` is this scale's.
    """
    from sim.store import peak_rss_mb

    scenario, _ = load_bench_scenario(scenario_path)
    warm_s = warm_up(scenario)
    rss_warm = peak_rss_mb()
    label = scale_label(scale)

    t0 = time.perf_counter()
    model = GovernanceModel(_at_scale(scenario, scale))
    build_s = time.perf_counter() - t0
    residents = int(model.state.city.n_residents)

    bar = _quiet_progress(days, f"{label} ({residents:,} residents)", progress)
    ends = []

    def after_day(_day: int) -> None:
        ends.append(time.perf_counter())
        if bar is not None:
            bar.update(1)

    t0 = time.perf_counter()
    model.run(days, after_day)
    wall_s = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    day_s = sorted(np.diff(np.array([t0, *ends])).tolist())

    return {
        "scale": float(scale),
        "scale_label": label,
        "residents": residents,
        "days": int(days),
        "build_s": build_s,
        "city_build_s": float(model.build_seconds),
        "wall_s": wall_s,
        "resident_days_per_s": residents * days / wall_s if wall_s > 0 else None,
        "end_to_end_s": build_s + wall_s,
        "end_to_end_resident_days_per_s": residents * days / (build_s + wall_s),
        "day_s_median": day_s[len(day_s) // 2],
        "day_s_max": day_s[-1],
        "load_average_at_end": _load_average(),
        "peak_rss_mb": _finite(peak_rss_mb()),
        "rss_after_warmup_mb": _finite(rss_warm),
        "warmup_s": warm_s,
        "stages": _stage_seconds(model),
    }


def _run_child(scenario_path: str | None, scale: float, days: int, progress: bool) -> dict:
    """Run :func:`bench_one_scale` in a fresh interpreter and read its JSON from stdout."""
    cmd = [sys.executable, "-m", "sim.bench", "--one", repr(float(scale)), "--days", str(days)]
    if scenario_path is not None:
        cmd += ["--scenario", str(scenario_path)]
    if not progress:
        cmd.append("--no-progress")
    # stderr is inherited: the child's progress bar and any error show as they happen
    result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"bench child for scale {scale_label(scale)} failed with exit code "
            f"{result.returncode} (its messages are on stderr above): {' '.join(cmd)}"
        )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(
            f"bench child for scale {scale_label(scale)} printed no JSON: {result.stdout[-500:]!r}"
        ) from exc


# --------------------------------------------------------------------------- reference ratio


def _stage_seconds(model: GovernanceModel) -> dict[str, float]:
    return {name: float(model.state.stage_seconds[name]) for name in STAGES}


@contextlib.contextmanager
def _repo_on_path():
    """Put the checkout's root (for ``tests.reference``) and ``tests/`` (for the twins'
    own ``reference.*`` imports, as pytest sees them) on ``sys.path``, then restore it."""
    saved = list(sys.path)
    sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests")]
    try:
        yield
    finally:
        sys.path[:] = saved


def _import_reference_step() -> tuple[Callable | None, str | None]:
    """``tests.reference.step.reference_step``, or None and the reason it is unavailable."""
    if not (REPO_ROOT / "tests").is_dir():
        return None, (
            f"no tests/ folder at {REPO_ROOT} (package not run from a checkout); "
            "the reference twins live in tests/reference/step.py"
        )
    with _repo_on_path():
        try:
            module = importlib.import_module("tests.reference.step")
            return module.reference_step, None
        except Exception as exc:  # ImportError, or an error inside the module being written
            return None, (
                f"tests.reference.step.reference_step not importable from {REPO_ROOT}: "
                f"{type(exc).__name__}: {exc}"
            )


def bench_reference(
    scenario: Scenario,
    days: int,
    residents: int = REFERENCE_RESIDENTS,
    progress: bool = False,
) -> dict[str, Any]:
    """Kernel daily step vs the plain-Python twins on two identical fresh models.

    Returns ``ratio_vs_reference`` (reference s/day ÷ kernel s/day, or None),
    ``ratio_note`` and the details under ``reference``. The kernels must be warm.
    """
    scale = residents / scenario.city.total_population
    ref_scenario = _at_scale(scenario, scale)
    kernel_model = GovernanceModel(ref_scenario)
    n = int(kernel_model.state.city.n_residents)
    t0 = time.perf_counter()
    kernel_model.run(days)
    kernel_s = time.perf_counter() - t0
    detail: dict[str, Any] = {
        "residents": n,
        "scale": scale,
        "days": int(days),
        "kernel_s": kernel_s,
        "kernel_s_per_day": kernel_s / days,
        "reference_s": None,
        "reference_s_per_day": None,
        "kernel_stages_s": _stage_seconds(kernel_model),
        "reference_stages_s": None,
    }
    out: dict[str, Any] = {"ratio_vs_reference": None, "reference": detail}

    reference_step, why = _import_reference_step()
    if reference_step is None:
        out["ratio_note"] = why
        return out

    ref_model = GovernanceModel(ref_scenario)
    bar = _quiet_progress(days, "reference twins", progress)
    try:
        with _repo_on_path():  # the twins may import more of tests/reference lazily
            t0 = time.perf_counter()
            for _ in range(days):
                before = ref_model.day
                reference_step(ref_model)
                if ref_model.day == before:  # a twin that leaves the day counter alone
                    ref_model.day += 1
                if bar is not None:
                    bar.update(1)
            reference_s = time.perf_counter() - t0
    except Exception as exc:
        out["ratio_note"] = f"reference_step failed: {type(exc).__name__}: {exc}"
        return out
    finally:
        if bar is not None:
            bar.close()

    detail["reference_s"] = reference_s
    detail["reference_stages_s"] = _stage_seconds(ref_model)
    detail["reference_s_per_day"] = reference_s / days
    out["ratio_vs_reference"] = (reference_s / days) / (kernel_s / days) if kernel_s > 0 else None
    out["ratio_note"] = (
        f"whole daily step, plain-Python twins (tests/reference/step.py) vs numba kernels, "
        f"{n:,} residents, {days} days each on identical fresh models (same seed), "
        "kernels warm; ratio = reference s/day / kernel s/day"
    )
    return out


# --------------------------------------------------------------------------- cold start

COLD_START_SCALE = 0.01
# What `govsim run` does up to its first day, timed from the process's own start (the
# parent passes the wall-clock time at which it started the child).
_COLD_START_CHILD = """
import sys, time
t_spawn = float(sys.argv[1])
import sim.cli  # noqa: F401  (`govsim run`: the CLI, then the run module)
from sim.run import run_scenario  # noqa: F401
from sim.model import GovernanceModel
from sim.scenario import load_scenario
t_imports = time.time()
if sys.argv[2] == "-":  # no scenario file: the schema's Yancheng defaults
    from sim.scenario import Scenario
    scenario = Scenario(name="yancheng", scale=float(sys.argv[3]))
else:
    scenario = load_scenario(sys.argv[2], ["scale=" + sys.argv[3]])
model = GovernanceModel(scenario)
t_build = time.time()
model.step()
t_day = time.time()
import json
print(json.dumps({
    "residents": model.state.city.n_residents,
    "imports_s": t_imports - t_spawn,
    "build_s": t_build - t_imports,
    "first_day_s": t_day - t_build,
    "seconds_to_first_day": t_day - t_spawn,
}))
"""


def bench_cold_start(
    scenario_path: str | None, runs: int = 3, scale: float = COLD_START_SCALE
) -> dict[str, Any]:
    """A fresh interpreter doing what ``govsim run`` does up to its first simulated day.

    The kernels must be in numba's cache already (any earlier run compiles them). Returns
    ``{"cold_start": {...}}`` with the median of ``runs`` fresh processes and each run.
    """
    if scenario_path is None and Path(DEFAULT_SCENARIO_PATH).is_file():
        scenario_path = DEFAULT_SCENARIO_PATH
    path = "-" if scenario_path is None else str(scenario_path)
    done = []
    for _ in range(runs):
        t_spawn = time.time()
        result = subprocess.run(
            [sys.executable, "-c", _COLD_START_CHILD, repr(t_spawn), path, repr(scale)],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
            cwd=REPO_ROOT,
        )
        if result.returncode != 0:
            raise RuntimeError(f"cold-start child failed with exit code {result.returncode}")
        done.append(json.loads(result.stdout))
    done.sort(key=lambda r: r["seconds_to_first_day"])
    median = done[len(done) // 2]
    return {
        "cold_start": {
            "scale": float(scale),
            "scale_label": scale_label(scale),
            **median,
            "runs": done,
        }
    }


# --------------------------------------------------------------------------- Mesa yardstick


def bench_mesa_epstein(steps: int, seed: int = EPSTEIN_SEED) -> dict[str, Any]:
    """Mesa's shipped Epstein civil-violence example at its defaults, ``steps`` steps."""
    import mesa
    from mesa.examples.advanced.epstein_civil_violence.model import (
        EpsteinCivilViolence,
        EpsteinScenario,
    )

    t0 = time.perf_counter()
    model = EpsteinCivilViolence(scenario=EpsteinScenario(rng=seed))
    build_s = time.perf_counter() - t0
    agents = len(model.agents)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.step()
    seconds = time.perf_counter() - t0
    return {
        "mesa_epstein_agent_steps_per_s": agents * steps / seconds if seconds > 0 else None,
        "mesa_epstein": {
            "model": "mesa.examples.advanced.epstein_civil_violence EpsteinCivilViolence",
            "mesa": mesa.__version__,
            "width": model.grid.width,
            "height": model.grid.height,
            "agents": agents,
            "steps": int(steps),
            "seed": seed,
            "build_s": build_s,
            "seconds": seconds,
        },
    }


# --------------------------------------------------------------------------- whole bench


def run_bench(
    scenario_path: str = DEFAULT_SCENARIO_PATH,
    days: int = 365,
    full: bool = False,
    reference_days: int = 5,
    epstein_steps: int = 50,
    progress: bool = True,
    scales: Sequence[float] | None = None,
    reference_residents: int = REFERENCE_RESIDENTS,
    cold_start_runs: int = 3,
) -> dict[str, Any]:
    """Run the benchmark and return the report (see the module docstring for its keys).

    Parameters
    ----------
    scenario_path
        Scenario file; the default ``scenarios/yancheng.toml`` falls back to the schema's
        Yancheng defaults when absent.
    days
        Days run at each scale.
    full
        Add 1:1 (6.7 M residents) to 1:100 and 1:10.
    reference_days
        Days run by both the kernels and the plain-Python twins for the ratio.
    epstein_steps
        Steps of Mesa's Epstein example.
    progress
        Progress bars and messages on stderr.
    scales
        Run these scales instead of the default ones (``full`` is then ignored); for tests.
    reference_residents
        Residents of the city the ratio is measured on (10,000).
    cold_start_runs
        Fresh processes timed to their first day at 1:100 (0: skip the cold start).
    """
    if days < 1 or reference_days < 1 or epstein_steps < 1:
        raise GovsimError(
            f"days = {days}, reference_days = {reference_days}, epstein_steps = "
            f"{epstein_steps}: each must be ≥ 1"
        )
    if scales is None:
        scales = (*DEFAULT_SCALES, FULL_SCALE) if full else DEFAULT_SCALES
    scales = [float(s) for s in scales]
    for s in scales:
        if not 0.0 < s <= 1.0:
            raise GovsimError(f"scale = {s}: must be in (0, 1] (1:100 = 0.01)")
    scenario, source = load_bench_scenario(scenario_path)
    child_path = None if source.startswith("Scenario(") else source

    load_start = _load_average()
    runs, stages = [], {}
    for s in scales:
        _log(f"scale {scale_label(s)}: {days} days in a fresh process", progress)
        one = _run_child(child_path, s, days, progress)
        stages[one["scale_label"]] = one.pop("stages")
        runs.append(one)
        _log(
            f"scale {one['scale_label']}: {one['residents']:,} residents, "
            f"wall {one['wall_s']:.1f} s, peak RSS {one['peak_rss_mb']} MiB",
            progress,
        )

    _log("warming up the kernels in this process", progress)
    warm_up(scenario)
    _log(f"reference twins vs kernels: {reference_residents:,} residents", progress)
    reference = bench_reference(scenario, reference_days, reference_residents, progress)
    _log(f"Mesa Epstein example: {epstein_steps} steps", progress)
    epstein = bench_mesa_epstein(epstein_steps)
    largest = max(runs, key=lambda r: r["scale"], default={}).get("resident_days_per_s")
    mesa_rate = epstein["mesa_epstein_agent_steps_per_s"]
    epstein["ratio_vs_mesa_epstein"] = largest / mesa_rate if largest and mesa_rate else None
    cold: dict[str, Any] = {"cold_start": None}
    if cold_start_runs > 0:
        _log(f"cold start: {cold_start_runs} fresh `govsim run` processes to day 1", progress)
        cold = bench_cold_start(child_path, cold_start_runs)

    from sim.store import provenance

    machine = machine_info()
    machine["load_average_at_start"] = load_start
    machine["load_average_at_end"] = _load_average()
    report = {
        "scenario": source,
        "days": int(days),
        "numba_warm": True,
        "runs": runs,
        "stages": stages,
        "stages_unit": "seconds per stage summed over each run's days, keyed by scale_label",
        **reference,
        **epstein,
        **cold,
        "machine": machine,
        "provenance": provenance(),
    }
    json.dumps(report, allow_nan=False)  # fail here, not in the caller, if not JSON
    return report


# --------------------------------------------------------------------------- command line


def run_from_args(args: argparse.Namespace) -> int:
    """Run the bench for parsed ``args``; print the JSON on stdout; return the exit code."""
    if args.one is not None:  # child mode: one scale, this process's numbers
        out = bench_one_scale(args.scenario, args.one, args.days, progress=not args.no_progress)
        print(json.dumps(out, allow_nan=False))
        return 0
    report = run_bench(
        scenario_path=args.scenario,
        days=args.days,
        full=args.full,
        reference_days=args.reference_days,
        epstein_steps=args.epstein_steps,
        progress=not args.no_progress,
    )
    if args.json_out:
        atomic_write_json(args.json_out, report, make_parents=True)
    print(json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = add_arguments(
        argparse.ArgumentParser(
            prog="python -m sim.bench", description="Benchmark the daily step; prints JSON."
        )
    )
    args = parser.parse_args(argv)
    try:
        return run_from_args(args)
    except GovsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
