"""``govsim discover``: where a strategy stops beating the baseline (scenario discovery, PRIM).

Scenario discovery [1, 2] over the uncertain parameters of the registry
(:mod:`sim.experiment.uncertain_space`): a Latin hypercube of ``samples`` points over every
"assumption" parameter's plausible range; at each point the baseline and every strategy
run with the same seeds (common random numbers, ``replications`` each), so a strategy's
effect at a point is the mean paired difference strategy − baseline. A **goal** says what
the strategy must achieve on a summary metric: improve on the baseline in the metric's
better direction (:data:`sim.experiment.frontier.METRIC_DIRECTION`, or ``better``) by at
least ``threshold`` (in the metric's unit, or as a share of the baseline's value with
``relative``). The strategy **fails** at a point where it misses the goal.

PRIM (Friedman & Fisher 1999 [3]) as implemented in EMA Workbench [4]
(``ema_workbench.analysis.prim.Prim``, lenient objective, peeling ``peel_alpha``, boxes
of at least ``mass_min`` of the points) then finds the boxes of parameter values where
failures concentrate. Each box is chosen on its peeling trajectory as the most covering
box whose density is at least ``min_density`` (else the densest): **coverage** is the
share of all failures inside the box, **density** the share of the points in the box
that fail. Restrictions the data do not support (quasi-p value above ``max_qp``, Bryant &
Lempert 2010 [1]) are then dropped one at a time: with few points and many parameters PRIM
otherwise restricts parameters by chance. The box's limits are given on the restricted
parameters only, in the planners' terms: the registry's Chinese label, unit and
plausible range, with each limit's quasi-p value. A box left with no restriction is
reported as such: the failures are spread over the space, not concentrated in a box.

Per county (``county = true``): each run records the per-county indicator
:data:`sim.run.COUNTY_INDICATOR` (获得感 sense of gain) for the nine counties; a
strategy fails in a county where it does not improve that county's indicator by the
goal's threshold on ``gain_index`` (or 0). Other metrics are only city-wide: the model
summarises them for the city, not per county.

Outputs in ``OUT/``: ``discover/`` (the runs, resumable), ``boxes.json`` (everything,
with the trajectories and provenance), ``boxes.csv`` (one row per restricted parameter
of each box), ``county_failure_<strategy>.png`` (the nine counties coloured by the share
of points where the strategy fails there) and ``discover.html``; :func:`html_section`
gives the section (Chinese first) for the planner report, :func:`load_boxes` reads the
boxes back and :func:`county_failure_shares` gives the per-county shares for a map.

References
----------
1. Bryant, B. P., Lempert, R. J. (2010). Thinking inside the box: a participatory,
   computer-assisted approach to scenario discovery. Technological Forecasting and
   Social Change 77(1), 34–49. doi:10.1016/j.techfore.2009.08.002
2. Lempert, R. J., Groves, D. G., Popper, S. W., Bankes, S. C. (2006). A general,
   analytic method for generating robust strategies and narrative scenarios.
   Management Science 52(4), 514–528. doi:10.1287/mnsc.1050.0472
3. Friedman, J. H., Fisher, N. I. (1999). Bump hunting in high-dimensional data.
   Statistics and Computing 9(2), 123–143. doi:10.1023/A:1008894516817
4. Kwakkel, J. H. (2017). The Exploratory Modeling Workbench: an open source toolkit for
   exploratory modeling, scenario discovery, and (multi-objective) robust decision
   making. Env. Modelling & Software 96, 239–250. doi:10.1016/j.envsoft.2017.06.054
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from sim import metrics_schema
from sim.errors import GovsimError
from sim.experiment import frontier
from sim.experiment import uncertain_space as space
from sim.experiment.records import ExperimentFolder, read_json, write_json
from sim.experiment.spec import MetricKey
from sim.experiment.tables import to_csv
from sim.experiment.uncertainty import (
    _PAGE,
    _definition,
    _Model,
    _run,
    _sets,
    _Stage,
    definition_hash,
    experiment_seed,
    load_groups,
    load_uncertainty,
)
from sim.io import atomic_write_bytes
from sim.store import provenance

RESULT_FILE = "boxes.json"
COUNTY_METRIC = "gain_index"  # sim.run.COUNTY_INDICATOR (sim.run sits below this layer's view)


class Goal(_Model):
    """What a strategy must achieve against the baseline on one metric."""

    metric: MetricKey  # type: ignore[valid-type]
    better: Literal["higher", "lower"] | None = Field(
        None, description="Default: the metric's direction (sim.experiment.frontier)"
    )
    threshold: float = Field(0.0, description="Least improvement over the baseline")
    relative: bool = Field(False, description="threshold as a share of the baseline's value")


class PrimSection(_Model):
    peel_alpha: float = Field(0.05, gt=0.0, lt=0.5, description="Share peeled per step")
    mass_min: float = Field(0.05, gt=0.0, lt=1.0, description="Smallest box (share of points)")
    min_density: float = Field(0.8, gt=0.0, le=1.0, description="Density the box must reach")
    max_boxes: int = Field(2, ge=1, le=10, description="Boxes per strategy and goal")
    max_qp: float = Field(
        0.05, gt=0.0, le=1.0, description="Restrictions with a larger quasi-p value are dropped"
    )


class DiscoverExperiment(_Stage):
    """A scenario-discovery experiment file (``kind = "discover"``)."""

    kind: Literal["discover"]
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="Short identifier")
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Experiment seed")
    base: str = Field(min_length=1, description="Baseline scenario file, relative to this file")
    strategies: list[str] = Field(min_length=1, description="Strategy scenario files (globs)")
    samples: int = Field(64, ge=4, le=100_000, description="Latin hypercube points")
    set: list[str] = Field(default_factory=list, description="key.path=value overrides")
    include: list[str] = Field(default_factory=list, description="patterns of parameters to keep")
    exclude: list[str] = Field(default_factory=list, description="patterns of parameters to drop")
    goals: list[Goal] = Field(min_length=1, description="What each strategy must achieve")
    county: bool = Field(True, description="Also per county (gain_index per county)")
    prim: PrimSection = Field(default_factory=PrimSection)

    @model_validator(mode="after")
    def _directions(self) -> DiscoverExperiment:
        for i, g in enumerate(self.goals):
            if g.better is None and g.metric not in frontier.METRIC_DIRECTION:
                raise ValueError(
                    f"goals[{i}]: metric {g.metric} has no known direction; give "
                    'better = "higher" or "lower"'
                )
        return self


def direction(goal: Goal) -> int:
    """+1 when higher is better, −1 when lower is better."""
    if goal.better is not None:
        return 1 if goal.better == "higher" else -1
    return frontier.METRIC_DIRECTION[goal.metric]


# --------------------------------------------------------------------------- PRIM


def _selected(traj: pd.DataFrame, min_density: float) -> int:
    ok = traj[traj["density"] >= min_density]
    if len(ok):
        return int(ok.sort_values(["coverage", "density"], ascending=False).index[0])
    return int(traj["density"].idxmax())


def _import_prim():
    """``ema_workbench.analysis.prim``, imported lazily (it loads pandas, statsmodels, seaborn).

    EMA Workbench 3.0's ``method_logger`` decorator calls ``inspect.getouterframes`` at
    class definition, which reads the source lines of every frame of the import stack;
    with the model's modules loaded that took 24 of 33 s of the import on our busy 2-core
    machine. During the import only, the frames are listed without their source lines
    (the decorator reads only the caller's name), which took the import to 9 s.
    """
    if "ema_workbench.analysis.prim" in sys.modules:
        return sys.modules["ema_workbench.analysis.prim"]
    original = inspect.getouterframes

    def frames_without_source(frame, context=1):
        out = []
        while frame is not None:
            code = frame.f_code
            out.append(inspect.FrameInfo(frame, code.co_filename, frame.f_lineno,
                                         code.co_name, None, None))  # fmt: skip
            frame = frame.f_back
        return out

    inspect.getouterframes = frames_without_source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ema_workbench warns that ipyparallel is missing
            from ema_workbench.analysis import prim
    finally:
        inspect.getouterframes = original
    return prim


def _qp(values) -> float:
    """The quasi-p value of one restriction: the larger of its restricted sides' (−1: none)."""
    vals = [float(v) for v in (values or []) if v is not None and float(v) >= 0]
    return max(vals) if vals else math.nan


def _drop_unsupported(box, i: int, max_qp: float) -> tuple[int, list[dict[str, Any]]]:
    """Drop, one at a time, the restriction with the largest quasi-p value above ``max_qp``.

    Quasi-p values (Bryant & Lempert 2010 [1], a one-sided binomial test of the box's
    density with and without the restriction, EMA Workbench's ``PrimBox.p_values``) tell
    which limits the data support; with few points and many parameters PRIM also
    restricts parameters by chance. Each drop adds a box to the trajectory
    (``PrimBox.drop_restriction``); returns the final box's index and what was dropped.
    """
    dropped = []
    while True:
        qp = {k: _qp(v) for k, v in box.p_values[i].items()}
        qp = {k: v for k, v in qp.items() if math.isfinite(v)}
        if not qp:
            return i, dropped
        worst = max(qp, key=qp.get)
        if qp[worst] <= max_qp:
            return i, dropped
        box.drop_restriction(worst, i)
        i = len(box.peeling_trajectory) - 1
        dropped.append({"path": worst, "qp": qp[worst]})


def find_boxes(
    x: pd.DataFrame,
    failed: np.ndarray,
    params: Sequence[space.UncertainParam],
    prim: PrimSection | None = None,
) -> dict[str, Any]:
    """PRIM boxes of the failures ``failed`` over the points ``x`` (columns: registry paths).

    Returns ``{"points", "failures", "failure_share", "status", "boxes": [...]}``; each box
    has ``coverage``, ``density``, ``mass``, ``res_dim``, ``selected`` (its index on the
    ``trajectory``: coverage, density, mass, res_dim per peeling step) and ``limits``: per
    restricted parameter its label (zh), unit, the box's low/high and the plausible range.
    """
    prim = prim or PrimSection()
    failed = np.asarray(failed, dtype=bool)
    n, k = int(failed.size), int(failed.sum())
    out: dict[str, Any] = {
        "points": n,
        "failures": k,
        "failure_share": k / n if n else math.nan,
        "boxes": [],
    }
    if k == 0:
        out["status"] = "never_fails"
        return out
    if k == n:
        out["status"] = "always_fails"
        return out
    out["status"] = "boxes"
    by = {p.path: p for p in params}
    logging.getLogger("EMA").setLevel(logging.WARNING)
    ema_prim = _import_prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = ema_prim.Prim(
            x.reset_index(drop=True),
            failed,
            peel_alpha=prim.peel_alpha,
            mass_min=prim.mass_min,
        )
        init = p.box_init
        for _ in range(prim.max_boxes):
            box = p.find_box()
            if box is None:
                break
            i = _selected(box.peeling_trajectory.reset_index(drop=True), prim.min_density)
            box.select(i)
            i, dropped = _drop_unsupported(box, i, prim.max_qp)
            traj = box.peeling_trajectory.reset_index(drop=True)
            lims = box.box_lims[i]
            qp = box.p_values[i]
            limits = []
            for col in x.columns:
                lo, hi = float(lims.loc[0, col]), float(lims.loc[1, col])
                if lo <= float(init.loc[0, col]) and hi >= float(init.loc[1, col]):
                    continue
                q = by[col]
                limits.append(
                    {
                        "path": col,
                        "zh": q.zh,
                        "description": q.description,
                        "unit": q.unit,
                        "unit_zh": q.unit_zh,
                        "low": lo,
                        "high": hi,
                        "range_low": q.low,
                        "range_high": q.high,
                        "default": q.default,
                        "qp": _qp(qp.get(col)),
                    }
                )
            row = traj.loc[i]
            out["boxes"].append(
                {
                    "coverage": float(row["coverage"]),
                    "density": float(row["density"]),
                    "mass": float(row["mass"]),
                    "res_dim": int(row["res_dim"]),
                    "selected": i,
                    "limits": limits,
                    "dropped": dropped,
                    "trajectory": [
                        {
                            k: float(traj.loc[j, k])
                            for k in ("coverage", "density", "mass", "res_dim")
                        }
                        for j in range(len(traj))
                    ],  # fmt: skip
                }
            )
            if not limits or float(row["coverage"]) >= 0.95 or len(p.yi_remaining) == 0:
                break
    return out


def failures(effect: np.ndarray, baseline: np.ndarray, goal: Goal) -> np.ndarray:
    """Where the goal is missed: improvement (in the better direction) below the threshold.

    ``effect`` is the paired effect strategy − baseline per point, ``baseline`` the
    baseline's mean per point (for relative thresholds). NaN effects count as not failed
    and are dropped by the caller.
    """
    need = goal.threshold * np.abs(baseline) if goal.relative else goal.threshold
    with np.errstate(invalid="ignore"):
        return direction(goal) * effect < need


# --------------------------------------------------------------------------- running


def load_discover(path: str | Path) -> DiscoverExperiment:
    return load_uncertainty(path, DiscoverExperiment)


ModelHook = Callable[[pd.DataFrame, list[str]], dict[str, dict[str, np.ndarray]]]


def run_discover(
    experiment: str | Path,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable | None = None,
    model: ModelHook | None = None,
) -> dict[str, Any]:
    """Run (or resume) a discover experiment file; returns what ``boxes.json`` holds.

    Parameters
    ----------
    experiment
        A ``kind = "discover"`` TOML file (see ``experiments/discover_example.toml``).
    out
        The folder (default ``runs/<name>-<hash8>``); rerunning resumes the runs.
    model
        Instead of simulating: ``model(x, strategies)`` → ``{metric: {"baseline": array,
        strategy: array}}`` of outcomes per point (a synthetic function for tests of the
        PRIM path; no run is made and no county view is given).
    workers, scheduler, retry_failed, progress, run_fn
        As :func:`sim.experiment.api.compare`.
    """
    path = Path(experiment)
    exp = load_discover(path)
    where = str(path)
    base_dir = path.parent
    sets = _sets(exp, exp)
    groups = load_groups(exp.base, exp.strategies, base_dir, sets, where)
    if len(groups) < 2:
        raise GovsimError(f"{where}: strategies: give at least one besides the base")
    from sim.experiment.plan import build_scenario  # the baseline's values are the defaults

    params = space.uncertain_parameters(
        exp.include, exp.exclude, build_scenario(groups[0]["scenario"], {}, 0)
    )
    metrics = list(dict.fromkeys([g.metric for g in exp.goals]))
    if exp.county and COUNTY_METRIC not in metrics:
        metrics.append(COUNTY_METRIC)
    top = {"file": exp.model_dump(mode="json"), "parameters": [p.path for p in params]}
    root = (
        Path(out) if out is not None else Path("runs") / (f"{exp.name}-{definition_hash(top)[:8]}")
    )
    root.mkdir(parents=True, exist_ok=True)
    seed = experiment_seed(exp, groups)
    labels = [g["label"] for g in groups]
    t0 = time.perf_counter()
    timing: dict[str, Any] = {}
    if model is None:
        exp_def = _definition(exp, "discover", exp, sets, params, [g["source"] for g in groups])
        plan = space.plan_lhs(
            kind="discover", name=exp.name, title_zh=exp.title_zh, title_en=exp.title_en,
            groups=groups, params=params, samples=exp.samples, seed=seed,
            replications=exp.replications, metrics=metrics, definition=exp_def,
            where=where, nominal=False,
        )  # fmt: skip
        timing = _run(plan, root / "discover", workers, scheduler, retry_failed, progress, run_fn)
        x = np.asarray(plan.sampler["x"], dtype=float)
        vals = space.lhs_values(ExperimentFolder(root / "discover"), plan, metrics, exp.county)
        effects = {m: space.paired_effect(vals["metrics"][m]) for m in metrics}
        base_mean = {m: np.nanmean(vals["metrics"][m][0], axis=-1) for m in metrics}
        county = {c: space.paired_effect(v) for c, v in vals["county"].items()}
    else:
        x = space.latin_hypercube(params, exp.samples, space_seed(seed))
        xdf = pd.DataFrame(x, columns=[p.path for p in params])
        got = model(xdf, labels[1:])
        effects, base_mean = {}, {}
        for m in metrics:
            if m not in got:
                continue
            b = np.asarray(got[m]["baseline"], dtype=float)
            effects[m] = np.array([np.zeros_like(b)] + [np.asarray(got[m][s]) - b
                                                         for s in labels[1:]])  # fmt: skip
            base_mean[m] = b
        county = {}
    xdf = pd.DataFrame(x, columns=[p.path for p in params])
    cases = []
    for g in range(1, len(groups)):
        for goal in exp.goals:
            if goal.metric not in effects:
                continue
            e = effects[goal.metric][g]
            ok = np.isfinite(e)
            fail = failures(e[ok], base_mean[goal.metric][ok], goal)
            res = find_boxes(xdf[ok].reset_index(drop=True), fail, params, exp.prim)
            cases.append(_case(groups[g], goal, "city", "全市", res, e[ok]))
        if exp.county and county:
            goal = next((q for q in exp.goals if q.metric == COUNTY_METRIC), None)
            goal = goal or Goal(metric=COUNTY_METRIC)
            for cname, eff in county.items():
                e = eff[g]
                ok = np.isfinite(e)
                b = np.full(int(ok.sum()), np.nan)
                if goal.relative:
                    b = np.nanmean(vals["county"][cname][0], axis=-1)[ok]
                fail = failures(e[ok], b, goal)
                res = find_boxes(xdf[ok].reset_index(drop=True), fail, params, exp.prim)
                cases.append(_case(groups[g], goal, "county", cname, res, e[ok]))
    result = {
        "format": "govsim-discover/1",
        "name": exp.name,
        "title_zh": exp.title_zh,
        "title_en": exp.title_en,
        "file": exp.model_dump(mode="json"),
        "baseline": labels[0],
        "strategies": labels[1:],
        "parameters": space.describe(params),
        "excluded": space.excluded(exp.include, exp.exclude),
        "samples": exp.samples,
        "replications": exp.replications,
        "synthetic_model": model is not None,
        "county_view": bool(exp.county and county),
        "county_note": (
            "per county: 获得感 (gain_index) only; the other metrics are city-wide"
            if exp.county
            else ""
        ),
        "cases": cases,
        "timings": {"runs": timing, "total_s": time.perf_counter() - t0},
        "provenance": provenance(),
    }
    write_json(root / RESULT_FILE, result)
    write_outputs(root, result)
    result["folder"] = str(root)
    return result


def space_seed(seed: int) -> int:
    """The sampler's stream seed of an experiment seed (as in the simulated path)."""
    from sim.experiment.plan import SEED_STREAM_SAMPLER, stream_seed

    return stream_seed(seed, SEED_STREAM_SAMPLER)


def _case(group, goal: Goal, scope: str, where_zh: str, res: dict, effect: np.ndarray) -> dict:
    sign = "≥" if direction(goal) > 0 else "≤"
    thr = goal.threshold if direction(goal) > 0 else -goal.threshold
    unit = "（相对基线）" if goal.relative else ""
    return {
        "strategy": group["label"],
        "strategy_zh": group["title_zh"],
        "metric": goal.metric,
        "metric_zh": metrics_schema.label(goal.metric, "zh"),
        "scope": scope,
        "where": where_zh,
        "goal": goal.model_dump(mode="json"),
        "goal_zh": f"{metrics_schema.label(goal.metric, 'zh')} 相对基线变化 {sign} {thr:g}{unit}",
        "effect_median": float(np.median(effect)) if effect.size else math.nan,
        **res,
    }


# --------------------------------------------------------------------------- outputs


def box_rows(result: dict) -> list[dict[str, Any]]:
    """One row per restricted parameter of each box (``boxes.csv``)."""
    rows = []
    for c in result["cases"]:
        for b, box in enumerate(c["boxes"]):
            for lim in box["limits"] or [{}]:
                rows.append(
                    {
                        "strategy": c["strategy"],
                        "strategy_zh": c["strategy_zh"],
                        "scope": c["scope"],
                        "where": c["where"],
                        "metric": c["metric"],
                        "goal_zh": c["goal_zh"],
                        "failure_share": c["failure_share"],
                        "box": b,
                        "coverage": box["coverage"],
                        "density": box["density"],
                        "mass": box["mass"],
                        "parameter": lim.get("path", ""),
                        "parameter_zh": lim.get("zh", ""),
                        "unit_zh": lim.get("unit_zh", ""),
                        "low": lim.get("low"),
                        "high": lim.get("high"),
                        "range_low": lim.get("range_low"),
                        "range_high": lim.get("range_high"),
                        "default": lim.get("default"),
                        "qp": lim.get("qp"),
                    }
                )
    return rows


def _g(x: Any) -> str:
    return "—" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.4g}"


def _status_zh(c: dict) -> str:
    return {
        "never_fails": "在所有抽样点上均达到目标 (never fails)",
        "always_fails": "在所有抽样点上均未达到目标 (always fails)",
    }.get(c["status"], "")


def county_failure_shares(result: dict) -> dict[str, dict[str, float]]:
    """``{strategy: {county (zh): failure share}}`` of the per-county cases (for maps)."""
    out: dict[str, dict[str, float]] = {}
    for c in result["cases"]:
        if c["scope"] == "county":
            out.setdefault(c["strategy"], {})[c["where"]] = c["failure_share"]
    return out


def _map_file(strategy: str) -> str:
    return f"county_failure_{strategy}.png"


def write_county_maps(root: Path, result: dict) -> list[Path]:
    """One map per strategy: the share of points where it fails, per county (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # lazy: matplotlib

    from sim.viz.figures import county_map

    paths = []
    for strategy, shares in county_failure_shares(result).items():
        fig = county_map(shares, "失效比例 failure share", "zh", cmap="Reds")
        fig.suptitle(f"{strategy}：未达到目标的抽样点比例（分县）")
        buf = io.BytesIO()
        FigureCanvasAgg(fig).print_png(buf)
        path = root / _map_file(strategy)
        atomic_write_bytes(path, buf.getvalue())
        paths.append(path)
    return paths


def html_section(folder: str | Path) -> str:
    """The failure boxes (Chinese first) as an HTML fragment for the planner report."""
    # lazy: the report module loads matplotlib
    from sim.experiment.html_report import _html_table as _table_html

    result = load_boxes(folder)
    parts = [
        '<section class="govsim-discover">',
        "<h2>策略失效情景 Where strategies fail (scenario discovery, PRIM)</h2>",
        f"<p>在 {len(result['parameters'])} 个不确定参数（参数登记表中的“假设”）的拉丁超立方 "
        f"{result['samples']} 个点上，每点 {result['replications']} 次重复（共同随机数），"
        "比较各策略与基线。“覆盖率”为落在框内的失效点占全部失效点的比例，“密度”为框内点中失效的比例。"
        f" {result['samples']} Latin-hypercube points over the registry's assumption "
        "parameters; coverage = share of the failures inside the box, density = share of the "
        "points in the box that fail.</p>",
    ]
    if result.get("county_note"):
        parts.append(f"<p>分县 Per county: {html.escape(result['county_note'])}</p>")
    shares = county_failure_shares(result)
    if shares:
        counties = list(next(iter(shares.values())))
        parts.append(
            _table_html(
                ["策略 strategy", *counties],
                [
                    [s, *(f"{100 * v.get(c, math.nan):.0f}%" for c in counties)]
                    for s, v in shares.items()
                ],
            )  # fmt: skip
        )
        for strategy in shares:
            png = Path(folder) / _map_file(strategy)
            if png.is_file():
                data = base64.b64encode(png.read_bytes()).decode("ascii")
                parts.append(
                    f'<figure><img alt="{html.escape(strategy)}：分县失效比例地图" '
                    f'src="data:image/png;base64,{data}" style="max-width:420px">'
                    f"<figcaption>{html.escape(strategy)}：各县未达到目标（获得感）的抽样点"
                    "比例 share of points where the county's sense of gain is not raised"
                    "</figcaption></figure>"
                )
    for c in result["cases"]:
        title = (
            f"{c['strategy']} {c['strategy_zh']} — {c['where']} — {c['goal_zh']}：失效比例 "
            f"{100 * c['failure_share']:.0f}% (failure share)"
        )
        parts.append(f"<h3>{html.escape(title)}</h3>")
        if c["status"] != "boxes":
            parts.append(f"<p>{html.escape(_status_zh(c))}</p>")
            continue
        for b, box in enumerate(c["boxes"]):
            if not box["limits"]:
                parts.append(
                    "<p>没有得到数据支持的失效区间：失效分散在整个参数空间（所有限制的拟p值均大于"
                    "阈值）。No supported box: the failures are spread over the space.</p>"
                )
                continue
            parts.append(
                f"<p>框 {b + 1} box: 覆盖率 coverage {box['coverage']:.2f}，密度 density "
                f"{box['density']:.2f}，占参数空间 mass {box['mass']:.2f}</p>"
            )
            parts.append(
                _table_html(
                    [
                        "参数 parameter",
                        "名称 name",
                        "失效区间 box",
                        "合理范围 plausible range",
                        "默认值 default",
                    ],
                    [
                        [
                            lim["path"],
                            lim["zh"],
                            f"{_g(lim['low'])}–{_g(lim['high'])} {lim['unit_zh']}",
                            f"{_g(lim['range_low'])}–{_g(lim['range_high'])}",
                            _g(lim["default"]),
                        ]
                        for lim in box["limits"]
                    ],
                )  # fmt: skip
            )
            traj = ", ".join(
                f"({t['coverage']:.2f}, {t['density']:.2f})" for t in box["trajectory"]
            )
            parts.append(
                f"<details><summary>剥离轨迹 peeling trajectory (coverage, density)</summary>"
                f"<p>{html.escape(traj)}</p></details>"
            )
    parts.append("</section>")
    return "\n".join(parts)


def write_outputs(root: Path, result: dict) -> None:
    atomic_write_bytes(root / "boxes.csv", to_csv(box_rows(result)).encode("utf-8"))
    write_county_maps(root, result)
    title = html.escape(result.get("title_zh") or result["name"])
    page = _PAGE.format(title=title, body=html_section(root))
    atomic_write_bytes(root / "discover.html", page.encode("utf-8"))


def load_boxes(folder: str | Path) -> dict[str, Any]:
    """``boxes.json`` of a discover folder: ``cases`` (strategy × goal × city/county), each
    with ``status``, ``failure_share`` and ``boxes`` (coverage, density, mass, limits)."""
    path = Path(folder) / RESULT_FILE
    if not path.is_file():
        raise GovsimError(f"{folder}: no {RESULT_FILE}; run `govsim discover FILE --out {folder}`")
    return read_json(path)


def summary_text(result: dict) -> str:
    parts = [f"情景发现 (scenario discovery): {result['name']} — {result['samples']} points"]
    for c in result["cases"]:
        head = (
            f"\n{c['strategy']} {c['strategy_zh']} · {c['where']} · {c['goal_zh']}: "
            f"失效 {100 * c['failure_share']:.0f}% of points"
        )
        parts.append(head)
        if c["status"] != "boxes":
            parts.append("  " + _status_zh(c))
        for b, box in enumerate(c["boxes"]):
            parts.append(
                f"  框{b + 1} box: coverage {box['coverage']:.2f}, density {box['density']:.2f}"
                f", mass {box['mass']:.2f}"
            )
            if not box["limits"]:
                parts.append("    没有得到数据支持的失效区间 no supported box (failures spread)")
            for lim in box["limits"]:
                parts.append(
                    f"    {lim['zh']} ({lim['path']}): {_g(lim['low'])}–{_g(lim['high'])} "
                    f"{lim['unit_zh']} (range {_g(lim['range_low'])}–{_g(lim['range_high'])}, "
                    f"qp {_g(lim.get('qp'))})"
                )
    parts.append(f"\n目录 (folder): {result.get('folder', '')}")
    return "\n".join(parts)
