"""Budget-constrained search over lever settings: ``govsim optimise PLAN.toml`` (issue 16).

A planner's question — *given this budget, how should staff, platforms and funding be
split, and how sure are we?* — as a noise-aware, budget-constrained search with Optuna
([1]; TPE [2] for one objective, NSGA-II [3] for several).

Plan file (TOML, ``kind = "optimise"``)
    ``base`` (the scenario to re-spend), ``compare_with`` (hand-written configurations the
    recommendation must beat), ``[budget]`` (``yuan_per_year`` for the whole city, or
    ``relative_to_base`` × the base's cost, plus ``extra_yuan_per_year``), ``[[variables]]``
    (each a scenario key path: ``int``/``float`` with ``range`` and ``step``, ``bool``
    platform switches, ``choice`` from ``values``), ``[[objectives]]`` (summary metrics,
    their direction and weight; ``mode = "weighted"`` makes one score, ``"pareto"`` a
    front), ``trials``, ``batch``, ``replications``, ``leaders``, ``leader_replications``,
    ``seed``, ``days``, ``scale``, ``set``. See ``experiments/plans/README.md``.

Method
    1. The base and the hand-written configurations run ``replications`` +
       ``leader_replications`` times.
    2. Optuna proposes candidates in batches of ``batch``. Each candidate's yearly cost
       for the whole city is computed analytically (:func:`sim.kernels.costs.
       configuration_cost` ÷ scale) *before* it runs; a candidate above the budget never
       runs: it is told to Optuna as infeasible (its constraint value > 0, its objective
       the worst possible) and is never recommended.
    3. Feasible candidates run ``replications`` times with common random numbers
       (replication *i* has the same seed for every candidate, the base and the
       hand-written configurations), their means are told to Optuna. A candidate whose
       simulated ``cost_yuan`` (which also counts run-dependent early-warning team days)
       exceeds the budget is infeasible too.
    3b. Weighted mode: up to ``polish_rounds`` rounds of neighbourhood search around the
       best candidate (``polish_size`` settings a round: each variable one step up or
       down, then exchanges of one step
       between two variables, which move along a binding budget; the same budget check
       and replications), a local search on the design grid in the spirit of COMPASS [5].
    4. The ``leaders`` best feasible candidates (weighted: lowest score; Pareto: the
       non-dominated set, thinned evenly) run ``leader_replications`` fresh replications
       (seeds not used in the search), as do the base and the hand-written
       configurations; the recommendation and every final interval use only these, so
       the selection's luck does not bias them (the winner's curse).
    5. The recommendation (weighted: the best leader at ``leader_replications``; Pareto:
       the leaders no other leader dominates) is compared, paired by replication, with the
       base and with the best hand-written configuration within budget, using the compare
       statistics (:func:`sim.experiment.stats.compare_stats`: paired t intervals of the
       difference, Fieller intervals of the % effect).

    The weighted score is Σ wᵢ·(−dᵢ)·mᵢ / |bᵢ| (lower is better), with mᵢ the candidate's
    mean of metric i, bᵢ the base's mean over the same replications and dᵢ = +1 where
    higher is better, −1 where lower is.

Resumable and deterministic
    Runs are records in ``OUT/evaluations`` (an experiment folder, written by
    :func:`sim.experiment.runner.run_plan` on any executor: local processes or Dask), the
    study is an Optuna journal file ``OUT/study.journal``. Trial *n* is asked with a
    sampler seeded from (plan seed, n) and batch *k* holds trials k·B … k·B+B−1, which
    are told in trial order after the batch ran, so a rerun after ``kill -9`` asks the
    missing trials of the interrupted batch, finds their runs in the records and ends with
    the same study and recommendation as an uninterrupted run.

References
----------
1. Akiba, T., Sano, S., Yanase, T., Ohta, T., Koyama, M. (2019). Optuna: A
   next-generation hyperparameter optimization framework. KDD '19, 2623–2631.
   doi:10.1145/3292500.3330701
2. Bergstra, J., Bardenet, R., Bengio, Y., Kégl, B. (2011). Algorithms for
   hyper-parameter optimization. NeurIPS 24, 2546–2554.
3. Deb, K., Pratap, A., Agarwal, S., Meyarivan, T. (2002). A fast and elitist
   multiobjective genetic algorithm: NSGA-II. IEEE Trans. Evol. Comput. 6(2), 182–197.
   doi:10.1109/4235.996017
4. Law, A. M. (2015). Simulation Modeling and Analysis, 5th ed. McGraw-Hill. §11.2
   (common random numbers) and §10.4 (selecting the best of k systems).
5. Hong, L. J., Nelson, B. L. (2006). Discrete optimization via simulation using COMPASS.
   Operations Research 54(1), 115–129. doi:10.1287/opre.1060.0297
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import typing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

import sim
from sim.errors import GovsimError
from sim.experiment import plan as planning
from sim.experiment.executors import make_executor
from sim.experiment.frontier import METRIC_DIRECTION
from sim.experiment.records import ExperimentFolder, RecordWarning, read_json, write_json
from sim.experiment.runner import run_plan
from sim.experiment.spec import (
    MetricKey,
    Scalar,
    _Model,
    factor_type,
    format_validation_error,
    read_toml,
)
from sim.experiment.stats import compare_stats
from sim.metrics_schema import SUMMARY_KEYS
from sim.scenario import scenario_hash
from sim.scenario.messages import describe_validation_error, fmt_value

PLAN_KIND = "optimise"
SEED_STREAM_OPTIMISER = 3
EVALUATIONS_DIR = "evaluations"
STUDY_FILE = "study.journal"
RESULT_FILE = "optimise.json"
PLAN_COPY = "plan.toml"
LOCK_FILE = "optimise.lock"
BASE_LABEL = "base"


# --------------------------------------------------------------------------- plan schema


class Variable(_Model):
    """One decision variable: a scenario key path and the values the search may give it."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Short identifier")
    path: str = Field(min_length=1, description="Dotted scenario key path")
    type: Literal["int", "float", "bool", "choice"] = Field(description="Kind of variable")
    range: tuple[float, float] | None = Field(None, description="[low, high] (int, float)")
    step: float | None = Field(None, gt=0, description="Grid step over range (int, float)")
    values: list[Scalar] | None = Field(None, min_length=2, description="Choices (choice)")
    label_zh: str = Field("", description="Chinese label shown in the report")
    label_en: str = Field("", description="English label shown in the report")

    @model_validator(mode="after")
    def _shape(self) -> Variable:
        if self.type in ("int", "float"):
            if self.range is None:
                raise ValueError(f'type = "{self.type}" needs range = [low, high]')
            lo, hi = self.range
            if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
                raise ValueError(f"range = [{lo}, {hi}] must be [low, high] with low < high")
            if self.type == "int" and (lo != int(lo) or hi != int(hi)):
                raise ValueError(f'range = [{lo}, {hi}]: type = "int" needs whole numbers')
            if self.type == "int" and self.step is not None and self.step != int(self.step):
                raise ValueError(f'step = {self.step}: type = "int" needs a whole step')
            if self.values is not None:
                raise ValueError('values goes with type = "choice"; give range = [low, high]')
        else:
            if self.range is not None or self.step is not None:
                raise ValueError(f'range and step go with int/float, not type = "{self.type}"')
            if self.type == "choice" and self.values is None:
                raise ValueError('type = "choice" needs values = [...]')
            if self.type == "bool" and self.values is not None:
                raise ValueError('type = "bool" takes no values (it is false or true)')
        return self


class Objective(_Model):
    """One outcome to improve: a summary metric, its direction and weight."""

    metric: MetricKey  # type: ignore[valid-type]
    direction: Literal["minimise", "maximise"] | None = Field(
        None, description="Default: the metric's direction (frontier.METRIC_DIRECTION)"
    )
    weight: float = Field(1.0, gt=0.0, le=1e6, description="Weight in the weighted score")

    @model_validator(mode="after")
    def _direction(self) -> Objective:
        if self.direction is None and self.metric not in METRIC_DIRECTION:
            raise ValueError(
                f'metric "{self.metric}" has no default direction; give direction = '
                '"minimise" or "maximise"'
            )
        return self

    @property
    def sign(self) -> int:
        """+1 where higher is better, −1 where lower is."""
        if self.direction is not None:
            return 1 if self.direction == "maximise" else -1
        return METRIC_DIRECTION[self.metric]


class Budget(_Model):
    """The yearly budget of the whole city (hard constraint)."""

    yuan_per_year: float | None = Field(None, gt=0.0, description="Yuan per year, whole city")
    relative_to_base: float | None = Field(
        None, gt=0.0, le=100.0, description="Multiple of the base configuration's yearly cost"
    )
    extra_yuan_per_year: float = Field(
        0.0, ge=-1e13, le=1e13, description="Added to the budget (e.g. 200 more workers' pay)"
    )

    @model_validator(mode="after")
    def _one(self) -> Budget:
        if (self.yuan_per_year is None) == (self.relative_to_base is None):
            raise ValueError("give either yuan_per_year or relative_to_base, not both/neither")
        return self


class OptimisePlan(_Model):
    """A planner's question: a base, a budget, levers to set, outcomes to improve."""

    kind: Literal["optimise"]
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="Short identifier")
    title_zh: str = Field("", description="Chinese title shown in the report")
    title_en: str = Field("", description="English title")
    description: str = Field("", description="The planner's question")
    base: str = Field(min_length=1, description="Base scenario file, relative to this file")
    compare_with: list[str] = Field(
        default_factory=list, description="Hand-written configurations (scenario files)"
    )
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Plan seed")
    days: int | None = Field(None, ge=1, le=36_500, description="Days simulated (overrides)")
    scale: float | None = Field(None, gt=0.0, le=1.0, description="Population fraction")
    set: list[str] = Field(default_factory=list, description="key.path=value overrides")
    budget: Budget
    variables: list[Variable] = Field(min_length=1, max_length=32)
    objectives: list[Objective] = Field(min_length=1, max_length=8)
    mode: Literal["weighted", "pareto"] | None = Field(
        None, description="One weighted score, or a Pareto front (default: by objectives)"
    )
    sampler: Literal["tpe", "nsga2", "random"] | None = Field(
        None, description="Optuna sampler (default: tpe weighted, nsga2 pareto)"
    )
    trials: int = Field(ge=1, le=100_000, description="Candidates proposed (incl. infeasible)")
    batch: int = Field(4, ge=1, le=10_000, description="Candidates run together")
    population: int = Field(8, ge=2, le=10_000, description="NSGA-II population size")
    replications: int = Field(3, ge=1, le=10_000, description="Replications per candidate")
    leaders: int = Field(3, ge=1, le=100, description="Best candidates re-evaluated")
    leader_replications: int = Field(
        10, ge=2, le=10_000, description="Replications of leaders, base and hand-written"
    )
    polish_rounds: int = Field(
        3, ge=0, le=100, description="Rounds of neighbourhood search around the best (weighted)"
    )
    polish_size: int = Field(
        16, ge=1, le=10_000, description="Neighbours tried per round (one-step moves first)"
    )

    @model_validator(mode="after")
    def _check(self) -> OptimisePlan:
        names = [v.name for v in self.variables]
        paths = [v.path for v in self.variables]
        if len(set(names)) != len(names):
            raise ValueError(f"variables repeat a name: {names}")
        if len(set(paths)) != len(paths):
            raise ValueError(f"variables repeat a path: {paths}")
        metrics = [o.metric for o in self.objectives]
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"objectives repeat a metric: {metrics}")
        if self.leader_replications < self.replications:
            raise ValueError(
                f"leader_replications = {self.leader_replications} must be ≥ replications "
                f"= {self.replications}"
            )
        if self.resolved_mode == "weighted" and self.sampler == "nsga2":
            raise ValueError('sampler = "nsga2" is for mode = "pareto"; use "tpe" or "random"')
        return self

    @property
    def resolved_mode(self) -> str:
        return self.mode or ("weighted" if len(self.objectives) == 1 else "pareto")

    @property
    def resolved_sampler(self) -> str:
        return self.sampler or ("tpe" if self.resolved_mode == "weighted" else "nsga2")


def load_plan(path: str | Path) -> OptimisePlan:
    """Read and validate a plan file; every problem is one :class:`GovsimError` line."""
    path = Path(path)
    data = read_toml(path, "optimisation plan")
    kind = data.get("kind")
    if kind != PLAN_KIND:
        if kind is None:
            raise GovsimError(f'{path}: kind: required key is missing; allowed: "{PLAN_KIND}"')
        raise GovsimError(
            f"{path}: kind = {fmt_value(kind)}: an optimisation plan has kind = "
            f'"{PLAN_KIND}"' + (f"; run it with `govsim {kind} {path}`" if kind else "")
        )
    try:
        return OptimisePlan.model_validate(data)
    except ValidationError as exc:
        raise GovsimError(format_validation_error(exc, OptimisePlan, str(path))) from None


# --------------------------------------------------------------------------- costs


class CostModel:
    """Yearly cost of a configuration for the whole city, from the costs module.

    ``configuration_cost`` of the simulated city divided by the scale: staff as planned,
    platforms and programmes (early-warning team days depend on the run and are left out
    here; the simulated ``cost_yuan`` counts them and is checked after the runs). Cities
    are built once per city-shaping setting (``GovernanceModel.CITY_SHAPING``).
    """

    def __init__(self) -> None:
        self._cities: dict[str, Any] = {}

    def city(self, sc) -> Any:
        from sim.city.build import build_city  # lazy: numba only where costs are needed

        cap = sc.levers.capability
        key = json.dumps(
            [
                sc.city.model_dump(mode="json"),
                sc.scale,
                sc.seed,
                cap.residents_per_grid,
                cap.digital_inclusion,
            ],
            sort_keys=True,
        )
        if key not in self._cities:
            self._cities[key] = build_city(sc)
        return self._cities[key]

    def city_yuan(self, sc) -> float:
        """Yuan per year for the whole (real) city."""
        from sim.kernels.costs import configuration_cost

        return float(configuration_cost(sc, self.city(sc)) / sc.scale)


def county_allocation(sc, city) -> list[dict[str, Any]]:
    """Staff per county by role (persons, whole-city estimate = simulated ÷ scale) and their
    yearly pay; the allocation a configuration's levers imply county by county."""
    from sim.kernels.costs import ONE_PERSON_PER_SLOT, ROLE_OF_KIND, Params
    from sim.pools import K_SOCIAL, build_pools

    p = Params.from_scenario(sc)
    pools = build_pools(city, sc)
    per_slot = {
        k: (1.0 if k in ONE_PERSON_PER_SLOT else 1.0 / p.cases_per_staff)
        for k in list(ROLE_OF_KIND) + [K_SOCIAL]
    }
    rows = []
    for c, county in enumerate(sc.city.counties):
        row: dict[str, Any] = {
            "county": county.name_zh,
            "county_en": county.name_en,
            "residents": int(city.county_population[c] / sc.scale),
            "grids": int(np.count_nonzero(city.grid_county == c) / sc.scale),
        }
        pay = 0.0
        for k, role in ROLE_OF_KIND.items():
            sel = (pools.kind == k) & (pools.county == c)
            persons = float(pools.servers[sel].sum()) * per_slot[k]
            row[role] = persons / sc.scale
            pay += persons * float(p.pay_by_kind[k])
        sel = (pools.kind == K_SOCIAL) & (pools.county == c)
        row["social_org_slots"] = float(pools.servers[sel].sum()) / sc.scale
        row["staff_pay_yuan"] = pay / sc.scale
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- setup


@dataclass
class Setup:
    """A validated plan resolved against the scenario schema."""

    plan: OptimisePlan
    path: Path
    groups: list[dict[str, Any]]  # 0: base; 1…: hand-written
    seed: int
    definition: dict[str, Any]
    text: str

    @property
    def definition_hash(self) -> str:
        text = json.dumps(self.definition, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _check_variables(plan: OptimisePlan, base: dict, where: str) -> None:
    for i, v in enumerate(plan.variables):
        tp = factor_type(v.path, f"{where}: variables[{i}].path")
        literal = typing.get_origin(tp) is typing.Literal
        ok = {
            "int": tp in (int, float),
            "float": tp is float,
            "bool": tp is bool,
            "choice": literal or tp in (int, float, str),
        }[v.type]
        if not ok:
            shown = getattr(tp, "__name__", str(tp))
            want = {int: "int", float: "float", bool: "bool"}.get(tp, "choice")
            raise GovsimError(
                f'{where}: variables[{i}].type = "{v.type}": {v.path} holds a {shown}; '
                f'use type = "{want}"'
            )
        ends = (
            [int(v.range[0]), int(v.range[1])]
            if v.type == "int"
            else list(v.range)
            if v.type == "float"
            else [False, True]
            if v.type == "bool"
            else list(v.values)
        )
        key = "values" if v.type == "choice" else "range" if v.range else "type"
        for value in ends:
            try:
                planning.build_scenario(base, {v.path: value}, 0)
            except ValidationError as exc:
                msg = describe_validation_error(exc, {}, "").removeprefix(": ")
                raise GovsimError(
                    f"{where}: variables[{i}].{key} ({v.path} = {fmt_value(value)}): {msg}"
                ) from None


def prepare(
    path: str | Path,
    *,
    days: int | None = None,
    scale: float | None = None,
    overrides: Sequence[str] = (),
    trials: int | None = None,
) -> Setup:
    """Load the plan file, its scenarios and check every variable against the schema."""
    path = Path(path)
    plan = load_plan(path)
    if trials is not None:
        try:
            plan = OptimisePlan.model_validate({**plan.model_dump(), "trials": trials})
        except ValidationError as exc:
            msg = format_validation_error(exc, OptimisePlan, f"{path} (--trials)")
            raise GovsimError(msg) from None
    where = str(path)
    sets = planning._overrides(plan, list(overrides), days, scale)
    base = planning._load(path.parent / plan.base, sets, f"{where}: base")
    groups = [planning._group(base, Path(plan.base).as_posix())]
    groups[0]["label"] = BASE_LABEL
    labels = {BASE_LABEL}
    for i, rel in enumerate(plan.compare_with):
        sc = planning._load(path.parent / rel, sets, f"{where}: compare_with[{i}]")
        g = planning._group(sc, Path(rel).as_posix())
        while g["label"] in labels:
            g["label"] += "'"
        labels.add(g["label"])
        groups.append(g)
    _check_variables(plan, groups[0]["scenario"], where)
    seed = plan.seed if plan.seed is not None else groups[0]["scenario"]["seed"]
    definition = plan.model_dump(mode="json")
    definition.update(
        set=sets,
        seed=seed,
        # the scenarios' contents, not the model code (a changed model reruns, see below)
        resolved=[
            scenario_hash(planning.build_scenario(g["scenario"], {}, 0), model_version="")
            for g in groups
        ],
    )
    return Setup(plan, path, groups, seed, definition, path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluator:
    """Runs points (base, hand-written, candidates) into the evaluations folder."""

    setup: Setup
    folder: Path
    executor: Any
    progress: bool
    run_fn: Callable | None
    points: list[dict[str, Any]] = field(default_factory=list)
    reps: dict[int, int] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict)
    _summaries: dict[str, dict[str, float]] = field(default_factory=dict)

    def point(self, group: int, factors: dict[str, Any], label: str) -> int:
        key = json.dumps([group, factors], sort_keys=True)
        if key not in self._index:
            self._index[key] = len(self.points)
            self.points.append({"group": group, "label": label, "factors": dict(factors)})
        return self._index[key]

    def _plan(self) -> planning.Plan:
        runs = []
        seed = self.setup.seed
        for i, pt in enumerate(self.points):
            for rep in range(self.reps.get(i, 0)):
                s = planning.replication_seed(seed, rep)
                sc = planning.build_scenario(
                    self.setup.groups[pt["group"]]["scenario"], pt["factors"], s
                )
                runs.append({"run_id": scenario_hash(sc), "point": i, "rep": rep, "seed": s})
        plan = self.setup.plan
        return planning.Plan(
            kind=PLAN_KIND,
            name=plan.name,
            title_zh=plan.title_zh,
            title_en=plan.title_en,
            seed=seed,
            replications=plan.leader_replications,
            metrics=list(SUMMARY_KEYS),
            groups=self.setup.groups,
            points=self.points,
            runs=runs,
            # more trials extend the same evaluations folder
            definition={k: v for k, v in self.setup.definition.items() if k != "trials"},
            sampler={
                "design": "optuna",
                "sampler": self.setup.plan.resolved_sampler,
                "crn": True,
                "seed": seed,
            },
        )

    def run(self, wanted: dict[int, int]) -> None:
        """Make sure point i has ``wanted[i]`` replications recorded (runs the missing)."""
        for i, n in wanted.items():
            self.reps[i] = max(self.reps.get(i, 0), n)
        plan = self._plan()
        ef = ExperimentFolder(self.folder)
        done = ef.done_ids() if ef.runs_dir.is_dir() else set()
        if all(r["run_id"] in done for r in plan.runs) and ef.plan_path.is_file():
            return
        run_plan(plan, self.folder, self.executor, progress=self.progress, run_fn=self.run_fn)

    def values(self, i: int, n: int, start: int = 0) -> dict[str, list[float]]:
        """Summary values of point i's replications start … start+n−1: ``{metric: [per rep]}``."""
        ef = ExperimentFolder(self.folder)
        pt = self.points[i]
        out: dict[str, list[float]] = {}
        for rep in range(start, start + n):
            s = planning.replication_seed(self.setup.seed, rep)
            sc = planning.build_scenario(
                self.setup.groups[pt["group"]]["scenario"], pt["factors"], s
            )
            rid = scenario_hash(sc)
            if rid not in self._summaries:
                try:
                    self._summaries[rid] = ef.read_meta(rid)["summary"]
                except (GovsimError, OSError, KeyError):
                    self._summaries[rid] = {}
            for m, v in self._summaries[rid].items():
                out.setdefault(m, []).append(float(v) if v is not None else math.nan)
            for m in SUMMARY_KEYS:
                if m not in self._summaries[rid]:
                    out.setdefault(m, []).append(math.nan)
        return out

    def county_values(self, i: int, n: int, start: int = 0) -> dict[str, float]:
        """Mean over replications of the run's per-county indicator (``county_values``)."""
        ef = ExperimentFolder(self.folder)
        pt = self.points[i]
        acc: dict[str, list[float]] = {}
        for rep in range(start, start + n):
            s = planning.replication_seed(self.setup.seed, rep)
            sc = planning.build_scenario(
                self.setup.groups[pt["group"]]["scenario"], pt["factors"], s
            )
            with contextlib.suppress(GovsimError, OSError, KeyError):
                for k, v in (ef.read_meta(scenario_hash(sc)).get("county_values") or {}).items():
                    acc.setdefault(k, []).append(float(v))
        return {k: float(np.nanmean(v)) for k, v in acc.items() if v}


def _mean(x: Sequence[float]) -> float:
    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else math.nan


def weighted_score(plan: OptimisePlan, means: dict[str, float], base: dict[str, float]) -> float:
    """Σ wᵢ·(−dᵢ)·mᵢ / |bᵢ| (lower is better; see the module docstring)."""
    total = 0.0
    for o in plan.objectives:
        b = abs(base[o.metric]) if base[o.metric] and math.isfinite(base[o.metric]) else 1.0
        total += o.weight * (-o.sign) * means[o.metric] / b
    return total


# --------------------------------------------------------------------------- optuna


def _distribution(v: Variable):
    import optuna

    d = optuna.distributions
    if v.type == "int":
        return d.IntDistribution(int(v.range[0]), int(v.range[1]), step=int(v.step or 1))
    if v.type == "float":
        return d.FloatDistribution(v.range[0], v.range[1], step=v.step)
    if v.type == "bool":
        return d.CategoricalDistribution([False, True])
    return d.CategoricalDistribution(list(v.values))


def _set_budget_constraint(study, trial_id: int, value: float) -> None:
    """(cost − budget) ÷ budget as the trial's Optuna constraint (feasible where ≤ 0); once
    (a rerun after a kill may find it already set, with the same value)."""
    import optuna

    if "constraints:budget" not in study._storage.get_trial_system_attrs(trial_id):
        optuna.trial.Trial(study, trial_id).set_constraint("budget", value)


def _sampler(setup: Setup, number: int):
    """The sampler that asks trial ``number``, seeded from (plan seed, number)."""
    import optuna

    s = planning.stream_seed(setup.seed, SEED_STREAM_OPTIMISER, number)
    name = setup.plan.resolved_sampler
    with warnings.catch_warnings():  # multivariate TPE is "experimental"
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if name == "random":
            return optuna.samplers.RandomSampler(seed=s)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(population_size=setup.plan.population, seed=s)
        startup = max(1, min(10, setup.plan.trials // 3))
        return optuna.samplers.TPESampler(seed=s, n_startup_trials=startup, multivariate=True)


def _replay_ask(setup: Setup, study, number: int, dists: dict, before: list) -> dict[str, Any]:
    """The parameters ``study.ask`` gave trial ``number``, asked again on an in-memory copy
    of the trials before it (as they stood then: earlier batches told, this batch's
    earlier trials running) with the same seeded sampler. Optuna writes a trial's
    parameters to the journal one by one, so a ``kill -9`` can leave a trial with some or
    none; resuming must give it the values the uninterrupted search gave it."""
    import optuna

    twin = optuna.create_study(directions=study.directions, sampler=_sampler(setup, number))
    for t in before:
        twin.add_trial(t)
    trial = twin.ask(dists)
    if trial.number != number:
        raise GovsimError(f"replaying trial {number} of '{study.study_name}' gave {trial.number}")
    return trial.params


def _complete_asked_trial(storage, trial, params: dict[str, Any], dists: dict) -> dict[str, Any]:
    """Write the parameters a killed ask left out of ``trial`` (those it has must agree)."""
    for name, value in params.items():
        if name in trial.params:
            if trial.params[name] != value:
                raise GovsimError(
                    f"trial {trial.number}: parameter '{name}' is {trial.params[name]!r} in the "
                    f"journal but {value!r} when asked again; the study was changed by another "
                    "program"
                )
            continue
        storage.set_trial_param(
            trial._trial_id, name, dists[name].to_internal_repr(value), dists[name]
        )
    return params


def _directions(plan: OptimisePlan) -> list[str]:
    if plan.resolved_mode == "weighted":
        return ["minimize"]
    return ["maximize" if o.sign > 0 else "minimize" for o in plan.objectives]


def _worst(plan: OptimisePlan) -> list[float]:
    return [math.inf if d == "minimize" else -math.inf for d in _directions(plan)]


class _FolderLock:
    """An exclusive ``flock`` on ``OUT/optimise.lock`` for the whole optimisation."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_FILE
        self.fd: int | None = None

    def __enter__(self) -> _FolderLock:
        try:
            import fcntl
        except ImportError:  # Windows: no lock
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(self.fd, 64).decode(errors="replace").strip() or "?"
            os.close(self.fd)
            raise GovsimError(
                f"{self.path.parent}: another govsim process (pid {other}) is optimising "
                "here; wait for it or pass another --out"
            ) from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)


# --------------------------------------------------------------------------- main loop


def default_out(setup: Setup) -> Path:
    return Path("runs") / f"optimise-{setup.plan.name}-{setup.definition_hash[:8]}"


def optimise(
    plan_path: str | Path,
    out: str | Path | None = None,
    *,
    days: int | None = None,
    scale: float | None = None,
    overrides: Sequence[str] = (),
    trials: int | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
    run_fn: Callable | None = None,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Run (or resume) the budget-constrained search of a plan file; returns the result.

    Parameters
    ----------
    plan_path
        The plan file (``kind = "optimise"``).
    out
        Output folder (default ``runs/optimise-<name>-<hash8>``); rerunning resumes it.
    days, scale, overrides
        As ``govsim run``'s ``--days``, ``--scale``, ``--set``, for every scenario.
    trials
        Override the plan's ``trials`` (more trials extend a finished study).
    workers, scheduler
        Local worker processes (0: in this process) or a Dask scheduler address.
    run_fn
        Stand-in for :func:`sim.run.run_scenario` (tests of the search on a known answer).
    retry_failed
        Run again the runs that failed before (their failure records are moved to
        ``evaluations/failed/retried-<time>/``, nothing is deleted); otherwise a failed
        run stays failed and its candidate's means leave it out.

    Returns
    -------
    dict
        What ``OUT/optimise.json`` holds (see :func:`_result`); the page is
        :func:`sim.experiment.planner_report.write_planner_report` (``govsim optimise``
        writes it).
    """
    import optuna

    setup = prepare(plan_path, days=days, scale=scale, overrides=overrides, trials=trials)
    plan = setup.plan
    root = Path(out) if out is not None else default_out(setup)
    root.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with _FolderLock(root):
        marker = root / "optimise_plan.json"
        if marker.is_file():
            old = read_json(marker)
            same = {k: v for k, v in old.get("definition", {}).items() if k != "trials"}
            new = {k: v for k, v in setup.definition.items() if k != "trials"}
            if same != new:
                raise GovsimError(
                    f"{root}: holds another optimisation ('{old.get('name')}': other plan, "
                    "scenarios, seed or settings); pass another --out, or delete the folder "
                    "to start over"
                )
            if old.get("model_version") not in (None, sim.model_version()):
                warnings.warn(
                    f"{root}: the model's code changed since this optimisation began "
                    f"({old['model_version']} → {sim.model_version()}); runs are redone with "
                    "the new code, but the study keeps the values told before",
                    RecordWarning,
                    stacklevel=2,
                )
        write_json(
            marker,
            {
                "name": plan.name,
                "definition": setup.definition,
                "model_version": sim.model_version(),
            },
        )
        (root / PLAN_COPY).write_text(setup.text, encoding="utf-8")
        if retry_failed:
            _set_failures_aside(root / EVALUATIONS_DIR)
        executor = make_executor(workers, scheduler)
        ev = Evaluator(setup, root / EVALUATIONS_DIR, executor, progress, run_fn)
        costs = CostModel()
        scen0 = planning.replication_seed(setup.seed, 0)

        def scenario(group: int, factors: dict[str, Any]):
            return planning.build_scenario(setup.groups[group]["scenario"], factors, scen0)

        base_cost = costs.city_yuan(scenario(0, {}))
        b = plan.budget
        budget = (
            b.yuan_per_year if b.yuan_per_year is not None else b.relative_to_base * base_cost
        ) + b.extra_yuan_per_year
        R, RL = plan.replications, plan.leader_replications
        # 1. base and hand-written configurations
        fixed = [ev.point(g, {}, setup.groups[g]["label"]) for g in range(len(setup.groups))]
        ev.run({i: R + RL for i in fixed})
        base_means_r = {m: _mean(v) for m, v in ev.values(fixed[0], R).items()}

        def outcome(i: int, n: int) -> dict[str, float]:
            return {m: _mean(v) for m, v in ev.values(i, n).items()}

        # 2. the search
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(root / STUDY_FILE))
        )
        study = optuna.create_study(
            study_name=plan.name,
            storage=storage,
            directions=_directions(plan),
            sampler=_sampler(setup, 0),
            load_if_exists=True,
        )
        dists = {v.name: _distribution(v) for v in plan.variables}
        by_name = {v.name: v for v in plan.variables}

        def factors_of(params: dict[str, Any]) -> dict[str, Any]:
            out_f = {}
            for k, val in params.items():
                v = by_name[k]
                out_f[v.path] = (
                    int(val) if v.type == "int" else float(val) if v.type == "float" else val
                )
            return out_f

        running = optuna.trial.TrialState.RUNNING
        n_batches = math.ceil(plan.trials / plan.batch)
        for k in range(n_batches):
            numbers = range(k * plan.batch, min((k + 1) * plan.batch, plan.trials))
            todo: list[tuple[Any, int]] = []
            for n in numbers:
                existing = {t.number: t for t in study.get_trials(deepcopy=False)}
                if n in existing:
                    t = existing[n]
                    if t.state != running:
                        continue
                    params, trial_id = t.params, t._trial_id
                    if set(params) != set(dists):  # killed while the trial was being asked
                        before = [x for x in existing.values() if x.number < n]
                        params = _complete_asked_trial(
                            storage, t, _replay_ask(setup, study, n, dists, before), dists
                        )
                else:
                    study.sampler = _sampler(setup, n)
                    trial = study.ask(dists)
                    if trial.number != n:
                        raise GovsimError(
                            f"{root / STUDY_FILE}: trial numbers out of order (asked {n}, got "
                            f"{trial.number}); the study was changed by another program"
                        )
                    params, trial_id = trial.params, trial._trial_id
                fac = factors_of(params)
                cost = costs.city_yuan(scenario(0, fac))
                storage.set_trial_user_attr(trial_id, "cost_yuan_city", cost)
                storage.set_trial_user_attr(trial_id, "factors", fac)
                if cost > budget:
                    _set_budget_constraint(study, trial_id, (cost - budget) / budget)
                    storage.set_trial_user_attr(trial_id, "feasible", False)
                    study.sampler = _sampler(setup, n)
                    study.tell(n, _worst(plan))
                else:
                    todo.append((n, ev.point(0, fac, f"#{n}")))
            if not todo:
                continue
            ev.run({i: R for _, i in todo})
            for n, i in todo:
                means = outcome(i, R)
                run_cost = means.get("cost_yuan", math.nan)
                sc_scale = scenario(0, ev.points[i]["factors"]).scale
                realised = run_cost / sc_scale if math.isfinite(run_cost) else -math.inf
                trial_id = study.get_trials(deepcopy=False)[n]._trial_id
                over = max(realised, 0.0) - budget
                storage.set_trial_user_attr(trial_id, "point", i)
                storage.set_trial_user_attr(
                    trial_id, "cost_yuan_run_city", realised if math.isfinite(realised) else None
                )
                study.sampler = _sampler(setup, n)
                if over > 0:
                    _set_budget_constraint(study, trial_id, over / budget)
                    storage.set_trial_user_attr(trial_id, "feasible", False)
                    study.tell(n, _worst(plan))
                    continue
                cost = study.get_trials(deepcopy=False)[n].user_attrs["cost_yuan_city"]
                _set_budget_constraint(study, trial_id, (cost - budget) / budget)
                storage.set_trial_user_attr(trial_id, "feasible", True)
                if plan.resolved_mode == "weighted":
                    vals = [weighted_score(plan, means, base_means_r)]
                else:
                    vals = [means[o.metric] for o in plan.objectives]
                vals = [
                    v if math.isfinite(v) else w for v, w in zip(vals, _worst(plan), strict=True)
                ]
                study.tell(n, vals)
        # 2b. neighbourhood search around the best candidate (weighted mode)
        cands = _candidates(study, plan)
        polished: list[dict[str, Any]] = []
        if plan.resolved_mode == "weighted":
            seen = {_key(c["params"]) for c in cands}
            number = plan.trials
            for _ in range(plan.polish_rounds):
                pool = [c for c in cands + polished if c.get("feasible", True)]
                if not pool:
                    break
                best = min(pool, key=lambda c: (c["values"][0], c["trial"]))
                todo_p = []
                for params in _neighbours(plan, best["params"])[: plan.polish_size]:
                    if _key(params) in seen:
                        continue
                    seen.add(_key(params))
                    fac = factors_of(params)
                    c = {
                        "trial": number,
                        "params": params,
                        "factors": fac,
                        "source": "polish",
                        "cost_yuan_city": costs.city_yuan(scenario(0, fac)),
                    }
                    number += 1
                    if c["cost_yuan_city"] > budget:
                        c.update(feasible=False, point=None, values=None)
                        polished.append(c)
                        continue
                    c["point"] = ev.point(0, fac, f"#{c['trial']}")
                    todo_p.append(c)
                if not todo_p:
                    break
                ev.run({c["point"]: R for c in todo_p})
                for c in todo_p:
                    means = outcome(c["point"], R)
                    realised = means.get("cost_yuan", math.nan) / scenario(0, c["factors"]).scale
                    c["feasible"] = not realised > budget
                    score = weighted_score(plan, means, base_means_r)
                    c["values"] = [score if math.isfinite(score) else math.inf]
                    polished.append(c)
                new_best = min(
                    [c for c in cands + polished if c.get("feasible", True)],
                    key=lambda c: (c["values"][0], c["trial"]),
                )
                if new_best is best:
                    break
        # 3. leaders, 4. recommendation
        result = _finish(
            setup, study, ev, costs, budget, base_cost, fixed, root, executor, started, polished
        )
    return result


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def _neighbours(plan: OptimisePlan, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Settings one step from ``params``: each variable one step up or down (a switch
    flipped, the next choice), and exchanges — one variable up, another down — which move
    along a binding budget (a local search on the design grid, in the spirit of COMPASS,
    Hong & Nelson 2006, doi:10.1287/opre.1060.0297). Continuous variables without a
    ``step`` are left out. One-step moves come first, then the exchanges."""
    steps: dict[str, list[tuple[int, Any]]] = {}
    for v in plan.variables:
        x = params[v.name]
        opts: list[tuple[int, Any]] = []
        if v.type in ("int", "float"):
            st = v.step if v.step is not None else (1 if v.type == "int" else None)
            if st is None:
                continue
            for d in (1, -1):
                y = x + d * st
                y = int(round(y)) if v.type == "int" else round(float(y), 10)
                if v.range[0] - 1e-9 <= y <= v.range[1] + 1e-9:
                    opts.append((d, y))
        elif v.type == "bool":
            opts.append((0, not x))
        else:
            i = list(v.values).index(x) if x in v.values else -1
            opts += [(d, v.values[i + d]) for d in (1, -1) if 0 <= i + d < len(v.values)]
        steps[v.name] = opts
    out = [{**params, name: y} for name, opts in steps.items() for _, y in opts]
    for a, up in steps.items():
        for b, down in steps.items():
            if a != b:
                out += [
                    {**params, a: ya, b: yb}
                    for da, ya in up
                    if da == 1
                    for db, yb in down
                    if db == -1
                ]
    return out


def _set_failures_aside(folder: Path) -> None:
    failed = ExperimentFolder(folder).failed_dir
    files = sorted(failed.glob("*.json")) if failed.is_dir() else []
    if files:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        dest = failed / f"retried-{stamp}"
        dest.mkdir(parents=True, exist_ok=True)
        for f in files:
            f.rename(dest / f.name)


def _candidates(study, plan: OptimisePlan) -> list[dict[str, Any]]:
    """Feasible complete trials, one per distinct point (the first trial that proposed it)."""
    import optuna

    seen: set[int] = set()
    out = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        if not t.user_attrs.get("feasible") or "point" not in t.user_attrs:
            continue
        p = int(t.user_attrs["point"])
        if p in seen:
            continue
        seen.add(p)
        out.append(
            {
                "trial": t.number,
                "point": p,
                "values": list(t.values),
                "params": dict(t.params),
                "factors": t.user_attrs["factors"],
                "cost_yuan_city": t.user_attrs["cost_yuan_city"],
            }
        )
    return out


def _efficient(rows: list[list[float]], signs: list[int]) -> list[bool]:
    """Non-dominated rows (each column better in the direction of its sign)."""
    if not rows:
        return []
    a = np.asarray(rows, dtype=float) * np.asarray(signs, dtype=float)
    keep = []
    for i in range(len(a)):
        dominated = any(
            np.all(a[j] >= a[i]) and np.any(a[j] > a[i]) for j in range(len(a)) if j != i
        )
        keep.append(not dominated)
    return keep


def _leaders(plan: OptimisePlan, cands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not cands:
        return []
    if plan.resolved_mode == "weighted":
        return sorted(cands, key=lambda c: (c["values"][0], c["trial"]))[: plan.leaders]
    signs = [o.sign for o in plan.objectives]
    front = [
        c
        for c, ok in zip(cands, _efficient([c["values"] for c in cands], signs), strict=True)
        if ok
    ]
    front.sort(key=lambda c: (c["values"][0] * -signs[0], c["trial"]))
    if len(front) <= plan.leaders:
        return front
    idx = np.unique(np.round(np.linspace(0, len(front) - 1, plan.leaders)).astype(int))
    return [front[i] for i in idx]


def _finish(
    setup,
    study,
    ev: Evaluator,
    costs: CostModel,
    budget,
    base_cost,
    fixed,
    root,
    executor,
    started,
    polished: list[dict[str, Any]],
) -> dict[str, Any]:
    plan = setup.plan
    R, RL = plan.replications, plan.leader_replications
    cands = _candidates(study, plan) + [c for c in polished if c["feasible"]]
    leaders = _leaders(plan, cands)
    # leaders, base and hand-written are compared on fresh replications R … R+RL−1, not on
    # the ones that selected the leaders (no winner's-curse bias in the final intervals)
    ev.run({c["point"]: R + RL for c in leaders})
    base_means = {m: _mean(v) for m, v in ev.values(fixed[0], RL, R).items()}
    metrics = [o.metric for o in plan.objectives]
    report_metrics = list(dict.fromkeys(metrics + ["cost_per_resident", "cost_yuan"]))
    scen0 = planning.replication_seed(setup.seed, 0)
    for c in leaders:
        c["means"] = {m: _mean(v) for m, v in ev.values(c["point"], RL, R).items()}
        c["score"] = weighted_score(plan, c["means"], base_means)
        realised = c["means"].get("cost_yuan", math.nan) / setup.groups[0]["scenario"]["scale"]
        c["feasible"] = bool(c["cost_yuan_city"] <= budget and not realised > budget)
    ok = [c for c in leaders if c["feasible"]]
    if plan.resolved_mode == "weighted":
        recs = sorted(ok, key=lambda c: (c["score"], c["trial"]))[:1]
    else:
        signs = [o.sign for o in plan.objectives]
        flags = _efficient([[c["means"][m] for m in metrics] for c in ok], signs)
        recs = [c for c, f in zip(ok, flags, strict=True) if f]
    # hand-written configurations within budget; the best by the weighted score
    hand = []
    for g, i in zip(range(1, len(setup.groups)), fixed[1:], strict=True):
        sc = planning.build_scenario(setup.groups[g]["scenario"], {}, scen0)
        means = {m: _mean(v) for m, v in ev.values(i, RL, R).items()}
        cost = costs.city_yuan(sc)
        hand.append(
            {
                "label": setup.groups[g]["label"],
                "source": setup.groups[g]["source"],
                "point": i,
                "cost_yuan_city": cost,
                "feasible": cost <= budget,
                "means": means,
                "score": weighted_score(plan, means, base_means),
            }
        )
    feasible_hand = [h for h in hand if h["feasible"]]
    best_hand = min(feasible_hand, key=lambda h: h["score"]) if feasible_hand else None
    # paired comparisons (compare statistics)
    for c in recs:
        c["label"] = f"#{c['trial']}"
        for ref_key, ref_point, ref_label in (
            ("vs_base", fixed[0], BASE_LABEL),
            (
                "vs_best_hand",
                best_hand["point"] if best_hand else None,
                best_hand["label"] if best_hand else None,
            ),
        ):
            if ref_point is None:
                c[ref_key] = []
                continue
            vals = {
                m: {
                    ref_label: dict(enumerate(ev.values(ref_point, RL, R)[m])),
                    c["label"]: dict(enumerate(ev.values(c["point"], RL, R)[m])),
                }
                for m in report_metrics
            }
            rows = compare_stats(vals, [ref_label, c["label"]], report_metrics, seed=setup.seed)
            c[ref_key] = [_clean(r) for r in rows if r["scenario"] == c["label"]]

    # per-county allocations (base, best hand-written, recommendations)
    def alloc(group: int, factors: dict[str, Any]) -> list[dict[str, Any]]:
        sc = planning.build_scenario(setup.groups[group]["scenario"], factors, scen0)
        return county_allocation(sc, costs.city(sc))

    county = {
        BASE_LABEL: {"allocation": alloc(0, {}), "indicator": ev.county_values(fixed[0], RL, R)}
    }
    if best_hand is not None:
        county[best_hand["label"]] = {
            "allocation": alloc(fixed.index(best_hand["point"]), {}),
            "indicator": ev.county_values(best_hand["point"], RL, R),
        }
    for c in recs:
        county[c["label"]] = {
            "allocation": alloc(0, c["factors"]),
            "indicator": ev.county_values(c["point"], RL, R),
        }
    all_trials = []
    for t in study.get_trials(deepcopy=False):
        p = t.user_attrs.get("point")
        row = {
            "trial": t.number,
            "state": t.state.name,
            "params": dict(t.params),
            "feasible": t.user_attrs.get("feasible"),
            "cost_yuan_city": t.user_attrs.get("cost_yuan_city"),
            "values": list(t.values) if t.values else None,
            "point": p,
        }
        if p is not None:
            row["means"] = {m: _mean(ev.values(p, R)[m]) for m in report_metrics}
        all_trials.append(row)
    for c in polished:  # the neighbourhood search's candidates, after the study's trials
        row = {
            "trial": c["trial"],
            "state": "POLISH",
            "params": c["params"],
            "feasible": c["feasible"],
            "cost_yuan_city": c["cost_yuan_city"],
            "values": c["values"],
            "point": c["point"],
        }
        if c["point"] is not None:
            row["means"] = {m: _mean(ev.values(c["point"], R)[m]) for m in report_metrics}
        all_trials.append(row)
    result = _result(
        setup,
        budget,
        base_cost,
        base_means,
        leaders,
        recs,
        hand,
        best_hand,
        county,
        all_trials,
        executor,
        started,
        root,
    )
    write_json(root / RESULT_FILE, result)
    return result


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "metric",
        "n",
        "mean",
        "ci_low",
        "ci_high",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "diff_pct",
        "diff_pct_ci_low",
        "diff_pct_ci_high",
        "pct_flag",
        "p",
        "conclusion",
        "reference",
    )
    return {k: row.get(k) for k in keep}


def _result(
    setup,
    budget,
    base_cost,
    base_means,
    leaders,
    recs,
    hand,
    best_hand,
    county,
    trials,
    executor,
    started,
    root,
) -> dict[str, Any]:
    import optuna

    plan = setup.plan
    prov_path = root / EVALUATIONS_DIR / "provenance.json"
    invocations = read_json(prov_path).get("invocations", []) if prov_path.is_file() else []
    old = (
        read_json(root / RESULT_FILE).get("invocations", [])
        if (root / RESULT_FILE).is_file()
        else []
    )
    finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {
        "format": "govsim-optimise/1",
        "folder": str(root),
        "name": plan.name,
        "title_zh": plan.title_zh,
        "title_en": plan.title_en,
        "description": plan.description,
        "mode": plan.resolved_mode,
        "sampler": plan.resolved_sampler,
        "objectives": [
            {"metric": o.metric, "sign": o.sign, "weight": o.weight} for o in plan.objectives
        ],
        "variables": [v.model_dump(mode="json") for v in plan.variables],
        "budget_yuan_per_year": budget,
        "base_cost_yuan_per_year": base_cost,
        "base_scale": setup.groups[0]["scenario"]["scale"],
        "base_days": setup.groups[0]["scenario"]["days"],
        "base_means": base_means,
        "base_values": {
            v.path: _get_dotted(setup.groups[0]["scenario"], v.path) for v in plan.variables
        },
        "plan_replications": plan.replications,
        "plan_leader_replications": plan.leader_replications,
        "hand_written": hand,
        "best_hand_written": best_hand["label"] if best_hand else None,
        "leaders": leaders,
        "recommendations": recs,
        "county": county,
        "trials": trials,
        "counts": {
            "trials": len(trials),
            "infeasible_never_run": sum(
                1 for t in trials if t["feasible"] is False and t["point"] is None
            ),
            "infeasible_after_run": sum(
                1 for t in trials if t["feasible"] is False and t["point"] is not None
            ),
            "feasible": sum(1 for t in trials if t["feasible"]),
        },
        "provenance": {
            "plan_file": str(setup.path),
            "plan_text": setup.text,
            "definition_hash": setup.definition_hash,
            "seed": setup.seed,
            "replication_seeds": [
                planning.replication_seed(setup.seed, r)
                for r in range(plan.replications + plan.leader_replications)
            ],
            "sampler_seeds": f"SeedSequence({setup.seed}, spawn_key=({SEED_STREAM_OPTIMISER}, "
            "trial number))",
            "model_version": sim.model_version(),
            "optuna": optuna.__version__,
            "govsim": sim.__version__,
            "packages": {n: _version(n) for n in ("numpy", "numba", "scipy", "pydantic")},
            "executor": executor.describe(),
            "run_invocations": len(invocations),
            "invocations": old + [{"started_utc": started, "finished_utc": finished}],
        },
    }


def _get_dotted(data: dict[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def read_result(out: str | Path) -> dict[str, Any]:
    """``OUT/optimise.json`` of a finished optimisation."""
    path = Path(out) / RESULT_FILE
    if not path.is_file():
        raise GovsimError(
            f"{out}: no {RESULT_FILE}; run `govsim optimise PLAN.toml --out {out}` (it resumes)"
        )
    return read_json(path)


def worse_than_hand_written(result: dict[str, Any], rec: dict[str, Any]) -> list[str]:
    """Objectives on which the best hand-written configuration is significantly better
    than the recommendation (its paired 95 % CI of the difference excludes 0)."""
    signs = {o["metric"]: o["sign"] for o in result["objectives"]}
    out = []
    for r in rec.get("vs_best_hand", []):
        if r["metric"] not in signs or r["diff_ci_low"] is None or r["diff_ci_high"] is None:
            continue
        worse_high = signs[r["metric"]] > 0 and r["diff_ci_high"] < 0
        worse_low = signs[r["metric"]] < 0 and r["diff_ci_low"] > 0
        if worse_high or worse_low:
            out.append(r["metric"])
    return out


def summary_text(result: dict[str, Any]) -> str:
    """The recommendation in a few lines, Chinese first (the CLI prints it)."""
    lines = [
        f"优化 (optimise): {result['title_zh'] or result['name']}",
        f"预算 (budget): {result['budget_yuan_per_year'] / 1e8:.3f} 亿元/年 (yuan/year: "
        f"{result['budget_yuan_per_year']:,.0f}); 基线 (base) "
        f"{result['base_cost_yuan_per_year'] / 1e8:.3f} 亿元/年",
        f"候选 (candidates): {result['counts']['trials']}，其中超预算未运行 (over budget, "
        f"never run) {result['counts']['infeasible_never_run']}",
    ]
    if not result["recommendations"]:
        lines.append("无可行推荐 (no feasible recommendation within the budget)")
    for c in result["recommendations"]:
        lines.append(
            f"推荐 (recommendation) {c['label']}: "
            + ", ".join(f"{k}={fmt_value(v)}" for k, v in c["params"].items())
            + f"; 成本 (cost) {c['cost_yuan_city'] / 1e8:.3f} 亿元/年"
        )
        for r in c.get("vs_base", []):
            lines.append(
                f"  {r['metric']}: {r['mean']:.4g} (Δ vs base {r['diff']:+.4g}, 95% CI "
                f"[{r['diff_ci_low']:+.4g}, {r['diff_ci_high']:+.4g}])"
            )
        worse = worse_than_hand_written(result, c)
        if worse:
            lines.append(
                f"  注意 (note): 最佳手工方案 {result['best_hand_written']} 在 {', '.join(worse)} "
                "上显著优于此推荐；增加 trials 或把它的设置纳入搜索范围 (the best hand-written "
                "configuration is significantly better on these; raise trials or widen the "
                "variables to include its settings)"
            )
    return "\n".join(lines)
