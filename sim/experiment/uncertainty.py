"""``govsim uncertainty``: screening, variance-based indices and the robustness of conclusions.

Three stages over the uncertain parameter space of :mod:`sim.experiment.uncertain_space`
(every registry "assumption" parameter across its plausible range, levers and
single-valued ranges left out), each a resumable experiment folder run on the existing
executors (local worker processes or Dask) with common random numbers:

``morris/``
    Morris elementary-effects screening [1, 2] of every uncertain parameter on the base
    scenario: ``trajectories`` r (run at 2r for the convergence check), ``levels`` p,
    ``replications`` seeds. A ``kind = "sensitivity"`` folder, analysed by
    :func:`sim.experiment.indices.sensitivity_indices` (per replication, bootstrap CIs over
    replications, rank stability): ``govsim report morris/`` draws it.
``sobol/``
    Saltelli/Sobol first-order and total indices [3] of the ``top_k`` parameters of the
    screening (ranked by μ* relative to the largest μ* of each metric, the largest over
    the metrics), the others at their values. Plain Monte Carlo estimators, not an
    emulator: with k ≤ 6 factors a Saltelli design of N(k + 2) runs costs a few hundred
    runs at 1:100, less than the screening.
``robustness/``
    A Latin hypercube [4] of ``samples`` points over the whole space; at each point the
    baseline and every configuration run with the same seeds (CRN), plus each at the
    nominal values. A headline conclusion is a configuration's effect against the
    baseline on a metric, with the sign found in the headline comparison (``headline``, a
    ``govsim compare`` folder) or, without one, at the nominal point of this design. Its
    **robustness** is the share of the hypercube points at which the paired effect (mean
    over replications of configuration − baseline) has that sign, with a 95 % Wilson
    score interval [5] over the points. The interval covers the sampling of the parameter
    space; seed noise at each point is not removed (with few replications an effect near
    zero reads as about half: it is not robust, which is what that says).

The folder ``OUT/`` holds the three stage folders, ``uncertainty.json`` (everything below
with provenance), ``screening.csv``/``.md``, ``sobol.csv``/``.md``,
``robustness.csv``/``.md`` and ``uncertainty.html`` (a page; :func:`html_section` gives
the section for other reports). :func:`robustness_table` returns ``{(config, metric):
(share, low, high)}`` for the headline report.

References
----------
1. Morris, M. D. (1991). Factorial sampling plans for preliminary computational
   experiments. Technometrics 33(2), 161–174. doi:10.1080/00401706.1991.10484804
2. Campolongo, F., Cariboni, J., Saltelli, A. (2007). An effective screening design for
   sensitivity analysis of large models. Env. Modelling & Software 22, 1509–1518.
   doi:10.1016/j.envsoft.2006.10.004
3. Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output.
   Computer Physics Communications 181, 259–270. doi:10.1016/j.cpc.2009.09.018
4. McKay, M. D., Beckman, R. J., Conover, W. J. (1979). A comparison of three methods for
   selecting values of input variables in the analysis of output from a computer code.
   Technometrics 21(2), 239–245. doi:10.2307/1268522
5. Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
   inference. JASA 22(158), 209–212. doi:10.1080/01621459.1927.10502953
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy import stats as sps

from sim import metrics_schema
from sim.errors import GovsimError
from sim.experiment import plan as planning
from sim.experiment import summary
from sim.experiment import uncertain_space as space
from sim.experiment.executors import make_executor
from sim.experiment.records import ExperimentFolder, read_json, write_json
from sim.experiment.runner import run_plan
from sim.experiment.spec import MetricKey, format_validation_error, read_toml
from sim.experiment.summary import summarize
from sim.experiment.tables import to_csv
from sim.io import atomic_write_bytes
from sim.store import provenance

HEADLINE_METRICS = (
    "resolution_rate",
    "p90_resolution_days",
    "gain_index",
    "happiness_index",
    "security_index",
    "escalations",
)
CONFIDENCE = 0.95
RESULT_FILE = "uncertainty.json"
STAGES = ("morris", "sobol", "robustness")


# --------------------------------------------------------------------------- the file


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Stage(_Model):
    replications: int = Field(2, ge=1, le=10_000, description="Seeds per design row (CRN)")
    days: int | None = Field(None, ge=1, le=36_500, description="Days (overrides the file's)")
    scale: float | None = Field(None, gt=0.0, le=1.0, description="Population fraction")


class MorrisSection(_Stage):
    trajectories: int = Field(
        4, ge=2, le=10_000, description="Morris trajectories r (run at 2r with convergence)"
    )
    levels: int = Field(4, ge=2, le=100, description="Morris grid levels p")
    convergence: bool = Field(True, description="Run 2r and compare the indices at r and 2r")
    tolerance: float = Field(0.2, gt=0.0, le=1.0, description="Convergence tolerance")


class SobolSection(_Stage):
    top_k: int = Field(4, ge=0, le=20, description="Parameters of the screening to keep (0: none)")
    samples: int = Field(16, ge=2, le=1_000_000, description="Sobol base samples N (power of 2)")
    second_order: bool = Field(False, description="Also second-order indices")
    convergence: bool = Field(True, description="Run 2N and compare the indices at N and 2N")
    tolerance: float = Field(0.1, gt=0.0, le=1.0, description="Convergence tolerance")

    @model_validator(mode="after")
    def _pow2(self) -> SobolSection:
        if self.samples & (self.samples - 1):
            raise ValueError(f"samples = {self.samples} must be a power of 2, e.g. 16")
        return self


class RobustnessSection(_Stage):
    samples: int = Field(32, ge=2, le=100_000, description="Latin hypercube points")


class UncertaintyExperiment(_Model):
    """An uncertainty experiment file (``kind = "uncertainty"``)."""

    kind: Literal["uncertainty"]
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="Short identifier")
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    seed: int | None = Field(None, ge=0, le=2**63 - 1, description="Experiment seed")
    base: str = Field(min_length=1, description="Baseline scenario file, relative to this file")
    configurations: list[str] = Field(
        default_factory=list, description="Configurations compared with the baseline (globs)"
    )
    headline: str | None = Field(
        None, description="A `govsim compare` folder whose signs are the headline conclusions"
    )
    days: int | None = Field(None, ge=1, le=36_500, description="Days simulated")
    scale: float | None = Field(None, gt=0.0, le=1.0, description="Population fraction")
    set: list[str] = Field(default_factory=list, description="key.path=value overrides")
    metrics: list[MetricKey] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(HEADLINE_METRICS), min_length=1, description="Metrics"
    )
    include: list[str] = Field(
        default_factory=list, description="patterns (*, ?) of parameters to keep"
    )
    exclude: list[str] = Field(
        default_factory=list, description="patterns (*, ?) of parameters to drop"
    )
    morris: MorrisSection = Field(default_factory=MorrisSection)
    sobol: SobolSection = Field(default_factory=SobolSection)
    robustness: RobustnessSection = Field(default_factory=RobustnessSection)


def load_uncertainty(path: str | Path, model: type[BaseModel] = UncertaintyExperiment):
    """Read and validate an experiment file of ``model``'s kind (one-line errors)."""
    path = Path(path)
    data = read_toml(path)
    kind = model.model_fields["kind"].annotation.__args__[0]
    if data.get("kind") != kind:
        raise GovsimError(
            f"{path}: kind = {json.dumps(data.get('kind'))}: `govsim {kind}` runs files of "
            f'kind = "{kind}"'
        )
    try:
        exp = model.model_validate(data)
    except ValidationError as exc:
        raise GovsimError(format_validation_error(exc, model, str(path))) from None
    space.check_patterns(exp.include, "include", str(path))
    space.check_patterns(exp.exclude, "exclude", str(path))
    return exp


# --------------------------------------------------------------------------- scenarios


def _sets(exp, stage: _Stage | None) -> list[str]:
    sets = list(exp.set)
    days = stage.days if stage is not None and stage.days is not None else exp.days
    scale = stage.scale if stage is not None and stage.scale is not None else exp.scale
    if days is not None:
        sets.append(f"days={days}")
    if scale is not None:
        sets.append(f"scale={scale}")
    return sets


def load_groups(
    base: str, configurations: Sequence[str], base_dir: Path, sets: list[str], where: str
) -> list[dict[str, Any]]:
    """The baseline first, then every configuration (globs expanded, the baseline once)."""
    entries = planning.expand_scenarios([base, *configurations], base_dir, where)
    groups, labels = [], set()
    for i, (rel, path) in enumerate(entries):
        sc = planning._load(path, sets, f"{where}: {'base' if i == 0 else 'configurations'}")
        g = planning._group(sc, Path(rel).as_posix())
        label = g["label"]
        while label in labels:
            label = f"{label}-{Path(rel).stem}"
        g["label"] = label
        labels.add(label)
        groups.append(g)
    return groups


def experiment_seed(exp, groups: list[dict[str, Any]]) -> int:
    return exp.seed if exp.seed is not None else int(groups[0]["scenario"]["seed"])


def definition_hash(d: dict[str, Any]) -> str:
    text = json.dumps(d, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- plans


def plan_indices(
    *,
    method: str,
    name: str,
    group: dict[str, Any],
    params: Sequence[space.UncertainParam],
    section: MorrisSection | SobolSection,
    seed: int,
    metrics: list[str],
    definition: dict[str, Any],
    where: str,
) -> planning.Plan:
    """A ``kind = "sensitivity"`` plan (Morris or Sobol) over uncertain parameters.

    The same sampler record as :func:`sim.experiment.plan.plan_sensitivity`, so the folder
    is analysed by :mod:`sim.experiment.indices` and drawn by ``govsim report``; the rows
    are mapped to scenario overrides by :func:`sim.experiment.uncertain_space.overrides`.
    """
    problem = space.salib_problem(params)
    d = len(params)
    conv = section.convergence
    sseed = planning.stream_seed(seed, planning.SEED_STREAM_SAMPLER)
    if method == "morris":
        n_base = section.trajectories
        n = n_base * (2 if conv else 1)
        x = morris_sample.sample(problem, n, num_levels=section.levels, seed=sseed)
        rows_per = d + 1
    else:
        n_base = section.samples
        n = n_base * (2 if conv else 1)
        x = sobol_sample.sample(problem, n, calc_second_order=section.second_order, seed=sseed)
        rows_per = 2 * d + 2 if section.second_order else d + 2
    base = group["scenario"]
    points = [
        {
            "group": 0,
            "label": f"#{i}",
            "factors": space.overrides(base, params, row),
            "design": [float(v) for v in row],
            "index": i,
        }
        for i, row in enumerate(x)
    ]
    runs = planning._make_runs([group], points, seed, section.replications, where)
    sampler = {
        "design": method,
        "crn": True,
        "seed": seed,
        "sampler": f"SALib.sample.{method}.sample",
        "sampler_seed": sseed,
        "problem": problem,
        "samples": n_base,
        "samples_run": n,
        "rows_per_sample": rows_per,
        "levels": section.levels if method == "morris" else None,
        "second_order": section.second_order if method == "sobol" else None,
        "convergence": conv,
        "tolerance": section.tolerance,
        "factor_types": {p.path: "int" if p.integer else "float" for p in params},
        "uncertain_space": "sim.experiment.uncertain_space (registry assumption parameters)",
    }
    return planning.Plan(
        kind="sensitivity",
        name=name,
        title_zh=group["title_zh"],
        title_en=group["title_en"],
        seed=seed,
        replications=section.replications,
        metrics=metrics,
        groups=[group],
        points=points,
        runs=runs,
        definition={**definition, "method": method, "samples": n_base},
        sampler=sampler,
    )


# what only the analysis reads: changing it reuses every record
ANALYSIS_ONLY = {"replications", "tolerance", "prim", "goals", "county", "metrics",
                 "title_zh", "title_en", "description", "include", "exclude", "set"}  # fmt: skip


def _definition(exp, stage: str, section, sets, params, sources, extra=None) -> dict:
    """What defines a stage's runs (its folder refuses another); see ``ANALYSIS_ONLY``."""
    d = {
        "kind": "uncertainty",
        "stage": stage,
        "name": exp.name,
        "seed": exp.seed,
        "set": sets,
        "section": section.model_dump(mode="json", exclude=ANALYSIS_ONLY),
        "parameters": [[p.path, p.low, p.high] for p in params],
        "resolved_sources": sources,
        "replications": section.replications,
    }
    d.update(extra or {})
    return d


# --------------------------------------------------------------------------- running


def _run(plan, folder: Path, workers, scheduler, retry_failed, progress, run_fn) -> dict:
    executor = make_executor(workers, scheduler)
    t0 = time.perf_counter()
    st = run_plan(
        plan, folder, executor, retry_failed=retry_failed, progress=progress, run_fn=run_fn
    )
    last = read_json(Path(folder) / "provenance.json")["invocations"][-1]
    return {
        "status": st,
        "wall_s": time.perf_counter() - t0,
        "runs": len(plan.unique_runs()),
        "runs_done_now": last.get("runs_to_do"),
        "executor": last.get("executor"),
    }


def top_factors(indices: dict[str, Any], k: int) -> list[dict[str, Any]]:
    """The k parameters with the largest μ*, each relative to its metric's largest μ*.

    Returns rows ``{path, score, metric}`` (score in [0, 1]: the largest over the metrics of
    μ* / max μ* of that metric; ``metric`` where it is largest), best first.
    """
    names = indices["problem"]["names"]
    best = {n: (0.0, "") for n in names}
    for metric, res in indices["metrics"].items():
        if "error" in res:
            continue
        mu = np.asarray(res["indices"]["mu_star"], dtype=float)
        top = float(np.nanmax(mu)) if mu.size else 0.0
        if not top > 0:
            continue
        for n, v in zip(names, mu / top, strict=True):
            if v > best[n][0]:
                best[n] = (float(v), metric)
    order = sorted(names, key=lambda n: -best[n][0])
    return [{"path": n, "score": best[n][0], "metric": best[n][1]} for n in order[:k]]


def _headline_signs(folder: Path | None, metrics: Sequence[str]) -> dict[tuple[str, str], dict]:
    """Signs of the paired differences of a compare folder's ``stats.json`` (if given)."""
    if folder is None:
        return {}
    path = folder / "stats.json"
    if not path.is_file():
        raise GovsimError(
            f"{folder}: no stats.json; run `govsim compare experiments/headline.toml --out "
            f"{folder}` first, or leave `headline` out to take the signs at the nominal point"
        )
    data = read_json(path)
    if data.get("kind") != "compare":
        raise GovsimError(f"{folder}: is a {data.get('kind')} folder, not a compare folder")
    out = {}
    for row in data["rows"]:
        if "diff" in row and row["metric"] in metrics and row.get("diff") is not None:
            out[(row["scenario"], row["metric"])] = {
                "diff": float(row["diff"]),
                "p": row.get("p"),
            }
    return out


def wilson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a share k/n (``(nan, nan)`` when n = 0)."""
    if n == 0:
        return math.nan, math.nan
    ci = sps.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def robustness_rows(
    values: dict[str, Any],
    groups: list[dict[str, Any]],
    metrics: Sequence[str],
    signs: dict[tuple[str, str], dict],
) -> list[dict[str, Any]]:
    """One row per (configuration, metric): the headline sign and its robustness."""
    rows = []
    labels = [g["label"] for g in groups]
    for metric in metrics:
        eff = space.paired_effect(values["metrics"][metric])  # [group, sample]
        nom = values["nominal"][metric]
        nom_diff = np.nanmean(nom - nom[:1], axis=-1) if np.isfinite(nom).any() else None
        for g in range(1, len(groups)):
            label = labels[g]
            head = signs.get((label, metric))
            if head is not None:
                diff, source, p = head["diff"], "headline", head.get("p")
            elif nom_diff is not None and np.isfinite(nom_diff[g]):
                diff, source, p = float(nom_diff[g]), "nominal", None
            else:
                continue
            sign = int(np.sign(diff))
            e = eff[g]
            ok = np.isfinite(e)
            n = int(ok.sum())
            k = int(np.sum(np.sign(e[ok]) == sign))
            lo, hi = wilson(k, n)
            rows.append(
                {
                    "config": label,
                    "config_zh": groups[g]["title_zh"],
                    "metric": metric,
                    "metric_zh": metrics_schema.label(metric, "zh"),
                    "sign": sign,
                    "headline_diff": diff,
                    "headline_p": p,
                    "sign_source": source,
                    "samples": n,
                    "holds": k,
                    "share": k / n if n else math.nan,
                    "share_low": lo,
                    "share_high": hi,
                    "effect_min": float(np.min(e[ok])) if n else math.nan,
                    "effect_median": float(np.median(e[ok])) if n else math.nan,
                    "effect_max": float(np.max(e[ok])) if n else math.nan,
                }
            )
    return rows


def run_uncertainty(
    experiment: str | Path,
    out: str | Path | None = None,
    *,
    stages: Sequence[str] = STAGES,
    workers: int | None = None,
    scheduler: Any = None,
    retry_failed: bool = False,
    progress: bool = True,
    run_fn: Callable | None = None,
) -> dict[str, Any]:
    """Run (or resume) an uncertainty experiment file; returns the result written to OUT.

    Parameters
    ----------
    experiment
        A ``kind = "uncertainty"`` TOML file (see ``experiments/uncertainty.toml``).
    out
        The folder (default ``runs/<name>-<hash8>``); rerunning resumes every stage.
    stages
        Which of ``morris``, ``sobol``, ``robustness`` to run (Sobol needs Morris's result).
    workers, scheduler, retry_failed, progress, run_fn
        As :func:`sim.experiment.api.compare`.
    """
    path = Path(experiment)
    exp = load_uncertainty(path)
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise GovsimError(f"--stages {','.join(bad)}: allowed: {', '.join(STAGES)}")
    where = str(path)
    base_dir = path.parent
    base_group = load_groups(exp.base, [], base_dir, _sets(exp, None), where)[0]
    params = space.uncertain_parameters(
        exp.include, exp.exclude, planning.build_scenario(base_group["scenario"], {}, 0)
    )
    top_def = {"file": exp.model_dump(mode="json"), "parameters": [p.path for p in params]}
    root = (
        Path(out)
        if out is not None
        else Path("runs") / (f"{exp.name}-{definition_hash(top_def)[:8]}")
    )
    root.mkdir(parents=True, exist_ok=True)
    result_path = root / RESULT_FILE
    result: dict[str, Any] = read_json(result_path) if result_path.is_file() else {}
    result.update(
        {
            "format": "govsim-uncertainty/1",
            "name": exp.name,
            "title_zh": exp.title_zh,
            "title_en": exp.title_en,
            "file": exp.model_dump(mode="json"),
            "parameters": space.describe(params),
            "excluded": space.excluded(exp.include, exp.exclude),
            "metrics": list(exp.metrics),
        }
    )
    timings = result.setdefault("timings", {})
    common = {"workers": workers, "scheduler": scheduler, "retry_failed": retry_failed,
              "progress": progress, "run_fn": run_fn}  # fmt: skip

    if "morris" in stages:
        sets = _sets(exp, exp.morris)
        group = load_groups(exp.base, [], base_dir, sets, where)[0]
        seed = experiment_seed(exp, [group])
        plan = plan_indices(
            method="morris", name=f"{exp.name}_morris", group=group, params=params,
            section=exp.morris, seed=seed, metrics=list(exp.metrics),
            definition=_definition(exp, "morris", exp.morris, sets, params, [group["source"]]),
            where=f"{where} (morris)",
        )  # fmt: skip
        timings["morris"] = _run(plan, root / "morris", **common)
        res = summarize(root / "morris")
        result["morris"] = {
            "indices": res.indices,
            "top": top_factors(res.indices, max(exp.sobol.top_k, 10)),
            "status": res.status,
        }
    if "sobol" in stages and exp.sobol.top_k > 0:
        if "morris" not in result:
            raise GovsimError(f"{where}: the Sobol stage needs the Morris screening first")
        if result["morris"]["status"]["pending"] or result["morris"]["status"]["failed"]:
            raise GovsimError(
                f"{root}/morris: the screening is not complete "
                f"({result['morris']['status']}); rerun to finish it before the Sobol stage"
            )
        keep = [t["path"] for t in result["morris"]["top"][: exp.sobol.top_k] if t["score"] > 0]
        sub = [p for p in params if p.path in keep]
        if sub:
            sets = _sets(exp, exp.sobol)
            group = load_groups(exp.base, [], base_dir, sets, where)[0]
            seed = experiment_seed(exp, [group])
            plan = plan_indices(
                method="sobol", name=f"{exp.name}_sobol", group=group, params=sub,
                section=exp.sobol, seed=seed, metrics=list(exp.metrics),
                definition=_definition(exp, "sobol", exp.sobol, sets, sub, [group["source"]]),
                where=f"{where} (sobol)",
            )  # fmt: skip
            timings["sobol"] = _run(plan, root / "sobol", **common)
            res = summarize(root / "sobol")
            result["sobol"] = {"indices": res.indices, "factors": keep, "status": res.status}
    if "robustness" in stages:
        sets = _sets(exp, exp.robustness)
        groups = load_groups(exp.base, exp.configurations, base_dir, sets, where)
        if len(groups) < 2:
            raise GovsimError(f"{where}: configurations: give at least one besides the base")
        seed = experiment_seed(exp, groups)
        plan = space.plan_lhs(
            kind="robustness", name=f"{exp.name}_robustness", title_zh=exp.title_zh,
            title_en=exp.title_en, groups=groups, params=params,
            samples=exp.robustness.samples, seed=seed,
            replications=exp.robustness.replications, metrics=list(exp.metrics),
            definition=_definition(exp, "robustness", exp.robustness, sets, params,
                                   [g["source"] for g in groups]),
            where=f"{where} (robustness)",
        )  # fmt: skip
        timings["robustness"] = _run(plan, root / "robustness", **common)
        headline = (base_dir / exp.headline) if exp.headline else None
        signs = _headline_signs(headline, exp.metrics)
        values = space.lhs_values(ExperimentFolder(root / "robustness"), plan, exp.metrics)
        result["robustness"] = {
            "rows": robustness_rows(values, groups, exp.metrics, signs),
            "headline": str(headline) if headline else None,
            "samples": exp.robustness.samples,
            "replications": exp.robustness.replications,
            "confidence": CONFIDENCE,
        }
    entries = list(result.get("provenance", []))
    entries.append({**provenance(), "stages": list(stages)})
    result["provenance"] = entries
    write_json(result_path, result)
    write_outputs(root, result)
    result["folder"] = str(root)
    return result


# --------------------------------------------------------------------------- outputs


def _params_by_path(result: dict) -> dict[str, dict]:
    return {p["path"]: p for p in result.get("parameters", [])}


def screening_rows(result: dict) -> list[dict[str, Any]]:
    """Morris μ*, μ, σ with bootstrap CIs per (metric, parameter), labelled in Chinese."""
    rows = []
    morris = result.get("morris")
    if not morris:
        return rows
    by = _params_by_path(result)
    ind = morris["indices"]
    names = ind["problem"]["names"]
    for metric, res in ind["metrics"].items():
        if "error" in res:
            continue
        x = res["indices"]
        for i in np.argsort(-np.asarray(x["mu_star"], dtype=float), kind="stable"):
            p = by.get(names[i], {})
            rows.append(
                {
                    "metric": metric,
                    "metric_zh": metrics_schema.label(metric, "zh"),
                    "parameter": names[i],
                    "parameter_zh": p.get("zh", ""),
                    "unit_zh": p.get("unit_zh", ""),
                    "low": p.get("low"),
                    "high": p.get("high"),
                    "mu_star": x["mu_star"][i],
                    "mu_star_low": x["mu_star_low"][i],
                    "mu_star_high": x["mu_star_high"][i],
                    "mu": x["mu"][i],
                    "sigma": x["sigma"][i],
                    "converged": res.get("converged"),
                }
            )
    return rows


def sobol_rows(result: dict) -> list[dict[str, Any]]:
    rows = []
    sob = result.get("sobol")
    if not sob:
        return rows
    by = _params_by_path(result)
    ind = sob["indices"]
    names = ind["problem"]["names"]
    for metric, res in ind["metrics"].items():
        if "error" in res:
            continue
        x = res["indices"]
        flags: dict[str, list[str]] = {}
        for f in res.get("flags") or []:
            flags.setdefault(f["factor"], []).append(f["flag"])
        for i, n in enumerate(names):
            rows.append(
                {
                    "metric": metric,
                    "metric_zh": metrics_schema.label(metric, "zh"),
                    "parameter": n,
                    "parameter_zh": by.get(n, {}).get("zh", ""),
                    "S1": x["S1"][i],
                    "S1_low": x["S1_low"][i],
                    "S1_high": x["S1_high"][i],
                    "ST": x["ST"][i],
                    "ST_low": x["ST_low"][i],
                    "ST_high": x["ST_high"][i],
                    "flags": " ".join(flags.get(n, [])),
                    "converged": res.get("converged"),
                }
            )
    return rows


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def _pct(x: float) -> str:
    return "—" if not math.isfinite(x) else f"{100 * x:.0f}%"


def robustness_markdown(rows: Sequence[dict]) -> str:
    head = (
        "| 情景 configuration | 指标 metric | 方向 sign | 稳健性 robustness [95% CI] | "
        "点数 points | 效应范围 effect range (min / median / max) | 方向来源 sign from |\n"
        "|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in rows:
        sign = {1: "+", -1: "−", 0: "0"}[r["sign"]]
        lines.append(
            f"| {r['config']} {r['config_zh']} | {r['metric_zh']} ({r['metric']}) | {sign} | "
            f"{_pct(r['share'])} [{_pct(r['share_low'])}, {_pct(r['share_high'])}] | "
            f"{r['holds']}/{r['samples']} | {_f(r['effect_min'])} / {_f(r['effect_median'])}"
            f" / {_f(r['effect_max'])} | {r['sign_source']} |"
        )
    return "\n".join(lines)


def screening_markdown(rows: Sequence[dict], top: int = 10) -> str:
    lines = []
    for metric in dict.fromkeys(r["metric"] for r in rows):
        sub = [r for r in rows if r["metric"] == metric][:top]
        lines.append(f"\n### {sub[0]['metric_zh']} ({metric})\n")
        lines.append("| 参数 parameter | 名称 | 范围 range | μ* [95% CI] | μ | σ |")
        lines.append("|---|---|---|---|---|---|")
        for r in sub:
            lines.append(
                f"| `{r['parameter']}` | {r['parameter_zh']} | {_f(r['low'])}–{_f(r['high'])} "
                f"{r['unit_zh']} | {_f(r['mu_star'])} [{_f(r['mu_star_low'])}, "
                f"{_f(r['mu_star_high'])}] | {_f(r['mu'])} | {_f(r['sigma'])} |"
            )
    return "\n".join(lines).lstrip("\n")


def sobol_markdown(rows: Sequence[dict]) -> str:
    lines = ["| 指标 metric | 参数 parameter | 名称 | S1 [95% CI] | ST [95% CI] | 标记 flags |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        lines.append(
            f"| {r['metric_zh']} | `{r['parameter']}` | {r['parameter_zh']} | {_f(r['S1'])} "
            f"[{_f(r['S1_low'])}, {_f(r['S1_high'])}] | {_f(r['ST'])} [{_f(r['ST_low'])}, "
            f"{_f(r['ST_high'])}] | {r['flags']} |"
        )
    return "\n".join(lines)


def html_section(folder: str | Path) -> str:
    """The uncertainty section (Chinese first) as an HTML fragment for other reports."""
    # lazy: the report module loads matplotlib
    from sim.experiment.html_report import _html_table as _table_html

    result = read_json(Path(folder) / RESULT_FILE)
    parts = [
        '<section class="govsim-uncertainty">',
        "<h2>不确定性与稳健性 Uncertainty and robustness</h2>",
    ]
    n_par = len(result.get("parameters", []))
    parts.append(
        f"<p>不确定参数：参数登记表中标注为“假设”的 {n_par} 个参数，在其合理范围内变化"
        f"（政策杠杆与单值范围除外，见 uncertainty.json 的 excluded）。"
        f" Uncertain space: the registry's {n_par} assumption parameters over their "
        "plausible ranges (levers and single-valued ranges left out).</p>"
    )
    rob = result.get("robustness")
    if rob:
        parts.append("<h3>结论稳健性 Robustness of the headline conclusions</h3>")
        parts.append(
            f"<p>在参数空间的拉丁超立方 {rob['samples']} 个点上（每点 {rob['replications']} "
            "次重复，共同随机数），配置相对基线的配对效应保持总体结论方向的比例，附 95% Wilson "
            "区间。The share of the Latin-hypercube points at which the paired effect keeps the "
            "headline sign, with a 95 % Wilson interval.</p>"
        )
        body = [
            [
                f"{r['config']} {r['config_zh']}",
                f"{r['metric_zh']} {r['metric']}",
                {1: "+", -1: "−", 0: "0"}[r["sign"]],
                f"{_pct(r['share'])} [{_pct(r['share_low'])}, {_pct(r['share_high'])}]",
                f"{r['holds']}/{r['samples']}",
                r["sign_source"],
            ]
            for r in rob["rows"]
        ]
        parts.append(
            _table_html(
                [
                    "情景 configuration",
                    "指标 metric",
                    "方向 sign",
                    "稳健性 robustness [95% CI]",
                    "点数 points",
                    "方向来源 sign from",
                ],
                body,
            )  # fmt: skip
        )
    morris = result.get("morris")
    if morris:
        parts.append("<h3>Morris 筛选 Morris screening (μ*, top 10)</h3>")
        rows = screening_rows(result)
        for metric in dict.fromkeys(r["metric"] for r in rows):
            sub = [r for r in rows if r["metric"] == metric][:10]
            parts.append(f"<h4>{html.escape(sub[0]['metric_zh'])} {metric}</h4>")
            parts.append(
                _table_html(
                    ["参数 parameter", "名称 name", "范围 range", "μ* [95% CI]", "σ"],
                    [
                        [
                            r["parameter"],
                            r["parameter_zh"],
                            f"{_f(r['low'])}–{_f(r['high'])} {r['unit_zh']}",
                            f"{_f(r['mu_star'])} [{_f(r['mu_star_low'])}, {_f(r['mu_star_high'])}]",
                            _f(r["sigma"]),
                        ]
                        for r in sub
                    ],
                )  # fmt: skip
            )
    if result.get("sobol"):
        parts.append("<h3>Sobol 指数 Sobol indices (top factors of the screening)</h3>")
        parts.append(
            _table_html(
                [
                    "指标 metric",
                    "参数 parameter",
                    "名称 name",
                    "S1 [95% CI]",
                    "ST [95% CI]",
                    "标记 flags",
                ],
                [
                    [
                        r["metric_zh"],
                        r["parameter"],
                        r["parameter_zh"],
                        f"{_f(r['S1'])} [{_f(r['S1_low'])}, {_f(r['S1_high'])}]",
                        f"{_f(r['ST'])} [{_f(r['ST_low'])}, {_f(r['ST_high'])}]",
                        r["flags"],
                    ]
                    for r in sobol_rows(result)
                ],
            )  # fmt: skip
        )
    parts.append("</section>")
    return "\n".join(parts)


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;}}
table{{border-collapse:collapse;margin:1em 0;}}td,th{{border:1px solid #ccc;padding:3px 6px;
font-size:13px;}}th{{background:#f3f3f3;}}</style></head><body>
<h1>{title}</h1>
{body}
</body></html>
"""


def write_outputs(root: Path, result: dict) -> None:
    """Tables (CSV, Markdown) and the HTML page of ``uncertainty.json``'s content."""
    scr = screening_rows(result)
    sob = sobol_rows(result)
    rob = (result.get("robustness") or {}).get("rows", [])
    files = {
        "screening.csv": to_csv(scr),
        "screening.md": screening_markdown(scr),
        "sobol.csv": to_csv(sob),
        "sobol.md": sobol_markdown(sob),
        "robustness.csv": to_csv(rob),
        "robustness.md": robustness_markdown(rob),
    }
    for name, text in files.items():
        atomic_write_bytes(root / name, text.encode("utf-8"))
    title = html.escape(result.get("title_zh") or result.get("name", "uncertainty"))
    page = _PAGE.format(title=title, body=html_section(root))
    atomic_write_bytes(root / "uncertainty.html", page.encode("utf-8"))


def robustness_table(folder: str | Path) -> dict[tuple[str, str], tuple[float, float, float]]:
    """``{(config, metric): (share, low, high)}`` of an uncertainty folder (for reports)."""
    path = Path(folder) / RESULT_FILE
    if not path.is_file():
        raise GovsimError(
            f"{folder}: no {RESULT_FILE}; run `govsim uncertainty FILE --out {folder}`"
        )
    rob = read_json(path).get("robustness") or {}
    return {
        (r["config"], r["metric"]): (r["share"], r["share_low"], r["share_high"])
        for r in rob.get("rows", [])
    }


def summary_text(result: dict, root: Path) -> str:
    """What the command prints: the robustness table and the top of the screening."""
    parts = [f"不确定性分析 (uncertainty): {result.get('name')} — {len(result['parameters'])} "
             "个不确定参数 uncertain parameters"]  # fmt: skip
    if result.get("morris"):
        parts.append("\nMorris 筛选前列 top of the screening (μ*/max μ*):")
        by = _params_by_path(result)
        for t in result["morris"]["top"][:10]:
            parts.append(
                f"  {t['score']:.2f}  {t['path']}  {by.get(t['path'], {}).get('zh', '')} "
                f"({t['metric']})"
            )
    if result.get("robustness"):
        parts.append("\n" + robustness_markdown(result["robustness"]["rows"]))
    for k, v in (result.get("timings") or {}).items():
        parts.append(
            f"{k}: {v['runs']} runs in the plan, {v.get('runs_done_now')} run now in "
            f"{v['wall_s']:.1f} s"
        )
    parts.append(f"\n目录 (folder): {root}")
    return "\n".join(parts)


def attach_robustness(out: str | Path, uncertainty_folder: str | Path) -> Path:
    """Attach a ``govsim uncertainty`` folder's robustness of each conclusion to the
    compare folder ``out`` (``robustness.json``: the shares, their 95 % Wilson bounds and
    the folder they came from); the tables then show it next to each effect."""
    table = robustness_table(uncertainty_folder)
    if not table:
        raise GovsimError(
            f"{uncertainty_folder}: holds no robustness stage results "
            "(run govsim uncertainty with the robustness stage first)"
        )
    rows = [{"config": c, "metric": m, "share": v[0], "low": v[1], "high": v[2]}
            for (c, m), v in sorted(table.items())]  # fmt: skip
    path = Path(out) / summary.ROBUSTNESS_FILE
    write_json(path, {"source": str(Path(uncertainty_folder).resolve()), "rows": rows})
    return path
