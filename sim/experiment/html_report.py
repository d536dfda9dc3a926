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

from sim import metrics_schema
from sim.experiment import tables
from sim.experiment.records import ExperimentFolder, read_json
from sim.experiment.runner import aggregate_daily
from sim.experiment.summary import summarize
from sim.io import atomic_write_bytes
from sim.viz.fonts import setup_cjk_font

DPI = 110
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


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return (
        '<img alt="figure" src="data:image/png;base64,'
        + base64.b64encode(buf.getvalue()).decode("ascii")
        + '">'
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
        parts.append(_png(fig))
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
        parts.append(_png(fig))
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
    return _png(fig)


def _compare_section(plan, result, agg) -> str:
    titles = {g["label"]: g["title_zh"] for g in plan.groups}
    labels = [p["label"] for p in plan.points]
    parts = [f"<h2>{_bi('结果概览', 'overview')}</h2>"]
    header, body = tables.compare_key_table(result.rows, titles)
    if body:
        parts.append(_html_table(header, body))
        parts.append(f"<p class='muted'>{_e(tables.KEY_NOTE)}</p>")
    parts.append(_html_table(*tables.compare_overview(result.rows, titles)))
    parts.append(f"<p class='muted'>{_e(tables.OVERVIEW_NOTE)}</p>")
    for line in tables.ci_notes_text(result.notes):
        parts.append(f"<p class='bad'>{_e(line)}</p>")
    parts.append(f"<h2>{_bi('置信区间图', 'CI plots')}</h2>")
    parts.append(_compare_figures(result.rows, labels, plan.metrics))
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


def _sweep_section(plan, result, agg) -> str:
    parts = []
    factors = list(plan.points[0]["factors"]) if plan.points else []
    metrics = [m for m in KEY_METRICS if m in plan.metrics] or plan.metrics[:4]
    by = {(r["point"], r["metric"]): r for r in result.rows}
    if factors and metrics:
        fig, axes = _figure((3.2 * len(metrics), 2.6 * len(factors)), len(factors), len(metrics))
        for i, f in enumerate(factors):
            for j, m in enumerate(metrics):
                ax = axes[i, j]
                xs = [p["factors"][f] for p in plan.points]
                numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs)
                levels = sorted(set(xs), key=lambda v: (str(type(v)), v))
                pos = {v: k for k, v in enumerate(levels)}
                means = np.array(
                    [by.get((p["index"], m), {}).get("mean", math.nan) for p in plan.points],
                    dtype=float,
                )
                xv = np.array(xs, dtype=float) if numeric else np.array([pos[v] for v in xs])
                ax.scatter(xv, means, s=10, alpha=0.5, color="#30638e")
                if len(levels) <= 20:  # main effect: mean over the other factors per level
                    lv = np.array([float(v) if numeric else pos[v] for v in levels])
                    me = [np.nanmean(means[[x == v for x in xs]]) for v in levels]
                    ax.plot(lv, me, color="#d1495b", lw=1.6, marker="o", ms=4)
                if not numeric:
                    ax.set_xticks(range(len(levels)), [json.dumps(v) for v in levels])
                ax.set_xlabel(f, fontsize=8)
                if i == 0:
                    ax.set_title(tables.metric_label(m), fontsize=9)
                ax.grid(True, alpha=0.3)
        fig.suptitle(
            _bi(
                "主效应：点为设计点均值，折线为各水平均值",
                "main effects: dots are design points, line the mean per level",
            ),
            fontsize=11,
        )
        parts.append(f"<h2>{_bi('主效应图', 'main effects')}</h2>")
        parts.append(_png(fig))
    if agg:
        parts.append(f"<h2>{_bi('逐日时间序列', 'time series per design point')}</h2>")
        parts.append(_series_figure(agg, {i: p["label"] for i, p in enumerate(plan.points)}))
    parts.append(f"<h2>{_bi('设计点详表', 'design points')}</h2>")
    shown = plan.metrics[:8]
    header = ["#", *factors] + [tables.metric_label(m) for m in shown]
    body = []
    for p in plan.points[:MAX_TABLE_ROWS]:
        cells = [p["index"], *[p["factors"][f] for f in factors]]
        for m in shown:
            r = by.get((p["index"], m))
            f_ = lambda v, m=m: tables.fmt(v, m)  # noqa: E731
            cells.append(
                "—"
                if r is None
                else f"{f_(r['mean'])} {tables.fmt_ci(r['ci_low'], r['ci_high'], f_)}"
            )
        body.append(cells)
    parts.append(_html_table(header, body))
    if len(plan.points) > MAX_TABLE_ROWS:
        parts.append(
            f"<p class='muted'>… {len(plan.points) - MAX_TABLE_ROWS} more in table.csv</p>"
        )
    parts.append("<p class='muted'>mean [95% bootstrap percentile CI] over replications.</p>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- sensitivity


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
    if key:
        ncols = min(3, len(key))
        nrows = math.ceil(len(key) / ncols)
        fig, axes = _figure(
            (3.8 * ncols, 0.9 + 0.45 * len(names) * nrows + 0.6 * nrows), nrows, ncols
        )
        for ax in axes.flat[len(key) :]:
            ax.set_axis_off()
        y = np.arange(len(names))[::-1]
        for ax, m in zip(axes.flat, key, strict=False):
            res = ind["metrics"][m]["indices"]
            if method == "morris":
                ax.barh(y, res["mu_star"], xerr=res["mu_star_conf"], color="#30638e", capsize=3)
                ax.set_xlabel("μ*", fontsize=8)
            else:
                ax.barh(
                    y + 0.2,
                    res["S1"],
                    height=0.4,
                    xerr=res["S1_conf"],
                    color="#30638e",
                    capsize=2,
                    label="S1",
                )
                ax.barh(
                    y - 0.2,
                    res["ST"],
                    height=0.4,
                    xerr=res["ST_conf"],
                    color="#d1495b",
                    capsize=2,
                    label="ST",
                )
                ax.legend(fontsize=7)
            ax.set_yticks(y, [n.split(".")[-1] for n in names], fontsize=8)
            ax.set_title(tables.metric_label(m), fontsize=9)
            ax.grid(True, axis="x", alpha=0.3)
        fig.suptitle(_bi("敏感性指数及95%置信区间", "indices with 95% CI"), fontsize=11)
        parts.append(_png(fig))
    parts.append(f"<h2>{_bi('收敛检验 (N 与 2N)', 'convergence check, N vs 2N')}</h2>")
    body = []
    for m, res in ind["metrics"].items():
        if "error" in res:
            body.append([tables.metric_label(m), "—", "—", res["error"]])
            continue
        ch = res.get("change")
        body.append(
            [
                tables.metric_label(m),
                "—" if ch is None else f"{ch:.3f}",
                "—" if ch is None else ("是 yes" if res["same_top_factor"] else "否 no"),
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
                _bi("最重要因素相同", "same top factor"),
                _bi("结论", "verdict"),
            ],
            body,
        )
    )
    parts.append(
        f"<p class='muted'>tolerance {ind['tolerance']}; Morris: change of μ* relative to "
        "the largest μ*; Sobol: absolute change of S1 and ST.</p>"
    )
    parts.append(f"<h2>{_bi('指数详表', 'indices')}</h2>")
    keys = (
        ["mu_star", "mu_star_conf", "mu", "sigma"]
        if method == "morris"
        else ["S1", "S1_conf", "ST", "ST_conf"]
    )
    body = [
        [tables.metric_label(r["metric"]), r["factor"], *[f"{r[k]:.4g}" for k in keys]]
        for r in result.rows
    ]
    parts.append(_html_table([_bi("指标", "metric"), _bi("因素", "factor"), *keys], body))
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


def _provenance_section(folder: ExperimentFolder, plan) -> str:
    prov = read_json(folder.provenance_path) if folder.provenance_path.is_file() else {}
    inv = prov.get("invocations", [])
    parts = [f"<h2>{_bi('来源记录', 'provenance')}</h2>"]
    if inv:
        last = inv[-1]
        pk = last.get("packages", {})
        rows = [
            ["govsim", last.get("govsim")],
            ["git commit", f"{last.get('git_commit')} (dirty: {last.get('git_dirty')})"],
            ["python", f"{last.get('python')} {last.get('python_implementation', '')}"],
            ["platform", last.get("platform")],
            ["packages", ", ".join(f"{k} {v}" for k, v in pk.items())],
            ["command", " ".join(last.get("command", []))],
            ["executor", json.dumps(last.get("executor"), ensure_ascii=False)],
            ["experiment seed", plan.seed],
            ["replications", plan.replications],
            ["invocations", len(inv)],
        ]
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
    title = plan.title_zh or plan.name
    title_en = plan.title_en or plan.name
    head = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{_e(title)} — govsim</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)} <span class='muted'>({_e(title_en)})</span></h1>",
        f"<p>{_e(_bi(kzh, ken))} · {_e(plan.name)} · {len(plan.points)} "
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
    body = []
    n_points = len(plan.points)
    if plan.kind == "compare" or (plan.kind == "sweep" and n_points <= MAX_SERIES_POINTS):
        agg = aggregate_daily(folder, plan, list(SERIES_COLUMNS), progress=progress)
    else:
        agg = {}
    if plan.kind == "compare":
        body.append(_compare_section(plan, result, agg))
    elif plan.kind == "sweep":
        body.append(_sweep_section(plan, result, agg))
    else:
        body.append(_sensitivity_section(plan, result))
    body.append(_failed_section(folder, st["failed_ids"]))
    body.append(_provenance_section(folder, plan))
    return "\n".join(head + body + ["</body></html>"])


def write_report(
    out: str | Path, html_path: str | Path | None = None, *, progress: bool = False
) -> Path:
    """Write ``render_report`` to ``html_path`` (default ``DIR/report.html``) atomically."""
    folder = ExperimentFolder(out)
    path = Path(html_path) if html_path is not None else folder.root / "report.html"
    text = render_report(out, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
