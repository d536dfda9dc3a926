"""Global sensitivity analysis of the model's summary outputs with SALib.

The SALib problem is built from the experiment file's factors: the names are the
scenario key paths (``levers.data.centre_integration``), the bounds their ranges
(:func:`sim.experiment.plan.salib_problem`). Each design row is run with every
replication (common random numbers across rows) and the output analysed is the mean over
replications, so the indices describe the expected output, not one noisy draw.

Methods
-------
``morris``
    Elementary effects (Morris 1991) with the improved μ* (Campolongo et al. 2007):
    ``mu_star`` with its bootstrap CI ``mu_star_conf`` (95 %), ``mu`` and ``sigma``.
    Cost r·(D + 1) rows.
``sobol``
    Variance-based first-order and total indices ``S1``, ``ST`` with bootstrap CIs
    (Saltelli 2002, Saltelli et al. 2010), and ``S2`` with ``second_order``.
    Cost N·(D + 2) rows, N·(2D + 2) with second order.

Convergence check: the design is run at 2N; the indices are computed on its first half
(exactly the design at N) and on all of it. ``change`` is the largest absolute change of
an index (Sobol: S1 and ST; Morris: μ* scaled by the largest μ*), and ``converged`` says
whether it is at most the file's ``tolerance`` and the most influential factor is the
same at N and 2N.

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
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from SALib.analyze import morris, sobol

from sim.experiment.plan import SEED_STREAM_SAMPLER, stream_seed

CONFIDENCE = 0.95
N_RESAMPLES = 1000


def _analyze(
    method: str, problem: dict, x: np.ndarray, y: np.ndarray, sampler: Mapping, seed: int
) -> dict[str, list[float]]:
    d = problem["num_vars"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if np.ptp(y) == 0:  # constant output: no factor has any effect
            zeros = [0.0] * d
            if method == "morris":
                return {"mu": zeros, "mu_star": zeros, "sigma": zeros, "mu_star_conf": zeros}
            return {"S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
        if method == "morris":
            res = morris.analyze(
                problem,
                x,
                y,
                num_resamples=N_RESAMPLES,
                conf_level=CONFIDENCE,
                num_levels=sampler["levels"],
                seed=seed,
            )
            keys = ("mu", "mu_star", "sigma", "mu_star_conf")
        else:
            res = sobol.analyze(
                problem,
                y,
                calc_second_order=bool(sampler.get("second_order")),
                num_resamples=N_RESAMPLES,
                conf_level=CONFIDENCE,
                seed=seed,
            )
            keys = ("S1", "S1_conf", "ST", "ST_conf")
    out = {k: [float(v) for v in np.asarray(res[k], dtype=float)] for k in keys}
    if method == "sobol" and sampler.get("second_order"):
        out["S2"] = np.asarray(res["S2"], dtype=float).tolist()
        out["S2_conf"] = np.asarray(res["S2_conf"], dtype=float).tolist()
    return out


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


def analyze_design(
    method: str,
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    sampler: Mapping[str, Any],
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Indices of one output ``y`` (one value per design row of ``x``), with the check.

    Returns ``{"indices": {...}, "at_N": {...} | None, "change", "converged"}``; with
    ``sampler["convergence"]`` the design holds 2N samples (``sampler["samples"]`` = N).
    """
    y = np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)):
        bad = int(np.sum(~np.isfinite(y)))
        return {"error": f"{bad} design row(s) have no value for this output (NaN)"}
    full = _analyze(method, problem, x, y, sampler, seed)
    out: dict[str, Any] = {"indices": full, "at_N": None, "change": None, "converged": None}
    if sampler.get("convergence"):
        rows = sampler["samples"] * sampler["rows_per_sample"]
        half = _analyze(method, problem, x[:rows], y[:rows], sampler, seed)
        change, same_top = _change(method, half, full)
        out.update(
            {
                "at_N": half,
                "change": change,
                "same_top_factor": same_top,
                "converged": bool(change <= sampler["tolerance"] and same_top),
            }
        )
    return out


def sensitivity_indices(
    plan,
    values: Mapping[str, Mapping[int, Mapping[int, float]]],
) -> dict[str, Any]:
    """Indices for every metric of a sensitivity plan from ``values[metric][point][rep]``.

    The output of a design row is the mean of its replications' values (NaN ignored).
    A row with no value yet (pending or failed runs) makes the metric unanalysable; its
    entry then holds ``error``.
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
        "metrics": {},
    }
    n_rows = len(plan.points)
    for metric in plan.metrics:
        per = values.get(metric, {})
        y = np.full(n_rows, math.nan)
        for p in range(n_rows):
            v = [x_ for x_ in per.get(p, {}).values() if math.isfinite(x_)]
            if v:
                y[p] = float(np.mean(v))
        result["metrics"][metric] = analyze_design(method, problem, x, y, sampler, seed=seed)
    return result


def indices_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The indices as flat rows (metric, factor, index values at 2N and at N)."""
    rows = []
    names = result["problem"]["names"]
    for metric, res in result["metrics"].items():
        if "error" in res:
            continue
        for i, name in enumerate(names):
            row = {"metric": metric, "factor": name}
            for k, v in res["indices"].items():
                if k.startswith("S2"):
                    continue
                row[k] = v[i]
            if res.get("at_N"):
                for k, v in res["at_N"].items():
                    if not k.startswith("S2"):
                        row[f"{k}_at_N"] = v[i]
            row["converged"] = res.get("converged")
            rows.append(row)
    return rows
