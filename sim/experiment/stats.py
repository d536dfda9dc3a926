"""Statistics of an experiment: means with bootstrap CIs, paired differences, Holm, CI width.

Comparison (``compare_stats``), for every metric and scenario:

- ``mean``, ``sd`` and a 95 % bootstrap CI of the mean (``scipy.stats.bootstrap``, BCa,
  9,999 resamples, a seeded NumPy Generator per cell so tables are reproducible);
- against the reference (the first scenario), paired by replication — replication ``i``
  used the same seed in both (common random numbers) — the mean paired difference with
  its 95 % bootstrap CI (BCa on the differences), the difference as a percentage of the
  reference mean, Cohen's ``d_z`` (mean difference / SD of the differences), the
  two-sided paired t-test p-value (``scipy.stats.ttest_rel``) and, for robustness, the
  Wilcoxon signed-rank p-value (``scipy.stats.wilcoxon``);
- ``p_holm``: the t-test p-values Holm-corrected (Holm 1979) within each metric, over the
  comparisons of every scenario with the reference (one family per metric).

Runs missing a value (NaN, or not finished) are left out; differences use the
replications present in both scenarios. A cell with fewer than two values has no CI.

CI width (``ci_width_notes``): for a requested full width W of the 95 % CIs (relative to
the reference mean, or absolute per metric), says which metrics' CIs are wider and
suggests the replications needed, n = (2 t₀.₉₇₅,ₙ₋₁ s / W)², from the largest observed
SD s of the scenario values and of the paired differences.

References
----------
1. Efron, B. (1987). Better bootstrap confidence intervals. JASA 82(397), 171–185.
   doi:10.1080/01621459.1987.10478410
2. Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
   Journal of Statistics 6(2), 65–70.
3. Lakens, D. (2013). Calculating and reporting effect sizes … t-tests and ANOVAs.
   Frontiers in Psychology 4, 863. doi:10.3389/fpsyg.2013.00863 (d_z)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

from sim.errors import GovsimError
from sim.metrics_schema import SUMMARY_KEYS

CONFIDENCE = 0.95
N_RESAMPLES = 9999
N_RESAMPLES_SWEEP = 1999
SEED_STREAM_BOOTSTRAP = 2


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(SEED_STREAM_BOOTSTRAP, *key))
    )


def bootstrap_ci(
    x: np.ndarray,
    rng: np.random.Generator,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    method: str = "BCa",
) -> tuple[float, float]:
    """Bootstrap CI of the mean of the finite values of ``x`` (NaN, NaN if fewer than 2).

    A constant sample gets the degenerate interval [x, x]. Where BCa is undefined the
    percentile interval is used.
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan, math.nan
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sps.bootstrap(
            (x,),
            np.mean,
            confidence_level=confidence,
            n_resamples=n_resamples,
            method=method,
            vectorized=True,
            rng=rng,
        )
        lo, hi = res.confidence_interval
        if not (np.isfinite(lo) and np.isfinite(hi)):
            res = sps.bootstrap(
                (x,),
                np.mean,
                confidence_level=confidence,
                n_resamples=n_resamples,
                method="percentile",
                vectorized=True,
                rng=rng,
            )
            lo, hi = res.confidence_interval
    return float(lo), float(hi)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values; NaN entries stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    m = idx.size
    if m == 0:
        return out.tolist()
    order = idx[np.argsort(p[idx], kind="stable")]
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adjusted
    return out.tolist()


def _paired_tests(d: np.ndarray) -> tuple[float, float, float]:
    """(d_z, paired t-test p, Wilcoxon p) of the differences ``d``."""
    n = d.size
    if n < 2:
        return math.nan, math.nan, math.nan
    sd = float(np.std(d, ddof=1))
    mean = float(np.mean(d))
    if sd == 0 and mean == 0:
        return math.nan, 1.0, 1.0  # no difference at all
    if sd == 0:  # the same nonzero difference in every replication
        return math.copysign(math.inf, mean), 0.0, _wilcoxon(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p_t = float(sps.ttest_1samp(d, 0.0).pvalue)  # == ttest_rel(a, b) for d = a − b
    return mean / sd, p_t, _wilcoxon(d)


def _wilcoxon(d: np.ndarray) -> float:
    if not np.any(d != 0):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(sps.wilcoxon(d).pvalue)
        except ValueError:
            return math.nan


def compare_stats(
    values: Mapping[str, Mapping[str, Mapping[int, float]]],
    labels: Sequence[str],
    metrics: Sequence[str],
    *,
    seed: int = 0,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
) -> list[dict[str, Any]]:
    """Rows ``(metric, scenario)`` of the comparison table (see the module docstring).

    Parameters
    ----------
    values
        ``values[metric][label][rep]``: the metric of replication ``rep`` of a scenario.
    labels
        Scenario labels; the first is the reference.
    """
    rows: list[dict[str, Any]] = []
    ref = labels[0]
    for mi, metric in enumerate(metrics):
        per = values.get(metric, {})
        ref_vals = per.get(ref, {})
        block = []
        for li, label in enumerate(labels):
            v = per.get(label, {})
            x = np.array([v[r] for r in sorted(v)], dtype=float)
            xf = x[np.isfinite(x)]
            lo, hi = bootstrap_ci(
                xf, _rng(seed, mi, li, 0), confidence=confidence, n_resamples=n_resamples
            )
            row: dict[str, Any] = {
                "metric": metric,
                "scenario": label,
                "reference": ref,
                "n": int(xf.size),
                "mean": float(xf.mean()) if xf.size else math.nan,
                "sd": float(xf.std(ddof=1)) if xf.size > 1 else math.nan,
                "ci_low": lo,
                "ci_high": hi,
            }
            if li > 0:
                reps = sorted(
                    r
                    for r in set(v) & set(ref_vals)
                    if np.isfinite(v[r]) and np.isfinite(ref_vals[r])
                )
                a = np.array([v[r] for r in reps], dtype=float)
                b = np.array([ref_vals[r] for r in reps], dtype=float)
                d = a - b
                dlo, dhi = bootstrap_ci(
                    d, _rng(seed, mi, li, 1), confidence=confidence, n_resamples=n_resamples
                )
                dz, p_t, p_w = _paired_tests(d)
                ref_mean = float(b.mean()) if b.size else math.nan
                scale = abs(ref_mean) if ref_mean else math.nan
                diff = float(d.mean()) if d.size else math.nan
                row.update(
                    {
                        "n_pairs": int(d.size),
                        "diff": diff,
                        "diff_sd": float(d.std(ddof=1)) if d.size > 1 else math.nan,
                        "diff_ci_low": dlo,
                        "diff_ci_high": dhi,
                        "diff_pct": 100 * diff / scale,
                        "diff_pct_ci_low": 100 * dlo / scale,
                        "diff_pct_ci_high": 100 * dhi / scale,
                        "d_z": dz,
                        "p_ttest": p_t,
                        "p_wilcoxon": p_w,
                    }
                )
            block.append(row)
        adjusted = holm([r.get("p_ttest", math.nan) for r in block[1:]])
        for r, p in zip(block[1:], adjusted, strict=True):
            r["p_holm"] = p
        rows.extend(block)
    return rows


# --------------------------------------------------------------------------- CI width


def parse_ci_width(specs: Sequence[str | float], metrics: Sequence[str] = ()) -> dict[str, Any]:
    """``--ci-width`` values → ``{"relative": float | None, "absolute": {metric: W}}``.

    ``0.05`` asks every metric's 95 % CIs to be at most 5 % of the reference mean wide;
    ``p90_resolution_days=0.5`` asks that metric's CIs to be at most 0.5 (its unit) wide.
    """
    out: dict[str, Any] = {"relative": None, "absolute": {}}
    example = (
        "e.g. --ci-width 0.05 (5 % of the reference mean) or --ci-width p90_resolution_days=0.5"
    )
    for spec in specs:
        text = str(spec).strip()
        key, _, num = text.rpartition("=")
        try:
            w = float(num)
        except ValueError:
            w = math.nan
        if not (math.isfinite(w) and w > 0):
            raise GovsimError(f"--ci-width {text!r}: the width must be a number > 0; {example}")
        if key:
            if key not in SUMMARY_KEYS:
                import difflib

                close = difflib.get_close_matches(key, list(SUMMARY_KEYS), n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else "allowed: " + ", ".join(SUMMARY_KEYS)
                )
                raise GovsimError(f"--ci-width {text!r}: unknown metric '{key}'; {hint}")
            out["absolute"][key] = w
        else:
            out["relative"] = w
    return out


def required_replications(sd: float, width: float, confidence: float = CONFIDENCE) -> int:
    """Smallest n whose t-interval of a mean, full width 2·t·sd/√n, is at most ``width``."""
    if not (math.isfinite(sd) and sd > 0):
        return 2
    half = width / 2
    q = 0.5 + confidence / 2
    n = max(2, math.ceil((sps.norm.ppf(q) * sd / half) ** 2))
    for _ in range(100):
        n_new = max(2, math.ceil((sps.t.ppf(q, n - 1) * sd / half) ** 2))
        if n_new == n:
            break
        n = n_new
    return n


def ci_width_notes(rows: Sequence[Mapping[str, Any]], request: Mapping[str, Any]) -> list[dict]:
    """One note per metric whose widest 95 % CI exceeds the requested width."""
    notes = []
    by_metric: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_metric.setdefault(r["metric"], []).append(r)
    for metric, block in by_metric.items():
        if metric in request["absolute"]:
            width, basis = request["absolute"][metric], "absolute"
        elif request["relative"] is not None:
            ref_mean = block[0]["mean"]
            if not (math.isfinite(ref_mean) and ref_mean != 0):
                continue
            width, basis = request["relative"] * abs(ref_mean), "relative"
        else:
            continue
        widths, sds = [], []
        for r in block:
            widths.append(r["ci_high"] - r["ci_low"])
            sds.append(r["sd"])
            if "diff_ci_low" in r:
                widths.append(r["diff_ci_high"] - r["diff_ci_low"])
                sds.append(r["diff_sd"])
        n = min(r["n"] for r in block)
        finite = [w for w in widths if math.isfinite(w)]
        widest = max(finite) if finite else math.nan
        if n >= 2 and math.isfinite(widest) and widest <= width:
            continue
        sd = max((s for s in sds if math.isfinite(s)), default=math.nan)
        notes.append(
            {
                "metric": metric,
                "requested_width": width,
                "basis": basis,
                "widest_ci": widest,
                "n": n,
                "max_sd": sd,
                "suggested_n": required_replications(sd, width) if math.isfinite(sd) else None,
            }
        )
    return notes


# --------------------------------------------------------------------------- sweeps


def point_stats(
    values: Mapping[str, Mapping[int, Mapping[int, float]]],
    n_points: int,
    metrics: Sequence[str],
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES_SWEEP,
) -> list[dict[str, Any]]:
    """Mean, SD and 95 % percentile-bootstrap CI per (design point, metric).

    ``values[metric][point][rep]``. Rows are ``{"point", "metric", "n", "mean", "sd",
    "ci_low", "ci_high"}``.
    """
    rows = []
    for mi, metric in enumerate(metrics):
        per = values.get(metric, {})
        for p in range(n_points):
            v = per.get(p, {})
            x = np.array([v[r] for r in sorted(v)], dtype=float)
            x = x[np.isfinite(x)]
            lo, hi = bootstrap_ci(
                x, _rng(seed, mi, p, 2), n_resamples=n_resamples, method="percentile"
            )
            rows.append(
                {
                    "point": p,
                    "metric": metric,
                    "n": int(x.size),
                    "mean": float(x.mean()) if x.size else math.nan,
                    "sd": float(x.std(ddof=1)) if x.size > 1 else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return rows
