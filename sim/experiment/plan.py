"""From an experiment definition to the list of runs: scenarios, design points, seeds, ids.

The plan is what an experiment folder's ``experiment.json`` holds:

``groups``
    The resolved base scenarios (JSON dumps; compare: one per scenario file, sweep and
    sensitivity: the base), with label and titles.
``points``
    One per scenario (compare) or design point (sweep, sensitivity): its group, label,
    the factor values applied (``factors``, a key path → value mapping) and, for SALib
    designs, the unrounded sample row (``design``).
``runs``
    One per (point, replication): ``run_id``, ``point``, ``rep``, ``seed``. Several
    (point, rep) pairs may share a run id (e.g. two points that round to the same
    integer lever); the run is then simulated once.

Common random numbers: the seed of replication ``i`` is derived from the experiment seed
with :class:`numpy.random.SeedSequence` (spawn key ``(0, i)``) and is the same at every
point, so differences between scenarios are paired by replication. Spawned children do
not depend on the number of replications: adding replications keeps the earlier ones.

A run id is :func:`sim.scenario.scenario_hash` of the resolved scenario with its seed
(so it covers the scenario, the seed, days, scale and the model version); the worker
recomputes it from the same inputs and refuses to run if it differs.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from sim.errors import GovsimError
from sim.experiment.spec import factor_type, validate_experiment
from sim.io import set_dotted
from sim.metrics_schema import SUMMARY_KEYS
from sim.scenario import load_scenario, scenario_hash
from sim.scenario.messages import describe_validation_error
from sim.scenario.schema import Scenario

PLAN_FORMAT = "govsim-experiment/1"
SEED_STREAM_REPLICATIONS = 0
SEED_STREAM_SAMPLER = 1
SEED_STREAM_BOOTSTRAP = 2
# may change between invocations of the same experiment: more replications, or more
# scenario files matched by a glob pattern (run ids cover the scenarios' contents)
_NOT_IN_HASH = ("replications", "resolved_sources")


# --------------------------------------------------------------------------- seeds


def replication_seed(experiment_seed: int, rep: int) -> int:
    """Seed of replication ``rep``: SeedSequence(experiment_seed) child (0, rep), 63 bits."""
    ss = np.random.SeedSequence(experiment_seed, spawn_key=(SEED_STREAM_REPLICATIONS, rep))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def stream_seed(experiment_seed: int, stream: int, *extra: int) -> int:
    """A 32-bit seed for a named stream (sampler, bootstrap) of the experiment."""
    ss = np.random.SeedSequence(experiment_seed, spawn_key=(stream, *extra))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


# --------------------------------------------------------------------------- scenarios


def build_scenario(base: dict[str, Any], factors: dict[str, Any], seed: int) -> Scenario:
    """The scenario of one run: the resolved base, the factor values, the seed.

    Factors are applied to the resolved scenario (after ``extends`` and ``--set``), so a
    factor replaces exactly one value. This is the one function planner and workers use,
    so both compute the same run id.
    """
    data = copy.deepcopy(base)
    for path, value in factors.items():
        set_dotted(data, path, value)
    data["seed"] = int(seed)
    return Scenario.model_validate(data)


def _validate_point(base: dict, factors: dict, seed: int, where: str) -> Scenario:
    try:
        return build_scenario(base, factors, seed)
    except ValidationError as exc:
        raise GovsimError(describe_validation_error(exc, {}, where)) from None


# --------------------------------------------------------------------------- plan


@dataclass
class Plan:
    """An experiment's runs (see the module docstring); ``to_json`` is ``experiment.json``."""

    kind: str
    name: str
    title_zh: str
    title_en: str
    seed: int
    replications: int
    metrics: list[str]
    groups: list[dict[str, Any]]
    points: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    definition: dict[str, Any]
    sampler: dict[str, Any]

    @property
    def definition_hash(self) -> str:
        """Hash of the experiment's definition, less what may grow (``_NOT_IN_HASH``)."""
        d = {k: v for k, v in self.definition.items() if k not in _NOT_IN_HASH}
        text = json.dumps(d, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def unique_runs(self) -> list[dict[str, Any]]:
        """Runs with distinct ids, first occurrence kept, in plan order."""
        seen: set[str] = set()
        out = []
        for run in self.runs:
            if run["run_id"] not in seen:
                seen.add(run["run_id"])
                out.append(run)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "kind": self.kind,
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "seed": self.seed,
            "replications": self.replications,
            "metrics": self.metrics,
            "definition": self.definition,
            "definition_hash": self.definition_hash,
            "sampler": self.sampler,
            "groups": self.groups,
            "points": self.points,
            "runs": self.runs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        if data.get("format") != PLAN_FORMAT:
            raise GovsimError(
                f"experiment.json has format {data.get('format')!r}; this govsim reads "
                f"{PLAN_FORMAT!r}"
            )
        return cls(
            kind=data["kind"],
            name=data["name"],
            title_zh=data.get("title_zh", ""),
            title_en=data.get("title_en", ""),
            seed=data["seed"],
            replications=data["replications"],
            metrics=data["metrics"],
            groups=data["groups"],
            points=data["points"],
            runs=data["runs"],
            definition=data["definition"],
            sampler=data.get("sampler", {}),
        )


def _overrides(exp, extra_set: list[str], days: int | None, scale: float | None) -> list[str]:
    sets = list(exp.set) + list(extra_set)
    d = days if days is not None else exp.days
    s = scale if scale is not None else exp.scale
    if d is not None:
        sets.append(f"days={d}")
    if s is not None:
        sets.append(f"scale={s}")
    return sets


def _load(path: Path, sets: list[str], where: str) -> Scenario:
    try:
        return load_scenario(path, sets)
    except GovsimError as exc:
        raise GovsimError(f"{where}: {exc}") from None


def _group(scenario: Scenario, source: str) -> dict[str, Any]:
    dump = scenario.model_dump(mode="json")
    return {
        "label": scenario.name,
        "title_zh": scenario.title_zh,
        "title_en": scenario.title_en,
        "source": source,
        "scenario": dump,
    }


def _make_runs(
    plan_groups: list[dict], points: list[dict], seed: int, reps: int, where: str
) -> list[dict]:
    """Validate every point, hash every (point, rep); order by replication first."""
    seeds = [replication_seed(seed, r) for r in range(reps)]
    scenarios = []
    for i, point in enumerate(points):
        base = plan_groups[point["group"]]["scenario"]
        scenarios.append(
            _validate_point(
                base, point["factors"], seeds[0], f"{where} (point {i}: {point['label']})"
            )
        )
    runs = []
    for rep, s in enumerate(seeds):
        for i, sc in enumerate(scenarios):
            rid = scenario_hash(sc.model_copy(update={"seed": s}))
            runs.append({"run_id": rid, "point": i, "rep": rep, "seed": s})
    return runs


def _metrics(exp) -> list[str]:
    return list(exp.metrics) if exp.metrics else list(SUMMARY_KEYS)


def _definition(exp, base_dir: Path, extra_set, days, scale, sources: list[str]) -> dict:
    d = exp.model_dump(mode="json")
    d["set"] = list(exp.set) + list(extra_set)
    if days is not None:
        d["days"] = days
    if scale is not None:
        d["scale"] = scale
    d["resolved_sources"] = sources
    d.pop("ci_width", None)  # reporting only
    d.pop("metrics", None)
    d.pop("tolerance", None)
    return d


def expand_scenarios(entries: list[str], base_dir: Path, where: str) -> list[tuple[str, Path]]:
    """Scenario entries with glob patterns (``*``, ``?``, ``[``) expanded, sorted.

    A file matched by a pattern but already listed (e.g. the reference first, then
    ``scenarios/*.toml``) is kept once, where it first appears. Returns (entry, path) pairs.
    """
    out: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for i, rel in enumerate(entries):
        if any(ch in rel for ch in "*?["):
            matches = (
                sorted(base_dir.glob(rel))
                if not Path(rel).is_absolute()
                else sorted(Path(rel).parent.glob(Path(rel).name))
            )
            if not matches:
                raise GovsimError(f'{where}: scenarios[{i}] = "{rel}": matches no file')
            found = [
                (str(m.relative_to(base_dir)) if not Path(rel).is_absolute() else str(m), m)
                for m in matches
            ]
        else:
            found = [(rel, base_dir / rel)]
        for text, path in found:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                out.append((text, path))
    return out


def plan_compare(
    exp,
    *,
    base_dir: Path,
    where: str,
    extra_set: list[str] = (),
    days: int | None = None,
    scale: float | None = None,
) -> Plan:
    """Plan of a compare experiment (``exp`` a validated :class:`CompareExperiment`)."""
    sets = _overrides(exp, list(extra_set), days, scale)
    groups, points, hashes = [], [], {}
    labels: set[str] = set()
    reference = None
    for i, (rel, path) in enumerate(expand_scenarios(exp.scenarios, base_dir, where)):
        sc = _load(path, sets, f"{where}: scenarios[{i}]")
        if getattr(exp, "shared_warmup", False):
            # every warm-up under the reference's levers and department budget (an
            # equal-cost twin's cut in department slots is part of its configuration)
            reference = sc if reference is None else reference
            sc = sc.model_copy(
                update={
                    "warmup_levers": reference.levers,
                    "warmup_department_slots_per_100k": (
                        reference.handling.department_slots_per_100k
                    ),
                }
            )
        g = _group(sc, Path(rel).as_posix())
        h = scenario_hash(sc.model_copy(update={"seed": 0}))  # the runs set the seed
        if h in hashes:
            raise GovsimError(
                f'{where}: scenarios[{i}] = "{rel}": resolves to the same scenario as '
                f"scenarios[{hashes[h]}]; every compared scenario must differ"
            )
        hashes[h] = i
        label = g["label"]
        if label in labels:
            label = f"{label}-{Path(rel).stem}"
            while label in labels:
                label += "'"
            g["label"] = label
        labels.add(label)
        groups.append(g)
        points.append({"group": i, "label": label, "factors": {}})
    seed = exp.seed if exp.seed is not None else groups[0]["scenario"]["seed"]
    runs = _make_runs(groups, points, seed, exp.replications, where)
    sources = [g["source"] for g in groups]
    return Plan(
        kind="compare",
        name=exp.name,
        title_zh=exp.title_zh,
        title_en=exp.title_en,
        seed=seed,
        replications=exp.replications,
        metrics=_metrics(exp),
        groups=groups,
        points=points,
        runs=runs,
        definition=_definition(exp, base_dir, extra_set, days, scale, sources),
        sampler={"design": "replications", "crn": True, "seed": seed},
    )


# --------------------------------------------------------------------------- factors


def _factor_kinds(exp, where: str) -> list[str]:
    """'int', 'float' or 'discrete' per factor (checks each path against the schema)."""
    kinds = []
    for i, f in enumerate(exp.factors):
        tp = factor_type(f.path, f"{where}: factors[{i}].path")
        if tp is bool or typing.get_origin(tp) is typing.Literal or tp is str:
            if f.range is not None:
                shown = "true/false" if tp is bool else "a choice"
                raise GovsimError(
                    f"{where}: factors[{i}].range: {f.path} is {shown}, not a number; give "
                    "values = [...] in a factorial sweep"
                )
            kinds.append("discrete")
        elif tp is int:
            kinds.append("int")
        elif tp is float:
            kinds.append("float")
        else:
            raise GovsimError(
                f'{where}: factors[{i}].path = "{f.path}": only numbers, true/false and '
                "choices can be varied (this key holds a list or table)"
            )
    return kinds


def _apply_kind(value: float, kind: str) -> Any:
    return int(round(value)) if kind == "int" else float(value)


def _levels(f, kind: str) -> list[Any]:
    if f.values is not None:
        return list(f.values)
    vals = [_apply_kind(v, kind) for v in np.linspace(f.range[0], f.range[1], f.levels)]
    return list(dict.fromkeys(vals))  # ints may coincide


def _check_ends(exp, groups, kinds, where: str) -> None:
    """Validate each factor's extreme values alone, for an error that names the factor."""
    base = groups[0]["scenario"]
    for i, (f, kind) in enumerate(zip(exp.factors, kinds, strict=True)):
        if f.values is not None:
            vals, key = list(f.values), "values"
        else:
            vals, key = [_apply_kind(v, kind) for v in f.range], "range"
        for v in vals:
            try:
                build_scenario(base, {f.path: v}, 0)
            except ValidationError as exc:
                msg = describe_validation_error(exc, {}, "")
                msg = msg.removeprefix(": ")
                raise GovsimError(
                    f"{where}: factors[{i}].{key} = {json.dumps(getattr(f, key))}: {msg}"
                ) from None


def _point_label(factors: dict[str, Any]) -> str:
    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else json.dumps(v)

    return ", ".join(f"{p.split('.')[-1]}={fmt(v)}" for p, v in factors.items())


def _base_group(exp, base_dir, where, extra_set, days, scale) -> tuple[list[dict], str]:
    sets = _overrides(exp, list(extra_set), days, scale)
    path = base_dir / exp.base
    sc = _load(path, sets, f"{where}: base")
    return [_group(sc, str(path))], str(Path(exp.base).as_posix())


def plan_sweep(
    exp,
    *,
    base_dir: Path,
    where: str,
    extra_set: list[str] = (),
    days: int | None = None,
    scale: float | None = None,
) -> Plan:
    """Plan of a sweep: full-factorial grid or Latin hypercube over the factors."""
    groups, source = _base_group(exp, base_dir, where, extra_set, days, scale)
    kinds = _factor_kinds(exp, where)
    _check_ends(exp, groups, kinds, where)
    seed = exp.seed if exp.seed is not None else groups[0]["scenario"]["seed"]
    paths = [f.path for f in exp.factors]
    points = []
    sampler: dict[str, Any] = {"design": exp.design, "crn": True, "seed": seed}
    if exp.design == "factorial":
        grids = [_levels(f, k) for f, k in zip(exp.factors, kinds, strict=True)]
        for combo in itertools.product(*grids):
            points.append(dict(zip(paths, combo, strict=True)))
        sampler["levels"] = {p: g for p, g in zip(paths, grids, strict=True)}
    else:
        sseed = stream_seed(seed, SEED_STREAM_SAMPLER)
        unit = qmc.LatinHypercube(d=len(paths), rng=np.random.default_rng(sseed)).random(
            exp.samples
        )
        lo = [f.range[0] for f in exp.factors]
        hi = [f.range[1] for f in exp.factors]
        x = qmc.scale(unit, lo, hi)
        for row in x:
            points.append({p: _apply_kind(v, k) for p, v, k in zip(paths, row, kinds, strict=True)})
        sampler.update(
            {
                "samples": exp.samples,
                "sampler": "scipy.stats.qmc.LatinHypercube",
                "sampler_seed": sseed,
                "ranges": {p: [a, b] for p, a, b in zip(paths, lo, hi, strict=True)},
            }
        )
    if len(points) > 1_000_000:
        raise GovsimError(f"{where}: the design has {len(points):,} points; at most 1,000,000")
    pts = [
        {"group": 0, "label": _point_label(fac), "factors": fac, "index": i}
        for i, fac in enumerate(points)
    ]
    runs = _make_runs(groups, pts, seed, exp.replications, where)
    return Plan(
        kind="sweep",
        name=exp.name,
        title_zh=exp.title_zh,
        title_en=exp.title_en,
        seed=seed,
        replications=exp.replications,
        metrics=_metrics(exp),
        groups=groups,
        points=pts,
        runs=runs,
        definition=_definition(exp, base_dir, extra_set, days, scale, [source]),
        sampler={**sampler, "factor_types": dict(zip(paths, kinds, strict=True))},
    )


def salib_problem(exp) -> dict[str, Any]:
    """The SALib problem: names are the factors' scenario key paths, bounds their ranges."""
    return {
        "num_vars": len(exp.factors),
        "names": [f.path for f in exp.factors],
        "bounds": [list(f.range) for f in exp.factors],
    }


def plan_sensitivity(
    exp,
    *,
    base_dir: Path,
    where: str,
    extra_set: list[str] = (),
    days: int | None = None,
    scale: float | None = None,
    method: str | None = None,
    samples: int | None = None,
) -> Plan:
    """Plan of a SALib Morris or Sobol design (at 2N when the convergence check is on).

    The design at N is the first half of the design at 2N for both samplers (SALib's
    Morris trajectories are drawn one after another, and the Saltelli rows come in blocks
    per base point of a scrambled Sobol sequence), so the check needs no extra runs.
    """
    updates = {}
    if method is not None:
        updates["method"] = method
    if samples is not None:
        updates["samples"] = samples
    if updates:
        exp = validate_experiment({**exp.model_dump(), **updates}, f"{where} (with options)")
    groups, source = _base_group(exp, base_dir, where, extra_set, days, scale)
    kinds = _factor_kinds(exp, where)
    _check_ends(exp, groups, kinds, where)
    seed = exp.seed if exp.seed is not None else groups[0]["scenario"]["seed"]
    problem = salib_problem(exp)
    n = exp.samples * (2 if exp.convergence else 1)
    sseed = stream_seed(seed, SEED_STREAM_SAMPLER)
    if exp.method == "morris":
        x = morris_sample.sample(problem, n, num_levels=exp.levels, seed=sseed)
        rows_per_n = len(problem["names"]) + 1
    else:
        x = sobol_sample.sample(problem, n, calc_second_order=exp.second_order, seed=sseed)
        d = len(problem["names"])
        rows_per_n = 2 * d + 2 if exp.second_order else d + 2
    paths = problem["names"]
    pts = []
    for i, row in enumerate(x):
        fac = {p: _apply_kind(v, k) for p, v, k in zip(paths, row, kinds, strict=True)}
        pts.append(
            {
                "group": 0,
                "label": f"#{i}",
                "factors": fac,
                "design": [float(v) for v in row],
                "index": i,
            }
        )
    runs = _make_runs(groups, pts, seed, exp.replications, where)
    sampler = {
        "design": exp.method,
        "crn": True,
        "seed": seed,
        "sampler": f"SALib.sample.{exp.method}.sample",
        "sampler_seed": sseed,
        "problem": problem,
        "samples": exp.samples,
        "samples_run": n,
        "rows_per_sample": rows_per_n,
        "levels": exp.levels if exp.method == "morris" else None,
        "second_order": exp.second_order if exp.method == "sobol" else None,
        "convergence": exp.convergence,
        "tolerance": exp.tolerance,
        "factor_types": dict(zip(paths, kinds, strict=True)),
    }
    definition = _definition(exp, base_dir, extra_set, days, scale, [source])
    definition["method"] = exp.method
    definition["samples"] = exp.samples
    return Plan(
        kind="sensitivity",
        name=exp.name,
        title_zh=exp.title_zh,
        title_en=exp.title_en,
        seed=seed,
        replications=exp.replications,
        metrics=_metrics(exp),
        groups=groups,
        points=pts,
        runs=runs,
        definition=definition,
        sampler=sampler,
    )
