"""Intervals of sim.experiment.stats: coverage, hand-computed Fieller and TOST, bounds ≥ −100 %.

Issue 14: percentage CIs divided a bootstrap CI of the difference by a fixed reference mean
(bounds below −100 %), stars came from Holm-adjusted p beside unadjusted intervals, and
percentile bootstrap intervals covered 78.7 % at n = 4. These tests pin the fixes.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats as sps

from sim.experiment import stats
from sim.experiment.stats import (
    compare_stats,
    fieller_ratio_ci,
    point_stats,
    poisson_rate_ratio,
    sesoi,
    t_ci,
    tost_paired,
)

N_MC = 4000  # synthetic paired samples per sample size; 95 % ± 0.7 % (2 SE)


def _paired_normal(rng, n_samples, n, mu_ref=100.0, mu_new=80.0, sd=15.0, rho=0.7):
    """Bivariate normal pairs (CRN-like correlation ``rho``), shape (n_samples, n) each."""
    z1 = rng.standard_normal((n_samples, n))
    z2 = rho * z1 + math.sqrt(1 - rho * rho) * rng.standard_normal((n_samples, n))
    return mu_ref + sd * z1, mu_new + sd * z2


@pytest.mark.parametrize("n", [4, 10, 30])
def test_coverage_of_difference_and_ratio_intervals(n):
    rng = np.random.default_rng(20240 + n)
    ref, new = _paired_normal(rng, N_MC, n)
    lo, hi = t_ci(new - ref)
    cover_diff = np.mean((lo <= -20.0) & (-20.0 <= hi))
    f = fieller_ratio_ci(ref, new)
    cover_ratio = np.mean(f.bounded & (f.low <= 0.8) & (0.8 <= f.high))  # unbounded = miss
    assert cover_diff >= 0.93, cover_diff
    assert cover_ratio >= 0.93, cover_ratio
    # and not absurdly conservative
    assert cover_diff <= 0.97 and cover_ratio <= 0.97


def test_coverage_of_the_rows_compare_stats_prints_at_n_4():
    """The same through compare_stats (what the tables print), fewer samples: ≥ 93 %."""
    rng = np.random.default_rng(4)
    ref, new = _paired_normal(rng, 600, 4)
    hit_d = hit_pct = 0
    for a, b in zip(ref, new, strict=True):
        values = {"gain_index": {"a": dict(enumerate(a)), "b": dict(enumerate(b))}}
        r = compare_stats(values, ["a", "b"], ["gain_index"], n_resamples=99)[1]
        hit_d += r["diff_ci_low"] <= -20.0 <= r["diff_ci_high"]
        hit_pct += r["diff_pct_ci_low"] <= -20.0 <= r["diff_pct_ci_high"]
    assert hit_d / 600 >= 0.93 and hit_pct / 600 >= 0.93, (hit_d, hit_pct)


def test_point_stats_use_t_intervals_below_20():
    rng = np.random.default_rng(9)
    x = rng.normal(5.0, 2.0, 4)
    rows = point_stats({"gain_index": {0: dict(enumerate(x))}}, 1, ["gain_index"])
    half = sps.t.ppf(0.975, 3) * x.std(ddof=1) / 2.0
    assert rows[0]["ci_low"] == pytest.approx(x.mean() - half)
    assert rows[0]["ci_high"] == pytest.approx(x.mean() + half)
    # coverage of the printed sweep interval at n = 4
    xs = rng.normal(5.0, 2.0, (300, 4))
    values = {"gain_index": {p: dict(enumerate(xs[p])) for p in range(300)}}
    rows = point_stats(values, 300, ["gain_index"])
    cover = np.mean([r["ci_low"] <= 5.0 <= r["ci_high"] for r in rows])
    assert cover >= 0.92


def test_fieller_interval_by_hand():
    # Fieller (1954); Franz (2007) eqs. 6-9: the roots of a R^2 - 2 b R + c = 0
    x = np.array([10.0, 12.0, 9.0, 11.0])  # reference
    y = np.array([8.0, 9.0, 8.0, 10.0])  # new
    n = 4
    xm, ym = 42 / 4, 35 / 4  # 10.5, 8.75
    sxx = ((-0.5) ** 2 + 1.5**2 + (-1.5) ** 2 + 0.5**2) / 3  # 5/3
    syy = ((-0.75) ** 2 + 0.25**2 + (-0.75) ** 2 + 1.25**2) / 3  # 2.75/3
    sxy = ((-0.5) * (-0.75) + 1.5 * 0.25 + (-1.5) * (-0.75) + 0.5 * 1.25) / 3  # 2.5/3
    assert np.cov(x, y)[0, 0] == pytest.approx(sxx) and np.cov(x, y)[0, 1] == pytest.approx(sxy)
    q = 3.182446305284263  # t_{0.975, 3}
    a = xm**2 - q**2 * sxx / n
    b = xm * ym - q**2 * sxy / n
    c = ym**2 - q**2 * syy / n
    lo = (b - math.sqrt(b * b - a * c)) / a
    hi = (b + math.sqrt(b * b - a * c)) / a
    f = fieller_ratio_ci(x, y)
    assert f.ratio == pytest.approx(8.75 / 10.5)
    assert f.bounded
    assert f.low == pytest.approx(lo, rel=1e-9) and f.high == pytest.approx(hi, rel=1e-9)
    # a = 106.030, b = 89.765, c = 74.2415 → R in [0.7180, 0.9752], i.e. −28.2 % to −2.5 %
    assert a == pytest.approx(106.030, abs=1e-3) and c == pytest.approx(74.2415, abs=1e-4)
    assert lo == pytest.approx(0.7180, abs=1e-4) and hi == pytest.approx(0.9752, abs=1e-4)
    # at each bound the one-sample t statistic of y - R x is exactly ∓ q
    for r, sign in ((lo, 1), (hi, -1)):
        z = y - r * x
        assert z.mean() / (z.std(ddof=1) / 2) == pytest.approx(sign * q, rel=1e-9)
    # what compare_stats prints: 100 (R - 1) with those bounds
    values = {"staff_days": {"a": dict(enumerate(x)), "b": dict(enumerate(y))}}
    r = compare_stats(values, ["a", "b"], ["staff_days"])[1]
    assert r["diff_pct"] == pytest.approx(100 * (8.75 / 10.5 - 1))
    assert r["diff_pct_ci_low"] == pytest.approx(100 * (lo - 1))
    assert r["diff_pct_ci_high"] == pytest.approx(100 * (hi - 1))
    assert r["pct_method"] == "fieller" and r["pct_flag"] == ""


def test_fieller_unbounded_when_the_reference_mean_is_not_significant():
    x = np.array([0.1, -0.2, 0.3, 0.0])
    y = np.array([1.0, 1.1, 0.9, 1.2])
    f = fieller_ratio_ci(x, y)
    assert not f.bounded and math.isnan(f.low) and math.isnan(f.high)


def test_tost_by_hand():
    d = np.array([0.2, -0.1, 0.3, 0.0, 0.1])
    delta = 0.5
    # mean 0.1, s = sqrt(0.1 / 4) = 0.158114, se = s / sqrt(5) = 0.0707107
    se = math.sqrt(0.1 / 4) / math.sqrt(5)
    t1 = (0.1 + 0.5) / se  # 8.485
    t2 = (0.1 - 0.5) / se  # -5.657
    p1 = 1 - sps.t.cdf(t1, 4)
    p2 = sps.t.cdf(t2, 4)
    assert t1 == pytest.approx(8.4853, abs=1e-3) and t2 == pytest.approx(-5.6569, abs=1e-3)
    assert tost_paired(d, delta) == pytest.approx(max(p1, p2), rel=1e-9)
    assert tost_paired(d, delta) == pytest.approx(0.002405, abs=2e-5)  # p2, P(T_4 ≤ -5.657)
    # equivalently: the 90 % t interval lies inside (-delta, delta)
    lo, hi = t_ci(d, 0.90)
    assert -delta < lo and hi < delta
    # a narrower margin: not equivalent
    assert tost_paired(d, 0.2) > 0.05


def test_tost_reported_as_no_practical_difference():
    rng = np.random.default_rng(5)
    common = rng.normal(60, 5, 12)
    values = {
        "gain_index": {
            "a": dict(enumerate(common)),
            "b": dict(enumerate(common + rng.normal(0.0, 0.2, 12))),  # |Δ| ≪ 1 point
            "c": dict(enumerate(common + 3 + rng.normal(0.0, 0.2, 12))),
        }
    }
    _, rb, rc = compare_stats(values, ["a", "b", "c"], ["gain_index"])
    assert rb["sesoi"] == 1.0 and rb["p_tost"] < 0.05
    assert rb["conclusion"] == "no_practical_difference"
    assert rc["conclusion"] == "difference"
    assert sesoi("resolution_rate", 0.7) == (0.01, "0.01 (share)")
    assert sesoi("staff_days", 200.0)[0] == pytest.approx(10.0)


def test_poisson_rate_ratio_by_hand():
    # 3 new vs 12 reference events: N = 15, k = 3; Clopper-Pearson for pi = k / N
    rr, lo, hi, p = poisson_rate_ratio(12, 3)
    p_lo = sps.beta.ppf(0.025, 3, 13)
    p_hi = sps.beta.ppf(0.975, 4, 12)
    assert rr == pytest.approx(0.25)
    assert lo == pytest.approx(p_lo / (1 - p_lo)) and hi == pytest.approx(p_hi / (1 - p_hi))
    # exact test: 2 P(X ≤ 3), X ~ Bin(15, 1/2) = 2 (1 + 15 + 105 + 455) / 2^15
    assert p == pytest.approx(2 * 576 / 2**15)
    # duality: the interval excludes 1 exactly when p < 0.05
    for k, m in [(3, 12), (5, 12), (0, 6), (0, 5), (9, 3), (4, 4)]:
        _, lo, hi, p = poisson_rate_ratio(m, k)
        assert (p < 0.05) == (not lo <= 1 <= hi), (k, m)
    assert poisson_rate_ratio(6, 0)[1] == 0.0  # −100 %, never below


def test_rare_counts_get_rate_ratios_and_matching_stars():
    values = {
        "escalations_collective": {
            "a": dict(enumerate([2.0, 1, 3, 2, 1, 2, 3, 2, 1, 2])),
            "b": dict(enumerate([0.0, 0, 1, 0, 0, 0, 0, 1, 0, 0])),
        }
    }
    r = compare_stats(values, ["a", "b"], ["escalations_collective"])[1]
    assert r["rare_count"] and r["pct_method"] == "poisson_exact"
    assert r["diff"] == pytest.approx(-1.7)
    rr, lo, hi, p = poisson_rate_ratio(19, 2)
    assert r["rate_ratio"] == pytest.approx(rr) and r["p"] == pytest.approx(p)
    assert r["diff_pct_ci_low"] == pytest.approx(100 * (lo - 1))
    assert r["diff_pct_ci_low"] >= -100


def _random_rows(seed):
    """compare_stats on awkward random inputs: tiny, near-zero, skewed, zero-inflated."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(40):
        n = int(rng.choice([2, 3, 4, 7, 25]))
        kind = rng.integers(4)
        if kind == 0:  # near-zero reference mean, continuous, non-negative
            a = np.abs(rng.normal(0.0, 1e-3, n))
            b = np.abs(rng.normal(0.0, 1e-2, n))
        elif kind == 1:  # rare counts
            a = rng.poisson(rng.uniform(0.05, 3), n).astype(float)
            b = rng.poisson(rng.uniform(0.0, 3), n).astype(float)
        elif kind == 2:  # skewed with a large drop
            a = rng.lognormal(1.0, 1.0, n)
            b = a * rng.uniform(0.0, 0.3, n)
        else:  # signed metric
            a = rng.normal(0.5, 1.0, n)
            b = rng.normal(-0.5, 1.0, n)
        for metric in ("escalations_collective", "staff_days", "urban_rural_gap"):
            values = {metric: {"a": dict(enumerate(a)), "b": dict(enumerate(b))}}
            rows += compare_stats(values, ["a", "b"], [metric], n_resamples=99)
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_percentage_bound_below_minus_100(seed):
    for r in _random_rows(seed):
        if "diff" not in r:
            continue
        for key in ("diff_pct", "diff_pct_ci_low", "diff_pct_ci_high"):
            v = r[key]
            assert math.isnan(v) or v >= -100.0, (key, r)
        if math.isfinite(r["diff_pct_ci_low"]):
            assert r["diff_pct_ci_low"] <= r["diff_pct"] <= r["diff_pct_ci_high"]


@pytest.mark.parametrize("seed", [4, 5])
def test_stars_and_intervals_agree(seed):
    """p (the star's p) < 0.05 exactly when the % interval beside it excludes 0 %."""
    for r in _random_rows(seed):
        if "diff" not in r or not math.isfinite(r["diff_pct_ci_low"]):
            continue
        if not math.isfinite(r["diff_pct_ci_high"]) or r["pct_flag"] == "clipped":
            continue
        excludes = not (r["diff_pct_ci_low"] <= 0 <= r["diff_pct_ci_high"])
        p = r["p"]
        if abs(p - 0.05) < 1e-9:
            continue
        assert (p < 0.05) == excludes, r
        if not r["rare_count"]:  # and the difference's t interval agrees too
            assert (p < 0.05) == (not r["diff_ci_low"] <= 0 <= r["diff_ci_high"])
        assert r["p_holm"] >= r["p"] - 1e-12


def test_fieller_against_the_log_ratio_bootstrap():
    rng = np.random.default_rng(11)
    ref, new = _paired_normal(rng, 1, 40)
    f = fieller_ratio_ci(ref[0], new[0])
    lo, hi = stats.ratio_bootstrap_ci(ref[0], new[0], np.random.default_rng(0))
    assert lo == pytest.approx(f.low, abs=0.02) and hi == pytest.approx(f.high, abs=0.02)


# --------------------------------------------------------------------------- printed tables

PCT = re.compile(r"([+\-−]?\d+(?:\.\d+)?)%")


def _scenario_values(seed):
    """Six scenarios against a reference, on a 0–100 index, a share, counts rare and common."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([3, 4, 10]))
    values = {}
    ref_inc = rng.poisson(1.3, n).astype(float)
    values["escalations_collective"] = {"ref": dict(enumerate(ref_inc))}
    for k, lam in enumerate([0.0, 0.05, 0.3, 1.2, 3.0, 0.1]):
        values["escalations_collective"][f"s{k}"] = dict(
            enumerate(rng.poisson(lam, n).astype(float))
        )
    base = rng.lognormal(5.0, 0.3, n)
    values["escalations"] = {"ref": dict(enumerate(base))}
    values["staff_days"] = {"ref": dict(enumerate(np.abs(rng.normal(0, 1e-3, n))))}
    values["gain_index"] = {"ref": dict(enumerate(rng.normal(60, 3, n)))}
    for k, f in enumerate([0.01, 0.1, 0.5, 0.9, 1.0, 2.0]):
        values["escalations"][f"s{k}"] = dict(enumerate(base * f * rng.uniform(0.2, 1.8, n)))
        values["staff_days"][f"s{k}"] = dict(enumerate(np.abs(rng.normal(0, 1e-2, n))))
        values["gain_index"][f"s{k}"] = dict(enumerate(rng.normal(60 + k - 3, 3, n)))
    return values


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_tables_never_print_a_percentage_below_minus_100(seed):
    from sim.experiment import tables

    labels = ["ref"] + [f"s{k}" for k in range(6)]
    metrics = ["escalations_collective", "escalations", "staff_days", "gain_index"]
    rows = compare_stats(_scenario_values(seed), labels, metrics, n_resamples=99)
    titles = {lab: "" for lab in labels}
    texts = [
        tables.compare_markdown(rows, titles),
        tables.compare_text(rows, titles),
        tables.compare_overview_text(rows, titles),
    ]
    printed = [float(m.replace("−", "-")) for t in texts for m in PCT.findall(t)]
    assert printed, texts[0]
    assert min(printed) >= -100.0, [p for p in printed if p < -100]
    md = texts[0]
    assert "p (Holm)" in md and "Fieller" in md
    assert "RR " in md  # rare counts as rate ratios
