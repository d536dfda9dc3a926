"""What a paper's appendix needs from an experiment folder: methods, runs, provenance, exports.

Everything is generated from the folder's own records (``experiment.json``,
``provenance.json``, the run records), never typed by hand:

- :func:`methods_paragraphs`: the methods text (Chinese and English): kind, scenarios or
  factors and design, scale, days, warm-up days, replications and how their seeds are
  derived, the statistics and their definitions, the model code digest.
- :func:`runs_table`: one row per (scenario or point, replication): seed, run id, status.
- :func:`invocation_rows`: one row per invocation of the experiment (``provenance.json``).
- :func:`model_versions`: the model code digests (``sim.model_version()``) the
  invocations recorded.
- :func:`main_tables`, :func:`markdown_export`, :func:`latex_export`: the main table(s)
  and the methods text as Markdown (``methods.md``) and LaTeX (``table.tex``), written
  beside the report by :func:`sim.experiment.html_report.write_report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sim.experiment import tables
from sim.experiment.indices import RANK_MIN
from sim.experiment.records import ExperimentFolder, read_json
from sim.experiment.runner import plan_label
from sim.experiment.stats import N_RESAMPLES, SMALL_N

KIND_TITLES = {
    "compare": ("情景对比", "comparison"),
    "sweep": ("参数扫描", "sweep"),
    "sensitivity": ("敏感性分析", "sensitivity analysis"),
}


def experiment_title(plan) -> tuple[str, str]:
    """(Chinese, English) title: the file's titles, else the kind and the experiment's name.

    A compare of scenario files without an experiment file is named after its scenarios
    (``yancheng vs command_centre``), never "compare (compare)".
    """
    kzh, ken = KIND_TITLES[plan.kind]
    name = plan_label(plan)
    zh = plan.title_zh or f"{kzh}：{name}"
    en = plan.title_en or f"{ken[0].upper()}{ken[1:]}: {name}"
    return zh, en


def provenance(folder: ExperimentFolder) -> dict[str, Any]:
    return read_json(folder.provenance_path) if folder.provenance_path.is_file() else {}


def model_versions(prov: Mapping[str, Any]) -> list[str]:
    """The distinct model code digests recorded by the invocations, in order."""
    out: list[str] = []
    for inv in prov.get("invocations", []):
        v = inv.get("model_version")
        if v and v not in out:
            out.append(v)
    return out


def invocation_rows(prov: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Every invocation: time, command, git commit, versions, executor, runs."""
    header = [
        "#",
        "时间 time (UTC)",
        "命令 command",
        "git commit",
        "govsim",
        "模型摘要 model digest",
        "执行器 executor",
        "重复 reps",
        "运行 runs",
    ]
    body = []
    for i, inv in enumerate(prov.get("invocations", []), 1):
        ex = inv.get("executor") or {}
        plan = inv.get("plan") or {}
        commit = inv.get("git_commit") or "—"
        body.append(
            [
                i,
                inv.get("timestamp_utc", "—"),
                " ".join(inv.get("command", [])) or "—",
                f"{commit[:12]}{' (dirty)' if inv.get('git_dirty') else ''}",
                inv.get("govsim", "—"),
                inv.get("model_version", "not recorded"),
                ", ".join(f"{k}={v}" for k, v in ex.items()) if ex else "—",
                plan.get("replications", "—"),
                plan.get("unique_runs", plan.get("runs", "—")),
            ]
        )
    return header, body


def runs_table(folder: ExperimentFolder, plan) -> tuple[list[str], list[list[Any]]]:
    """One row per (scenario or point, replication): seed, run id (short), status."""
    done = folder.done_ids()
    failed = folder.failed_ids() - done
    header = ["情景/设计点 scenario/point", "重复 rep", "种子 seed", "运行 run id", "状态 status"]
    body = []
    for run in sorted(plan.runs, key=lambda r: (r["point"], r["rep"])):
        rid = run["run_id"]
        st = "done" if rid in done else ("failed" if rid in failed else "pending")
        body.append([plan.points[run["point"]]["label"], run["rep"], run["seed"], rid[:12], st])
    return header, body


def _scenario_settings(plan) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"days": [], "scale": [], "warmup_days": []}
    for g in plan.groups:
        sc = g["scenario"]
        for k in out:
            v = sc.get(k)
            if v not in out[k]:
                out[k].append(v)
    return out


def _join(vals: Sequence[Any]) -> str:
    return ", ".join(str(v) for v in vals)


def _design(plan) -> tuple[str, str]:
    s = plan.sampler
    if plan.kind == "compare":
        labels = [p["label"] for p in plan.points]
        src = [g.get("source", "") for g in plan.groups]
        items = ", ".join(f"{a} ({b})" for a, b in zip(labels, src, strict=True))
        return (
            f"比较 {len(labels)} 个情景：{items}；第一个（{labels[0]}）为参照。",
            f"{len(labels)} scenarios compared: {items}; the first ({labels[0]}) is the reference.",
        )
    factors = list(plan.points[0]["factors"]) if plan.points else []
    if plan.kind == "sweep":
        if s.get("design") == "factorial":
            lv = "; ".join(f"{p} ∈ {{{_join(v)}}}" for p, v in s.get("levels", {}).items())
            return (
                f"全因子设计，{len(plan.points)} 个设计点：{lv}。",
                f"Full factorial design, {len(plan.points)} design points: {lv}.",
            )
        rg = "; ".join(f"{p} ∈ [{a}, {b}]" for p, (a, b) in s.get("ranges", {}).items())
        return (
            f"拉丁超立方抽样 (scipy.stats.qmc.LatinHypercube，种子 {s.get('sampler_seed')})，"
            f"{len(plan.points)} 个设计点：{rg}。",
            f"Latin hypercube (scipy.stats.qmc.LatinHypercube, seed {s.get('sampler_seed')}), "
            f"{len(plan.points)} design points: {rg}.",
        )
    prob = s.get("problem", {})
    rg = "; ".join(
        f"{n} ∈ [{a}, {b}]"
        for n, (a, b) in zip(prob.get("names", []), prob.get("bounds", []), strict=True)
    )
    method = s.get("design")
    n, n_run = s.get("samples"), s.get("samples_run")
    what = (
        f"Morris 基本效应，{s.get('levels')} 个水平，r = {n_run} 条轨迹"
        if method == "morris"
        else f"Sobol/Saltelli 抽样，N = {n_run} 个基样本"
        + ("（含二阶）" if s.get("second_order") else "")
    )
    what_en = (
        f"Morris elementary effects, {s.get('levels')} levels, r = {n_run} trajectories"
        if method == "morris"
        else f"Sobol/Saltelli sampling, N = {n_run} base samples"
        + (" (with second order)" if s.get("second_order") else "")
    )
    conv = s.get("convergence")
    return (
        f"{what}（SALib，抽样种子 {s.get('sampler_seed')}），{len(plan.points)} 个设计点，"
        f"因素 {len(factors)} 个：{rg}。"
        + (f"收敛检验：N = {n} 与 2N = {n_run}。" if conv else ""),
        f"{what_en} (SALib, sampler seed {s.get('sampler_seed')}), {len(plan.points)} design "
        f"rows, {len(factors)} factors: {rg}."
        + (f" Convergence check: N = {n} against 2N = {n_run}." if conv else ""),
    )


def _statistics(plan, tolerance: Any = None) -> tuple[list[str], list[str]]:
    if plan.kind == "compare":
        zh = [
            f"均值的95%置信区间：n < {SMALL_N} 时用 Student t 区间，n ≥ {SMALL_N} 时用 BCa "
            f"自助法（{N_RESAMPLES:,} 次重抽样，种子由实验种子派生）；非负指标在 0 处截断。",
            "与参照情景按重复配对（共同随机数）：差值 Δ = 新 − 参照，及其配对 t 区间（与配对 t "
            "检验对偶：区间不含 0 当且仅当 p < 0.05）。",
            "百分比效应 100·(R − 1)，R = 配对均值之比，用 Fieller 区间（考虑分母的不确定性；"
            "参照均值与 0 无显著差异时区间无界）。稀有计数（参照每次重复均值 < 10）用率比 "
            "Σ新/Σ参照 及精确条件（Clopper–Pearson）区间。",
            "p 为与所示区间对偶的检验的未校正 p 值（配对 t 检验，稀有计数为精确率检验）；"
            "星号由 p 决定。Holm 校正的 p（每个指标内对参照的比较）单列，不与未校正区间混用。"
            "另给出 Wilcoxon 符号秩 p 与 Cohen d_z = 差值均值 / 差值标准差。",
            "实际意义：每个指标的最小关注效应 (SESOI)：0–100 指数 1 分，比例 1 个百分点，"
            "其他为参照均值的 5%（项目假设）；TOST 等效检验（两个单侧配对 t 检验，±SESOI）。",
        ]
        en = [
            f"95 % CI of a mean: the Student t interval where n < {SMALL_N}, the BCa bootstrap "
            f"({N_RESAMPLES:,} resamples, seeded from the experiment seed) where n ≥ "
            f"{SMALL_N}; cut at 0 for non-negative metrics.",
            "Against the reference, paired by replication (common random numbers): the "
            "difference Δ = new − reference with its paired t interval (dual to the paired "
            "t-test: it excludes 0 exactly when p < 0.05).",
            "Percentage effect 100·(R − 1), R the ratio of the paired means, with Fieller's "
            "interval (it carries the uncertainty of the denominator; unbounded where the "
            "reference mean is not significantly different from 0). Rare counts (reference "
            "mean < 10 per replication): the rate ratio Σ new / Σ reference with the exact "
            "conditional (Clopper–Pearson) interval.",
            "p is the unadjusted p-value of the test dual to the interval shown (paired "
            "t-test; exact rate test for rare counts); stars follow p. The Holm-adjusted p "
            "(within each metric, over the comparisons with the reference) is in its own "
            "column, never mixed with the unadjusted intervals. The Wilcoxon signed-rank p "
            "and Cohen's d_z = mean / SD of the differences are given too.",
            "Practical significance: a smallest effect size of interest (SESOI) per metric "
            "(1 point on 0–100 indices, 1 percentage point on shares, otherwise 5 % of the "
            "reference mean; project assumptions) and the TOST equivalence test (two "
            "one-sided paired t-tests against ±SESOI).",
        ]
    elif plan.kind == "sweep":
        zh = [
            f"每个设计点的均值及95%置信区间（n < {SMALL_N} 用 t 区间，否则 BCa 自助法）。",
            "主效应：每次重复内对其他因素取平均得到各水平的值，再对重复取均值及 t 区间"
            "（重复间配对：共同随机数）。交互作用图：前两个因素各水平组合的均值及 t 区间。",
        ]
        en = [
            f"Mean and 95 % CI per design point (t interval where n < {SMALL_N}, BCa "
            "bootstrap otherwise).",
            "Main effects: within each replication the value of a level is the mean over the "
            "other factors; the plot shows the mean over replications with its t interval "
            "(replications share seeds across points: common random numbers). Interaction "
            "plot: the same for every combination of the first two factors' levels.",
        ]
    else:
        tol = plan.sampler.get("tolerance") if tolerance is None else tolerance
        zh = [
            "每次重复单独计算指数（同一设计，SALib），报告重复间均值及对重复的95%百分位自助法"
            "区间（2,000 次，种子由实验种子派生），以及 SALib 自带的设计抽样95%区间；另给出"
            "每次重复中最重要因素的频率。",
            "收敛检验：2N 的后半部分与另一次重复配对（新的随机种子），以 N 与 2N 的最大变化、"
            f"区间半宽（容差 {tol}）及因素排序稳定性（Spearman ρ ≥ {RANK_MIN}，并给 Kendall τ；"
            "最重要因素相同）判断。",
            "Sobol 指数超出理论范围（S1 < 0、S1 > 1、ST < 0、S1 > ST）时标出：为抽样误差，"
            "需要更多样本。",
        ]
        en = [
            "Indices are computed per replication (same design, SALib); reported are the mean "
            "over replications with a 95 % percentile bootstrap CI over replications (2,000 "
            "resamples, seeded from the experiment seed) and SALib's own 95 % CI of the "
            "design sampling; the share of replications in which each factor ranks first is "
            "given too.",
            "Convergence: the second half of the 2N design is paired with another replication "
            "(fresh seeds); judged on the largest change between N and 2N, the CI half-width "
            f"(tolerance {tol}) and the stability of the factor ranks (Spearman ρ ≥ "
            f"{RANK_MIN}, Kendall τ given; the same top factor).",
            "Sobol estimates outside the theory's bounds (S1 < 0, S1 > 1, ST < 0, S1 > ST) are "
            "flagged: sampling error, more samples needed.",
        ]
    return zh, en


def methods_paragraphs(plan, prov: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The methods text, Chinese and English paragraphs, from the plan and provenance."""
    kzh, ken = KIND_TITLES[plan.kind]
    st = _scenario_settings(plan)
    ratio = ", ".join(f"1:{1 / s:,.0f}" for s in st["scale"] if s)
    dzh, den = _design(plan)
    versions = model_versions(prov)
    n_inv = len(prov.get("invocations", []))
    vzh = "、".join(versions) if versions else "未记录"
    ven = ", ".join(versions) if versions else "not recorded"
    szh, sen = _statistics(plan)
    zh = [
        f"实验类型：{kzh}（{plan.name}）。{dzh}",
        f"模拟规模：scale = {_join(st['scale'])}（{ratio}）；每次运行模拟 {_join(st['days'])} 天，"
        f"此前预热 {_join(st['warmup_days'])} 天（不计入结果）。",
        f"重复与种子：每个情景/设计点 {plan.replications} 次重复。实验种子 {plan.seed}；第 i "
        "次重复的种子为 numpy.random.SeedSequence(实验种子, spawn_key=(0, i)) 的 63 位状态，"
        "在所有情景/设计点相同（共同随机数），差值按重复配对；增加重复不改变已有种子。",
        *szh,
        f"模型代码摘要 (sim.model_version())：{vzh}；运行编号 (run id) 为已解析情景、种子、"
        f"天数、规模与模型摘要的哈希。共 {n_inv} 次调用，见来源记录。",
    ]
    en = [
        f"Kind: {ken} ({plan.name}). {den}",
        f"Scale {_join(st['scale'])} ({ratio}); each run simulates {_join(st['days'])} days "
        f"after a warm-up of {_join(st['warmup_days'])} days (not reported).",
        f"Replications and seeds: {plan.replications} replications per scenario or design "
        f"point. Experiment seed {plan.seed}; replication i's seed is 63 bits of "
        "numpy.random.SeedSequence(experiment seed, spawn_key=(0, i)), the same at every "
        "scenario and point (common random numbers), so differences are paired by "
        "replication; adding replications keeps the earlier seeds.",
        *sen,
        f"Model code digest (sim.model_version()): {ven}; a run id is the hash of the resolved "
        f"scenario, its seed, days, scale and this digest. {n_inv} invocation(s), listed under "
        "provenance.",
    ]
    return zh, en


def main_tables(plan, result) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The experiment's main table(s): (caption, header, rows)."""
    if plan.kind == "compare":
        titles = {g["label"]: g["title_zh"] for g in plan.groups}
        out = []
        header, body = tables.compare_key_table(result.rows, titles, robustness=result.robustness)
        if body:
            note = tables.KEY_NOTE + (" " + tables.ROBUSTNESS_NOTE if result.robustness else "")
            out.append(("Key outcomes 主要结果 (" + note + ")", header, body))
        header, body = tables.compare_overview(result.rows, titles)
        out.append(("All metrics 全部指标 (" + tables.OVERVIEW_NOTE + ")", header, body))
        header, body = tables.equal_cost_table(result.rows, titles)
        if body:
            caption = "Equal-cost comparison 同等成本对比 (" + tables.EQUAL_COST_NOTE + ")"
            out.append((caption, header, body))
        return out
    if plan.kind == "sweep":
        factors = list(plan.points[0]["factors"]) if plan.points else []
        shown = plan.metrics[:6]
        by = {(r["point"], r["metric"]): r for r in result.rows}
        body = design_point_rows(plan.points, factors, shown, by)
        header = ["#", *factors, *[tables.metric_label(m) for m in shown]]
        return [("Design points: mean [95% CI] 设计点均值", header, body)]
    ind = result.indices or {}
    keys = ["mu_star", "mu_star_low", "mu_star_high", "sigma"]
    if ind.get("method") == "sobol":
        keys = ["S1", "S1_low", "S1_high", "ST", "ST_low", "ST_high"]
    body = [
        [
            tables.metric_label(r["metric"]),
            r["factor"],
            *[f"{r.get(k, float('nan')):.4g}" for k in keys],
            r.get("flags", ""),
        ]
        for r in result.rows
    ]
    return [
        (
            "Sensitivity indices: mean over replications, bootstrap CI over replications",
            ["metric", "factor", *keys, "flags"],
            body,
        )
    ]


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text: Any) -> str:
    return "".join(_TEX.get(c, c) for c in str(text))


def latex_table(caption: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cols = "l" + "r" * (len(header) - 1)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering\small",
        rf"\caption{{{tex_escape(caption)}}}",
        rf"\begin{{tabular}}{{{cols}}}",
        r"\toprule",
        " & ".join(tex_escape(h) for h in header) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(tex_escape(c) for c in r) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


def latex_export(plan, result, prov: Mapping[str, Any]) -> str:
    """``table.tex``: the methods (English) and the main tables (booktabs; CJK needs xeCJK)."""
    zh_title, en_title = experiment_title(plan)
    _, en = methods_paragraphs(plan, prov)
    parts = [
        f"% {en_title} ({zh_title}) — generated by govsim report; needs \\usepackage{{booktabs}}",
        "% and, for the Chinese labels, xeCJK (XeLaTeX)",
        r"\subsection*{Methods}",
        *[tex_escape(p) + "\n" for p in en],
    ]
    for caption, header, body in main_tables(plan, result):
        parts.append(latex_table(caption, header, body))
    return "\n".join(parts) + "\n"


def markdown_export(plan, result, prov: Mapping[str, Any]) -> str:
    """``methods.md``: the title, the methods (Chinese, English) and the main tables."""
    zh_title, en_title = experiment_title(plan)
    zh, en = methods_paragraphs(plan, prov)
    parts = [f"# {zh_title} ({en_title})", "", "## 方法", "", *[p + "\n" for p in zh]]
    parts += ["## Methods", "", *[p + "\n" for p in en]]
    for caption, header, body in main_tables(plan, result):
        parts += [
            f"### {caption}",
            "",
            tables.md_table(header, [[str(c) for c in r] for r in body]),
            "",
        ]
    return "\n".join(parts)


def design_point_rows(
    points: Sequence[Mapping[str, Any]],
    factors: Sequence[str],
    metrics: Sequence[str],
    by: Mapping[tuple[int, str], Mapping[str, Any]],
) -> list[list[Any]]:
    """One row per design point: its index, factor values and "mean [95 % CI]" per metric
    (``by`` maps (point, metric) to a stats row; "—" where there is none)."""
    body = []
    for p in points:
        cells = [p["index"], *[p["factors"][f] for f in factors]]
        for m in metrics:
            r = by.get((p["index"], m))
            f_ = lambda v, m=m: tables.fmt(v, m)  # noqa: E731
            cells.append(
                "—"
                if r is None
                else f"{f_(r['mean'])} {tables.fmt_ci(r['ci_low'], r['ci_high'], f_)}"
            )
        body.append(cells)
    return body
