"""The planner's report of a ``govsim optimise`` folder: one self-contained HTML page.

Chinese first, English beside. It answers the planner's question in order: what to do
(the recommended settings and their cost against the budget), how much better it is and
how sure we are (means with 95 % CIs, paired differences against the base and against the
best hand-written configuration within budget), what the budget buys (cost against each
outcome for every candidate that ran: the Pareto front), what it means for each county
(staff by county as a table and on the map of the nine counties, and the per-county sense
of gain), where the strategy may stop working (the failure boxes of a ``govsim discover``
folder, when one is given), the method in plain words, and the provenance (plan file,
seeds, model code digest, package versions, invocations).

Everything is read from ``OUT/optimise.json`` (written by :mod:`sim.experiment.optimise`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sim import metrics_schema
from sim.experiment.html_report import CSS, _bi, _e, _figure, _html_table, _png
from sim.experiment.optimise import (
    BASE_LABEL,
    RESULT_FILE,
    _efficient,
    read_result,
    worse_than_hand_written,
)
from sim.io import atomic_write_bytes

REPORT_FILE = "planner_report.html"
ROLES = (
    ("grid_worker", "网格员", "grid workers"),
    ("department_officer", "职能部门办件人员", "department officers"),
    ("mediator", "人民调解员", "mediators"),
    ("petition_officer", "信访人员", "petition officers"),
    ("mass_org_staff", "群团组织人员", "mass-org staff"),
    ("social_org_slots", "社会组织服务位", "social-org service slots"),
)


def _label(metric: str) -> str:
    try:
        return metrics_schema.label(metric)
    except KeyError:
        return metric


def _num(v: Any) -> float:
    """A JSON number back as float (NaN was written as null)."""
    return math.nan if v is None else float(v)


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "开 (on)" if v else "关 (off)"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return "—" if not math.isfinite(v) else f"{v:.{digits}g}"
    return str(v)


def _ci(lo: Any, hi: Any) -> str:
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "—"
    return f"[{lo:+.3g}, {hi:+.3g}]"


def _yi(yuan: float) -> str:
    """Yuan as 亿元 (10⁸ yuan) with the plain number beside."""
    return f"{yuan / 1e8:.3f} 亿元 ({yuan:,.0f} yuan)"


def _var_label(v: Mapping[str, Any]) -> str:
    zh, en = v.get("label_zh") or "", v.get("label_en") or ""
    name = zh or v["name"]
    return f"{name} ({en or v['path']})"


# --------------------------------------------------------------------------- sections


def _recommendation_section(res: Mapping[str, Any]) -> str:
    recs = res["recommendations"]
    parts = [f"<h2 id='recommendation'>{_bi('推荐方案', 'recommendation')}</h2>"]
    if not recs:
        parts.append(
            "<p class='bad'>预算内没有可行的候选方案：每个被提出的方案都超出预算（从未运行），"
            "或运行后实际成本超出预算。(No candidate within the budget: every proposal was "
            "above it and never ran, or its simulated cost exceeded it.)</p>"
        )
        return "\n".join(parts)
    base_scenario_values = res.get("base_values", {})
    header = [_bi("决策变量", "decision variable"), _bi("基线", "base")] + [
        _bi("推荐", "recommended") + f" {c['label']}" for c in recs
    ]
    rows = []
    for v in res["variables"]:
        rows.append(
            [_var_label(v), _fmt(base_scenario_values.get(v["path"]))]
            + [_fmt(c["params"].get(v["name"])) for c in recs]
        )
    rows.append(
        [_bi("年度成本（全市）", "yearly cost, whole city"), _yi(res["base_cost_yuan_per_year"])]
        + [_yi(c["cost_yuan_city"]) for c in recs]
    )
    rows.append(
        [_bi("预算", "budget"), _yi(res["budget_yuan_per_year"])]
        + [
            _bi("预算内", "within budget")
            if c["cost_yuan_city"] <= res["budget_yuan_per_year"]
            else "OVER"
            for c in recs
        ]
    )
    parts.append(_html_table(header, rows))
    best = res.get("best_hand_written")
    for c in recs:
        parts.append(
            f"<h3>{_e(_bi('推荐方案的效果', 'outcomes of recommendation'))} {c['label']}</h3>"
        )
        vs_hand = {r["metric"]: r for r in c.get("vs_best_hand", [])}
        header = [
            _bi("指标", "metric"),
            _bi("基线均值", "base mean"),
            _bi("推荐均值 [95% CI]", "recommended mean [95% CI]"),
            _bi("与基线之差 [95% CI]", "difference from base [95% CI]"),
            _bi("变化%", "change %"),
            _bi(f"与最佳手工方案（{best}）之差", f"difference from best hand-written ({best})")
            if best
            else _bi("与手工方案之差", "vs hand-written"),
            _bi("结论", "conclusion"),
        ]
        rows = []
        for r in c.get("vs_base", []):
            h = vs_hand.get(r["metric"], {})
            rows.append(
                [
                    _label(r["metric"]),
                    _fmt(res["base_means"].get(r["metric"])),
                    f"{_fmt(r['mean'])} {_ci(r['ci_low'], r['ci_high'])}",
                    f"{_fmt(r['diff'])} {_ci(r['diff_ci_low'], r['diff_ci_high'])}",
                    "—"
                    if r.get("diff_pct") is None or not math.isfinite(r["diff_pct"])
                    else f"{r['diff_pct']:+.1f}% "
                    + _ci(r["diff_pct_ci_low"], r["diff_pct_ci_high"]),
                    f"{_fmt(h.get('diff'))} {_ci(h.get('diff_ci_low'), h.get('diff_ci_high'))}"
                    if h
                    else "—",
                    r.get("conclusion") or "",
                ]
            )
        parts.append(_html_table(header, rows))
        worse = worse_than_hand_written(res, c)
        if worse:
            parts.append(
                f"<p class='bad'>注意：最佳手工方案（{_e(best)}）在 "
                f"{_e('、'.join(_label(m) for m in worse))} 上显著优于此推荐方案——搜索在给定的"
                "候选数内没有找到更好的设置。可增加 trials，或放宽决策变量的范围使其包含该方案的"
                "设置。(Note: the best hand-written configuration is significantly better on "
                "these outcomes; the search did not find better settings within its trials. "
                "Raise trials, or widen the variables to include its settings.)</p>"
            )
    parts.append(
        "<p class='muted'>均值与区间来自 "
        f"{res['plan_leader_replications']} 次新的重复（未用于搜索的种子；共同随机数：每个方案"
        "使用相同的种子），因此挑选时的运气不会抬高结果。"
        "差值为配对差（新 − 参照）及其配对 t 区间；变化% 为比值的 Fieller 区间。"
        "(Means and intervals over "
        f"{res['plan_leader_replications']} fresh replications (seeds not used in the search, "
        "so the luck of the selection does not inflate them) with common random numbers; "
        "differences are paired, new − reference, with paired t intervals; % changes carry "
        "Fieller intervals of the ratio.)</p>"
    )
    return "\n".join(parts)


def _hand_written_section(res: Mapping[str, Any]) -> str:
    hand = res["hand_written"]
    if not hand:
        return ""
    objs = [o["metric"] for o in res["objectives"]]
    header = [
        _bi("手工方案", "hand-written"),
        _bi("年度成本（全市）", "yearly cost"),
        _bi("预算内", "within budget"),
    ] + [_label(m) for m in objs]
    rows = [
        [h["label"], _yi(h["cost_yuan_city"]), "是 (yes)" if h["feasible"] else "否 (no)"]
        + [_fmt(h["means"].get(m)) for m in objs]
        for h in hand
    ]
    return (
        f"<h3>{_bi('对照的手工方案', 'hand-written configurations compared')}</h3>"
        + _html_table(header, rows)
        + "<p class='muted'>超出预算的手工方案不作为对照（not compared when above budget）.</p>"
    )


def _front_figure(res: Mapping[str, Any]) -> str:
    fig, alt = front_figure(res)
    caption = (
        "帕累托前沿：每个运行过的候选方案的年度成本与结果（均值，"
        f"{res['plan_replications']} 次重复）；星号为推荐方案（{res['plan_leader_replications']} "
        "次重复，95% 置信区间）。超预算的候选从未运行，不在图中"
        f"（{res['counts']['infeasible_never_run']} 个）。 Pareto front: cost against each "
        "outcome for every candidate that ran; the star is the recommendation with its 95 % "
        "CI; candidates above budget never ran and are not drawn. ↑ higher is better, ↓ lower."
    )
    return _png(fig, alt or "no candidate ran", caption)


def front_figure(res: Mapping[str, Any]):
    """Cost (亿元/年) against each objective for every candidate that ran, with the
    efficient set, base, hand-written configurations, recommendation (95 % CI) and budget.

    Returns ``(figure, alt text)``; ``res`` is ``OUT/optimise.json``.
    """
    objs = res["objectives"]
    ran = [t for t in res["trials"] if t.get("means") and t["feasible"]]
    over = [t for t in res["trials"] if t.get("means") and t["feasible"] is False]
    fig, axes = _figure((4.6 * len(objs), 4.0), 1, len(objs))
    alt = []
    for ax, o in zip(axes[0], objs, strict=True):
        m = o["metric"]
        xs = [t["cost_yuan_city"] / 1e8 for t in ran]
        ys = [_num(t["means"].get(m)) for t in ran]
        ax.scatter(xs, ys, s=14, color="0.6", label="候选 candidates")
        if over:
            ax.scatter(
                [t["cost_yuan_city"] / 1e8 for t in over],
                [_num(t["means"].get(m)) for t in over],
                s=18,
                marker="x",
                color="#b00020",
                label="运行后超预算 over budget after run",
            )
        pts = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y)]
        if pts:
            eff = _efficient([[-x, y] for x, y in pts], [1, o["sign"]])
            front = sorted(p for p, e in zip(pts, eff, strict=True) if e)
            ax.plot(
                [p[0] for p in front],
                [p[1] for p in front],
                "-o",
                color="#30638e",
                ms=4,
                label="前沿 front",
            )
            alt.append(f"{m}: front " + ", ".join(f"({x:.3f}, {y:.4g})" for x, y in front))
        base = _num(res["base_means"].get(m))
        ax.scatter(
            [res["base_cost_yuan_per_year"] / 1e8],
            [base],
            marker="s",
            s=40,
            color="black",
            label="基线 base",
            zorder=5,
        )
        for j, h in enumerate(res["hand_written"]):
            ax.scatter(
                [h["cost_yuan_city"] / 1e8],
                [_num(h["means"].get(m))],
                marker="D",
                s=30,
                color="#8a5a00",
                zorder=5,
                label="手工方案 hand-written" if j == 0 else None,
            )
            ax.annotate(
                h["label"],
                (h["cost_yuan_city"] / 1e8, _num(h["means"].get(m))),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        for c in res["recommendations"]:
            row = next((r for r in c.get("vs_base", []) if r["metric"] == m), None)
            if row is None:
                continue
            y, lo, hi = _num(row["mean"]), _num(row["ci_low"]), _num(row["ci_high"])
            yerr = None
            if math.isfinite(lo) and math.isfinite(hi):
                yerr = [[y - lo], [hi - y]]
            ax.errorbar(
                [c["cost_yuan_city"] / 1e8],
                [y],
                yerr=yerr,
                fmt="*",
                ms=14,
                color="#d62728",
                zorder=6,
                label=f"推荐 recommended {c['label']}",
            )
        ax.axvline(res["budget_yuan_per_year"] / 1e8, ls="--", color="#b00020", lw=1)
        ax.text(
            res["budget_yuan_per_year"] / 1e8,
            ax.get_ylim()[1],
            " 预算 budget",
            color="#b00020",
            fontsize=8,
            va="top",
        )
        ax.set_xlabel("年度成本 yearly cost (亿元 = 1e8 yuan)")
        ax.set_ylabel(_label(m) + (" ↑" if o["sign"] > 0 else " ↓"))
    axes[0][0].legend(fontsize=7, loc="best")
    return fig, "; ".join(alt)


def _county_section(res: Mapping[str, Any]) -> str:
    from sim.viz.figures import county_map  # lazy: matplotlib and the boundary file

    county = res["county"]
    recs = res["recommendations"]
    parts = [f"<h2 id='counties'>{_bi('各县（市、区）配置', 'allocation by county')}</h2>"]
    if not recs:
        parts.append("<p class='muted'>无推荐方案 (no recommendation).</p>")
        return "\n".join(parts)
    rec = recs[0]
    base_rows = county[BASE_LABEL]["allocation"]
    rec_rows = county[rec["label"]]["allocation"]
    header = [_bi("县（市、区）", "county"), _bi("常住人口", "residents")]
    for _, zh, en in ROLES:
        header.append(_bi(zh, en) + " 基线→推荐 base→rec.")
    header.append(_bi("人员经费（亿元/年）", "staff pay, 1e8 yuan/yr") + " 基线→推荐")
    rows = []
    for b, r in zip(base_rows, rec_rows, strict=True):
        row = [f"{b['county']} ({b['county_en']})", f"{b['residents']:,}"]
        for key, _, _ in ROLES:
            row.append(f"{b[key]:,.0f} → {r[key]:,.0f}")
        row.append(f"{b['staff_pay_yuan'] / 1e8:.3f} → {r['staff_pay_yuan'] / 1e8:.3f}")
        rows.append(row)
    parts.append(_html_table(header, rows))
    parts.append(
        "<p class='muted'>人数为全市估计（模拟城市的人数 ÷ 模拟比例）。当前情景文件只有全市统一的"
        "杠杆（每网格人数、每十万人办件位等），各县人数由这些杠杆和各县人口、城乡结构推出；"
        "按县单独设定人数的情景键尚不存在。(Persons are whole-city estimates, simulated ÷ "
        "scale. The scenario schema has city-wide levers only, so the county allocation "
        "follows from them and each county's population and urban share; there is no "
        "per-county staffing key yet.)</p>"
    )
    per10k = {
        r["county"]: 1e4 * sum(r[k] for k, _, _ in ROLES[:-1]) / max(r["residents"], 1)
        for r in rec_rows
    }
    fig = county_map(per10k, "每万人工作人员 staff per 10k residents", cmap="Blues")
    parts.append(
        _png(
            fig,
            "staff per 10k residents by county: "
            + ", ".join(f"{k} {v:.1f}" for k, v in per10k.items()),
            f"推荐方案 {rec['label']} 下各县每万人工作人员（网格员、办件、调解、信访、群团）。"
            " Staff per 10,000 residents by county under the recommendation.",
        )
    )
    ind_base = county[BASE_LABEL].get("indicator") or {}
    ind_rec = county[rec["label"]].get("indicator") or {}
    diff = {k: ind_rec[k] - ind_base[k] for k in ind_rec if k in ind_base}
    if diff:
        fig = county_map(diff, "获得感变化 change in sense of gain", cmap="viridis")
        parts.append(
            _png(
                fig,
                "change in sense of gain by county: "
                + ", ".join(f"{k} {v:+.2f}" for k, v in diff.items()),
                f"推荐方案 {rec['label']} 相对基线的各县获得感变化（重复均值之差）。 Change in the "
                "per-county sense of gain, recommendation minus base (means over replications).",
            )
        )
    return "\n".join(parts)


def _leaders_section(res: Mapping[str, Any]) -> str:
    objs = [o["metric"] for o in res["objectives"]]
    header = (
        [_bi("候选", "candidate"), _bi("年度成本", "yearly cost")]
        + [_label(m) for m in objs]
        + [_bi("加权得分（越低越好）", "weighted score, lower is better")]
    )
    rows = [
        [f"#{c['trial']}", _yi(c["cost_yuan_city"])]
        + [_fmt(c["means"].get(m)) for m in objs]
        + [_fmt(c.get("score"))]
        for c in res["leaders"]
    ]
    return (
        f"<h3>{_bi('领先方案复核', 're-evaluated leaders')}</h3>"
        + _html_table(header, rows)
        + f"<p class='muted'>搜索中最好的 {len(res['leaders'])} 个方案以 "
        f"{res['plan_leader_replications']} 次新的重复重新评估。(The best candidates re-run "
        f"with {res['plan_leader_replications']} fresh replications.)</p>"
    )


def _discover_section(discover: str | Path | None) -> str:
    parts = [f"<h2 id='robustness'>{_bi('稳健性', 'robustness')}</h2>"]
    parts.append(
        "<p>推荐方案的每个结果都给出了 95% 置信区间和与基线、最佳手工方案的配对差。区间跨过 0 "
        "表示在这些重复次数下无法区分。(Every outcome carries a 95 % CI and paired "
        "differences; an interval across 0 means the replications cannot tell them apart.)</p>"
    )
    if discover is None:
        parts.append(
            "<p class='muted'>未提供情景发现结果（govsim discover）；可用 --discover DIR 加入"
            "策略失效的参数区域。(No govsim discover folder given: pass --discover DIR to "
            "add the parameter boxes where a strategy fails.)</p>"
        )
        return "\n".join(parts)
    root = Path(discover)
    if (root / "boxes.json").is_file():
        try:  # govsim discover's own fragment (lazy: EMA Workbench, pandas)
            from sim.experiment.discover import html_section

            return "\n".join(parts) + html_section(root)
        except Exception as exc:  # noqa: BLE001 — fall back to the boxes as JSON below
            parts.append(
                f"<p class='muted'>{_e(str(root))}: {_e(type(exc).__name__)}: "
                f"{_e(str(exc)[:200])}; 以下为原始失效区域 (raw boxes below).</p>"
            )
    files = sorted(root.glob("*.json")) if root.is_dir() else []
    boxes = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found = data.get("boxes") if isinstance(data, dict) else None
        if isinstance(found, list):
            boxes += [(f.name, b) for b in found if isinstance(b, dict)]
    parts.append(f"<h3>{_bi('策略失效区域', 'where the strategy fails')}</h3>")
    if not boxes:
        parts.append(
            f"<p class='muted'>{_e(str(root))}: 未找到失效区域（no failure boxes found in "
            "its JSON files).</p>"
        )
    for name, b in boxes:
        parts.append(
            f"<p class='muted'>{_e(name)}</p><pre>"
            + _e(json.dumps(b, ensure_ascii=False, indent=1))
            + "</pre>"
        )
    report = root / "report.html"
    if report.is_file():
        parts.append(
            f"<p><a href='{_e(report.resolve().as_uri())}'>"
            f"{_bi('情景发现报告', 'discover report')}</a></p>"
        )
    return "\n".join(parts)


def _method_section(res: Mapping[str, Any]) -> str:
    n_never = res["counts"]["infeasible_never_run"]
    zh = [
        f"问题：{res['description'] or res['title_zh'] or res['name']}",
        "做法：在预算内搜索各项杠杆的取值。每个候选方案先用成本模块算出全市年度成本；超出预算的"
        f"方案不运行、也不会被推荐（本次共 {n_never} 个）。预算内的方案各运行 "
        f"{res['plan_replications']} 次，每次使用与基线和其它方案相同的随机种子（共同随机数），"
        "因此方案之间的差别不是运气造成的。",
        f"搜索由 Optuna 的 {res['sampler'].upper()} 算法提出候选（一个目标时用 TPE，多个目标时"
        "用 NSGA-II 求帕累托前沿）；单一目标时再在最好方案的邻近取值（每项杠杆上下一步、两项之间"
        "互换一步）中局部搜索。最好的几个方案再用新的随机种子复核（避免“赢家诅咒”），最后给出的"
        "推荐与基线、"
        "与预算内最好的手工方案逐次配对比较，并给出 95% 置信区间。",
        "局限：模型中的杠杆是全市统一的，各县的人员由这些杠杆与各县人口推出；成本只含人员、"
        "平台与项目经费（见 docs/model.md 成本一节）；结果来自模拟，不是预测。",
    ]
    en = [
        "Method: a search over the levers within the budget. Each candidate's yearly cost for "
        "the whole city comes from the costs module before it runs; candidates above the "
        f"budget never run and are never recommended ({n_never} here). Those within run "
        f"{res['plan_replications']} times with the same seeds as the base and every other "
        "candidate (common random numbers), so differences are not luck of the draw.",
        f"Optuna's {res['sampler'].upper()} sampler proposes the candidates (TPE for one "
        "objective, NSGA-II for a Pareto front); with one objective, a local search then tries "
        "the settings one step away from the best (one lever up or down, or one step moved "
        "between two levers). The best few re-run with fresh seeds (against the winner's "
        "curse); the recommendation is compared, replication by replication, with the "
        "base and the best hand-written configuration within budget, with 95 % CIs.",
        "Limits: the levers are city-wide (county staff follows from them and each county's "
        "population); costs cover staff, platforms and programmes (docs/model.md, Costs); "
        "results are simulated, not forecasts.",
    ]
    return (
        f"<h2 id='method'>{_bi('方法说明', 'method in plain words')}</h2>"
        + "".join(f"<p>{_e(p)}</p>" for p in zh)
        + "".join(f"<p lang='en' class='muted'>{_e(p)}</p>" for p in en)
    )


def _provenance_section(res: Mapping[str, Any]) -> str:
    p = res["provenance"]
    rows = [
        [_bi("计划文件", "plan file"), p["plan_file"]],
        [_bi("计划摘要", "plan definition hash"), p["definition_hash"]],
        [_bi("计划种子", "plan seed"), p["seed"]],
        [_bi("重复种子", "replication seeds"), ", ".join(str(s) for s in p["replication_seeds"])],
        [_bi("抽样器种子", "sampler seeds"), p["sampler_seeds"]],
        [_bi("模型代码摘要", "model code digest"), p["model_version"]],
        ["optuna / govsim", f"{p['optuna']} / {p['govsim']}"],
        ["packages", ", ".join(f"{k} {v}" for k, v in p["packages"].items())],
        [_bi("执行器", "executor"), json.dumps(p["executor"], ensure_ascii=False)],
        [
            _bi("调用", "invocations"),
            "; ".join(f"{i['started_utc']} → {i['finished_utc']}" for i in p["invocations"]),
        ],
    ]
    return (
        f"<h2 id='provenance'>{_bi('来源记录', 'provenance')}</h2>"
        + _html_table([_bi("项目", "item"), _bi("值", "value")], rows)
        + "<details><summary>plan.toml</summary><pre>"
        + _e(p["plan_text"])
        + "</pre></details>"
        + "<p class='muted'>运行记录在 evaluations/（每次运行一个记录，provenance.json "
        "记录每次调用），Optuna 研究在 study.journal。"
        "(Run records in evaluations/, the Optuna study in study.journal.)</p>"
    )


def render_planner_report(out: str | Path, *, discover: str | Path | None = None) -> str:
    """The planner's report of an optimisation folder as an HTML string."""
    res = read_result(out)
    title = res["title_zh"] or res["name"]
    head = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{_e(title)} — govsim 规划报告</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)} <span class='muted'>({_e(res['title_en'] or res['name'])})</span></h1>",
        f"<p>{_e(_bi('规划报告', 'planner report'))} · "
        f"{_e(_bi('预算', 'budget'))} {_e(_yi(res['budget_yuan_per_year']))} · "
        f"{_e(_bi('基线成本', 'base cost'))} {_e(_yi(res['base_cost_yuan_per_year']))} · "
        f"{_e(_bi('模拟比例', 'scale'))} 1:{round(1 / res['base_scale']):,} · "
        f"{res['base_days']} {_e(_bi('天', 'days'))} · "
        f"{_e(_bi('生成于', 'generated'))} {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}"
        "</p>",
    ]
    if res["description"]:
        head.append(f"<p>{_e(res['description'])}</p>")
    c = res["counts"]
    head.append(
        f"<p class='muted'>{_e(_bi('候选方案', 'candidates'))}: {c['trials']} · "
        f"{_e(_bi('预算内并运行', 'within budget, ran'))}: {c['feasible']} · "
        f"{_e(_bi('超预算未运行', 'over budget, never ran'))}: {c['infeasible_never_run']} · "
        f"{_e(_bi('运行后超预算', 'over budget after running'))}: {c['infeasible_after_run']}</p>"
    )
    body = [
        _recommendation_section(res),
        _hand_written_section(res),
        "<h2 id='front'>"
        + _bi("成本与结果：帕累托前沿", "cost against outcomes: Pareto front")
        + "</h2>",
        _front_figure(res),
        _county_section(res),
        _discover_section(discover),
        _leaders_section(res),
        _method_section(res),
        _provenance_section(res),
    ]
    return "\n".join(head + body + ["</body></html>"])


def write_planner_report(
    out: str | Path, html_path: str | Path | None = None, *, discover: str | Path | None = None
) -> Path:
    """Write :func:`render_planner_report` to ``OUT/planner_report.html`` (atomically)."""
    path = Path(html_path) if html_path is not None else Path(out) / REPORT_FILE
    text = render_planner_report(out, discover=discover)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


__all__ = ["REPORT_FILE", "RESULT_FILE", "render_planner_report", "write_planner_report"]
