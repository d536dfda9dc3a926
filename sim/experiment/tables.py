"""Experiment tables as text (terminal), Markdown (README) and CSV, Chinese label first."""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sim.experiment import frontier
from sim.metrics_schema import SUMMARY_KEYS


def unit(metric: str) -> str:
    return SUMMARY_KEYS.get(metric, ("", "", ""))[2]


def metric_label(metric: str) -> str:
    zh, en, _ = SUMMARY_KEYS.get(metric, (metric, metric, ""))
    return f"{zh} ({en})"


def unit_label(metric: str) -> str:
    return {
        "share": "比例 share",
        "days": "天/days",
        "count": "次/count",
        "0-100": "0–100",
        "staff-days": "人日/staff-days",
    }.get(unit(metric), unit(metric))


def fmt(v: Any, metric: str) -> str:
    """A value in the metric's unit: shares as percentages, counts with separators."""
    if v is None or not math.isfinite(v):
        return "—"
    if unit(metric) == "share":
        return f"{100 * v:.1f}%"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1 or a < 1e-9:
        return f"{0.0 if a < 1e-9 else v:.2f}"
    return f"{v:.3g}"


def fmt_diff(v: Any, metric: str) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    if unit(metric) == "share":
        v = 0.0 if abs(v) < 5e-4 else v
        return f"{100 * v:+.1f} pp"
    s = fmt(abs(v), metric)
    return ("-" if v < 0 and s.strip("0.,") else "+") + s


def fmt_ci(lo: Any, hi: Any, f) -> str:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "—"
    return f"[{f(lo)}, {f(hi)}]"


def fmt_p(p: Any) -> str:
    if p is None or not math.isfinite(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def fmt_pct(v: Any) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    if abs(v) < 0.005:
        return "0.0%"
    return f"{v:+.2f}%" if abs(v) < 0.1 else f"{v:+.1f}%"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Aligned columns (East Asian wide characters count double)."""
    widths = [max(_width(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(s: str) -> str:
        return str(s).replace("|", "\\|")

    out = ["| " + " | ".join(esc(h) for h in header) + " |"]
    out.append("|" + "|".join("---" for _ in header) + "|")
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def compare_rows(block: Sequence[Mapping[str, Any]], titles: Mapping[str, str]) -> list[list[str]]:
    metric = block[0]["metric"]

    def f(v):
        return fmt(v, metric)

    def fd(v):
        return fmt_diff(v, metric)

    rows = []
    for r in block:
        name = r["scenario"] + (f" {titles[r['scenario']]}" if titles.get(r["scenario"]) else "")
        cells = [name, str(r["n"]), f(r["mean"]), fmt_ci(r["ci_low"], r["ci_high"], f)]
        if "diff" in r:
            if r.get("rare_count"):  # the rate ratio and its exact interval beside Δ
                lo, hi = r["rate_ratio_ci_low"], r["rate_ratio_ci_high"]
                ci = f"[{fmt_ratio(lo)}, ∞)" if hi == math.inf else fmt_ci(lo, hi, fmt_ratio)
                diff_ci = f"RR {fmt_ratio(r['rate_ratio'])} {ci}"
            else:
                diff_ci = fmt_ci(r["diff_ci_low"], r["diff_ci_high"], fd)
            cells += [
                fd(r["diff"]),
                diff_ci,
                pct_cell(r, with_ci=True),
                "—" if not math.isfinite(r["d_z"]) else f"{r['d_z']:+.2f}",
                fmt_p(_p(r)),
                fmt_p(r["p_holm"]),
                CONCLUSION_LABELS.get(r.get("conclusion", ""), ""),
            ]
        else:
            cells += ["(参照 reference)", "", "", "", "", "", ""]
        rows.append(cells)
    return rows


COMPARE_HEADER = [
    "情景 scenario",
    "n",
    "均值 mean",
    "95% CI",
    "差值 Δ",
    "Δ 95% CI",
    "Δ% [95% CI]",
    "d_z",
    "p",
    "p (Holm)",
    "结论 conclusion",
]

CONCLUSION_LABELS = {
    "no_practical_difference": "无实际差异 no practical difference",
    "negligible_difference": "差异可忽略 negligible",
    "difference": "有差异 difference",
    "inconclusive": "不确定 inconclusive",
}


def fmt_ratio(v: Any) -> str:
    if v is None or not math.isfinite(v):
        return "∞" if v == math.inf else "—"
    return f"{v:.3g}"


def _p(r: Mapping[str, Any]) -> Any:
    """The unadjusted p of the test dual to the row's % interval (old stats.json: Holm)."""
    return r.get("p", r.get("p_holm"))


def pct_cell(r: Mapping[str, Any], *, with_ci: bool) -> str:
    """Δ% with stars from the unadjusted p dual to its interval, ≈ when TOST says so.

    Rare counts are marked † (rate ratio with an exact Poisson interval). Never prints a
    percentage below −100 % (the statistics clip at the ratio 0, see stats.py).
    """
    if not math.isfinite(r.get("diff_pct", math.nan)):
        return "—"
    text = fmt_pct(r["diff_pct"]) + _stars(_p(r))
    text += "†" if r.get("rare_count") else ""
    text += " ≈" if r.get("conclusion") == "no_practical_difference" else ""
    if with_ci:
        lo, hi = r.get("diff_pct_ci_low", math.nan), r.get("diff_pct_ci_high", math.nan)
        if math.isfinite(lo) and not math.isfinite(hi):
            text += f" [{fmt_pct(lo)}, ∞)"
        elif r.get("pct_flag") == "unbounded":
            text += " [无界 unbounded]"
        else:
            text += " " + fmt_ci(lo, hi, fmt_pct)
    return text


def _blocks(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["metric"], []).append(r)
    return out


def compare_text(
    rows: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    notes: Sequence[Mapping[str, Any]] = (),
) -> str:
    """A table per metric for the terminal."""
    parts = []
    for metric, block in _blocks(rows).items():
        parts.append(f"{metric_label(metric)} [{unit_label(metric)}]")
        parts.append(text_table(COMPARE_HEADER, compare_rows(block, titles)))
        parts.append("")
    parts.append(FOOTNOTE)
    parts += ci_notes_text(notes)
    return "\n".join(parts)


# The terminal's overview: the headline outcomes (README's headline table, plus petitions,
# collective incidents and staff-days), with short labels for narrow columns.
HEADLINE_METRICS: dict[str, tuple[str, str]] = {
    "resolution_rate": ("解决率", "resolved"),
    "p90_resolution_days": ("办结90分位", "p90 days"),
    "gain_index": ("获得感", "gain"),
    "happiness_index": ("幸福感", "well-being"),
    "security_index": ("安全感", "security"),
    "escalations": ("升级总数", "escalations"),
    "escalations_petition": ("信访", "petitions"),
    "escalations_collective": ("群体性事件", "collective"),
    "staff_days": ("人力(人日)", "staff-days"),
}
# up to this many scenarios the overview has one row per metric, beyond one per scenario
OVERVIEW_MAX_COLUMNS = 4


def _overview_cell(r: Mapping[str, Any], metric: str) -> str:
    if "diff" not in r:
        return fmt(r["mean"], metric)
    return pct_cell(r, with_ci=False)


def compare_overview_text(
    rows: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    notes: Sequence[Mapping[str, Any]] = (),
    *,
    folder: Any = None,
    setting: str = "",
) -> str:
    """The terminal's summary of a comparison: one table of the headline outcomes.

    The reference's mean and every other scenario's paired difference in % of it, with
    Holm-corrected significance stars; then where the full tables are (``folder``'s
    ``table.md``, ``table.csv``, ``stats.json``) and how to make the HTML report.
    Metrics are rows for up to :data:`OVERVIEW_MAX_COLUMNS` scenarios, columns beyond.
    """
    blocks = _blocks(rows)
    shown = [m for m in HEADLINE_METRICS if m in blocks] or list(blocks)[:8]
    parts = []
    if setting:
        parts += [setting, ""]
    if shown:
        labels = [r["scenario"] for r in blocks[shown[0]]]
        n_ref = blocks[shown[0]][0]["n"]
        if len(labels) <= OVERVIEW_MAX_COLUMNS:
            header = ["指标 metric", "单位 unit"] + [
                f"{lab} {'参照 ref.' if i == 0 else 'Δ%'}" for i, lab in enumerate(labels)
            ]
            body = [
                [metric_label(m), unit_label(m)] + [_overview_cell(r, m) for r in blocks[m]]
                for m in shown
            ]
            parts.append(text_table(header, body))
        else:
            zh = ["情景 scenario"] + [HEADLINE_METRICS.get(m, (m, ""))[0] for m in shown]
            en = [""] + [HEADLINE_METRICS.get(m, ("", m))[1] for m in shown]
            body = [en]
            for i, lab in enumerate(labels):
                name = lab + (" (参照 ref.)" if i == 0 else "")
                body.append([name] + [_overview_cell(blocks[m][i], m) for m in shown])
            table = text_table(zh, body).splitlines()
            table[1], table[2] = table[2], table[1]  # English labels above the rule
            parts.append("\n".join(table))
        parts.append("")
        parts.append(
            f"参照 ref.: mean over its {n_ref} replications. Δ%: 100·(mean / reference mean − 1), "
            "paired by replication (the same seeds in every scenario); † rare count: rate ratio;"
        )
        parts.append(
            "* p < 0.05, ** p < 0.01, *** p < 0.001: unadjusted p of the test matching the 95% "
            "CI (a star: the CI excludes 0; p (Holm) in table.md); ≈ 无实际差异 no practical "
            "difference."
        )
    parts += ci_notes_text(notes)
    if folder is not None:
        n = len(blocks)
        parts += [
            "",
            f"全部 {n} 项指标 (all {n} metrics: mean, 95% CI, Δ, d_z, p): {folder}/table.md "
            f"(also {folder}/table.csv, {folder}/stats.json)",
            f"图表报告 (HTML report with figures): govsim report {folder}  →  {folder}/report.html",
        ]
    return "\n".join(parts)


FOOTNOTE = (
    "Δ: 与参照情景的配对差值 (paired difference from the reference; replication i uses the "
    "same seed in every scenario) with its paired t interval. Δ%: 100·(mean / reference mean "
    "− 1), the ratio of the paired means, with Fieller's 95% CI (bounded below by −100 %). "
    "†: rare count (reference mean < 10): RR = Σ scenario / Σ reference with the exact "
    "Poisson (conditional binomial) interval, and Δ% = 100·(RR − 1). Means: 95% CI t where "
    "n < 20, bootstrap BCa otherwise. d_z: Cohen's d_z (paired). p: unadjusted two-sided "
    "p of the test dual to the intervals (paired t-test; exact conditional binomial test "
    "for †), so * p < 0.05, ** p < 0.01, *** p < 0.001 appear exactly when the 95% CI "
    "excludes 0; p (Holm): the same p Holm-corrected within each metric. conclusion: TOST "
    "equivalence against the smallest effect of interest (1 point on 0–100 indices, 1 pp on "
    "shares, 5 % of the reference mean otherwise): ≈ 无实际差异 no practical difference "
    "when the TOST p < 0.05."
)


def ci_notes_text(notes: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for n in notes:
        m = n["metric"]
        width = fmt(n["requested_width"], m)
        widest = fmt(n["widest_ci"], m)
        sug = n["suggested_n"]
        more = f"about N = {sug} replications are needed" if sug else "N cannot be estimated"
        lines.append(
            f"注意 (note): {metric_label(m)}: widest 95% CI {widest} > {width} asked "
            f"with N = {n['n']}; {more} (largest SD {fmt(n['max_sd'], m)})"
        )
    return lines


OVERVIEW_NOTE = (
    "Reference column: mean [95 % CI]. Other columns: Δ% = 100·(mean / reference mean − 1), "
    "paired by replication, [95 % Fieller CI]; † rare count: rate ratio with an exact Poisson "
    "CI; * p < 0.05, ** p < 0.01, *** p < 0.001: unadjusted p of the test dual to the CI "
    "shown (a star exactly when the CI excludes 0; Holm-adjusted p in the tables below); "
    "≈ 无实际差异 no practical difference (TOST)."
)


def compare_overview(
    rows: Sequence[Mapping[str, Any]], titles: Mapping[str, str]
) -> tuple[list[str], list[list[str]]]:
    """Metrics × scenarios: the reference's mean [CI], the others' Δ% [CI] with stars."""
    blocks = _blocks(rows)
    labels = [r["scenario"] for r in next(iter(blocks.values()))] if blocks else []
    header = ["指标 metric"] + [
        (f"{lab} {titles.get(lab, '')}".strip() + (" (参照 ref.)" if i == 0 else " Δ%"))
        for i, lab in enumerate(labels)
    ]
    body = []
    for metric, block in blocks.items():
        f = lambda v, m=metric: fmt(v, m)  # noqa: E731
        cells = [metric_label(metric)]
        for r in block:
            if "diff" not in r:
                cells.append(f"{f(r['mean'])} {fmt_ci(r['ci_low'], r['ci_high'], f)}")
            else:
                cells.append(pct_cell(r, with_ci=True))
        body.append(cells)
    return header, body


KEY_METRICS = (
    "resolution_rate",
    "p90_resolution_days",
    "gain_index",
    "happiness_index",
    "security_index",
    "escalations",
)


def robustness_mark(robustness: Mapping[str, Any] | None, config: str, metric: str) -> str:
    """`` · 92%``: the share of the uncertain parameter space in which the sign of
    ``config``'s effect on ``metric`` holds (``govsim uncertainty``), or ``""``."""
    if not robustness:
        return ""
    hit = robustness.get(f"{config}|{metric}")
    if hit is None or hit[0] is None or not math.isfinite(hit[0]):
        return ""
    return f" · {100 * hit[0]:.0f}%"


def compare_key_table(
    rows: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    metrics: Sequence[str] = KEY_METRICS,
    robustness: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[list[str]]]:
    """Scenarios × key metrics: the reference's mean, the others' Δ% with stars; last, the
    yearly cost per resident (the reference's yuan, the others' Δ%, no test: a cost is
    what the configuration spends, not an outcome) when the rows have it."""
    blocks = _blocks(rows)
    shown = [m for m in metrics if m in blocks]
    if not shown:
        return [], []
    cost = frontier.COST_METRIC if frontier.COST_METRIC in blocks else None
    header = ["情景 scenario"] + [metric_label(m) for m in shown]
    if cost:
        header.append(f"{metric_label(cost)} [{unit_label(cost)}]")
    body = []
    for i, r0 in enumerate(blocks[shown[0]]):
        label = r0["scenario"]
        cells = [f"{label} {titles.get(label, '')}".strip()]
        for m in shown:
            r = blocks[m][i]
            if "diff" not in r:
                cells.append(f"{fmt(r['mean'], m)} (参照 ref.)")
            else:
                cells.append(pct_cell(r, with_ci=False) + robustness_mark(robustness, label, m))
        if cost:
            c = blocks[cost][i]
            cells.append(
                f"{fmt(c['mean'], cost)} (参照 ref.)"
                if "diff" not in c
                else f"{fmt(c['mean'], cost)} ({fmt_pct(c.get('diff_pct', math.nan))})"
            )
        body.append(cells)
    return header, body


KEY_NOTE = (
    "Reference row: mean over replications. Other rows: Δ% = 100·(mean / reference mean − 1), "
    "paired by replication; * p < 0.05, ** p < 0.01, *** p < 0.001: unadjusted p of the test "
    "dual to the 95% CI (a star exactly when the CI excludes 0); † rare count (rate ratio); "
    "≈ 无实际差异 no practical difference (TOST). CIs, Holm-adjusted p and all metrics below."
)
ROBUSTNESS_NOTE = (
    "· n% 稳健性 robustness: the share of the uncertain parameter space (a Latin hypercube "
    "over every parameter the registry marks an assumption, govsim uncertainty) in which the "
    "effect keeps this sign; seed noise at each point is not removed, so an effect near zero "
    "reads about 50%."
)


SURVIVAL_LABELS = {
    "holds": "保持 holds",
    "lost": "消失 lost",
    "reversed": "反转 reversed",
    "appears": "新出现 appears",
}

EQUAL_COST_NOTE = (
    "Each configuration (first row of a pair) and its equal-cost twin (second row, "
    "<name>_equal_cost: the reference's budget re-spent by the configuration's logic). "
    "Cost: mean cost per resident-year (yuan) and its Δ% from the reference. Outcomes: "
    "Δ% = 100·(mean / reference mean − 1), paired by replication, [95 % Fieller CI] († rare "
    "count: rate ratio, exact CI); stars: unadjusted p dual to the CI. On the twin's row: "
    "保持 holds (both effects significant, same sign), 消失 lost (the configuration's effect "
    "is significant, the twin's not), 反转 reversed (significant, opposite signs), 新出现 "
    "appears (only the twin's is significant). Costs are mostly assumptions (govsim params "
    "--assumptions-only)."
)


def equal_cost_table(
    rows: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    metrics: Sequence[str] = frontier.FRONTIER_METRICS,
) -> tuple[list[str], list[list[str]]]:
    """Each configuration beside its equal-cost twin: cost, and Δ% vs the reference.

    The reference's row first (its means), then two rows per configuration whose twin
    (``<name>_equal_cost``) is in the experiment. Empty if there is no such pair or no
    ``cost_per_resident`` among the rows.
    """
    blocks = _blocks(rows)
    cost = frontier.COST_METRIC
    shown = [m for m in metrics if m in blocks]
    if cost not in blocks or not shown:
        return [], []
    by = {(r["scenario"], r["metric"]): r for r in rows}
    labels = [r["scenario"] for r in blocks[cost]]
    pairs = frontier.twin_pairs(labels[1:])
    if not pairs:
        return [], []

    def name(lab: str) -> str:
        return f"{lab} {titles.get(lab, '')}".strip()

    header = [
        "情景 scenario",
        metric_label(cost),
        "成本 Δ% cost vs ref.",
        *[metric_label(m) for m in shown],
    ]
    ref = labels[0]
    body = [
        [f"{name(ref)} (参照 ref.)", fmt(by[(ref, cost)]["mean"], cost), "—"]
        + [fmt(by[(ref, m)]["mean"], m) for m in shown]
    ]
    for lab, twin in pairs:
        for which in (lab, twin):
            c = by[(which, cost)]
            cells = [name(which), fmt(c["mean"], cost), fmt_pct(c.get("diff_pct", math.nan))]
            for m in shown:
                r = by.get((which, m))
                if r is None or "diff" not in r:
                    cells.append("—")
                    continue
                text = pct_cell(r, with_ci=True)
                if which == twin and (lab, m) in by:
                    verdict = frontier.survives(by[(lab, m)], r)
                    text += f" {SURVIVAL_LABELS[verdict]}" if verdict else ""
                cells.append(text)
            body.append(cells)
    return header, body


def compare_markdown(
    rows: Sequence[Mapping[str, Any]],
    titles: Mapping[str, str],
    notes: Sequence[Mapping[str, Any]] = (),
    robustness: Mapping[str, Any] | None = None,
) -> str:
    """A compact overview (metrics × scenarios) then one detailed table per metric."""
    parts = []
    header, body = compare_key_table(rows, titles, robustness=robustness)
    if body:
        parts += [md_table(header, body), "", KEY_NOTE, ""]
        if robustness:
            parts += [ROBUSTNESS_NOTE, ""]
    parts += [md_table(*compare_overview(rows, titles)), "", OVERVIEW_NOTE, ""]
    header, body = equal_cost_table(rows, titles)
    if body:
        parts += ["### 同等成本对比 (equal-cost comparison)", "", md_table(header, body), ""]
        parts += [EQUAL_COST_NOTE, ""]
    for metric, block in _blocks(rows).items():
        parts.append(f"### {metric_label(metric)} [{unit_label(metric)}]")
        parts.append("")
        parts.append(md_table(COMPARE_HEADER, compare_rows(block, titles)))
        parts.append("")
    parts.append(FOOTNOTE)
    for line in ci_notes_text(notes):
        parts += ["", line]
    return "\n".join(parts) + "\n"


def _stars(p: Any) -> str:
    if p is None or not math.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_value(r.get(k)) for k in keys})
    return buf.getvalue()


def _csv_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    if isinstance(v, dict | list):
        import json

        return json.dumps(v, ensure_ascii=False)
    return v


def sweep_text(
    points: Sequence[Mapping], rows: Sequence[Mapping], metrics: Sequence[str], max_points: int = 40
) -> str:
    """Design points × metrics: mean [95 % CI]; at most ``max_points`` rows shown."""
    by = {(r["point"], r["metric"]): r for r in rows}
    shown = metrics[:4]
    header = ["#", "点 point"] + [metric_label(m) for m in shown]
    body = []
    for p in points[:max_points]:
        cells = [str(p["index"]), p["label"]]
        for m in shown:
            r = by.get((p["index"], m))
            f = lambda v, m=m: fmt(v, m)  # noqa: E731
            cells.append(
                "—" if r is None else f"{f(r['mean'])} {fmt_ci(r['ci_low'], r['ci_high'], f)}"
            )
        body.append(cells)
    text = text_table(header, body)
    if len(points) > max_points:
        text += f"\n… {len(points) - max_points} more points in table.csv"
    if len(metrics) > len(shown):
        text += f"\n(first {len(shown)} of {len(metrics)} metrics shown; all in table.csv)"
    return text


def sensitivity_text(result: Mapping[str, Any]) -> str:
    """The sensitivity indices as text: mean over replications with both CIs, the check."""
    method = result["method"]
    names = result["problem"]["names"]
    parts = [
        f"{'Morris 筛选 (elementary effects)' if method == 'morris' else 'Sobol 指数 (indices)'}: "
        f"N = {result['samples']} (run at {result['samples_run']}), {result['rows']} design rows "
        f"× {result['replications']} replications; indices per replication, mean over "
        "replications [95% bootstrap CI over replications], ± SALib 95% CI"
    ]

    def ci(ind, k, i):
        lo, hi = (
            ind.get(f"{k}_low", [math.nan] * len(names))[i],
            ind.get(f"{k}_high", [math.nan] * len(names))[i],
        )
        return "—" if not (math.isfinite(lo) and math.isfinite(hi)) else f"[{lo:.3g}, {hi:.3g}]"

    for metric, res in result["metrics"].items():
        parts.append("")
        parts.append(f"{metric_label(metric)}")
        if "error" in res:
            parts.append(f"  not analysed: {res['error']}")
            continue
        ind = res["indices"]
        share = res.get("top_factor_share") or {}
        if method == "morris":
            header = ["因素 factor", "μ*", "μ* CI (reps)", "μ* ± (SALib)", "μ", "σ", "top share"]
            body = [
                [
                    n,
                    f"{ind['mu_star'][i]:.4g}",
                    ci(ind, "mu_star", i),
                    f"{ind['mu_star_conf'][i]:.3g}",
                    f"{ind['mu'][i]:.4g}",
                    f"{ind['sigma'][i]:.4g}",
                    f"{100 * share.get(n, 0.0):.0f}%",
                ]
                for i, n in enumerate(names)
            ]
        else:
            header = ["因素 factor", "S1", "S1 CI (reps)", "S1 ±", "ST", "ST CI (reps)", "ST ±"]
            body = [
                [
                    n,
                    f"{ind['S1'][i]:.3f}",
                    ci(ind, "S1", i),
                    f"{ind['S1_conf'][i]:.3f}",
                    f"{ind['ST'][i]:.3f}",
                    ci(ind, "ST", i),
                    f"{ind['ST_conf'][i]:.3f}",
                ]
                for i, n in enumerate(names)
            ]
        parts.append(text_table(header, body))
        for f in res.get("flags") or []:
            parts.append(f"  ! {f['factor']}: {f['en']} ({f['value']:.3g})")
        if res.get("change") is not None:
            ok = "converged 已收敛" if res["converged"] else "NOT converged 未收敛"
            c = res.get("convergence") or {}
            parts.append(
                f"  convergence N→2N: largest change {res['change']:.3f}, CI half-width "
                f"{c.get('ci_width', math.nan):.3f} (tolerance {result['tolerance']}), "
                f"rank Spearman {c.get('rank_spearman', math.nan):.2f} "
                f"(≥ {c.get('rank_min', 0.8)}), same top factor "
                f"{'yes' if res['same_top_factor'] else 'no'}"
                f"{'' if c.get('fresh_seeds') else ' (same seeds at N and 2N)'}: {ok}"
            )
    return "\n".join(parts)
