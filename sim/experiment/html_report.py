"""The HTML report of an experiment folder: one self-contained page, Chinese first.

The page needs no network and no other file: figures are PNG embedded as base64 ``data:``
URIs and the styles are inline. It holds the run status, the tables (comparison with CIs,
paired differences, effect sizes and Holm p-values; sweep points; sensitivity indices and
their convergence), CI plots, the time series of each scenario (mean over replications
with its 95 % band), the failed runs with their errors, and the provenance record.
Everything is recomputed from the run records, so a report of a partial folder is
possible (and says so).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats as sps

from sim import metrics_schema
from sim.experiment import appendix, frontier, tables
from sim.experiment.records import ExperimentFolder
from sim.experiment.runner import aggregate_daily, collect_values, plan_label
from sim.experiment.summary import summarize
from sim.io import atomic_write_bytes
from sim.viz.fonts import setup_cjk_font

DPI = 110
METHODS_FILE = "methods.md"
TABLE_TEX_FILE = "table.tex"
KEY_METRICS = tables.KEY_METRICS
SERIES_COLUMNS = (
    "gain_index",
    "happiness_index",
    "security_index",
    "p90_resolution_days",
    "resolution_rate",
    "open_queued",
)
MAX_SERIES_POINTS = 8
MAX_TABLE_ROWS = 300
KIND_TITLES = {
    "compare": ("情景对比", "comparison"),
    "sweep": ("参数扫描", "sweep"),
    "sensitivity": ("敏感性分析", "sensitivity analysis"),
}
CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:1150px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #30638e;padding-bottom:.2em;
margin-top:1.8em}h3{margin-top:1.3em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#eef3f8}td:first-child,th:first-child{text-align:left}
.muted{color:#666;font-size:.9em}.bad{color:#b00020}.ok{color:#1b7f3b}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.8em;white-space:pre-wrap}
details{margin:.5em 0}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _bi(zh: str, en: str) -> str:
    return f"{zh} ({en})"


def _png(fig: Figure, alt: str, caption: str) -> str:
    """The figure as ``<figure>`` with an embedded PNG, its alt text and its caption."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return (
        f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,'
        + base64.b64encode(buf.getvalue()).decode("ascii")
        + f'"><figcaption>{_e(caption)}</figcaption></figure>'
    )


def _figure(figsize, nrows=1, ncols=1, **kw):
    setup_cjk_font()
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _html_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["<table><thead><tr>"]
    out += [f"<th>{_e(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _series_label(col: str) -> str:
    try:
        return metrics_schema.label(col)
    except KeyError:
        return col


# --------------------------------------------------------------------------- compare


def _compare_figures(rows: Sequence[Mapping], labels: Sequence[str], metrics: Sequence[str]) -> str:
    blocks: dict[str, list[Mapping]] = {}
    for r in rows:
        blocks.setdefault(r["metric"], []).append(r)
    shown = [m for m in metrics if m in blocks]
    parts = []
    # CI plot: mean and 95 % CI of every scenario, one panel per metric
    key = [m for m in KEY_METRICS if m in shown] or shown[:6]
    if key:
        ncols = 3
        nrows = math.ceil(len(key) / ncols)
        fig, axes = _figure((11, 2.2 + 0.32 * len(labels) * nrows), nrows, ncols)
        for ax in axes.flat[len(key) :]:
            ax.set_axis_off()
        for ax, m in zip(axes.flat, key, strict=False):
            block = blocks[m]
            y = np.arange(len(block))[::-1]
            mean = np.array([r["mean"] for r in block], dtype=float)
            lo = np.array([r["ci_low"] for r in block], dtype=float)
            hi = np.array([r["ci_high"] for r in block], dtype=float)
            err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
            colours = ["#30638e"] + ["#d1495b"] * (len(block) - 1)
            ax.errorbar(mean, y, xerr=err, fmt="none", ecolor="0.4", capsize=3)
            ax.scatter(mean, y, c=colours, zorder=3)
            ax.set_yticks(y, [r["scenario"] for r in block], fontsize=8)
            ax.set_title(tables.metric_label(m), fontsize=9)
            ax.grid(True, axis="x", alpha=0.3)
        fig.suptitle(_bi("各情景均值及95%置信区间", "mean and 95% CI per scenario"), fontsize=11)
        names = ", ".join(tables.metric_label(m) for m in key)
        parts.append(
            _png(
                fig,
                f"Mean and 95% CI of {names} for each scenario: {', '.join(labels)}",
                _bi(
                    "各情景的均值（点）及95%置信区间（横线），每个主要指标一幅；蓝点为参照情景",
                    "mean (dot) and 95% CI (bar) per scenario, one panel per key metric; "
                    f"the blue dot is the reference, {labels[0]}",
                ),
            )
        )
    # paired differences from the reference with their CIs, one panel per key metric
    if len(labels) > 1 and key:
        ncols = 3
        nrows = math.ceil(len(key) / ncols)
        fig, axes = _figure((11, 2.2 + 0.32 * (len(labels) - 1) * nrows), nrows, ncols)
        for ax in axes.flat[len(key) :]:
            ax.set_axis_off()
        for ax, m in zip(axes.flat, key, strict=False):
            block = [r for r in blocks[m] if "diff" in r]
            k = 100.0 if tables.unit(m) == "share" else 1.0
            y = np.arange(len(block))[::-1]
            d = k * np.array([r["diff"] for r in block], dtype=float)
            lo = k * np.array([r["diff_ci_low"] for r in block], dtype=float)
            hi = k * np.array([r["diff_ci_high"] for r in block], dtype=float)
            err = np.vstack([np.nan_to_num(d - lo), np.nan_to_num(hi - d)])
            # red: the plotted (unadjusted) interval excludes 0 — the dual test's p < 0.05
            sig = [(r.get("p") or 1.0) < 0.05 for r in block]
            ax.axvline(0, color="0.3", lw=0.8)
            ax.errorbar(d, y, xerr=err, fmt="none", ecolor="0.4", capsize=3)
            ax.scatter(d, y, c=["#d1495b" if s_ else "0.6" for s_ in sig], zorder=3)
            ax.set_yticks(y, [r["scenario"] for r in block], fontsize=8)
            unit = "pp" if k == 100.0 else tables.unit_label(m)
            ax.set_title(f"{tables.metric_label(m)} Δ [{unit}]", fontsize=9)
            ax.grid(True, axis="x", alpha=0.3)
        fig.suptitle(
            _bi(
                f"与{labels[0]}的配对差值及95%置信区间（红点：区间不含0，p<0.05；Holm校正见表）",
                f"paired differences from {labels[0]} with 95% CI (red: the interval excludes "
                "0, p < 0.05; Holm-adjusted p in the tables)",
            ),
            fontsize=11,
        )
        parts.append(
            _png(
                fig,
                f"Paired differences from {labels[0]} with 95% CIs for the key metrics",
                _bi(
                    f"各情景与{labels[0]}的配对差值（新−参照）及95%配对 t 区间；红点：区间不含 0",
                    f"paired difference from {labels[0]} (new − reference) with its 95% paired "
                    "t interval; red: the interval excludes 0 (p < 0.05, unadjusted)",
                ),
            )
        )
    return "\n".join(parts)


def _frontier_figure(rows: Sequence[Mapping], labels: Sequence[str]) -> tuple[str, list[list]]:
    """Each headline outcome against cost per resident, the Pareto frontier and twin lines.

    Returns the ``<figure>`` and one row per outcome (metric, better, the efficient
    scenarios by cost) for the table beside it; ``("", [])`` without cost or outcomes.
    """
    cost = frontier.COST_METRIC
    panels = [(m, frontier.frontier_points(rows, m)) for m in frontier.FRONTIER_METRICS]
    panels = [(m, pts) for m, pts in panels if pts]
    if not panels:
        return "", []
    pairs = frontier.twin_pairs(labels)
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = _figure((3.8 * ncols, 3.4 * nrows), nrows, ncols)
    for ax in axes.flat[len(panels) :]:
        ax.set_axis_off()
    summary = []
    for ax, (m, pts) in zip(axes.flat, panels, strict=False):
        k = 100.0 if tables.unit(m) == "share" else 1.0
        by = {p["scenario"]: p for p in pts}
        for a, b in pairs:  # each configuration to its equal-cost twin
            pa, pb = by.get(a), by.get(b)
            if pa and pb:
                ax.plot(
                    [pa["cost"], pb["cost"]],
                    [k * pa["value"], k * pb["value"]],
                    color="0.55",
                    lw=0.7,
                    ls="--",
                    zorder=1,
                )
        line = frontier.frontier_line(pts)
        ax.plot(
            [p["cost"] for p in line],
            [k * p["value"] for p in line],
            color="#d1495b",
            lw=1.6,
            zorder=2,
        )
        for p in pts:
            x, y = p["cost"], k * p["value"]
            xerr = [[max(0.0, x - p["cost_low"])], [max(0.0, p["cost_high"] - x)]]
            yerr = [[max(0.0, y - k * p["value_low"])], [max(0.0, k * p["value_high"] - y)]]
            colour = (
                "#30638e" if p["scenario"] == labels[0] else "#d1495b" if p["efficient"] else "0.55"
            )
            ax.errorbar(
                [x],
                [y],
                xerr=np.nan_to_num(xerr),
                yerr=np.nan_to_num(yerr),
                fmt="o",
                ms=4,
                color=colour,
                ecolor="0.5",
                elinewidth=0.8,
                capsize=2,
                zorder=3,
            )
            ax.annotate(
                p["scenario"], (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6.5
            )
        arrow = "↑" if frontier.direction(m) > 0 else "↓"
        unit = "%" if k == 100.0 else tables.unit_label(m)
        ax.set_title(f"{tables.metric_label(m)} [{unit}] {arrow}", fontsize=9)
        ax.set_xlabel(_bi("人均成本 元/人·年", "cost per resident, yuan/yr"), fontsize=8)
        ax.grid(True, alpha=0.3)
        better = "越高越好 higher is better" if arrow == "↑" else "越低越好 lower is better"
        summary.append(
            [tables.metric_label(m), better, ", ".join(p["scenario"] for p in line) or "—"]
        )
    fig.suptitle(
        _bi(
            "效率前沿：各结果指标与人均成本（均值及95%置信区间）",
            "efficiency frontier: each outcome against cost per resident (mean, 95% CI)",
        ),
        fontsize=11,
    )
    on = "; ".join(f"{r[0]}: {r[2]}" for r in summary)
    twins = ", ".join(f"{a}–{b}" for a, b in pairs) or "none"
    html_ = _png(
        fig,
        f"Scatter of {', '.join(tables.metric_label(m) for m, _ in panels)} against "
        f"{tables.metric_label(cost)}, one point per scenario ({', '.join(labels)}) with 95% "
        f"CIs as error bars; the Pareto-efficient scenarios, cheapest first: {on}. "
        f"Dashed lines join each configuration to its equal-cost twin: {twins}.",
        _bi(
            "效率前沿：每个结果指标的均值（纵轴）对人均成本（横轴），误差线为95%置信区间；"
            "红线连接帕累托有效的情景（没有其他情景成本不高于它且结果更好），箭头表示哪个方向更好；"
            "蓝点为参照情景；虚线连接配置与其同等成本版本。前沿按均值确定，未计入不确定性；"
            "成本多为假设。",
            "efficiency frontier: each outcome's mean (vertical) against cost per resident "
            "(horizontal), error bars the 95% CIs; the red line joins the Pareto-efficient "
            "scenarios (no other is at most as costly and at least as good, better in one), "
            "the arrow says which way is better; blue: the reference; dashed lines join a "
            "configuration to its equal-cost twin. The frontier is of the means and ignores "
            "their uncertainty; costs are mostly assumptions.",
        ),
    )
    return html_, summary


def _frontier_section(rows: Sequence[Mapping], labels: Sequence[str], titles) -> str:
    """The efficiency frontier and the equal-cost table (issue 12)."""
    parts = [f"<h2 id='frontier'>{_bi('效率前沿', 'efficiency frontier')}</h2>"]
    fig, summary = _frontier_figure(rows, labels)
    if not fig:
        parts.append(
            "<p class='muted'>"
            + _e(
                _bi(
                    "本实验未记录人均成本或主要结果指标，无法绘制效率前沿",
                    f"no {frontier.COST_METRIC} or no headline outcome among the experiment's "
                    "metrics: no frontier",
                )
            )
            + "</p>"
        )
        return "\n".join(parts)
    parts.append(fig)
    parts.append(
        _html_table(
            [_bi("指标", "metric"), _bi("方向", "better"), _bi("前沿上的情景", "on the frontier")],
            summary,
        )
    )
    parts.append(
        "<p class='muted'>"
        + _e(
            "On the frontier: the Pareto-efficient scenarios by mean cost per resident and mean "
            "outcome, cheapest first. Costs are mostly assumptions (govsim params "
            "--assumptions-only); a scenario off the frontier may not differ significantly "
            "from one on it (see the CIs and the tables)."
        )
        + "</p>"
    )
    header, body = tables.equal_cost_table(rows, titles)
    if body:
        parts.append(f"<h3 id='equal-cost'>{_bi('同等成本对比', 'equal-cost comparison')}</h3>")
        parts.append(_html_table(header, body))
        parts.append(f"<p class='muted'>{_e(tables.EQUAL_COST_NOTE)}</p>")
    return "\n".join(parts)


def _series_figure(
    agg: Mapping[int, Mapping[str, Mapping[str, np.ndarray]]],
    names: Mapping[int, str],
    reference: int | None = None,
) -> str:
    cols = [c for c in SERIES_COLUMNS if any(c in v for v in agg.values())]
    if not cols:
        return ""
    ncols = 2
    nrows = math.ceil(len(cols) / ncols)
    fig, axes = _figure((11, 3.0 * nrows), nrows, ncols, sharex=True)
    for ax in axes.flat[len(cols) :]:
        ax.set_axis_off()
    cmap = colormaps["tab10" if len(agg) <= 10 else "tab20"]
    for ax, col in zip(axes.flat, cols, strict=False):
        for k, (p, series) in enumerate(sorted(agg.items())):
            if col not in series:
                continue
            s = series[col]
            x = np.arange(s["mean"].size)
            c = "black" if p == reference else cmap(k % cmap.N)
            lw = 2.2 if p == reference else 1.3
            ax.plot(x, s["mean"], color=c, lw=lw, label=names[p], zorder=3 if p == reference else 2)
            ax.fill_between(x, s["low"], s["high"], color=c, alpha=0.18, lw=0)
        ax.set_title(_series_label(col), fontsize=9)
        ax.grid(True, alpha=0.3)
    handles, names_ = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names_, loc="outside lower center", ncols=min(6, len(names_)), fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel(_bi("日", "day"))
    fig.suptitle(
        _bi("逐日指标：重复运行均值及95%置信带", "daily metrics: mean over replications, 95% band"),
        fontsize=11,
    )
    shown = ", ".join(_series_label(c) for c in cols)
    return _png(
        fig,
        f"Daily time series of {shown}: mean over replications with a 95% band, per "
        f"{'scenario' if reference is not None else 'design point'}",
        _bi(
            "逐日指标：各情景/设计点的重复运行均值（线）及95%置信带（阴影）",
            "daily metrics: mean over replications (line) with its 95% band (shaded) per "
            "scenario or design point",
        ),
    )


def _compare_section(plan, result, agg) -> str:
    titles = {g["label"]: g["title_zh"] for g in plan.groups}
    labels = [p["label"] for p in plan.points]
    parts = [f"<h2>{_bi('结果概览', 'overview')}</h2>"]
    header, body = tables.compare_key_table(result.rows, titles, robustness=result.robustness)
    if body:
        parts.append(_html_table(header, body))
        parts.append(f"<p class='muted'>{_e(tables.KEY_NOTE)}</p>")
        if result.robustness:
            parts.append(f"<p class='muted'>{_e(tables.ROBUSTNESS_NOTE)}</p>")
    parts.append(_html_table(*tables.compare_overview(result.rows, titles)))
    parts.append(f"<p class='muted'>{_e(tables.OVERVIEW_NOTE)}</p>")
    for line in tables.ci_notes_text(result.notes):
        parts.append(f"<p class='bad'>{_e(line)}</p>")
    parts.append(f"<h2>{_bi('置信区间图', 'CI plots')}</h2>")
    parts.append(_compare_figures(result.rows, labels, plan.metrics))
    parts.append(_frontier_section(result.rows, labels, titles))
    if agg:
        parts.append(f"<h2>{_bi('各情景逐日时间序列', 'time series per scenario')}</h2>")
        names = {i: p["label"] for i, p in enumerate(plan.points)}
        parts.append(_series_figure(agg, names, reference=0))
    parts.append(f"<h2>{_bi('各指标详表', 'table per metric')}</h2>")
    blocks: dict[str, list] = {}
    for r in result.rows:
        blocks.setdefault(r["metric"], []).append(r)
    for m, block in blocks.items():
        parts.append(f"<h3>{_e(tables.metric_label(m))} [{_e(tables.unit_label(m))}]</h3>")
        parts.append(_html_table(tables.COMPARE_HEADER, tables.compare_rows(block, titles)))
    parts.append(f"<p class='muted'>{_e(tables.FOOTNOTE)}</p>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- sweep


def _t_interval(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95 % t interval of the finite values of ``x`` (NaN bounds if n < 2)."""
    x = x[np.isfinite(x)]
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(np.mean(x))
    if x.size < 2:
        return m, math.nan, math.nan
    h = float(sps.t.ppf(0.975, x.size - 1) * np.std(x, ddof=1) / math.sqrt(x.size))
    return m, m - h, m + h


def _level_key(v: Any) -> tuple[str, Any]:
    return (str(type(v)), v)


def sweep_effects(plan, values, metric: str, factors: Sequence[str]) -> list[dict[str, Any]]:
    """Mean and t interval over replications of the metric per combination of levels.

    Within replication ``r`` the value of a combination of ``factors``' levels is the mean
    over the design points with those levels (the other factors averaged out); the
    replications then give the mean and its 95 % t interval. One factor: main effects,
    two: the cells of the interaction plot.
    """
    per = values.get(metric, {})
    combos: dict[tuple, list[int]] = {}
    for p in plan.points:
        combos.setdefault(tuple(p["factors"][f] for f in factors), []).append(p["index"])
    out = []
    for combo in sorted(combos, key=lambda c: [_level_key(v) for v in c]):
        pts = combos[combo]
        reps = []
        for r in range(plan.replications):
            v = [per.get(i, {}).get(r, math.nan) for i in pts]
            v = [x for x in v if math.isfinite(x)]
            reps.append(float(np.mean(v)) if v else math.nan)
        m, lo, hi = _t_interval(np.array(reps, dtype=float))
        out.append({"levels": combo, "mean": m, "low": lo, "high": hi})
    return out


def _numeric(vals: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals)


def _sweep_section(plan, result, agg, values) -> str:
    parts = []
    factors = list(plan.points[0]["factors"]) if plan.points else []
    metrics = [m for m in KEY_METRICS if m in plan.metrics] or plan.metrics[:4]
    by = {(r["point"], r["metric"]): r for r in result.rows}
    if factors and metrics:
        fig, axes = _figure((3.2 * len(metrics), 2.6 * len(factors)), len(factors), len(metrics))
        for i, f in enumerate(factors):
            for j, m in enumerate(metrics):
                ax = axes[i, j]
                eff = sweep_effects(plan, values, m, [f])
                levels = [e["levels"][0] for e in eff]
                numeric = _numeric(levels)
                xv = np.array(levels, dtype=float) if numeric else np.arange(len(levels))
                mean = np.array([e["mean"] for e in eff], dtype=float)
                lo = np.array([e["low"] for e in eff], dtype=float)
                hi = np.array([e["high"] for e in eff], dtype=float)
                if len(levels) <= 20:
                    ax.errorbar(
                        xv,
                        mean,
                        yerr=np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)]),
                        color="#d1495b",
                        lw=1.6,
                        marker="o",
                        ms=4,
                        capsize=3,
                    )
                else:  # LHS: every point its own level; the scatter of point means
                    ax.scatter(xv, mean, s=10, alpha=0.6, color="#30638e")
                if not numeric:
                    ax.set_xticks(range(len(levels)), [json.dumps(v) for v in levels])
                ax.set_xlabel(f, fontsize=8)
                if i == 0:
                    ax.set_title(tables.metric_label(m), fontsize=9)
                ax.grid(True, alpha=0.3)
        fig.suptitle(
            _bi(
                "主效应：各水平均值（其他因素取平均）及对重复的95% t 区间",
                "main effects: mean per level (other factors averaged) with a 95% t interval "
                "over replications",
            ),
            fontsize=11,
        )
        parts.append(f"<h2>{_bi('主效应图', 'main effects')}</h2>")
        parts.append(
            _png(
                fig,
                f"Main effects of {', '.join(factors)} on "
                f"{', '.join(tables.metric_label(m) for m in metrics)} with 95% t intervals",
                _bi(
                    "每行一个因素、每列一个指标：各水平的均值（其他因素取平均）及其对重复的95% t "
                    f"区间（{plan.replications} 次重复）",
                    "one row per factor, one column per metric: the mean at each level (the "
                    "other factors averaged out within each replication) with its 95% t "
                    f"interval over the {plan.replications} replications",
                ),
            )
        )
    small = [f for f in factors if len({json.dumps(p["factors"][f]) for p in plan.points}) <= 12]
    if len(small) >= 2 and metrics:
        f1, f2 = small[0], small[1]
        fig, axes = _figure((3.6 * len(metrics), 3.0), 1, len(metrics))
        for ax, m in zip(axes.flat, metrics, strict=False):
            cells = sweep_effects(plan, values, m, [f1, f2])
            lv1 = sorted({c["levels"][0] for c in cells}, key=_level_key)
            lv2 = sorted({c["levels"][1] for c in cells}, key=_level_key)
            numeric = _numeric(lv1)
            pos = {v: k for k, v in enumerate(lv1)}
            cmap = colormaps["viridis"]
            for k, b in enumerate(lv2):
                row = [c for c in cells if c["levels"][1] == b]
                xv = np.array(
                    [c["levels"][0] if numeric else pos[c["levels"][0]] for c in row], dtype=float
                )
                mean = np.array([c["mean"] for c in row], dtype=float)
                lo = np.array([c["low"] for c in row], dtype=float)
                hi = np.array([c["high"] for c in row], dtype=float)
                ax.errorbar(
                    xv,
                    mean,
                    yerr=np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)]),
                    color=cmap(k / max(1, len(lv2) - 1)),
                    marker="o",
                    ms=4,
                    capsize=2,
                    label=f"{f2.split('.')[-1]}={b}",
                )
            if not numeric:
                ax.set_xticks(range(len(lv1)), [json.dumps(v) for v in lv1])
            ax.set_xlabel(f1, fontsize=8)
            ax.set_title(tables.metric_label(m), fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(_bi("交互作用图", "interaction plot"), fontsize=11)
        parts.append(f"<h2>{_bi('交互作用', 'interaction')}</h2>")
        parts.append(
            _png(
                fig,
                f"Interaction plot of {f1} and {f2}: mean per combination of levels with 95% "
                "t intervals",
                _bi(
                    f"{f1} 与 {f2} 的交互作用：每条线为 {f2} 的一个水平；线不平行表示存在交互作用",
                    f"interaction of {f1} and {f2}: one line per level of {f2}, mean over "
                    "replications with its 95% t interval; lines that are not parallel show "
                    "an interaction",
                ),
            )
        )
    if agg:
        parts.append(f"<h2>{_bi('逐日时间序列', 'time series per design point')}</h2>")
        parts.append(_series_figure(agg, {i: p["label"] for i, p in enumerate(plan.points)}))
    parts.append(f"<h2>{_bi('设计点详表', 'design points')}</h2>")
    shown = plan.metrics[:8]
    header = ["#", *factors] + [tables.metric_label(m) for m in shown]
    body = appendix.design_point_rows(plan.points[:MAX_TABLE_ROWS], factors, shown, by)
    parts.append(_html_table(header, body))
    if len(plan.points) > MAX_TABLE_ROWS:
        parts.append(
            f"<p class='muted'>… {len(plan.points) - MAX_TABLE_ROWS} more in table.csv</p>"
        )
    parts.append("<p class='muted'>mean [95% bootstrap percentile CI] over replications.</p>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- sensitivity


def _ci_err(ind: Mapping, k: str) -> np.ndarray:
    """Error bars from the bootstrap CI over replications, else SALib's half-width."""
    v = np.array(ind[k], dtype=float)
    lo = np.array(ind.get(f"{k}_low", [math.nan] * v.size), dtype=float)
    hi = np.array(ind.get(f"{k}_high", [math.nan] * v.size), dtype=float)
    conf = np.array(ind.get(f"{k}_conf", [0.0] * v.size), dtype=float)
    lo = np.where(np.isfinite(lo), lo, v - conf)
    hi = np.where(np.isfinite(hi), hi, v + conf)
    return np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])


def _short(name: str) -> str:
    return name.split(".")[-1]


def _sensitivity_section(plan, result) -> str:
    ind = result.indices
    names = ind["problem"]["names"]
    method = ind["method"]
    metrics = [m for m in ind["metrics"] if "error" not in ind["metrics"][m]]
    key = [m for m in KEY_METRICS if m in metrics] or metrics[:6]
    parts = [f"<h2>{_bi('敏感性指数', 'sensitivity indices')}</h2>"]
    parts.append(
        f"<p>{_e(tables.sensitivity_text(ind).splitlines()[0])}; "
        f"{_bi('因素', 'factors')}: {_e(', '.join(names))}</p>"
    )
    cmap = colormaps["tab10"]
    ncols = min(3, len(key)) if key else 1
    nrows = math.ceil(len(key) / ncols) if key else 1
    if key and method == "morris":
        fig, axes = _figure((3.9 * ncols, 3.3 * nrows), nrows, ncols)
        for ax in axes.flat[len(key) :]:
            ax.set_axis_off()
        for ax, m in zip(axes.flat, key, strict=False):
            res = ind["metrics"][m]
            mean = res["indices"]
            per = res["per_replication"]
            for i, n in enumerate(names):
                c = cmap(i % cmap.N)
                xs = [p[i] for p in per["mu_star"]]
                ys = [p[i] for p in per["sigma"]]
                ax.scatter(xs, ys, s=12, alpha=0.35, color=c)
                ax.errorbar(
                    [mean["mu_star"][i]],
                    [mean["sigma"][i]],
                    xerr=_ci_err(mean, "mu_star")[:, [i]],
                    yerr=_ci_err(mean, "sigma")[:, [i]],
                    fmt="o",
                    color=c,
                    ms=6,
                    capsize=3,
                    label=_short(n),
                )
            top = max([*mean["mu_star"], *mean["sigma"], 1e-12]) * 1.15
            for ratio, ls in ((0.1, ":"), (0.5, "--"), (1.0, "-")):
                ax.plot([0, top], [0, ratio * top], color="0.6", lw=0.7, ls=ls)
            ax.set_xlim(0, top)
            ax.set_ylim(0, None)
            ax.set_xlabel("μ*", fontsize=8)
            ax.set_ylabel("σ", fontsize=8)
            ax.set_title(tables.metric_label(m), fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(_bi("Morris μ*–σ 图", "Morris μ*–σ plot"), fontsize=11)
        parts.append(
            _png(
                fig,
                "Morris mu-star against sigma for each factor and key metric, one small dot "
                "per replication and the mean over replications with bootstrap CIs",
                _bi(
                    "Morris μ*–σ 图：小点为单次重复的指数，大点为重复间均值及自助法95%区间；"
                    "灰线 σ/μ* = 0.1、0.5、1（线性、单调、非线性或交互）",
                    "Morris μ*–σ: small dots are single replications, large dots the mean over "
                    "replications with its 95% bootstrap CI; grey lines σ/μ* = 0.1, 0.5, 1 "
                    "(linear, monotonic, non-linear or interacting effects)",
                ),
            )
        )
    elif key:
        fig, axes = _figure(
            (3.8 * ncols, 0.9 + 0.45 * len(names) * nrows + 0.6 * nrows), nrows, ncols
        )
        for ax in axes.flat[len(key) :]:
            ax.set_axis_off()
        y = np.arange(len(names))[::-1]
        for ax, m in zip(axes.flat, key, strict=False):
            res = ind["metrics"][m]["indices"]
            for k, dy, c in (("S1", 0.2, "#30638e"), ("ST", -0.2, "#d1495b")):
                ax.barh(
                    y + dy, res[k], height=0.4, xerr=_ci_err(res, k), color=c, capsize=2, label=k
                )
                per = ind["metrics"][m]["per_replication"][k]
                for p in per:
                    ax.scatter(p, y + dy, s=8, color="0.2", alpha=0.4, zorder=3)
            ax.axvline(0, color="0.3", lw=0.8)
            ax.legend(fontsize=7)
            ax.set_yticks(y, [_short(n) for n in names], fontsize=8)
            ax.set_title(tables.metric_label(m), fontsize=9)
            ax.grid(True, axis="x", alpha=0.3)
        fig.suptitle(_bi("Sobol 指数及95%置信区间", "Sobol indices with 95% CI"), fontsize=11)
        parts.append(
            _png(
                fig,
                "Sobol first-order and total indices per factor for the key metrics, with "
                "bootstrap CIs over replications and one dot per replication",
                _bi(
                    "Sobol S1（蓝）与 ST（红）：重复间均值及自助法95%区间，点为单次重复",
                    "Sobol S1 (blue) and ST (red): mean over replications with its 95% "
                    "bootstrap CI; dots are single replications",
                ),
            )
        )
    conv = [m for m in key if (ind["metrics"][m].get("convergence") or {}).get("path")]
    if conv:
        rk = "mu_star" if method == "morris" else "ST"
        ncols = min(3, len(conv))
        nrows = math.ceil(len(conv) / ncols)
        fig, axes = _figure((3.9 * ncols, 3.0 * nrows), nrows, ncols)
        for ax in axes.flat[len(conv) :]:
            ax.set_axis_off()
        for ax, m in zip(axes.flat, conv, strict=False):
            path = ind["metrics"][m]["convergence"]["path"]
            ns = np.array([p["samples"] for p in path], dtype=float)
            for i, n in enumerate(names):
                v = np.array([p["indices"][rk][i] for p in path])
                err = np.hstack([_ci_err(p["indices"], rk)[:, [i]] for p in path])
                ax.errorbar(
                    ns * (1 + 0.03 * (i - len(names) / 2)),
                    v,
                    yerr=err,
                    marker="o",
                    ms=4,
                    capsize=2,
                    color=cmap(i % cmap.N),
                    label=_short(n),
                )
            ax.set_xscale("log", base=2)
            ax.set_xticks(ns, [str(int(n)) for n in ns])
            ax.set_xlabel(_bi("样本数", "samples") + " N", fontsize=8)
            ax.set_ylabel("μ*" if method == "morris" else "ST", fontsize=8)
            ax.set_title(tables.metric_label(m), fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        fig.suptitle(_bi("收敛图", "convergence plot"), fontsize=11)
        parts.append(
            _png(
                fig,
                f"Convergence of {'mu-star' if method == 'morris' else 'ST'} with the number of "
                "samples, mean over replications with 95% bootstrap CIs",
                _bi(
                    "指数随样本数的变化（重复间均值及自助法95%区间）；最大样本的后半部分使用新的种子",
                    "index against the number of samples (mean over replications with its 95% "
                    "bootstrap CI); the second half of the largest design has fresh seeds",
                ),
            )
        )
    flags = [(m, f) for m in metrics for f in ind["metrics"][m].get("flags") or []]
    if flags:
        parts.append(
            "<h3 class='bad'>"
            + _bi("超出理论范围的 Sobol 估计", "Sobol estimates out of bounds")
            + "</h3>"
        )
        parts.append(
            _html_table(
                [_bi("指标", "metric"), _bi("因素", "factor"), "flag", _bi("含义", "meaning")],
                [
                    [
                        tables.metric_label(m),
                        f["factor"],
                        f"{f['flag']} ({f['value']:.3g})",
                        f"{f['zh']} / {f['en']}",
                    ]
                    for m, f in flags
                ],
            )
        )
    parts.append(f"<h2>{_bi('收敛检验 (N 与 2N)', 'convergence check, N vs 2N')}</h2>")
    body = []
    for m, res in ind["metrics"].items():
        if "error" in res:
            body.append([tables.metric_label(m), "—", "—", "—", "—", "—", res["error"]])
            continue
        ch = res.get("change")
        c = res.get("convergence") or {}
        share = res.get("top_factor_share") or {}
        top = max(share, key=share.get) if share and max(share.values()) > 0 else None
        body.append(
            [
                tables.metric_label(m),
                "—" if ch is None else f"{ch:.3f}",
                "—" if ch is None else f"{c['ci_width']:.3f}",
                "—"
                if ch is None
                else f"ρ {c['rank_spearman']:.2f}, τ {c['rank_kendall']:.2f}"
                + (" (fresh seeds)" if c.get("fresh_seeds") else " (same seeds)"),
                "—" if ch is None else ("是 yes" if res["same_top_factor"] else "否 no"),
                "—" if top is None else f"{_short(top)} {100 * share[top]:.0f}%",
                "—"
                if ch is None
                else ("已收敛 converged" if res["converged"] else "未收敛 NOT converged"),
            ]
        )
    parts.append(
        _html_table(
            [
                _bi("指标", "metric"),
                _bi("最大变化", "largest change"),
                _bi("区间半宽", "CI half-width"),
                _bi("排序稳定性", "rank stability"),
                _bi("最重要因素相同", "same top factor"),
                _bi("单次重复中最重要因素", "top factor per replication"),
                _bi("结论", "verdict"),
            ],
            body,
        )
    )
    parts.append(
        f"<p class='muted'>tolerance {ind['tolerance']} for the change and the CI half-width "
        "(Morris: relative to the largest μ*; Sobol: absolute); rank stability: Spearman ρ "
        f"of the factor ranks at N and 2N ≥ {ind.get('rank_min', 0.8)} and the same top "
        "factor. The second half of the 2N design is paired with another replication, so "
        "its seeds are fresh.</p>"
    )
    parts.append(f"<h2>{_bi('指数详表', 'indices')}</h2>")
    keys = (
        ["mu_star", "mu_star_low", "mu_star_high", "mu_star_conf", "mu", "sigma"]
        if method == "morris"
        else ["S1", "S1_low", "S1_high", "S1_conf", "ST", "ST_low", "ST_high", "ST_conf"]
    )
    body = [
        [
            tables.metric_label(r["metric"]),
            r["factor"],
            *[f"{r.get(k, math.nan):.4g}" for k in keys],
            f"{100 * (r.get('top_factor_share') or 0):.0f}%",
            r.get("flags", ""),
        ]
        for r in result.rows
    ]
    parts.append(
        _html_table(
            [_bi("指标", "metric"), _bi("因素", "factor"), *keys, "top share", "flags"], body
        )
    )
    parts.append(
        "<p class='muted'>_low/_high: 95% percentile bootstrap CI over replications; _conf: "
        "SALib's 95% CI half-width of the design sampling (mean over replications).</p>"
    )
    return "\n".join(parts)


# --------------------------------------------------------------------------- page


def _failed_section(folder: ExperimentFolder, failed_ids: Sequence[str]) -> str:
    if not failed_ids:
        return ""
    parts = [f"<h2 class='bad'>{_bi('失败的运行', 'failed runs')}</h2>"]
    body = []
    first_tb = None
    for rid in failed_ids[:MAX_TABLE_ROWS]:
        info = folder.read_failure(rid)
        first_tb = first_tb or info.get("traceback")
        body.append(
            [
                rid[:12],
                info.get("label", ""),
                info.get("rep", ""),
                info.get("error_type", ""),
                info.get("message", ""),
            ]
        )
    parts.append(_html_table(["run id", "label", "rep", "error", "message"], body))
    if first_tb:
        parts.append(
            f"<details><summary>traceback ({_e(failed_ids[0][:12])})</summary>"
            f"<pre>{_e(first_tb)}</pre></details>"
        )
    parts.append("<p class='muted'>rerun with --retry-failed</p>")
    return "\n".join(parts)


def _methods_section(plan, prov) -> str:
    zh, en = appendix.methods_paragraphs(plan, prov)
    parts = [f"<h2 id='methods'>{_bi('方法', 'methods')}</h2>"]
    parts += [f"<p>{_e(p)}</p>" for p in zh]
    parts += [f"<p lang='en'>{_e(p)}</p>" for p in en]
    return "\n".join(parts)


def _runs_section(folder: ExperimentFolder, plan) -> str:
    header, body = appendix.runs_table(folder, plan)
    n = len(body)
    summary = _bi(f"{n} 个（情景/设计点, 重复）", f"{n} (point, replication) pairs")
    return (
        f"<h2 id='runs'>{_bi('运行列表', 'runs')}</h2>"
        f"<details{' open' if n <= 60 else ''}><summary>{_e(summary)}"
        f"</summary>{_html_table(header, body)}</details>"
        "<p class='muted'>run id: the first 12 hex digits of the scenario hash (the record "
        "is runs/&lt;run id&gt;.parquet); pairs that resolve to the same scenario share a "
        "run.</p>"
    )


def _provenance_section(plan, prov) -> str:
    inv = prov.get("invocations", [])
    parts = [f"<h2 id='provenance'>{_bi('来源记录', 'provenance')}</h2>"]
    versions = appendix.model_versions(prov)
    parts.append(
        f"<p>{_bi('模型代码摘要', 'model code digest')} (sim.model_version()): "
        + (", ".join(f"<code>{_e(v)}</code>" for v in versions) if versions else "not recorded")
        + (
            " <span class='bad'>— the invocations used different model code</span>"
            if len(versions) > 1
            else ""
        )
        + "</p>"
    )
    if inv:
        parts.append(_html_table(*appendix.invocation_rows(prov)))
        last = inv[-1]
        pk = last.get("packages", {})
        rows = [
            ["python", f"{last.get('python')} {last.get('python_implementation', '')}"],
            ["platform", last.get("platform")],
            ["packages", ", ".join(f"{k} {v}" for k, v in pk.items())],
            ["experiment seed", plan.seed],
            ["replications", plan.replications],
            ["invocations", len(inv)],
        ]
        parts.append(
            f"<p class='muted'>{_bi('最后一次调用的环境', 'environment of the last invocation')}"
            "</p>"
        )
        parts.append(_html_table([_bi("项目", "item"), _bi("值", "value")], rows))
    parts.append(
        "<details><summary>sampler 抽样设置</summary><pre>"
        + _e(json.dumps(plan.sampler, ensure_ascii=False, indent=1))
        + "</pre></details>"
    )
    parts.append(
        "<details><summary>provenance.json</summary><pre>"
        + _e(json.dumps(prov, ensure_ascii=False, indent=1))
        + "</pre></details>"
    )
    return "\n".join(parts)


def render_report(out: str | Path, *, progress: bool = False) -> str:
    """The report page of an experiment folder as an HTML string."""
    folder = ExperimentFolder(out)
    plan = folder.read_plan()
    result = summarize(folder.root, write=False)
    st = result.status
    kzh, ken = KIND_TITLES[plan.kind]
    title, title_en = appendix.experiment_title(plan)
    prov = appendix.provenance(folder)
    head = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{_e(title)} — govsim</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)} <span class='muted'>({_e(title_en)})</span></h1>",
        f"<p>{_e(_bi(kzh, ken))} · {_e(plan_label(plan))} · {len(plan.points)} "
        f"{_e(_bi('个情景/设计点', 'scenarios/points'))} × {plan.replications} "
        f"{_e(_bi('次重复', 'replications'))} · "
        f"{_e(_bi('生成于', 'generated'))} "
        f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}</p>",
    ]
    desc = plan.definition.get("description")
    if desc:
        head.append(f"<p class='muted'>{_e(desc)}</p>")
    cls = "ok" if not (st["failed"] or st["pending"]) else "bad"
    damaged = st.get("damaged_ids") or []
    head.append(
        f"<p class='{cls}'>{_e(_bi('运行状态', 'runs'))}: {st['done']} done, {st['failed']} "
        f"failed, {st['pending']} pending"
        + (
            f" ({len(damaged)} of them a damaged record in runs/, left out; the next run of "
            "the experiment moves it to corrupt/ and redoes it)"
            if damaged
            else ""
        )
        + ("" if cls == "ok" else " — statistics use the finished runs only")
        + "</p>"
    )
    body = [_methods_section(plan, prov)]
    n_points = len(plan.points)
    if plan.kind == "compare" or (plan.kind == "sweep" and n_points <= MAX_SERIES_POINTS):
        agg = aggregate_daily(folder, plan, list(SERIES_COLUMNS), progress=progress)
    else:
        agg = {}
    if plan.kind == "compare":
        body.append(_compare_section(plan, result, agg))
    elif plan.kind == "sweep":
        body.append(_sweep_section(plan, result, agg, collect_values(folder, plan)))
    else:
        body.append(_sensitivity_section(plan, result))
    body.append(_failed_section(folder, st["failed_ids"]))
    body.append(_runs_section(folder, plan))
    body.append(_provenance_section(plan, prov))
    return "\n".join(head + body + ["</body></html>"])


def write_report(
    out: str | Path, html_path: str | Path | None = None, *, progress: bool = False
) -> Path:
    """Write ``render_report`` to ``html_path`` (default ``DIR/report.html``) atomically.

    Beside it: ``methods.md`` (title, methods in Chinese and English, the main tables in
    Markdown) and ``table.tex`` (methods in English and the main tables, booktabs).
    """
    folder = ExperimentFolder(out)
    path = Path(html_path) if html_path is not None else folder.root / "report.html"
    text = render_report(out, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    plan = folder.read_plan()
    result = summarize(folder.root, write=False)
    prov = appendix.provenance(folder)
    atomic_write_bytes(
        path.parent / METHODS_FILE, appendix.markdown_export(plan, result, prov).encode("utf-8")
    )
    atomic_write_bytes(
        path.parent / TABLE_TEX_FILE, appendix.latex_export(plan, result, prov).encode("utf-8")
    )
    return path
