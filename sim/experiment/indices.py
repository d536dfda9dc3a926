"""Global sensitivity analysis of the model's summary outputs with SALib, per replication.

The SALib problem is built from the experiment file's factors: the names are the
scenario key paths (``levers.data.centre_integration``), the bounds their ranges
(:func:`sim.experiment.plan.salib_problem`). Each design row is run with every
replication (common random numbers across rows: replication ``r`` uses the same seed at
every row).

Seed variance
-------------
The indices are computed **per replication**: replication ``r``'s outputs over the whole
design are analysed with SALib on the same design, giving one set of indices per seed.
The reported index is the mean over replications, with a 95 % percentile bootstrap CI
over replications (``<index>_low``, ``<index>_high``; 2,000 resamples of the
replications, seeded from the experiment seed, so the report is reproducible) beside
SALib's own 95 % CI of the design sampling (``<index>_conf``, a half-width, averaged over
replications). Averaging the outputs first (as before) hid the seed noise: the elementary
effects of the mean output are smoother than any one replication's, so the top factor
could flip from seed to seed while the printed CI looked tight. ``top_factor_share`` is
how often each factor is the most influential one (largest μ*, or ST) in a single
replication. With one replication the bootstrap CI is undefined (NaN) and only SALib's
CI is left. A percentile bootstrap over few replications undercovers (n < 10: treat the
interval as a lower bound on the uncertainty).

Methods
-------
``morris``
    Elementary effects (Morris 1991) with the improved μ* (Campolongo et al. 2007):
    ``mu_star`` (SALib CI ``mu_star_conf``), ``mu`` and ``sigma``. Cost r·(D + 1) rows.
``sobol``
    Variance-based first-order and total indices ``S1``, ``ST`` (Saltelli 2002,
    Saltelli et al. 2010), and ``S2`` with ``second_order``. Cost N·(D + 2) rows,
    N·(2D + 2) with second order. Estimates outside the theory's bounds are flagged
    (``flags``, :func:`sobol_flags`): S1 < 0, S1 > 1, ST < 0 or S1 > ST are impossible for
    the true indices and come from sampling error (too few base samples, or an output
    whose variance is dominated by seed noise or a few extreme rows).

Convergence
-----------
With ``convergence`` the design holds 2N samples and its first half is exactly the design
at N (:func:`sim.experiment.plan.plan_sensitivity`). The seeds are not fresh by
construction (CRN: replication ``r`` has the same seed at every row), so the second half
is **paired with another replication**: at 2N, replication ``r``'s output vector is its
own first half followed by replication ``(r + 1) mod R``'s second half. Within each
Morris trajectory (D + 1 rows) and each Saltelli block (D + 2 or 2D + 2 rows) one seed is
used, as the estimators need, but the N rows added between N and 2N carry fresh seed
noise, so agreement between N and 2N is not produced by shared noise. With one
replication this is impossible and the halves share their seed (``fresh_seeds`` false).
No extra runs are made.

The check is passed (``converged``) when all of:

- ``change`` ≤ tolerance: the largest change of an index between N and 2N (Morris: μ*
  relative to the largest μ*; Sobol: S1 and ST, absolute: they are shares of variance);
- ``ci_width`` ≤ tolerance: the largest CI half-width at 2N (the larger of the bootstrap
  over replications and SALib's), relative to the largest μ* (Morris) or absolute (Sobol);
- the factor ranks are stable: Spearman's ρ of the factors' ranks (μ*, or ST) at N and
  2N ≥ :data:`RANK_MIN` (Kendall's τ is given too), and the top factor is the same.

``convergence["path"]`` holds the indices (mean and bootstrap CI over replications) at
N/4, N/2, N and 2N (the sizes with at least two samples), for the convergence plot.

References
----------
1. Morris, M. D. (1991). Factorial sampling plans for preliminary computational
   experiments. Technometrics 33(2), 161–174. doi:10.1080/00401706.1991.10484804
2. Campolongo, F., Cariboni, J., Saltelli, A. (2007). An effective screening design for
   sensitivity analysis of large models. Env. Modelling & Software 22, 1509–1518.
   doi:10.1016/j.envsoft.2006.10.004
3. Saltelli, A. et al. (2010). Variance based sensitivity analysis of model output.
   Computer Physics Communications 181, 259–270. doi:10.1016/j.cpc.2009.09.018
4. Herman, J., Usher, W. (2017). SALib: an open-source Python library for sensitivity
   analysis. JOSS 2(9), 97. doi:10.21105/joss.00097
5. Sarrazin, F., Pianosi, F., Wagener, T. (2016). Global sensitivity analysis of
   environmental models: convergence and validation. Env. Modelling & Software 79,
   135–152. doi:10.1016/j.envsoft.2016.02.005 (convergence of values, ranks and screening)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from SALib.analyze import morris, sobol
from scipy import stats as sps

from sim.experiment.plan import SEED_STREAM_BOOTSTRAP, SEED_STREAM_SAMPLER, stream_seed

CONFIDENCE = 0.95
N_RESAMPLES = 1000  # SALib's bootstrap at the full design
N_RESAMPLES_PATH = 200  # SALib's bootstrap at the smaller sizes of the convergence path
N_BOOT_REPS = 2000  # bootstrap over replications
RANK_MIN = 0.8  # Spearman's rho of the factor ranks at N and 2N accepted as stable
MAIN_KEYS = {"morris": ("mu_star", "mu", "sigma"), "sobol": ("S1", "ST")}
CONF_KEYS = {"morris": ("mu_star_conf",), "sobol": ("S1_conf", "ST_conf")}
RANK_KEY = {"morris": "mu_star", "sobol": "ST"}

FLAG_TEXT = {
    "S1<0": (
        "S1 < 0：抽样误差，真实值不可能为负；需要更多样本",
        "S1 < 0: sampling error (the true index cannot be negative); more samples needed",
    ),
    "S1>1": (
        "S1 > 1：抽样误差，超出方差份额的上限；需要更多样本或输出受少数极端值主导",
        "S1 > 1: sampling error (a share of variance cannot exceed 1); more samples "
        "needed, or the output is dominated by a few extreme rows",
    ),
    "ST<0": (
        "ST < 0：抽样误差，真实值不可能为负；需要更多样本",
        "ST < 0: sampling error (the true index cannot be negative); more samples needed",
    ),
    "S1>ST": (
        "S1 > ST：理论上一阶效应不超过总效应；为抽样误差，需要更多样本",
        "S1 > ST: impossible in theory (the first-order effect is part of the total); "
        "sampling error, more samples needed",
    ),
}


def _zeros(method: str, d: int, second_order: bool) -> dict[str, Any]:
    z = [0.0] * d
    if method == "morris":
        return {"mu": z, "mu_star": z, "sigma": z, "mu_star_conf": z}
    out: dict[str, Any] = {"S1": z, "S1_conf": z, "ST": z, "ST_conf": z}
    if second_order:
        out["S2"] = [[0.0] * d for _ in range(d)]
    return out


def _analyze(
    method: str,
    problem: dict,
    x: np.ndarray,
    y: np.ndarray,
    sampler: Mapping,
    seed: int,
    n_resamples: int = N_RESAMPLES,
) -> dict[str, Any]:
    """SALib's indices of one output vector ``y`` over the design rows ``x``."""
    d = problem["num_vars"]
    second = method == "sobol" and bool(sampler.get("second_order"))
    if np.ptp(y) == 0:  # constant output: no factor has any effect
        return _zeros(method, d, second)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "morris":
            res = morris.analyze(
                problem,
                x,
                y,
                num_resamples=n_resamples,
                conf_level=CONFIDENCE,
                num_levels=sampler["levels"],
                seed=seed,
            )
            keys: tuple[str, ...] = ("mu", "mu_star", "sigma", "mu_star_conf")
        else:
            res = sobol.analyze(
                problem,
                y,
                calc_second_order=second,
                num_resamples=n_resamples,
                conf_level=CONFIDENCE,
                seed=seed,
            )
            keys = ("S1", "S1_conf", "ST", "ST_conf")
    out: dict[str, Any] = {k: [float(v) for v in np.asarray(res[k], dtype=float)] for k in keys}
    if second:
        out["S2"] = np.asarray(res["S2"], dtype=float).tolist()
    return out


def _boot_ci(vals: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """95 % percentile bootstrap CI of the mean over the rows (replications) of ``vals``."""
    r = vals.shape[0]
    if r < 2:
        nan = np.full(vals.shape[1:], math.nan)
        return nan, nan
    idx = rng.integers(0, r, size=(N_BOOT_REPS, r))
    means = np.nanmean(vals[idx], axis=1)
    a = (1 - CONFIDENCE) / 2
    return np.nanquantile(means, a, axis=0), np.nanquantile(means, 1 - a, axis=0)


def _combine(method: str, per_rep: list[dict[str, Any]], rng) -> dict[str, Any]:
    """Mean over replications, bootstrap CI over replications, SALib CI averaged."""
    out: dict[str, Any] = {}
    for k in MAIN_KEYS[method]:
        vals = np.array([p[k] for p in per_rep], dtype=float)
        lo, hi = _boot_ci(vals, rng)
        out[k] = [float(v) for v in np.nanmean(vals, axis=0)]
        out[f"{k}_low"] = [float(v) for v in lo]
        out[f"{k}_high"] = [float(v) for v in hi]
    for k in CONF_KEYS[method]:
        out[k] = [float(v) for v in np.nanmean([p[k] for p in per_rep], axis=0)]
    if per_rep and "S2" in per_rep[0]:
        out["S2"] = np.nanmean([p["S2"] for p in per_rep], axis=0).tolist()
    return out


def _ranks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Spearman's ρ and Kendall's τ of two index vectors (1.0 if either has no spread)."""
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = float(sps.spearmanr(a, b).statistic)
        tau = float(sps.kendalltau(a, b).statistic)
    return rho, tau


def _change(method: str, half: dict, full: dict) -> tuple[float, bool]:
    if method == "morris":
        a, b = np.array(half["mu_star"]), np.array(full["mu_star"])
        top = float(np.nanmax(np.abs(b))) if b.size else 0.0
        change = float(np.nanmax(np.abs(a - b)) / top) if top > 0 else 0.0
        same_top = int(np.nanargmax(a)) == int(np.nanargmax(b)) if top > 0 else True
    else:
        diffs = [np.abs(np.array(half[k]) - np.array(full[k])) for k in ("S1", "ST")]
        change = float(np.nanmax(np.concatenate(diffs)))
        same_top = int(np.nanargmax(half["ST"])) == int(np.nanargmax(full["ST"]))
    return change, same_top


def _ci_width(method: str, ind: dict) -> float:
    """Largest CI half-width (bootstrap over replications or SALib's, the larger)."""

    def half(k: str) -> np.ndarray:
        boot = (np.array(ind[f"{k}_high"]) - np.array(ind[f"{k}_low"])) / 2
        salib = np.abs(np.array(ind.get(f"{k}_conf", np.zeros_like(boot))))
        return np.fmax(np.nan_to_num(boot, nan=0.0), np.nan_to_num(salib, nan=0.0))

    if method == "morris":
        top = float(np.nanmax(np.abs(ind["mu_star"]))) if ind["mu_star"] else 0.0
        return float(np.max(half("mu_star")) / top) if top > 0 else 0.0
    return float(max(np.max(half("S1")), np.max(half("ST"))))


def sobol_flags(names: list[str], ind: Mapping[str, list[float]]) -> list[dict[str, Any]]:
    """Sobol estimates outside the theory's bounds, each with what it means (zh, en).

    ``ind`` holds ``S1`` and ``ST`` (and optionally their ``_low``/``_high`` CIs).
    """
    flags = []
    for i, name in enumerate(names):
        s1, st = ind["S1"][i], ind["ST"][i]
        checks = [
            ("S1<0", s1 < 0, s1),
            ("S1>1", s1 > 1, s1),
            ("ST<0", st < 0, st),
            ("S1>ST", s1 > st, s1 - st),
        ]
        for code, bad, value in checks:
            if bad:
                zh, en = FLAG_TEXT[code]
                flags.append(
                    {"factor": name, "flag": code, "value": float(value), "zh": zh, "en": en}
                )
    return flags


def analyze_design(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    sampler: Mapping[str, Any],
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Indices of one output over the design ``x``, per replication, with the check.

    ``y`` is one value per design row (one replication), or an array (replications ×
    rows). A replication with a missing value (NaN) at any row is left out; with none
    left the result is ``{"error": ...}``. With ``sampler["convergence"]`` the design holds
    2N samples (``sampler["samples"]`` = N); see the module docstring for the pairing of
    the second half with fresh seeds and the criteria.

    Returns ``indices`` (mean over replications at the full size, with ``_low``/``_high``
    bootstrap CIs and SALib's ``_conf``), ``per_replication`` (``{index: [[per factor]
    per replication]}``), ``top_factor_share``, ``replications_used``, ``at_N``,
    ``change``, ``same_top_factor``, ``converged``, ``convergence`` (``fresh_seeds``,
    ``rank_spearman``, ``rank_kendall``, ``ci_width``, ``path``) and ``flags`` (Sobol).
    """
    y = np.asarray(y, dtype=float)
    ys = y[None, :] if y.ndim == 1 else y
    complete = [r for r in range(ys.shape[0]) if np.all(np.isfinite(ys[r]))]
    if not complete:
        bad = int(np.sum(~np.isfinite(ys[0])))
        return {"error": f"{bad} design row(s) have no value for this output (NaN)"}
    ys = ys[complete]
    n_reps = ys.shape[0]
    names = list(problem["names"])
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(SEED_STREAM_BOOTSTRAP,)))
    conv = bool(sampler.get("convergence"))
    rps = int(sampler["rows_per_sample"]) if conv else 0
    n_half = int(sampler["samples"]) if conv else 0
    fresh = conv and n_reps >= 2
    if fresh:  # replication r's first half, replication r + 1's second half
        rows = n_half * rps
        outputs = np.array(
            [np.concatenate([ys[r, :rows], ys[(r + 1) % n_reps, rows:]]) for r in range(n_reps)]
        )
    else:
        outputs = ys
    per_rep = [_analyze(method, problem, x, outputs[r], sampler, seed) for r in range(n_reps)]
    full = _combine(method, per_rep, rng)
    rank_key = RANK_KEY[method]
    tops = [int(np.argmax(p[rank_key])) for p in per_rep if np.max(p[rank_key]) > 0]
    out: dict[str, Any] = {
        "indices": full,
        "per_replication": {
            k: [p[k] for p in per_rep] for k in (*MAIN_KEYS[method], *CONF_KEYS[method])
        },
        "replications_used": [int(r) for r in complete],
        "top_factor_share": {
            n: (tops.count(i) / len(tops) if tops else 0.0) for i, n in enumerate(names)
        },
        "at_N": None,
        "change": None,
        "same_top_factor": None,
        "converged": None,
        "convergence": None,
        "flags": sobol_flags(names, full) if method == "sobol" else [],
    }
    if not conv:
        return out
    sizes = sorted({s for s in (n_half // 4, n_half // 2, n_half) if s >= 2} | {2 * n_half})
    path = []
    at_n = None
    for s in sizes:
        if s == 2 * n_half:
            ind = full
        else:
            k = s * rps
            reps_s = [
                _analyze(method, problem, x[:k], outputs[r, :k], sampler, seed, N_RESAMPLES_PATH)
                if s != n_half
                else _analyze(method, problem, x[:k], outputs[r, :k], sampler, seed)
                for r in range(n_reps)
            ]
            ind = _combine(method, reps_s, rng)
        if s == n_half:
            at_n = ind
        path.append({"samples": s, "indices": ind})
    change, same_top = _change(method, at_n, full)
    rho, tau = _ranks(np.array(at_n[rank_key]), np.array(full[rank_key]))
    width = _ci_width(method, full)
    tol = sampler["tolerance"]
    out.update(
        {
            "at_N": at_n,
            "change": change,
            "same_top_factor": same_top,
            "converged": bool(change <= tol and width <= tol and same_top and rho >= RANK_MIN),
            "convergence": {
                "fresh_seeds": fresh,
                "rank_spearman": rho,
                "rank_kendall": tau,
                "rank_min": RANK_MIN,
                "ci_width": width,
                "path": path,
            },
        }
    )
    return out


def sensitivity_indices(
    plan,
    values: Mapping[str, Mapping[int, Mapping[int, float]]],
) -> dict[str, Any]:
    """Indices for every metric of a sensitivity plan from ``values[metric][point][rep]``.

    Each replication is analysed on its own (:func:`analyze_design`); a replication with
    a row not yet finished (pending or failed run) is left out. A metric with no complete
    replication holds ``error``.
    """
    sampler = plan.sampler
    problem = sampler["problem"]
    method = sampler["design"]
    x = np.array([p["design"] for p in plan.points], dtype=float)
    seed = stream_seed(plan.seed, SEED_STREAM_SAMPLER, 1)
    result: dict[str, Any] = {
        "method": method,
        "problem": problem,
        "samples": sampler["samples"],
        "samples_run": sampler["samples_run"],
        "rows": len(plan.points),
        "replications": plan.replications,
        "confidence": CONFIDENCE,
        "tolerance": sampler["tolerance"],
        "rank_min": RANK_MIN,
        "metrics": {},
    }
    n_rows = len(plan.points)
    for metric in plan.metrics:
        per = values.get(metric, {})
        y = np.full((plan.replications, n_rows), math.nan)
        for p in range(n_rows):
            for rep, v in per.get(p, {}).items():
                if rep < plan.replications:
                    y[rep, p] = v
        result["metrics"][metric] = analyze_design(method, problem, x, y, sampler, seed=seed)
    return result


def indices_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The indices as flat rows (metric, factor, index values at 2N and at N, flags)."""
    rows = []
    names = result["problem"]["names"]
    for metric, res in result["metrics"].items():
        if "error" in res:
            continue
        flags: dict[str, list[str]] = {}
        for f in res.get("flags") or []:
            flags.setdefault(f["factor"], []).append(f["flag"])
        for i, name in enumerate(names):
            row = {"metric": metric, "factor": name}
            for k, v in res["indices"].items():
                if not k.startswith("S2"):
                    row[k] = v[i]
            if res.get("at_N"):
                for k, v in res["at_N"].items():
                    if not k.startswith("S2"):
                        row[f"{k}_at_N"] = v[i]
            row["top_factor_share"] = res["top_factor_share"].get(name)
            row["flags"] = " ".join(flags.get(name, []))
            row["converged"] = res.get("converged")
            rows.append(row)
    return rows
