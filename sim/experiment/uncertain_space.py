"""The uncertain parameter space: registry "assumption" parameters → SALib problem → overrides.

Shared by ``govsim uncertainty`` (:mod:`sim.experiment.uncertainty`) and ``govsim discover``
(:mod:`sim.experiment.discover`). The space is read from the parameter registry
(:func:`sim.scenario.registry.parameters`): every number whose source is "assumption",
over its stated plausible range. Left out, each with its reason (:func:`excluded`):

- levers (``levers.*``): what a configuration chooses, not what we do not know; the
  scenario files set them, and sampling them would overwrite the configuration compared;
- parameters whose plausible range is a single value (structural zeros such as the
  hotline resolving no dispute, a 24-hour duty): nothing to vary;
- parameters matched by the experiment's ``exclude`` patterns (``*`` any text, ``?`` one
  character, brackets literal; e.g. ``"costs.*"``, ``"city.counties[*].population"``),
  or not matched by its ``include`` patterns when any are given.

Mapping a sample to a scenario (:func:`overrides`) keeps the schema's constraints:

- whole numbers (persons, days, ties) are rounded;
- a sector-mix row (``handling.sector_mix.<category>[i]``, shares that must sum to 1) is
  sampled entry by entry and renormalised to sum 1, so a factor is the entry's weight
  before normalisation (Aitchison's closure of a composition);
- county populations (``city.counties[i].population``) are sampled and rescaled to the
  scenario's total population (largest remainder), which is a census figure: a county
  factor moves the split between counties, not the city's size;
- other list entries (report hours, index weights) replace the entry in a copy of the list;
- a configuration that sets a parameter of the space to another value than the baseline
  (``default``, the value of the scenario the space was read from) keeps its change: the
  sampled value is multiplied by the configuration's ratio to the baseline (shifted by
  the difference where the baseline is 0), so the uncertainty moves both, paired.

The overrides are whole values at key paths (``handling.sector_mix.dispute`` = the new
row, ``city.counties`` = the new county list), applied to each configuration's resolved
scenario by :func:`sim.experiment.plan.build_scenario`, as the sweep factors are.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.errors import GovsimError
from sim.scenario.registry import UNITS_ZH, Param, parameters
from sim.scenario.schema import Scenario

_INDEX = re.compile(r"^(?P<head>.*)\[(?P<i>\d+)\](?P<tail>(\..*)?)$")
SECTOR_MIX = "handling.sector_mix."
COUNTIES = "city.counties"


@dataclass(frozen=True)
class UncertainParam:
    """One uncertain number: its registry path, labels, unit and plausible range."""

    path: str
    zh: str
    description: str
    unit: str
    unit_zh: str
    default: float
    low: float
    high: float
    integer: bool
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> UncertainParam:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    @property
    def label(self) -> str:
        """``中文名 (unit)``: the planners' name of the number."""
        return f"{self.zh}（{self.unit_zh}）" if self.unit_zh else self.zh


def _pattern(p: str) -> re.Pattern:
    """``*`` any text, ``?`` one character; brackets are literal (``counties[*]``)."""
    return re.compile(re.escape(p).replace(r"\*", ".*").replace(r"\?", ".") + r"\Z")


def _matches(path: str, patterns: Sequence[str]) -> bool:
    return any(_pattern(p).match(path) for p in patterns)


def _reason(r: Param, include: Sequence[str], exclude: Sequence[str]) -> str | None:
    if r.status != "assumption":
        return None  # not part of the space, not an exclusion either
    if r.kind == "lever":
        return "lever: set by the configurations compared"
    if r.plausible is None or r.plausible[0] >= r.plausible[1]:
        return "plausible range is a single value"
    if include and not _matches(r.path, include):
        return "not matched by include"
    if _matches(r.path, exclude):
        return "matched by exclude"
    return ""


def excluded(
    include: Sequence[str] = (), exclude: Sequence[str] = (), scenario: Scenario | None = None
) -> list[dict[str, str]]:
    """The assumption parameters left out of the space, each with its reason."""
    out = []
    for r in parameters(scenario):
        why = _reason(r, include, exclude)
        if why:
            out.append({"path": r.path, "zh": r.zh, "reason": why})
    return out


def uncertain_parameters(
    include: Sequence[str] = (), exclude: Sequence[str] = (), scenario: Scenario | None = None
) -> list[UncertainParam]:
    """The registry's assumption parameters over their plausible ranges (module docstring).

    Parameters
    ----------
    include, exclude
        Patterns on the registry path (``*``, ``?``; brackets literal); ``include`` empty means all.
    scenario
        Whose values are the defaults (default: the schema's defaults). The ranges are the
        registry's; relative ranges (``rel``, ``pm``) are taken around this scenario's value.
    """
    out = []
    for r in parameters(scenario):
        if _reason(r, include, exclude) != "":
            continue
        lo, hi = r.plausible
        out.append(
            UncertainParam(
                path=r.path,
                zh=r.zh,
                description=r.description,
                unit=r.unit,
                unit_zh=UNITS_ZH.get(r.unit, r.unit),
                default=float(r.default),
                low=float(lo),
                high=float(hi),
                integer=isinstance(r.default, int) and not isinstance(r.default, bool),
                note=r.note,
            )
        )
    if not out:
        raise GovsimError(
            f"no uncertain parameter left (include = {list(include)}, exclude = "
            f"{list(exclude)}); `govsim params --assumptions-only` lists the candidates"
        )
    return out


def check_patterns(patterns: Sequence[str], key: str, where: str) -> None:
    """Every include/exclude pattern must match at least one registry path."""
    paths = [r.path for r in parameters()]
    for i, p in enumerate(patterns):
        if not any(_pattern(p).match(x) for x in paths):
            raise GovsimError(
                f'{where}: {key}[{i}] = "{p}": matches no parameter of the registry; '
                "patterns (* any text, ? one character) match the paths that "
                "`govsim params --format csv` lists, "
                'e.g. "costs.*" or "handling.pools.*.service_hours.*"'
            )


def salib_problem(params: Sequence[UncertainParam]) -> dict[str, Any]:
    """SALib's problem: names are the registry paths, bounds the plausible ranges."""
    return {
        "num_vars": len(params),
        "names": [p.path for p in params],
        "bounds": [[p.low, p.high] for p in params],
    }


def latin_hypercube(params: Sequence[UncertainParam], n: int, seed: int) -> np.ndarray:
    """``n`` points of a Latin hypercube (scipy.stats.qmc) over the ranges, in their units."""
    unit = qmc.LatinHypercube(d=len(params), rng=np.random.default_rng(seed)).random(n)
    return qmc.scale(unit, [p.low for p in params], [p.high for p in params])


def _get(data: Any, path: str) -> Any:
    node = data
    for key in path.split("."):
        node = node[key]
    return node


def _path_value(base: Mapping[str, Any], path: str) -> Any:
    m = _INDEX.match(path)
    if m is None:
        return _get(base, path)
    item = _get(base, m["head"])[int(m["i"])]
    tail = m["tail"].lstrip(".")
    return item[tail] if tail else item


def _keep_change(p: UncertainParam, sampled: float, current: Any) -> float:
    """The sampled value moved as the configuration moved the parameter from the baseline."""
    if not isinstance(current, int | float) or current == p.default:
        return sampled
    if p.default != 0:
        return sampled * float(current) / p.default
    return sampled + float(current)


def _largest_remainder(weights: Sequence[float], total: int) -> list[int]:
    raw = np.asarray(weights, dtype=float) / float(np.sum(weights)) * total
    out = np.floor(raw).astype(int)
    order = np.argsort(-(raw - out), kind="stable")
    out[order[: total - int(out.sum())]] += 1
    return [int(v) for v in out]


def overrides(
    base: Mapping[str, Any], params: Sequence[UncertainParam], values: Sequence[float]
) -> dict[str, Any]:
    """The key-path overrides of one sample for a resolved scenario dump ``base``.

    See the module docstring for rounding, the sector-mix closure and the county rescaling.
    """
    out: dict[str, Any] = {}
    lists: dict[str, list] = {}
    for p, v in zip(params, values, strict=True):
        v = _keep_change(p, float(v), _path_value(base, p.path))
        v = int(round(v)) if p.integer else float(v)
        m = _INDEX.match(p.path)
        if m is None:
            out[p.path] = v
            continue
        head, i, tail = m["head"], int(m["i"]), m["tail"].lstrip(".")
        if head not in lists:
            lists[head] = copy.deepcopy(_get(base, head))
        if tail:
            lists[head][i][tail] = v
        else:
            lists[head][i] = v
    for head, items in lists.items():
        if head.startswith(SECTOR_MIX):
            s = float(sum(items))
            items = [float(x) / s for x in items]
        elif head == COUNTIES:
            total = int(_get(base, "city.total_population"))
            pops = _largest_remainder([c["population"] for c in items], total)
            for c, n in zip(items, pops, strict=True):
                c["population"] = n
        out[head] = items
    return out


def describe(params: Sequence[UncertainParam]) -> list[dict[str, Any]]:
    """The space as rows for tables and provenance."""
    return [p.to_json() for p in params]


# --------------------------------------------------------------------------- LHS plans


def plan_lhs(
    *,
    kind: str,
    name: str,
    title_zh: str,
    title_en: str,
    groups: list[dict[str, Any]],
    params: Sequence[UncertainParam],
    samples: int,
    seed: int,
    replications: int,
    metrics: list[str],
    definition: dict[str, Any],
    where: str,
    nominal: bool = True,
):
    """Every configuration (group) at every point of one Latin hypercube, CRN seeds.

    Points are ``(group, sample)``: sample ``-1`` is the nominal point (the registry's
    values, no override; with ``nominal``), samples ``0 … n−1`` the hypercube rows, the
    same rows for every group. Replication ``r`` has the same seed at every point, so the
    effect of a configuration against the baseline (group 0) at a sample is paired.
    """
    # lazy: plan imports SALib/scipy samplers; this module is also used for the space alone
    from sim.experiment import plan as planning

    sseed = planning.stream_seed(seed, planning.SEED_STREAM_SAMPLER)
    x = latin_hypercube(params, samples, sseed)
    points = []
    for g, group in enumerate(groups):
        base = group["scenario"]
        if nominal:
            points.append(
                {"group": g, "label": f"{group['label']} nominal", "factors": {}, "sample": -1}
            )
        for s, row in enumerate(x):
            points.append(
                {
                    "group": g,
                    "label": f"{group['label']} #{s}",
                    "factors": overrides(base, params, row),
                    "sample": s,
                }
            )
    runs = planning._make_runs(groups, points, seed, replications, where)
    return planning.Plan(
        kind=kind,
        name=name,
        title_zh=title_zh,
        title_en=title_en,
        seed=seed,
        replications=replications,
        metrics=metrics,
        groups=groups,
        points=points,
        runs=runs,
        definition=definition,
        sampler={
            "design": "lhs",
            "crn": True,
            "seed": seed,
            "sampler": "scipy.stats.qmc.LatinHypercube",
            "sampler_seed": sseed,
            "samples": samples,
            "nominal": nominal,
            "x": x.tolist(),
            "names": [p.path for p in params],
        },
    )


def lhs_values(folder, plan, metrics: Sequence[str], county: bool = False) -> dict[str, Any]:
    """Outcomes of an LHS plan's records as arrays ``[group, sample, rep]`` (NaN: not done).

    Returns ``{"metrics": {metric: array}, "nominal": {metric: array[group, rep]},
    "county": {county name: array}}`` (county: the run's per-county indicator,
    :data:`sim.run.COUNTY_INDICATOR`, from each record's ``county_values``).
    """
    n_g = len(plan.groups)
    n_s = int(plan.sampler["samples"])
    reps = plan.replications
    out = {m: np.full((n_g, n_s, reps), np.nan) for m in metrics}
    nom = {m: np.full((n_g, reps), np.nan) for m in metrics}
    counties: dict[str, np.ndarray] = {}
    done = folder.done_ids()
    cache: dict[str, dict[str, Any]] = {}
    for run in plan.runs:
        rid = run["run_id"]
        if rid not in done or run["rep"] >= reps:
            continue
        if rid not in cache:
            cache[rid] = folder.read_meta(rid)
        meta = cache[rid]
        pt = plan.points[run["point"]]
        g, s, r = pt["group"], pt["sample"], run["rep"]
        for m in metrics:
            v = meta["summary"].get(m)
            v = np.nan if v is None else float(v)
            if s < 0:
                nom[m][g, r] = v
            else:
                out[m][g, s, r] = v
        if county and s >= 0:
            for c, v in (meta.get("county_values") or {}).items():
                arr = counties.setdefault(c, np.full((n_g, n_s, reps), np.nan))
                arr[g, s, r] = float(v)
    return {"metrics": out, "nominal": nom, "county": counties}


def paired_effect(values: np.ndarray) -> np.ndarray:
    """Mean over replications of (group − group 0), per group and sample: ``[group, sample]``.

    Replications missing in either member of a pair are left out (NaN if none is left).
    """
    diff = values - values[:1]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(diff)
        n = ok.sum(axis=-1)
        total = np.where(ok, diff, 0.0).sum(axis=-1)
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)
