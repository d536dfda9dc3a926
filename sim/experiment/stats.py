"""Statistics of an experiment: paired differences and ratios with intervals a referee accepts.

Comparison (``compare_stats``), for every metric and scenario:

- ``mean``, ``sd`` and a 95 % CI of the mean (``ci_method``): the Student t interval
  where n < 20 (the bootstrap undercovers there: 78.7 % for a nominal 95 % percentile
  interval at n = 4), BCa bootstrap [1] (9,999 resamples, a seeded Generator per cell)
  where n ≥ 20.
- Against the reference (the first scenario), paired by replication — replication ``i``
  used the same seed in both (common random numbers):

  * ``diff``: the mean paired difference, new − reference, with its paired t interval
    (``diff_ci_low``, ``diff_ci_high``) at every n. It is the inversion of the paired
    t-test, so the interval excludes 0 exactly when ``p_ttest`` < 0.05.
  * ``diff_pct``: the percentage effect 100·(R − 1), R = mean(new) / mean(reference),
    the ratio of the paired means, with Fieller's interval [4, 5] for paired data
    (``pct_method = "fieller"``): the R with |t| ≤ t₀.₉₇₅,ₙ₋₁ for the one-sample t-test
    of new − R·reference. It accounts for the uncertainty of the denominator; at R = 1
    the test is the paired t-test, so it excludes 0 % exactly when ``p_ttest`` < 0.05.
    Where the reference mean is not significantly ≠ 0 the interval is unbounded:
    NaN bounds and ``pct_flag = "unbounded"``. For non-negative metrics R ≥ 0, so a lower
    bound below −100 % is raised to −100 % (``pct_flag = "clipped"``, coverage is kept).
    Where a value is negative (a signed metric) or the reference mean is ≤ 0 no % is
    given (``pct_flag`` ``"not_ratio_scale"``, ``"undefined"``); Δ is in the metric's
    unit. No percentage, nor any bound of one, is below −100 %.
    ``ratio_boot_ci_low``/``_high``: a paired percentile bootstrap of log R [1], a
    cross-check (n ≥ 10, not printed).
  * Rare counts (``rare_count``: unit "count", whole numbers, reference mean < 10 per
    replication, e.g. collective incidents): the raw difference and the rate ratio
    RR = Σ new / Σ reference with the exact conditional (Clopper–Pearson) interval [6, 7]:
    given the total N, Σ new ~ Binomial(N, RR / (1 + RR)) (equal exposure: the same days
    and city in every replication). ``diff_pct`` = 100·(RR − 1) then carries this interval
    (``pct_method = "poisson_exact"``) and ``p_rate`` is the exact test dual to it (twice
    the smaller binomial tail).
  * ``d_z`` (Cohen's d_z = mean / SD of the differences [3]) beside the p-values:
    ``p_ttest`` (paired t-test, ``scipy.stats.ttest_rel``) and, for robustness,
    ``p_wilcoxon`` (signed-rank).
  * One scheme of inference: every interval is unadjusted (95 %), and ``p`` is the
    unadjusted p-value of the test dual to the interval shown as the % effect
    (``p_ttest``, or ``p_rate`` for rare counts). Significance stars are driven by ``p``,
    so a star appears exactly when the interval beside it excludes 0 %. ``p_holm`` is ``p``
    Holm-corrected [2] within each metric over the comparisons with the reference, given
    in its own column, never mixed with the unadjusted intervals.
  * Practical significance: a smallest effect size of interest ``sesoi`` per metric
    (:func:`sesoi`) and the TOST equivalence test [8, 9] (two one-sided paired t-tests
    against ±sesoi), ``p_tost``. ``conclusion``: ``"no_practical_difference"`` (TOST p <
    0.05, the paired t-test not significant), ``"negligible_difference"`` (both
    significant: an effect smaller than the sesoi), ``"difference"`` (``p`` < 0.05, TOST
    not), ``"inconclusive"`` (neither).

Runs missing a value (NaN, or not finished) are left out; differences use the
replications present in both scenarios. A cell with fewer than two values has no CI.

CI width (``ci_width_notes``): for a requested full width W of the 95 % CIs (relative to
the reference mean, or absolute per metric), says which metrics' CIs are wider and
suggests the replications needed, n = (2 t₀.₉₇₅,ₙ₋₁ s / W)², from the largest observed
SD s of the scenario values and of the paired differences.

Sweeps (``point_stats``): the mean of each design point with the same CI as above
(t where n < 20, BCa otherwise).

References
----------
1. Efron, B. (1987). Better bootstrap confidence intervals. JASA 82(397), 171–185.
   doi:10.1080/01621459.1987.10478410
2. Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian
   Journal of Statistics 6(2), 65–70.
3. Lakens, D. (2013). Calculating and reporting effect sizes … t-tests and ANOVAs.
   Frontiers in Psychology 4, 863. doi:10.3389/fpsyg.2013.00863 (d_z)
4. Fieller, E. C. (1954). Some problems in interval estimation. JRSS B 16(2), 175–185.
   doi:10.1111/j.2517-6161.1954.tb00159.x
5. Franz, V. H. (2007). Ratios: a short guide to confidence limits and proper use.
   arXiv:0710.2024 (Fieller's interval for paired/correlated means, eqs. 6–9).
6. Clopper, C. J., Pearson, E. S. (1934). The use of confidence or fiducial limits
   illustrated in the case of the binomial. Biometrika 26(4), 404–413.
   doi:10.1093/biomet/26.4.404
7. Fay, M. P. (2010). Two-sided exact tests and matching confidence intervals for
   discrete data. The R Journal 2(1), 53–58. doi:10.32614/RJ-2010-008 (the conditional
   binomial test for a Poisson rate ratio and its central interval)
8. Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the
   power approach for assessing the equivalence of average bioavailability. Journal of
   Pharmacokinetics and Biopharmaceutics 15(6), 657–680. doi:10.1007/BF01068419
9. Lakens, D. (2017). Equivalence tests: a practical primer for t tests, correlations,
   and meta-analyses. Social Psychological and Personality Science 8(4), 355–362.
   doi:10.1177/1948550617697177
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from scipy import stats as sps

from sim.errors import GovsimError
from sim.metrics_schema import SUMMARY_KEYS

CONFIDENCE = 0.95
N_RESAMPLES = 9999
N_RESAMPLES_SWEEP = 1999
SEED_STREAM_BOOTSTRAP = 2
# below this many values a mean's CI is the t interval, from it on BCa
SMALL_N = 20
# a count metric whose reference mean per replication is below this is a rare count
RARE_COUNT_MEAN = 10.0
# smallest effect size of interest (assumptions, see :func:`sesoi`)
SESOI_BY_UNIT: dict[str, tuple[str, float]] = {
    "0-100": ("absolute", 1.0),  # one point on a 0–100 index
    "share": ("absolute", 0.01),  # one percentage point
}
SESOI_RELATIVE = 0.05  # otherwise 5 % of the reference mean
SESOI_BY_METRIC: dict[str, tuple[str, float]] = {}  # per-metric overrides


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(SEED_STREAM_BOOTSTRAP, *key))
    )


def _tq(confidence: float, df: Any) -> Any:
    return sps.t.ppf(0.5 + confidence / 2, df)


def bootstrap_ci(
    x: np.ndarray,
    rng: np.random.Generator,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    method: str = "BCa",
) -> tuple[float, float]:
    """Bootstrap CI of the mean of the finite values of ``x`` (NaN, NaN if fewer than 2).

    A constant sample gets the degenerate interval [x, x]. Where BCa [1] is undefined the
    percentile interval is used. Undercovers for small n (use :func:`mean_ci`).
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


def t_ci(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[Any, Any]:
    """Student t interval of the mean along the last axis: x̄ ± t₁₋α/₂,ₙ₋₁ · s / √n.

    Vectorised: ``x`` of shape (..., n) gives bounds of shape (...). NaN where n < 2; a
    constant sample gives [x̄, x̄]. Exact for normal data (Student 1908); the inversion of
    the one-sample t-test, so it excludes μ₀ exactly when that test's p < 1 − confidence.
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    if n < 2:
        nan = np.full(x.shape[:-1], np.nan)
        return (float(nan), float(nan)) if nan.ndim == 0 else (nan, nan.copy())
    m = x.mean(axis=-1)
    half = _tq(confidence, n - 1) * x.std(axis=-1, ddof=1) / math.sqrt(n)
    lo, hi = m - half, m + half
    if np.ndim(lo) == 0:
        return float(lo), float(hi)
    return lo, hi


def mean_ci(
    x: np.ndarray,
    rng: np.random.Generator,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
) -> tuple[float, float, str]:
    """CI of the mean of the finite values of ``x``: t where n < :data:`SMALL_N`, else BCa.

    The t interval of a non-negative sample is cut at 0 from below.

    Returns ``(low, high, method)``, method ``"t"`` or ``"bca"`` (``""`` if n < 2).
    """
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan, math.nan, ""
    if x.size < SMALL_N:
        lo, hi = t_ci(x, confidence)
        if np.all(x >= 0):  # the mean of a non-negative metric is ≥ 0; coverage is kept
            lo = max(lo, 0.0)
        return lo, hi, "t"
    lo, hi = bootstrap_ci(x, rng, confidence=confidence, n_resamples=n_resamples)
    return lo, hi, "bca"


class Fieller(NamedTuple):
    """Ratio of means R = mean(new) / mean(ref) with Fieller's interval (NaN: unbounded)."""

    ratio: Any
    low: Any
    high: Any
    bounded: Any


def fieller_ratio_ci(ref: np.ndarray, new: np.ndarray, confidence: float = CONFIDENCE) -> Fieller:
    """Fieller's CI of R = mean(new) / mean(ref) for paired samples [4, 5].

    With x = ref, y = new, the sample (co)variances s_xx, s_yy, s_xy (ddof 1), the
    variances of the means v = s / n and q = t₁₋α/₂,ₙ₋₁, the interval is the set of R with
    (ȳ − R x̄)² ≤ q² (v_yy − 2 R v_xy + R² v_xx), i.e. the roots of
    a R² − 2 b R + c = 0 with a = x̄² − q² v_xx, b = x̄ ȳ − q² v_xy, c = ȳ² − q² v_yy:
    R = (b ∓ √(b² − a c)) / a. It is the set of R where the one-sample t-test of
    yᵢ − R xᵢ does not reject, so it is exact for bivariate normal pairs. The interval is
    bounded only where a > 0 (x̄ significantly ≠ 0); otherwise the bounds are NaN and
    ``bounded`` is False. Vectorised over leading axes (pairs on the last axis).
    """
    x = np.asarray(ref, dtype=float)
    y = np.asarray(new, dtype=float)
    n = x.shape[-1]
    xm, ym = x.mean(axis=-1), y.mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ym / xm
    if n < 2:
        nan = np.full(np.shape(xm), np.nan)
        out = Fieller(ratio, nan, nan.copy(), np.zeros(np.shape(xm), bool))
        return _scalar(out)
    xc = x - xm[..., None] if x.ndim > 1 else x - xm
    yc = y - ym[..., None] if y.ndim > 1 else y - ym
    vxx = (xc * xc).sum(axis=-1) / (n - 1) / n
    vyy = (yc * yc).sum(axis=-1) / (n - 1) / n
    vxy = (xc * yc).sum(axis=-1) / (n - 1) / n
    q2 = _tq(confidence, n - 1) ** 2
    a = xm * xm - q2 * vxx
    b = xm * ym - q2 * vxy
    c = ym * ym - q2 * vyy
    bounded = a > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.maximum(b * b - a * c, 0.0))
        lo = np.where(bounded, (b - root) / a, np.nan)
        hi = np.where(bounded, (b + root) / a, np.nan)
    return _scalar(Fieller(ratio, lo, hi, bounded))


def _scalar(f: Fieller) -> Fieller:
    if np.ndim(f.ratio) == 0:
        return Fieller(float(f.ratio), float(f.low), float(f.high), bool(f.bounded))
    return f


def ratio_bootstrap_ci(
    ref: np.ndarray,
    new: np.ndarray,
    rng: np.random.Generator,
    *,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
) -> tuple[float, float]:
    """Paired percentile bootstrap CI of R = mean(new) / mean(ref), on log R [1].

    Pairs are resampled together. NaN where a resampled mean is ≤ 0 in more than
    α/2 of the resamples (log R is then not defined often enough), or n < 2.
    """
    x = np.asarray(ref, dtype=float)
    y = np.asarray(new, dtype=float)
    n = x.size
    if n < 2 or x.mean() <= 0 or y.mean() <= 0:
        return math.nan, math.nan
    idx = rng.integers(0, n, size=(n_resamples, n))
    xm, ym = x[idx].mean(axis=1), y[idx].mean(axis=1)
    alpha = 1 - confidence
    ok = (xm > 0) & (ym > 0)
    if np.mean(~ok) > alpha / 2:
        return math.nan, math.nan
    with np.errstate(divide="ignore"):
        logr = np.where(ok, np.log(np.where(ok, ym, 1.0)) - np.log(np.where(ok, xm, 1.0)), -np.inf)
    lo, hi = np.quantile(logr, [alpha / 2, 1 - alpha / 2])
    return float(np.exp(lo)), float(np.exp(hi))


def poisson_rate_ratio(
    count_ref: float, count_new: float, confidence: float = CONFIDENCE
) -> tuple[float, float, float, float]:
    """Rate ratio Σnew / Σref of two Poisson totals with equal exposure, exact CI and p.

    Conditional on N = Σref + Σnew, Σnew ~ Binomial(N, π) with π = RR / (1 + RR) [7].
    π's central Clopper–Pearson interval [6], mapped by RR = π / (1 − π), and the exact
    test of RR = 1 dual to it: p = min(1, 2 min(P(X ≤ k), P(X ≥ k))), X ~ Bin(N, ½),
    k = Σnew. Returns ``(rr, low, high, p)``; RR's upper bound is ∞ when Σref = 0; all NaN
    but p = 1 when N = 0 (no events).
    """
    k, m = int(round(count_new)), int(round(count_ref))
    n = k + m
    if n == 0:
        return math.nan, math.nan, math.nan, 1.0
    alpha = 1 - confidence
    p_lo = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    p_hi = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    rr = math.inf if m == 0 else k / m
    lo = p_lo / (1 - p_lo)
    hi = math.inf if p_hi >= 1 else p_hi / (1 - p_hi)
    p = min(1.0, 2 * min(float(sps.binom.cdf(k, n, 0.5)), float(sps.binom.sf(k - 1, n, 0.5))))
    return rr, lo, hi, p


def sesoi(metric: str, ref_mean: float) -> tuple[float, str]:
    """Smallest effect size of interest of a metric, in its unit: ``(delta, basis)``.

    Assumptions (not from the literature; set by the project, override in
    :data:`SESOI_BY_METRIC`): 1 point on the 0–100 indices (gain, well-being, security),
    1 percentage point on shares, otherwise 5 % of the reference mean. Lakens [9] asks
    for the smallest effect that would matter to the question at hand; these are
    placeholders for governance practice, not validated thresholds.
    """
    unit = SUMMARY_KEYS.get(metric, ("", "", ""))[2]
    default = ("relative", SESOI_RELATIVE)
    kind, value = SESOI_BY_METRIC.get(metric) or SESOI_BY_UNIT.get(unit) or default
    if kind == "absolute":
        return float(value), f"{value:g} ({unit or 'absolute'})"
    if not (math.isfinite(ref_mean) and ref_mean != 0):
        return math.nan, f"{100 * value:g} % of the reference mean"
    return float(value * abs(ref_mean)), f"{100 * value:g} % of the reference mean"


def tost_paired(d: np.ndarray, delta: float) -> float:
    """TOST p-value for equivalence of the paired differences ``d`` within ±``delta`` [8, 9].

    Two one-sided t-tests: H₀₁ μ ≤ −δ with t₁ = (d̄ + δ) / (s/√n), p₁ = P(Tₙ₋₁ ≥ t₁);
    H₀₂ μ ≥ δ with t₂ = (d̄ − δ) / (s/√n), p₂ = P(Tₙ₋₁ ≤ t₂); p = max(p₁, p₂). p < α is
    the same as the (1 − 2α) t interval lying inside (−δ, δ). A constant ``d`` gives 0 if
    |d̄| < δ else 1; NaN with fewer than 2 values or no δ.
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    if n < 2 or not (math.isfinite(delta) and delta > 0):
        return math.nan
    m = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(n)
    if se == 0:
        return 0.0 if abs(m) < delta else 1.0
    p1 = float(sps.t.sf((m + delta) / se, n - 1))
    p2 = float(sps.t.cdf((m - delta) / se, n - 1))
    return max(p1, p2)


def is_rare_count(metric: str, ref: np.ndarray, new: np.ndarray) -> bool:
    """A count metric (unit "count") of whole numbers whose reference mean is < 10."""
    if SUMMARY_KEYS.get(metric, ("", "", ""))[2] != "count" or ref.size == 0:
        return False
    both = np.concatenate([ref, new])
    return bool(
        np.all(both >= 0) and np.all(both == np.round(both)) and ref.mean() < RARE_COUNT_MEAN
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values [2]; NaN entries stay NaN and are not counted."""
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


def _pct_fields(
    metric: str, x: np.ndarray, y: np.ndarray, confidence: float, rng: np.random.Generator
) -> dict[str, Any]:
    """The % effect of ``y`` (new) over ``x`` (reference) with its interval and test."""
    nan = math.nan
    out: dict[str, Any] = {
        "rare_count": False,
        "pct_method": "fieller",
        "pct_flag": "",
        "diff_pct": nan,
        "diff_pct_ci_low": nan,
        "diff_pct_ci_high": nan,
        "ratio": nan,
        "ratio_ci_low": nan,
        "ratio_ci_high": nan,
        "ratio_boot_ci_low": nan,
        "ratio_boot_ci_high": nan,
        "rate_ratio": nan,
        "rate_ratio_ci_low": nan,
        "rate_ratio_ci_high": nan,
        "p_rate": nan,
    }
    if x.size == 0:
        out["pct_flag"] = "undefined"
        return out
    ref_mean = float(x.mean())
    nonneg = bool(np.all(x >= 0) and np.all(y >= 0))
    if is_rare_count(metric, x, y):
        rr, lo, hi, p = poisson_rate_ratio(float(x.sum()), float(y.sum()), confidence)
        out.update(
            rare_count=True,
            pct_method="poisson_exact",
            rate_ratio=rr,
            rate_ratio_ci_low=lo,
            rate_ratio_ci_high=hi,
            p_rate=p,
            ratio=rr,
            ratio_ci_low=lo,
            ratio_ci_high=hi,
        )
        if math.isnan(rr):
            out["pct_flag"] = "no_events"
        elif ref_mean == 0:
            out["pct_flag"] = "undefined"
        else:
            out["diff_pct"] = 100 * (rr - 1)
            out["diff_pct_ci_low"] = 100 * (lo - 1)
            out["diff_pct_ci_high"] = 100 * (hi - 1) if math.isfinite(hi) else nan
            if not math.isfinite(hi):
                out["pct_flag"] = "unbounded"
        return out
    if not ref_mean > 0:
        out["pct_flag"] = "undefined"  # a % of a reference mean ≤ 0 has no meaning
        return out
    if not nonneg:  # a signed metric: report Δ in its unit, not a % of the reference
        out["pct_flag"] = "not_ratio_scale"
        return out
    f = fieller_ratio_ci(x, y, confidence)
    out.update(ratio=f.ratio, diff_pct=100 * (f.ratio - 1))
    if x.size >= 10:
        out["ratio_boot_ci_low"], out["ratio_boot_ci_high"] = ratio_bootstrap_ci(
            x, y, rng, confidence=confidence, n_resamples=N_RESAMPLES
        )
    if not f.bounded:
        out["pct_flag"] = "unbounded"
        return out
    lo, hi = f.low, f.high
    if lo < 0:
        lo = 0.0  # the true ratio of two non-negative means is ≥ 0
        out["pct_flag"] = "clipped"
    out.update(
        ratio_ci_low=lo,
        ratio_ci_high=hi,
        diff_pct_ci_low=100 * (lo - 1),
        diff_pct_ci_high=100 * (hi - 1),
    )
    return out


def _conclusion(p: float, p_tost: float, alpha: float) -> str:
    sig = math.isfinite(p) and p < alpha
    equiv = math.isfinite(p_tost) and p_tost < alpha
    if equiv:
        return "negligible_difference" if sig else "no_practical_difference"
    return "difference" if sig else "inconclusive"


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
    metrics
        The metrics, one block of rows each.
    seed
        Seeds the bootstrap resamples (the tables are reproducible).
    confidence
        Confidence level of every interval; the tests use α = 1 − confidence.
    n_resamples
        Bootstrap resamples of the BCa CIs of the means (n ≥ 20).

    Returns
    -------
    list of dict
        One row per (metric, scenario); the reference's row has no paired fields.
    """
    alpha = 1 - confidence
    rows: list[dict[str, Any]] = []
    ref = labels[0]
    for mi, metric in enumerate(metrics):
        per = values.get(metric, {})
        ref_vals = per.get(ref, {})
        block = []
        for li, label in enumerate(labels):
            v = per.get(label, {})
            xs = np.array([v[r] for r in sorted(v)], dtype=float)
            xf = xs[np.isfinite(xs)]
            lo, hi, how = mean_ci(
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
                "ci_method": how,
            }
            if li > 0:
                reps = sorted(
                    r
                    for r in set(v) & set(ref_vals)
                    if np.isfinite(v[r]) and np.isfinite(ref_vals[r])
                )
                y = np.array([v[r] for r in reps], dtype=float)  # this scenario
                x = np.array([ref_vals[r] for r in reps], dtype=float)  # the reference
                d = y - x
                dlo, dhi = t_ci(d, confidence)
                dz, p_t, p_w = _paired_tests(d)
                ref_mean = float(x.mean()) if x.size else math.nan
                delta, basis = sesoi(metric, ref_mean)
                p_tost = tost_paired(d, delta)
                pct = _pct_fields(metric, x, y, confidence, _rng(seed, mi, li, 1))
                p = pct["p_rate"] if pct["rare_count"] else p_t
                row.update(
                    {
                        "n_pairs": int(d.size),
                        "diff": float(d.mean()) if d.size else math.nan,
                        "diff_sd": float(d.std(ddof=1)) if d.size > 1 else math.nan,
                        "diff_ci_low": dlo,
                        "diff_ci_high": dhi,
                        "diff_ci_method": "t" if d.size > 1 else "",
                        **pct,
                        "d_z": dz,
                        "p_ttest": p_t,
                        "p_wilcoxon": p_w,
                        "p": p,
                        "sesoi": delta,
                        "sesoi_basis": basis,
                        "p_tost": p_tost,
                        "conclusion": _conclusion(p, p_tost, alpha),
                    }
                )
            block.append(row)
        adjusted = holm([r.get("p", math.nan) for r in block[1:]])
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
    """Mean, SD and 95 % CI per (design point, metric): t where n < 20, else BCa.

    ``values[metric][point][rep]``. Rows are ``{"point", "metric", "n", "mean", "sd",
    "ci_low", "ci_high", "ci_method"}``. The percentile bootstrap used before covered
    78.7 % for a nominal 95 % at n = 4 (normal data); the t interval is exact there [1].
    """
    rows = []
    for mi, metric in enumerate(metrics):
        per = values.get(metric, {})
        for p in range(n_points):
            v = per.get(p, {})
            x = np.array([v[r] for r in sorted(v)], dtype=float)
            x = x[np.isfinite(x)]
            lo, hi, how = mean_ci(x, _rng(seed, mi, p, 2), n_resamples=n_resamples)
            rows.append(
                {
                    "point": p,
                    "metric": metric,
                    "n": int(x.size),
                    "mean": float(x.mean()) if x.size else math.nan,
                    "sd": float(x.std(ddof=1)) if x.size > 1 else math.nan,
                    "ci_low": lo,
                    "ci_high": hi,
                    "ci_method": how,
                }
            )
    return rows
