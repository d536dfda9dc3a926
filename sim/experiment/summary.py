"""An experiment folder's statistics: tables and ``stats.json`` from its records.

:func:`summarize` reads the plan and the finished records of a folder (also a partial
one), computes the statistics of its kind (compare: means, paired differences and effects;
sweep: per-point means; sensitivity: SALib indices per replication), writes ``table.csv``,
``table.md`` (compare) and ``stats.json``, and returns an :class:`ExperimentResult`. The experiment
functions of :mod:`sim.experiment.api` end with it, and the HTML report
(:mod:`sim.experiment.html_report`) starts from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.experiment import plan as planning
from sim.experiment import tables
from sim.experiment.indices import indices_rows, sensitivity_indices
from sim.experiment.records import ExperimentFolder, read_json, write_json
from sim.experiment.records import status as folder_status
from sim.experiment.runner import collect_values, plan_label
from sim.experiment.stats import ci_width_notes, compare_stats, point_stats
from sim.io import atomic_write_bytes

__all__ = ["STATS_FILE", "ExperimentResult", "summarize"]

STATS_FILE = "stats.json"


@dataclass
class ExperimentResult:
    """What an experiment produced: its folder, status, table rows and printed text."""

    folder: Path
    kind: str
    status: dict[str, Any]
    rows: list[dict[str, Any]]
    text: str
    notes: list[dict[str, Any]] = field(default_factory=list)
    indices: dict[str, Any] | None = None
    robustness: dict[str, Any] | None = None  # "config|metric" → [share, low, high]

    def __str__(self) -> str:
        return self.text


_MEAN_CI = (
    "95 %: Student t where n < 20, bootstrap BCa (scipy.stats.bootstrap, 9999 resamples) "
    "where n >= 20; cut at 0 for non-negative metrics"
)
_METHODS: dict[str, dict[str, str]] = {
    "compare": {
        "mean_ci": _MEAN_CI,
        "diff_ci": "95 % paired t interval (dual to the paired t-test)",
        "pct_effect": "100·(mean(new)/mean(reference) − 1) with Fieller's interval for paired "
        "means; rare counts: rate ratio with the exact conditional (Clopper–Pearson) interval",
        "p": "unadjusted p of the test dual to the printed interval (paired t-test, or exact "
        "rate test for rare counts); stars from p; p_holm: p Holm-corrected within each "
        "metric, in its own column; Wilcoxon signed-rank p also given",
        "equivalence": "TOST (two one-sided paired t-tests) against the smallest effect of "
        "practical interest (sesoi) per metric",
        "effect_size": "Cohen's d_z = mean(diff) / sd(diff)",
    },
    "sweep": {
        "mean_ci": _MEAN_CI,
        "main_effects": "report: mean per level (other factors averaged within each "
        "replication) with a 95 % t interval over replications; interaction plot of the "
        "first two factors",
    },
    "sensitivity": {
        "indices": "SALib per replication on the same design; mean over replications",
        "ci": "*_low/*_high: 95 % percentile bootstrap over replications (2000 resamples, "
        "seeded); *_conf: SALib's 95 % bootstrap half-width of the design, mean over "
        "replications",
        "convergence": "N vs 2N, the second half paired with another replication (fresh "
        "seeds); passes when the largest change and the CI half-width are within the "
        "tolerance and the factor ranks are stable (Spearman rho >= 0.8, same top factor)",
        "flags": "Sobol S1 < 0, S1 > 1, ST < 0, S1 > ST: sampling error",
    },
}


def _setting(plan: planning.Plan) -> str:
    """``情景对比 (comparison): yancheng vs fine_grids — 10 replications, 365 days, 1:100``."""
    sc = plan.groups[0]["scenario"] if plan.groups else {}
    scale = sc.get("scale")
    ratio = f", 1:{1 / scale:,.0f}" if scale else ""
    days = f", {sc['days']} 天/days" if sc.get("days") else ""
    return (
        f"情景对比 (comparison): {plan_label(plan)} — {plan.replications} 次重复/replications"
        f"{days}{ratio}"
    )


ROBUSTNESS_FILE = "robustness.json"


def read_robustness(root: str | Path) -> dict[str, Any] | None:
    """The robustness attached to a compare folder (:func:`attach_robustness`), or None:
    ``{"config|metric": [share, low, high]}``."""
    path = Path(root) / ROBUSTNESS_FILE
    if not path.is_file():
        return None
    return {f"{r['config']}|{r['metric']}": [r["share"], r["low"], r["high"]]
            for r in read_json(path)["rows"]}  # fmt: skip


def summarize(
    out: str | Path, *, ci_width: dict[str, Any] | None = None, write: bool = True
) -> ExperimentResult:
    """Statistics of an experiment folder from its records; writes the table files.

    Works on a partial folder too (pending or failed runs are left out).
    """
    folder = ExperimentFolder(out)
    plan = folder.read_plan()
    st = folder_status(folder.root)
    stats_path = folder.root / STATS_FILE
    if ci_width is None:
        old = read_json(stats_path) if stats_path.is_file() else {}
        ci_width = old.get("ci_width_request") or {"relative": None, "absolute": {}}
    values = collect_values(folder, plan)
    result: ExperimentResult
    if plan.kind == "compare":
        labels = [p["label"] for p in plan.points]
        by_label = {
            m: {plan.points[p]["label"]: reps for p, reps in per.items()}
            for m, per in values.items()
        }
        rows = compare_stats(by_label, labels, plan.metrics, seed=plan.seed)
        notes = ci_width_notes(rows, ci_width)
        titles = {g["label"]: g["title_zh"] for g in plan.groups}
        text = tables.compare_overview_text(
            rows, titles, notes, folder=folder.root, setting=_setting(plan)
        )
        robust = read_robustness(folder.root)
        result = ExperimentResult(folder.root, plan.kind, st, rows, text, notes, None, robust)
        if write:
            md = tables.compare_markdown(rows, titles, notes, robustness=robust)
            atomic_write_bytes(folder.root / "table.md", md.encode())
    elif plan.kind == "sweep":
        prow = point_stats(values, len(plan.points), plan.metrics, seed=plan.seed)
        rows = []
        for r in prow:
            pt = plan.points[r["point"]]
            rows.append({"point": r["point"], "label": pt["label"], **pt["factors"], **r})
        text = tables.sweep_text(plan.points, prow, plan.metrics)
        result = ExperimentResult(folder.root, plan.kind, st, rows, text)
    else:
        indices = sensitivity_indices(plan, values)
        rows = indices_rows(indices)
        text = tables.sensitivity_text(indices)
        result = ExperimentResult(folder.root, plan.kind, st, rows, text, indices=indices)
    if st["failed"] or st["pending"]:
        result.text += (
            f"\n\n运行状态 (runs): {st['done']} done, {st['failed']} failed, {st['pending']} "
            "pending — the statistics use the finished runs only"
        )
    if write:
        atomic_write_bytes(folder.root / "table.csv", tables.to_csv(rows).encode("utf-8"))
        write_json(
            stats_path,
            {
                "kind": plan.kind,
                "status": st,
                "ci_width_request": ci_width,
                "notes": result.notes,
                "rows": rows,
                "indices": result.indices,
                "method": _METHODS[plan.kind],
            },
        )
    return result
